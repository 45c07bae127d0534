"""Draw tab: a digit drawn or uploaded, the model's ten probabilities, and what it saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from ..library import ModelLibrary
from ..preprocess import DRAW_A_DIGIT, NotADigit, Preprocessed, preprocess
from .inputs import with_readable_errors
from .stage_strip import HEIGHT, stage_strip

NO_MODEL = "no model yet: train one first"
CLICK_CANVAS_CLEAR = """() => {
    document.querySelector('#sketch button[aria-label="Clear canvas"]')?.click();
}"""


@dataclass
class DrawTab:
    model: gr.Dropdown
    no_models: gr.Markdown  # hidden once a model exists


def build_draw_tab(library: ModelLibrary) -> DrawTab:
    names = library.names()
    gr.Markdown(
        "Draw a digit with the mouse (or a finger): the prediction updates after every "
        "stroke. The strip below shows how your drawing becomes what the model sees: the "
        "ink is cropped, its strokes brought to MNIST's pen width, fitted into 20x20 and centred "
        "in 28x28, like MNIST."
    )
    no_models = gr.Markdown(library.no_models_help(), visible=not names, elem_classes="notice")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            sketch = gr.Sketchpad(
                label="Draw a digit",
                canvas_size=(280, 280),
                type="numpy",
                image_mode="RGBA",
                brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),
                layers=False,
                transforms=(),
                elem_id="sketch",
            )
            with_readable_errors(sketch)
            with gr.Row():
                predict_button = gr.Button("Predict", variant="primary")
                clear = gr.Button("Clear")
        with gr.Column(scale=2, min_width=240):
            model = gr.Dropdown(
                names,
                value=library.best_name(),
                label="Model",
                allow_custom_value=True,  # API callers may name a model trained after page load
                elem_id="draw-model",
            )
            with gr.Accordion("Or upload an image", open=True):
                upload = gr.Image(
                    label="PNG or JPEG, any size, light or dark background",
                    type="pil",  # decoded by preprocess: 16-bit stays 16-bit, huge is shrunk
                    image_mode=None,
                    sources=["upload", "clipboard"],
                    elem_id="upload",
                    height=170,
                )
                with_readable_errors(upload)
        with gr.Column(scale=2, min_width=240):
            label = gr.Label(
                DRAW_A_DIGIT, num_top_classes=10, label="Prediction", elem_id="prediction"
            )
    stages = gr.Image(
        label="What the model sees",
        format="png",
        interactive=False,
        buttons=[],
        height=HEIGHT + 48,  # the picture at its own size, below the label's badge
        elem_id="stages",
        elem_classes="pixelated",
    )

    def predict(source: Any, model_name: str | None):
        return _predict(library, source, model_name)

    # The named endpoints answer with the ten probabilities only (what an API caller
    # wants, without an image file to fetch per call); the strip is the page's own event.
    live = dict(show_progress="minimal", concurrency_limit=2)
    sketch.change(predict, [sketch, model], label, api_name="predict", **live)
    sketch.change(_stages, sketch, stages, api_visibility="private", **live)
    upload.change(predict, [upload, model], label, api_name="predict_image", **live)
    upload.change(_stages, upload, stages, api_visibility="private", **live)
    predict_button.click(predict, [sketch, model], label, api_visibility="private", **live)
    model.change(predict, [sketch, model], label, api_visibility="private", **live)
    # Setting the Sketchpad's value to None from Python empties the canvas only the first
    # time (Gradio 6.31), so the button presses the canvas's own "Clear canvas" instead.
    clear.click(
        lambda: (None, DRAW_A_DIGIT, None),
        outputs=[upload, label, stages],
        js=CLICK_CANVAS_CLEAR,
        api_visibility="private",
        queue=False,
    )
    return DrawTab(model=model, no_models=no_models)


def _read(source: Any) -> Preprocessed | str:
    """The preprocessing stages, or what to tell the user instead (blank, dot, fill)."""
    try:
        return preprocess(source) or DRAW_A_DIGIT
    except NotADigit as err:
        return str(err)
    except (ValueError, OSError) as err:
        raise gr.Error(f"Could not read that image: {err}") from None


def _stages(source: Any) -> np.ndarray | None:
    """The strip of preprocessing stages, or nothing when there is no digit."""
    stages = _read(source)
    return stage_strip(stages) if isinstance(stages, Preprocessed) else None


def _predict(library: ModelLibrary, source: Any, model_name: str | None):
    """Ten probabilities, or a message: "draw a digit" for a blank, and so on."""
    stages = _read(source)
    if isinstance(stages, str):
        return stages
    if not model_name:
        gr.Warning(library.no_models_help())
        return NO_MODEL
    try:
        predictor = library.predictor(model_name)
    except ValueError as err:  # includes CheckpointError: missing or corrupt file
        raise gr.Error(str(err)) from None
    probabilities = predictor.probabilities(stages.image)
    return {str(d): float(p) for d, p in enumerate(probabilities)}
