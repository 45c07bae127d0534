"""The floor for any Gradio endpoint: apps that do no work at all.

The benchmarks compare the app against them (same protocol, same uploads, same queue
settings, same machine) to tell the app's own cost from Gradio's and the browser's:
  default   a Sketchpad -> Label app (bench/predict_latency.py, bench/load.py)
  --pen     the Draw tab's pen canvas with a server function that answers at once,
            behind the app's request guard, which answers it as the app's
            (bench/draw_latency.py, bench/classroom.py)

    python -m bench.trivial_server --port 7999 [--pen]
"""

from __future__ import annotations

import argparse

import gradio as gr

from mnist_app.ui import Limits, launch_options, with_queue
from mnist_app.ui.limits import answered_by_the_guard
from mnist_app.ui.pen_canvas import answer_html, pen_canvas

CONSTANT = {str(d): 0.1 for d in range(10)}


def trivial_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        sketch = gr.Sketchpad(canvas_size=(280, 280), type="numpy")
        label = gr.Label(num_top_classes=10)
        sketch.change(lambda value: CONSTANT, sketch, label, api_name="predict")
    return demo


def trivial_pen_app() -> gr.Blocks:
    answer = {"html": answer_html(CONSTANT), "state": "digit", "stages": ""}

    def read_pen(request: dict) -> dict[str, str]:
        return answer

    with gr.Blocks() as demo:
        pen_canvas("none", answered_by_the_guard(read_pen), max_upload_bytes=10 * 2**20)
    return demo


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7999)
    parser.add_argument("--pen", action="store_true", help="the pen canvas, not a Sketchpad")
    args = parser.parse_args()
    app = trivial_pen_app() if args.pen else trivial_app()
    guarded = launch_options(Limits(), None) if args.pen else {}
    with_queue(app).launch(server_port=args.port, quiet=True, **guarded)
