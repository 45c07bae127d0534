"""The floor for any Gradio endpoint: a Sketchpad -> Label app that does no work at all.

The benchmarks compare the app against it (same protocol, same uploads, same queue settings,
same machine) to tell the app's own cost from Gradio's.

    python bench/trivial_server.py --port 7999
"""

from __future__ import annotations

import argparse

import gradio as gr

from mnist_app.ui import with_queue

CONSTANT = {str(d): 0.1 for d in range(10)}


def trivial_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        sketch = gr.Sketchpad(canvas_size=(280, 280), type="numpy")
        label = gr.Label(num_top_classes=10)
        sketch.change(lambda value: CONSTANT, sketch, label, api_name="predict")
    return demo


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7999)
    port = parser.parse_args().port
    with_queue(trivial_app()).launch(server_port=port, quiet=True)
