"""Inside-the-network latency, server side: what one update of the Draw tab's "Inside the
network" view costs, and whether the canvas's answer waits for it.

For real pen-drawn digits (the pendigits test writers replayed on the 280x280 canvas and
sent as the page sends them, a PNG data URL), one at a time:
  - update: the view's whole server function (ui.inside_view, `inspect_drawing`): the PNG
    decoded and preprocessed, every layer read by hooks, each layer's tiles as a PNG, HTML;
    and its parts: read (decode + preprocess), layers (the hooked forward pass), pictures;
  - live answer: the canvas's own server function while the pen moves, at the page's
    cadence (one every 60 ms), with the view closed, then open (its update asked after
    each answer arrives, in a thread of its own, as the page asks);
  - answer, worst case: the canvas's answer at pen-up while another thread updates the
    view back to back, with no pause at all.
Target: update <= 60 ms p50 for resnet_drawn on 2 CPU cores. With --channel-images, also
the one-off background job per model: the top 9 of the 60,000 MNIST training images for
every channel.

    python -m bench.inside_latency                     # resnet_drawn
    python -m bench.inside_latency --model t3_cnn --drawings 50 --channel-images
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from bench import run_script
from mnist_app.analysis.channel_examples import channel_examples
from mnist_app.analysis.layers import inspector
from mnist_app.service.library import ModelLibrary
from mnist_app.ui.draw_tab import DrawHandlers
from mnist_app.ui.inside_view import InsideHandlers, layers_html
from mnist_app.ui.limits import Limits
from mnist_app.ui.pen_canvas import pen_reader, png_data_url, read_page_drawing
from tests.harness.sketches import pen_sketchpad_values

LIVE_EVERY_MS = 60  # pen_canvas.js: a live question at most this often while drawing


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def canvas_requests(count: int, model: str) -> list[dict]:
    """Pen-drawn digits as the canvas posts them: black strokes on a transparent canvas."""
    requests = []
    for value in pen_sketchpad_values(count):
        drawing = np.zeros((280, 280, 4), np.uint8)
        drawing[..., 3] = 255 - value["composite"][..., 0]
        requests.append({"image": png_data_url(drawing), "kind": "canvas", "model": model})
    return requests


def update_parts(inside: InsideHandlers, requests: list[dict], limits: Limits) -> dict:
    predictor = inside.library.predictor(requests[0]["model"])
    parts: dict[str, list[float]] = {"update": [], "read": [], "layers": [], "pictures": []}
    for request in requests:
        parts["update"].append(timed(lambda r=request: inside.inspect_drawing(r)))
        start = time.perf_counter()
        image = read_page_drawing(request, limits.max_upload_bytes).image
        parts["read"].append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        layers = inspector(predictor).inspect(image)
        parts["layers"].append((time.perf_counter() - start) * 1000)
        parts["pictures"].append(timed(lambda layers=layers: layers_html(layers)))
    return parts


def answers_while_drawing(read_pen, requests: list[dict], view=None) -> list[float]:
    """The canvas's live answers at the page's cadence (one every LIVE_EVERY_MS while the
    pen moves); with `view`, the view's update asked after each answer arrives, one at a
    time in a thread of its own, as inside_view.js asks the server."""
    latest: list[dict] = []
    asked, stop = threading.Event(), threading.Event()

    def viewer() -> None:
        while not stop.is_set():
            if asked.wait(0.05):
                asked.clear()
                view(latest[-1])

    thread = threading.Thread(target=viewer, daemon=True)
    if view:
        thread.start()
    latencies = []
    try:
        for request in requests:
            start = time.perf_counter()
            latencies.append(timed(lambda r=request: read_pen({**r, "live": True})))
            latest.append(request)
            asked.set()
            time.sleep(max(0.0, start + LIVE_EVERY_MS / 1000 - time.perf_counter()))
    finally:
        stop.set()
        if view:
            thread.join()
    return latencies


def answers_beside(read_pen, requests: list[dict], view) -> list[float]:
    """The worst case: each answer while the view updates back to back in another thread."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for request in requests:
                view(request)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        return [timed(lambda r=request: read_pen(r)) for request in requests]
    finally:
        stop.set()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet_drawn")
    parser.add_argument("--drawings", type=int, default=200)
    parser.add_argument("--channel-images", action="store_true")
    args = parser.parse_args()
    library, limits = ModelLibrary(), Limits()
    inside = InsideHandlers(library, limits.max_upload_bytes)
    read_pen = pen_reader(DrawHandlers(library).probabilities, limits.max_upload_bytes)
    requests = canvas_requests(args.drawings, args.model)
    for request in requests[:5]:  # warm-up: the first calls pay for lazy initialisation
        inside.inspect_drawing(request)
        read_pen(request)
    results = update_parts(inside, requests, limits)
    update = inside.inspect_drawing
    results["live answer, closed"] = answers_while_drawing(read_pen, requests)
    results["live answer, open"] = answers_while_drawing(read_pen, requests, update)
    results["answer, worst case"] = answers_beside(read_pen, requests, update)
    print(f"{args.model}, {len(requests)} pen-drawn digits, one at a time:")
    for what, samples in results.items():
        p50, p95 = np.percentile(samples, [50, 95])
        print(f"  {what:22s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    if args.channel_images:
        predictor = library.predictor(args.model)
        checkpoint, images = predictor.checkpoint, library.data().train_images
        seconds = timed(
            lambda: channel_examples(predictor.model, checkpoint.mean, checkpoint.std, images)
        )
        print(f"  channel images (60,000, once per model): {seconds / 1000:.1f} s")


if __name__ == "__main__":
    run_script(main)
