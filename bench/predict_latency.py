"""Predict latency: server-side (preprocess + model) and gradio_client round trip.

1. Server side: the Draw tab's `read_drawing` + `Predictor.probabilities` on real pen-drawn
   digits replayed as the Sketchpad sends them (RGBA stroke layer + composite), one at a
   time. Target: p50 <= 5 ms on 2 CPU cores.
2. Round trip: the app's /predict endpoint and a trivial Sketchpad -> Label endpoint, both
   served from this process and called alternately with gradio_client, each call uploading
   the same PNG. Target: app median within 1.3x of the trivial one (absolute times drift
   between runs and machines; the ratio is what to compare).

    python -m bench.predict_latency                 # the most accurate checkpoint in weights/
    python -m bench.predict_latency --model speedrun --calls 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench import run_script
from bench.trivial_server import trivial_app
from mnist_app.service.library import ModelLibrary
from mnist_app.ui.sketch import read_drawing
from mnist_app.ui.text import no_models_help
from tests.harness.sketches import composite_value, pen_sketchpad_values


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


def server_side(library: ModelLibrary, model: str, repeats: int) -> list[float]:
    predictor = library.predictor(model)
    values = pen_sketchpad_values(100)
    for value in values[:10]:  # warm-up: first calls pay for lazy initialisation
        predictor.probabilities(read_drawing(value).image)
    times = []
    for i in range(repeats):
        value = values[i % len(values)]
        start = time.perf_counter()
        predictor.probabilities(read_drawing(value).image)
        times.append((time.perf_counter() - start) * 1000)
    return times


def round_trips(library: ModelLibrary, model: str, calls: int) -> tuple[list[float], list[float]]:
    from gradio_client import Client

    from mnist_app.ui import build_app

    app = build_app(library).queue()
    trivial = trivial_app().queue()
    _, app_url, _ = app.launch(prevent_thread_lock=True, quiet=True)
    _, trivial_url, _ = trivial.launch(prevent_thread_lock=True, quiet=True)
    try:
        app_client = Client(app_url, verbose=False)
        trivial_client = Client(trivial_url, verbose=False)
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "digit.png"
            Image.fromarray(pen_sketchpad_values(1)[0]["composite"]).save(png)
            value = composite_value(png)
            app_times, trivial_times = [], []
            for i in range(calls + 5):
                for client, times, args in (
                    (trivial_client, trivial_times, (value,)),
                    (app_client, app_times, (value, model)),
                ):
                    start = time.perf_counter()
                    client.predict(*args, api_name="/predict")
                    if i >= 5:  # the first calls warm both servers up
                        times.append((time.perf_counter() - start) * 1000)
    finally:
        app.close()
        trivial.close()
    return app_times, trivial_times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint name (default: the most accurate one)")
    parser.add_argument("--weights-dir", type=Path, help="default: weights/")
    parser.add_argument("--repeats", type=int, default=500, help="server-side predictions")
    parser.add_argument("--calls", type=int, default=50, help="round trips per endpoint")
    args = parser.parse_args(argv)
    library = ModelLibrary(args.weights_dir)
    model = args.model or library.best_name()
    if model is None:
        print(no_models_help(library.weights_dir).replace("**", ""), file=sys.stderr)
        return 2

    times = server_side(library, model, args.repeats)
    print(f"model {model}, {args.repeats} single-sketch predictions (preprocess + model):")
    print(
        f"  server side  p50 {percentile(times, 50):.2f} ms   p95 {percentile(times, 95):.2f} ms"
        f"   (target p50 <= 5 ms)"
    )

    app_times, trivial_times = round_trips(library, model, args.calls)
    app_median, trivial_median = statistics.median(app_times), statistics.median(trivial_times)
    print(f"gradio_client round trips, {args.calls} each, alternating:")
    for name, samples in (("trivial Sketchpad->Label", trivial_times), ("app /predict", app_times)):
        print(
            f"  {name:<25} median {statistics.median(samples):6.1f} ms   "
            f"p95 {percentile(samples, 95):6.1f} ms"
        )
    print(f"  ratio app/trivial {app_median / trivial_median:.2f}   (target <= 1.3)")
    return 0


if __name__ == "__main__":
    run_script(main)
