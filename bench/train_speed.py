"""Training speed: the tutorials' pipeline against mnist_app's tensor-first trainer.

The tutorial side is what the tutorials do: torchvision's MNIST dataset with per-sample
ToTensor + Normalize, a DataLoader, the same model, optimizer, loss and epochs. Both
sides train on all 60,000 training images; times count training only (not the final
test evaluation).

    python -m bench.train_speed                      # recipes 1 and 5, then time-to-99%
    python -m bench.train_speed --recipes t1_mlp_mse --seeds 5
    python -m bench.train_speed --recipes --fast-recipe "" --drawing-ready

--drawing-ready times the drawing-ready recipe from start to trained model (3 seeds,
rendering its drawn digits included) and measures MNIST test and the pendigits test
writers' drawings along the way, for it and for resnet_mini as shipped (one seed): the
time-to-accuracy table and plot (docs/time-to-accuracy.png) in docs/performance.md.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from bench import run_script
from mnist_app.core.data import FILES, load_mnist
from mnist_app.core.evaluation import evaluate, predict_logits
from mnist_app.core.models import build_model
from mnist_app.core.paths import PENDIGITS_TRAIN
from mnist_app.pen.drawn_accuracy import drawn_set
from mnist_app.training import Probe, run
from mnist_app.training.loop import schedule
from mnist_app.training.material import drawn_digits
from mnist_app.training.recipes import make_config

PLOT = Path(__file__).resolve().parent.parent / "docs" / "time-to-accuracy.png"


def torchvision_root(source: Path, root: Path) -> Path:
    """Lay the IDX files out as torchvision's MNIST expects: root/MNIST/raw/<name>."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        gz, plain = source / f"{name}.gz", source / name
        if gz.exists():
            with gzip.open(gz) as src, open(raw / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            shutil.copyfile(plain, raw / name)
    return root


def tutorial_pipeline(recipe: str, root: Path, data) -> tuple[float, float]:
    """Train the recipe the tutorial way; return (seconds, test accuracy)."""
    config = make_config(recipe, val_size=0)
    torch.manual_seed(config.seed)
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((config.mean,), (config.std,))]
    )
    train_set = datasets.MNIST(root, train=True, transform=transform)
    batch = config.batch_size or len(train_set)
    loader = DataLoader(train_set, batch_size=batch, shuffle=True)
    model = build_model(config.arch, **config.arch_kwargs)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
    )
    model.train()
    start = time.perf_counter()
    for _ in range(config.epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            out = model(images)
            if config.loss == "mse":
                loss = F.mse_loss(out, F.one_hot(labels, 10).float())
            else:
                loss = F.cross_entropy(out, labels)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, data.test_images, data.test_labels, config.mean, config.std)
    return seconds, accuracy.accuracy


def compare(recipe: str, root: Path, data) -> None:
    config = make_config(recipe, val_size=0)
    if config.schedule != "none" or config.optimizer != "sgd" or config.augment:
        raise SystemExit(f"{recipe}: only plain-SGD recipes have a tutorial pipeline here")
    tut_s, tut_acc = tutorial_pipeline(recipe, root, data)
    done = run(config, data)
    ours_s, ours_acc = done.train_time_s, done.test_accuracy
    print(
        f"{recipe:<14} tutorial pipeline {tut_s:7.2f} s  {tut_acc:.2%}   "
        f"mnist_app {ours_s:6.2f} s  {ours_acc:.2%}   "
        f"speed-up {tut_s / ours_s:5.1f}x   accuracy diff {100 * (ours_acc - tut_acc):+.2f} pt",
        flush=True,
    )


def time_to_99(recipe: str, seeds: int, data) -> None:
    times, accs = [], []
    for seed in range(seeds):
        done = run(make_config(recipe, seed=seed, val_size=0), data)
        times.append(done.train_time_s)
        accs.append(done.test_accuracy)
        print(
            f"  {recipe} seed {seed}: {done.test_accuracy:.2%} in {done.train_time_s:.2f} s",
            flush=True,
        )
    print(
        f"{recipe}: median {statistics.median(times):.2f} s of training, median test accuracy "
        f"{statistics.median(accs):.2%} (min {min(accs):.2%}) over {seeds} seeds "
        f"on {torch.get_num_threads()} CPU threads"
        if not torch.cuda.is_available()
        else f"{recipe}: median {statistics.median(times):.2f} s, median accuracy "
        f"{statistics.median(accs):.2%} (min {min(accs):.2%}) over {seeds} seeds on "
        f"{torch.cuda.get_device_name()}"
    )


def accuracy_probe(data, drawn, points: list[dict], config):
    """A Probe's call: MNIST test and drawn accuracy (per brush) at this point of training,
    appended to `points` with the training seconds so far and the probe's own time."""

    def look(model, step: int, train_s: float) -> None:
        began = time.perf_counter()
        mnist = evaluate(model, data.test_images, data.test_labels, config.mean, config.std)
        point = {"step": step, "train_s": train_s, "mnist": mnist.accuracy}
        for brush, images in drawn.inputs.items():
            logits = predict_logits(model, torch.from_numpy(images), config.mean, config.std)
            point[brush] = float((logits.argmax(1).numpy() == drawn.labels).mean())
        point["probe_s"] = time.perf_counter() - began
        points.append(point)

    return look


def drawing_ready(recipe: str, seeds: int, data) -> None:
    """`recipe` (seeds) and resnet_mini as shipped (one seed): time from start to trained
    model, MNIST and drawn accuracy, and the curves of both along the way."""
    drawn = drawn_set("test")
    runs = [(recipe, make_config(recipe, seed=seed)) for seed in range(seeds)]
    runs.append(("resnet_mini", make_config("resnet_mini", drawn_data=PENDIGITS_TRAIN)))
    curves: dict[str, list[dict]] = {}
    totals: dict[str, list[float]] = {}
    for name, config in runs:
        points: list[dict] = []
        look = accuracy_probe(data, drawn, points, config)
        first = name not in curves  # one curve per recipe: its first seed
        began = time.perf_counter()
        done = run(config, data, probe=Probe(probe_every(config, data), look) if first else None)
        total_s = time.perf_counter() - began - sum(p["probe_s"] for p in points)
        if not points:
            look(done.model, done.steps, done.train_time_s)
        if first:
            curves[name] = points
        totals.setdefault(name, []).append(total_s)
        print(
            f"  {name} seed {config.seed}: {total_s:.1f} s from start to trained model "
            f"({done.train_time_s:.1f} s of steps), MNIST test {done.test_accuracy:.2%}, drawn "
            + " / ".join(f"{points[-1][b]:.2%}" for b in drawn.inputs)
            + f" at brush {' / '.join(f'{b:g}' for b in drawn.inputs)} px",
            flush=True,
        )
    for name, seconds in totals.items():
        print(f"{name}: median {statistics.median(seconds):.1f} s over {len(seconds)} run(s)")
    plot_curves(curves, list(drawn.inputs))


def probe_every(config, data, points: int = 12) -> int:
    """Steps between looks, for about `points` of them over the run."""
    drawn = 0
    if config.drawn_data:
        drawn = len(drawn_digits(config)) * config.drawn_copies
    images = len(data.train_labels) - config.val_size + drawn * config.drawn_repeats
    _, total_steps, _ = schedule(config, images, config.batch_size or images)
    return max(1, total_steps // points)


def plot_curves(curves: dict[str, list[dict]], brushes: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    for name, points in curves.items():
        seconds = [p["train_s"] for p in points]
        left.plot(seconds, [100 * p["mnist"] for p in points], marker="o", label=name)
        drawn = [100 * min(p[b] for b in brushes) for p in points]
        right.plot(seconds, drawn, marker="o", label=name)
    for axis, title, floor in (
        (left, "MNIST test", 98.0),
        (right, "pendigits test writers (worst of brushes 6/12/20 px)", 95.0),
    ):
        axis.set(title=title, xlabel="seconds of training (2 CPU cores)", xscale="log")
        axis.set_ylim(floor, 100)
        axis.set_ylabel("accuracy (%)")
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.tight_layout()
    PLOT.parent.mkdir(exist_ok=True)
    fig.savefig(PLOT, dpi=100)
    print(f"plot: {PLOT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: MNIST_DIR)")
    parser.add_argument("--recipes", nargs="*", default=["t1_mlp_mse", "t5_mlp_bn"])
    parser.add_argument("--fast-recipe", default="speedrun")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--drawing-ready",
        nargs="?",
        const="speedrun_drawn",
        default="",
        metavar="RECIPE",
        help="time the drawing-ready recipe (3 seeds) against resnet_mini as shipped",
    )
    args = parser.parse_args()
    data = load_mnist(args.data_dir)
    source = Path(data.source)
    with tempfile.TemporaryDirectory() as tmp:
        root = torchvision_root(source, Path(tmp))
        for recipe in args.recipes:
            compare(recipe, root, data)
    if args.fast_recipe:
        time_to_99(args.fast_recipe, args.seeds, data)
    if args.drawing_ready:
        drawing_ready(args.drawing_ready, 3, data)


if __name__ == "__main__":
    run_script(main)
