"""Draw tab: a digit drawn or uploaded, the model's ten probabilities, and what it saw.

`DrawHandlers` answers the tab's events and endpoints (testable without the page);
`build_draw_tab` lays out the components and wires the events to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import gradio as gr
import numpy as np

from ..analysis.explain import explain
from ..core.predict import REFUSAL, Predictor
from ..preprocess import NotADigit, Preprocessed
from ..service.library import ModelLibrary
from ..service.personal_store import PersonalStore
from ..service.training_jobs import TrainingJobs
from .errors import predictor_of, user_error
from .explain_view import input_map, legend_html, strokes_map
from .inputs import guarded_image_input, with_bounded_blobs
from .inside_view import InsideHandlers, build_inside_view
from .limits import Limits
from .pen_answers import (
    LIVE_EVERY_MS,
    LIVE_EVERY_MS_WHILE_TRAINING,
    Answer,
    NonDigit,
    answer_of,
    png_data_url,
)
from .pen_canvas import pen_canvas, pen_reader
from .personal_panel import build_personal_panel
from .sketch import read_drawing
from .text import DRAW_A_DIGIT, NO_MODEL, no_models_help, not_a_digit, preprocessing_notice
from .watch_panel import WatchHandlers

# The model dropdown tells the canvas (which asks the server itself) which model to use.
TELL_THE_CANVAS = "(name) => { window.mnistPen && window.mnistPen.setModel(name); }"


@dataclass
class DrawTab:
    model: gr.Dropdown
    no_models: gr.Markdown  # hidden once a model exists
    offer: gr.Button  # "Use the new model ...", shown when a run saves one
    offered: gr.State  # the name it offers
    connect: Callable[[gr.Blocks], None]  # fills the personal panel on page load


@dataclass(frozen=True)
class DrawHandlers:
    """The Draw tab's answers: the pen canvas's reading and explanation, the model notice,
    and the named endpoints (predict, predict_image, explain)."""

    library: ModelLibrary

    def probabilities(
        self, stages: Preprocessed, model_name: str | None, live: bool = False
    ) -> Answer:
        """The pen canvas's answer (see pen_reader); `live` for a frame sent while the pen
        is down."""
        return _probabilities(self.library, stages, model_name, live)

    def why(self, stages: Preprocessed, model_name: str | None) -> dict[str, str]:
        """The pen canvas's explanation (see pen_reader)."""
        return _why(self.library, stages, model_name)

    def show_notice(self, model_name: str | None):
        text = _notice(self.library, model_name)
        return gr.update(value=text, visible=bool(text))

    def predict(self, source: Any, model_name: str | None) -> dict[str, Any]:
        """Read a handwritten digit drawn in a Sketchpad.

        Args:
            source: the drawing: a Sketchpad value (background, layers, composite), dark
                ink on a light or transparent background, any size.
            model_name: the model to ask (see the models tool), e.g. "resnet_mini".

        Returns:
            The ten probabilities by digit ("0" to "9"), the likeliest as the label; or
            "not a digit" as the label, with the ten probabilities, when the model reads
            no digit there (letters, symbols, doodles); or, instead of a digit, what to do
            (e.g. "draw a digit") as the label.
        """
        try:
            stages = _read(source)
        except NotADigit as err:
            return label_value(not_a_digit(err))
        if stages is None:
            return label_value(DRAW_A_DIGIT)
        return label_value(_probabilities(self.library, stages, model_name))

    def predict_image(self, image: Any, model_name: str | None) -> dict[str, Any]:
        """Read a handwritten digit in an image file (a photo, a scan, a drawing).

        Args:
            image: the image: PNG or JPEG, any size; dark ink on light or light on dark.
            model_name: the model to ask (see the models tool), e.g. "resnet_mini".

        Returns:
            As for predict: the ten probabilities by digit, the likeliest as the label, or
            "not a digit" as the label, or what to do (e.g. "draw a digit").
        """
        return self.predict(image, model_name)

    def explain_drawing(self, source: Any, model_name: str | None):
        """Explain why a model reads a drawing as the digit it does.

        Args:
            source: the drawing: a Sketchpad value, as for predict.
            model_name: the model to ask (see the models tool), e.g. "resnet_mini".

        Returns:
            Three things: the model's 28x28 input at 280x280 with its ink painted red where
            it pushed towards the answer and blue where it pushed towards the runner-up;
            the same painting on the drawing's own strokes (RGBA, transparent elsewhere);
            and a summary: digit, runner_up, lead (logits), method (integrated gradients).
        """
        try:
            stages = _read(source)
        except NotADigit as err:
            raise user_error(not_a_digit(err)) from None
        if stages is None:
            raise user_error("Draw a digit first: there is nothing to explain.")
        explanation = explain(predictor_of(self.library, model_name), stages.image)
        summary = {
            "digit": explanation.top,
            "runner_up": explanation.runner_up,
            "lead": explanation.lead,
            "method": "integrated gradients",
        }
        return input_map(explanation, stages.image), strokes_map(explanation, stages), summary


def take_offer(name: str | None):
    """The new-model offer, clicked: its model selected, the offer hidden."""
    return name, gr.update(visible=False)


class ModelColumn(NamedTuple):
    model: gr.Dropdown
    notice: gr.Markdown
    offer: gr.Button
    offered: gr.State


class ApiInputs(NamedTuple):
    """The named endpoints' hidden components."""

    sketch: gr.Sketchpad
    upload: gr.Image
    label: gr.Label
    why_input: gr.Image
    why_strokes: gr.Image
    why_summary: gr.JSON
    layers: gr.JSON
    layers_picture: gr.Image
    api_only: gr.Button


def build_draw_tab(
    library: ModelLibrary,
    limits: Limits,
    personal: PersonalStore,
    owner_token: gr.BrowserState,
    personal_name: gr.BrowserState,
    watching: WatchHandlers,
    jobs: TrainingJobs,
) -> DrawTab:
    """The tab; `personal_name` remembers the visitor's handwriting set, and `watching`
    keeps the drawings they pick to watch while a model trains."""
    handlers = DrawHandlers(library)
    names = library.names()
    gr.Markdown(
        "Draw a digit: the answer follows your pen. Ctrl+Z undoes a stroke, Esc clears. "
        "The strip shows what the model sees, prepared like MNIST's digits.",
        elem_classes="draw-intro",
    )
    no_models = gr.Markdown(
        no_models_help(library.weights_dir), visible=not names, elem_classes="notice"
    )
    best = library.best_name()
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=320):
            read_pen = pen_reader(
                handlers.probabilities,
                limits.max_upload_bytes,
                why=handlers.why,
                pace=lambda: LIVE_EVERY_MS_WHILE_TRAINING if jobs.training() else LIVE_EVERY_MS,
            )
            pen_canvas(best, read_pen, limits.max_upload_bytes)
        # Wide enough for "t1_mlp_mse · 88.34% · 218k" beside the dropdown's arrow.
        with gr.Column(scale=1, min_width=300):
            column = _model_column(library, best)
    # The named endpoints take what they always took (a Sketchpad value, an image file)
    # and answer with the ten probabilities; the page never fires them. Wired first: the
    # page's Gradio client describes the app's first event with /predict's parameters, and
    # warned "Too many arguments provided for the endpoint." at each click of any other
    # first event (it was "✓ Right").
    inside = InsideHandlers(library, limits.max_upload_bytes)
    _wire_api(handlers, inside, column.model, _api_inputs(limits))
    connect = build_personal_panel(
        library, personal, limits, column.model, owner_token, personal_name, watching
    )
    build_inside_view(inside)
    _wire_model(handlers, column)
    warm_answer(read_pen, best)
    return DrawTab(
        model=column.model,
        no_models=no_models,
        offer=column.offer,
        offered=column.offered,
        connect=connect,
    )


def _model_column(library: ModelLibrary, best: str | None) -> ModelColumn:
    """The model dropdown, its preprocessing notice and the new-model offer."""
    model = gr.Dropdown(
        library.choices(),
        value=best,
        label="Model",
        allow_custom_value=True,  # API callers may name a model trained after page load
        elem_id="draw-model",
    )
    initial_notice = _notice(library, best)
    notice = gr.Markdown(
        initial_notice,
        visible=bool(initial_notice),
        elem_classes="notice",
        elem_id="model-notice",
    )
    offer = gr.Button(visible=False, size="sm", elem_id="new-model-offer")
    offered = gr.State(None)
    return ModelColumn(model, notice, offer, offered)


def _wire_model(handlers: DrawHandlers, column: ModelColumn) -> None:
    column.offer.click(
        take_offer,
        column.offered,
        [column.model, column.offer],
        api_visibility="private",
        queue=False,
    )
    column.model.change(None, column.model, None, js=TELL_THE_CANVAS, api_visibility="private")
    column.model.change(
        handlers.show_notice, column.model, column.notice, api_visibility="private", queue=False
    )


def _api_inputs(limits: Limits) -> ApiInputs:
    with gr.Group(visible=False):
        sketch = gr.Sketchpad(type="numpy", image_mode="RGBA")
        sketch = with_bounded_blobs(
            guarded_image_input(sketch, limits.max_pixels),
            limits.sketch_layers,
            limits.sketch_drawings_per_session,
            limits.sketch_blob_bytes,
        )
        upload = guarded_image_input(gr.Image(type="pil", image_mode=None), limits.max_pixels)
        label = gr.Label(num_top_classes=10)
        why_input = gr.Image(type="numpy", format="png")
        why_strokes = gr.Image(type="numpy", format="png", image_mode="RGBA")
        why_summary = gr.JSON()
        layers = gr.JSON()
        layers_picture = gr.Image(type="numpy", format="png")
        api_only = gr.Button()
    return ApiInputs(
        sketch, upload, label, why_input, why_strokes, why_summary, layers, layers_picture, api_only
    )


def _wire_api(
    handlers: DrawHandlers, inside: InsideHandlers, model: gr.Dropdown, api: ApiInputs
) -> None:
    for function, source in ((handlers.predict, api.sketch), (handlers.predict_image, api.upload)):
        api.api_only.click(
            function,
            [source, model],
            api.label,
            api_name=function.__name__,
            concurrency_limit=2,
            postprocess=False,  # label_value is the Label's value already
        )
    api.api_only.click(
        handlers.explain_drawing,
        [api.sketch, model],
        [api.why_input, api.why_strokes, api.why_summary],
        api_name="explain",
        concurrency_limit=2,
    )
    api.api_only.click(
        inside.inspect_layers,
        [api.upload, model],
        [api.layers, api.layers_picture],
        api_name="inspect_layers",
        concurrency_limit=2,
    )


def _read(source: Any) -> Preprocessed | None:
    """Every stage of a Sketchpad value or an image (None: no ink); raises NotADigit, or a
    user error when the image cannot be read."""
    try:
        return read_drawing(source)
    except NotADigit:
        raise
    except (ValueError, OSError) as err:
        raise user_error(f"Could not read that image: {err}") from None


def _probabilities(
    library: ModelLibrary, stages: Preprocessed, model_name: str | None, live: bool = False
) -> Answer:
    """Ten probabilities from the named model (a NonDigit where it reads no digit), or
    NO_MODEL when there is none yet. A `live` frame (the pen still down) is read through
    ONNX Runtime once the model's export is ready, 3x faster; the answer a person keeps,
    at pen-up, always comes from torch, the same to the bit as everywhere else."""
    if not model_name:
        return NO_MODEL
    predictor = predictor_of(library, model_name)
    fast = library.live_answer(model_name) if live else None
    return answer_of(*(fast or predictor).answer(stages.image))


def label_value(answer: Answer) -> dict[str, Any]:
    """The Label's value as the endpoints send it (they skip Gradio's postprocessing, which
    would make the likeliest digit the label): "not a digit" tops a NonDigit's ten."""
    if isinstance(answer, str):
        return {"label": answer, "confidences": None}
    probabilities = answer.probabilities if isinstance(answer, NonDigit) else answer
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)
    return {
        "label": REFUSAL if isinstance(answer, NonDigit) else ranked[0][0],
        "confidences": [{"label": d, "confidence": p} for d, p in ranked],
    }


def _why(library: ModelLibrary, stages: Preprocessed, model_name: str | None) -> dict[str, str]:
    """The pen canvas's explanation: over the strokes, over the 28x28 input, and a legend."""
    explanation = explain(predictor_of(library, model_name), stages.image)
    return {
        "why": png_data_url(strokes_map(explanation, stages)),
        "why_input": png_data_url(input_map(explanation, stages.image)),
        "why_html": legend_html(explanation),
    }


def warm_answer(read_pen: Callable[[dict], Any], model_name: str | None) -> None:
    """One drawing answered by `model_name` the way the canvas asks, before the page is
    served: the model loaded and every step of an answer run once, so that the first
    visitor's first answer is no slower than the next."""
    if model_name:
        drawing = np.zeros((280, 280, 4), np.uint8)  # the canvas: ink in its alpha
        drawing[60:220, 132:148, 3] = 255  # a 1
        read_pen({"image": png_data_url(drawing), "kind": "canvas", "model": model_name})


def _notice(library: ModelLibrary, model_name: str | None) -> str:
    """What to know about the model before reading its answers: that it cannot say "not a
    digit", or that it was trained with other preprocessing than the app's."""
    try:
        predictor = library.predictor(model_name) if model_name else None
    except ValueError:  # a broken checkpoint: predicting with it says what is wrong
        return ""
    if predictor is None:
        return ""
    notices = [
        _no_refusal_notice(model_name, predictor),
        preprocessing_notice(model_name, predictor.checkpoint.preprocessing),
    ]
    return "\n\n".join(notice for notice in notices if notice)


def _no_refusal_notice(model_name: str, predictor: Predictor) -> str:
    """A model with neither a digit detector nor a refusal threshold names a digit for
    anything; said beside its answers, where a letter read "4, 87% sure" looked like a
    verdict."""
    if predictor.can_refuse:
        return ""
    return (
        f"**{model_name}** cannot say “not a digit”: it answers with a digit whatever you "
        "draw, a letter or a doodle too. Models trained to refuse, such as the `*_drawn` "
        "ones, can."
    )
