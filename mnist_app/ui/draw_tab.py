"""Draw tab: a digit drawn or uploaded, the model's ten probabilities, and what it saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..drawing import NotADigit, Preprocessed
from ..library import ModelLibrary
from .inputs import with_readable_errors
from .sketch import read_drawing
from .stage_strip import HEIGHT, stage_strip
from .text import DRAW_A_DIGIT, NO_MODEL, no_models_help, not_a_digit, preprocessing_notice

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
    no_models = gr.Markdown(
        no_models_help(library.weights_dir), visible=not names, elem_classes="notice"
    )
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
            initial_notice = _notice(library, model.value)
            notice = gr.Markdown(
                initial_notice,
                visible=bool(initial_notice),
                elem_classes="notice",
                elem_id="model-notice",
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
        """The ten probabilities of a drawing or an image, or what to do instead."""
        answer, _ = _answer(library, source, model_name)
        return answer

    def predict_and_show(source: Any, model_name: str | None):
        """The page's answer: probabilities and the strip, from one preprocessing."""
        answer, stages = _answer(library, source, model_name)
        return answer, stage_strip(stages) if stages else None

    # The page computes label and strip from one preprocessing per stroke. The named
    # endpoints answer with the ten probabilities only (what an API caller wants, without
    # an image file to fetch per call); they hang on a trigger the page never fires.
    live = dict(show_progress="minimal", concurrency_limit=2, api_visibility="private")
    page = [label, stages]
    sketch.change(predict_and_show, [sketch, model], page, **live)
    upload.change(predict_and_show, [upload, model], page, **live)
    predict_button.click(predict_and_show, [sketch, model], page, **live)
    model.change(predict_and_show, [sketch, model], page, **live)

    def show_notice(model_name: str | None):
        text = _notice(library, model_name)
        return gr.update(value=text, visible=bool(text))

    model.change(show_notice, model, notice, api_visibility="private", queue=False)
    api_only = gr.Button(visible=False)
    api_only.click(predict, [sketch, model], label, api_name="predict", concurrency_limit=2)
    api_only.click(predict, [upload, model], label, api_name="predict_image", concurrency_limit=2)
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


def _answer(
    library: ModelLibrary, source: Any, model_name: str | None
) -> tuple[dict[str, float] | str, Preprocessed | None]:
    """Ten probabilities, or a message ("draw a digit" for a blank, and so on), with the
    preprocessing stages when there is a digit to show."""
    try:
        stages = read_drawing(source)
    except NotADigit as err:
        return not_a_digit(err), None
    except (ValueError, OSError) as err:
        raise gr.Error(f"Could not read that image: {err}") from None
    if stages is None:
        return DRAW_A_DIGIT, None
    if not model_name:
        gr.Warning(no_models_help(library.weights_dir))
        return NO_MODEL, stages
    try:
        predictor = library.predictor(model_name)
    except ValueError as err:  # includes CheckpointError: missing or corrupt file
        raise gr.Error(str(err)) from None
    probabilities = predictor.probabilities(stages.image)
    return {str(d): float(p) for d, p in enumerate(probabilities)}, stages


def _notice(library: ModelLibrary, model_name: str | None) -> str:
    """A warning when the model was trained with other preprocessing than the app's."""
    try:
        checkpoint = library.predictor(model_name).checkpoint if model_name else None
    except ValueError:  # a broken checkpoint: predicting with it says what is wrong
        return ""
    return preprocessing_notice(model_name, checkpoint.preprocessing) if checkpoint else ""
