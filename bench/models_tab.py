"""What the Models tab and the Mistakes details cost: the one-off work per model (test-set
evaluation, training-set features, drawn-digit accuracy, ONNX export) and what a click
then takes (a mistake explained, two models compared), on the shipped checkpoints.

    python -m bench.models_tab
    python -m bench.models_tab --models resnet_mini t4_lenet5 --clicks 50
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bench import run_script
from mnist_app.analysis.compare import confusion_difference, disagreements
from mnist_app.analysis.explain import explain
from mnist_app.analysis.onnx_export import export_onnx
from mnist_app.pen.drawn_accuracy import drawn_accuracy, drawn_set
from mnist_app.service.library import ModelLibrary


def timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=["resnet_mini", "t4_lenet5", "t1_mlp_mse"])
    parser.add_argument("--clicks", type=int, default=30, help="mistakes explained per model")
    args = parser.parse_args()

    library = ModelLibrary()
    data = library.data()
    drawn_s, drawn = timed(lambda: drawn_set("test"))
    print(f"drawn digits rendered once for all models: {drawn_s:.1f} s\n")
    print(
        f"{'model':<14}{'evaluate':>10}{'features':>10}{'drawn':>8}{'onnx':>8}"
        f"{'click p50':>11}{'click p95':>11}"
    )
    for name in args.models:
        predictor = library.predictor(name)
        evaluate_s, evaluation = timed(lambda n=name: library.evaluation(n))
        features_s, index = timed(lambda n=name: library.features(n))
        score_s, _ = timed(lambda p=predictor: drawn_accuracy(p, drawn))
        with tempfile.TemporaryDirectory() as folder:
            onnx_s, _ = timed(lambda p=predictor, f=folder: _export(p, f))
        clicks = []
        for example in evaluation.mistakes()[: args.clicks]:
            image = data.test_images[example.index]
            start = time.perf_counter()
            explain(predictor, image.numpy().astype("float32") / 255)
            index.nearest(image)
            clicks.append(time.perf_counter() - start)
        p50 = statistics.median(clicks) * 1000
        p95 = sorted(clicks)[int(0.95 * (len(clicks) - 1))] * 1000
        print(
            f"{name:<14}{evaluate_s:>9.1f}s{features_s:>9.1f}s{score_s:>7.1f}s{onnx_s:>7.1f}s"
            f"{p50:>9.1f}ms{p95:>9.1f}ms"
        )
    if len(args.models) >= 2:
        first, second = (library.evaluation(n) for n in args.models[:2])
        compare_s, found = timed(
            lambda: (disagreements(first, second), confusion_difference(first, second))
        )
        print(
            f"\n{args.models[0]} vs {args.models[1]}: {len(found[0])} disagreements, "
            f"compared in {compare_s * 1000:.1f} ms (evaluations cached)"
        )


def _export(predictor, folder: str) -> None:
    export_onnx(predictor.checkpoint, f"{folder}/model.onnx")


if __name__ == "__main__":
    run_script(main)
