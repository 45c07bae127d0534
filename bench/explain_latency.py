"""Explanation latency, server side: what "Why?" adds to each answer while the pen moves.

For real pen-drawn digits (the pendigits test writers replayed as the Sketchpad sends
them), one at a time on one thread, as the canvas's server function does:
  - explain: Integrated Gradients of the answer's lead (mnist_app.analysis.explain), 16 steps;
  - pictures: the two maps coloured and encoded as PNG data URLs (ui.explain_view);
  - predict: the answer itself, for comparison.
Target: explain <= 50 ms p50 for resnet_mini on 2 CPU cores. Also checks completeness:
the shares add up to the lead (median relative gap).

    python -m bench.explain_latency                     # resnet_mini
    python -m bench.explain_latency --model t4_lenet5 --drawings 50
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench import run_script
from mnist_app.analysis.explain import explain
from mnist_app.service.library import ModelLibrary
from mnist_app.ui.explain_view import input_map, strokes_map
from mnist_app.ui.pen_canvas import png_data_url
from mnist_app.ui.sketch import read_drawing
from tests.harness.sketches import pen_sketchpad_values


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet_mini")
    parser.add_argument("--drawings", type=int, default=200)
    args = parser.parse_args()
    predictor = ModelLibrary().predictor(args.model)
    drawings = [read_drawing(value) for value in pen_sketchpad_values(args.drawings)]
    for stages in drawings[:5]:  # warm-up: the first calls pay for lazy initialisation
        explain(predictor, stages.image)
    explain_ms, pictures_ms, predict_ms, gaps = [], [], [], []
    for stages in drawings:
        explain_ms.append(timed(lambda s=stages: explain(predictor, s.image)))
        explanation = explain(predictor, stages.image)

        def pictures(e=explanation, s=stages) -> None:
            png_data_url(strokes_map(e, s))
            png_data_url(input_map(e, s.image))

        pictures_ms.append(timed(pictures))
        predict_ms.append(timed(lambda s=stages: predictor.probabilities(s.image)))
        whole = explanation.lead - explanation.blank_lead
        gaps.append(abs(explanation.attribution.sum() - whole) / abs(whole))
    print(f"{args.model}, {len(drawings)} pen-drawn digits, one at a time:")
    for what, samples in [
        ("explain (IG, 16 steps)", explain_ms),
        ("pictures (2 PNGs)", pictures_ms),
        ("predict alone", predict_ms),
    ]:
        p50, p95 = np.percentile(samples, [50, 95])
        print(f"  {what:24s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    print(f"  completeness: shares vs lead, median gap {100 * np.median(gaps):.2f}%")


if __name__ == "__main__":
    run_script(main)
