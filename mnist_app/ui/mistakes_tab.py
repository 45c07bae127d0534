"""Mistakes tab: the MNIST test images a model gets wrong, and where its errors fall."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr
from PIL import Image

from ..data import MnistFormatError, MnistNotFoundError
from ..evaluation import Mistake
from ..library import ModelLibrary
from .charts import confusion_image, enlarge, per_class_table
from .text import no_models_help

ANY = "any"
DIGIT_CHOICES = [ANY, *map(str, range(10))]
# A gallery of thousands of images (a barely trained model) would stall the browser; the
# most confident mistakes are the instructive ones and come first.
MAX_SHOWN = 200
THUMBNAIL_ZOOM = 3


@dataclass
class MistakesTab:
    model: gr.Dropdown
    show: Callable  # fills the tab; the app also calls it when the tab is opened
    inputs: list[gr.components.Component]
    outputs: list[gr.components.Component]


def caption(mistake: Mistake) -> str:
    return f"true {mistake.true} -> predicted {mistake.predicted} ({mistake.confidence:.0%})"


def build_mistakes_tab(library: ModelLibrary) -> MistakesTab:
    names = library.names()
    with gr.Row():
        model = gr.Dropdown(
            names,
            value=library.best_name(),
            label="Model",
            allow_custom_value=True,  # API callers may name a model trained after page load
            scale=2,
            elem_id="mistakes-model",
        )
        true = gr.Dropdown(DIGIT_CHOICES, value=ANY, label="True digit", scale=1)
        predicted = gr.Dropdown(DIGIT_CHOICES, value=ANY, label="Predicted digit", scale=1)
    summary = gr.Markdown(no_models_help(library.weights_dir) if not names else "", label="Summary")
    gallery = gr.Gallery(
        label="Misclassified test images, most confident first",
        columns=6,
        height=560,
        format="png",
        object_fit="contain",
        allow_preview=True,
        elem_id="mistakes-gallery",
    )
    with gr.Row(equal_height=False):
        confusion = gr.Image(
            label="Confusion matrix",
            format="png",
            interactive=False,
            show_label=False,
            buttons=["fullscreen"],
        )
        per_class = gr.Dataframe(label="Per-class accuracy", interactive=False, max_height=520)

    def mistakes(model_name: str | None, true_digit: str, predicted_digit: str):
        if not model_name:
            return [], no_models_help(library.weights_dir), None, None
        try:
            evaluation = library.evaluation(model_name)
            images = library.data().test_images
        except (ValueError, MnistNotFoundError, MnistFormatError) as err:
            raise gr.Error(str(err)) from None
        found = evaluation.mistakes(true=_digit(true_digit), predicted=_digit(predicted_digit))
        shown = found[:MAX_SHOWN]
        gallery_items = [
            (Image.fromarray(enlarge(images[m.index].numpy(), THUMBNAIL_ZOOM)), caption(m))
            for m in shown
        ]
        total = len(evaluation.labels)
        errors = total - int(evaluation.confusion.diagonal().sum())
        text = (
            f"**{model_name}**: test accuracy **{evaluation.accuracy:.2%}**, "
            f"{errors} of {total:,} test images misclassified. "
            f"Filter: true {true_digit}, predicted {predicted_digit}: {len(found)} found"
            + (f", showing the {MAX_SHOWN} most confident." if len(found) > MAX_SHOWN else ".")
        )
        matrix = evaluation.confusion.numpy()
        return (
            gallery_items,
            text,
            confusion_image(matrix),
            per_class_table(evaluation.per_class_accuracy, matrix),
        )

    inputs = [model, true, predicted]
    outputs = [gallery, summary, confusion, per_class]
    model.change(mistakes, inputs, outputs, api_name="mistakes")
    for trigger in (true.change, predicted.change):
        trigger(mistakes, inputs, outputs, api_visibility="private")
    return MistakesTab(model=model, show=mistakes, inputs=inputs, outputs=outputs)


def _digit(choice: str | None) -> int | None:
    if choice in (None, "", ANY):
        return None
    if choice not in DIGIT_CHOICES:
        raise gr.Error(f"digit filter must be 'any' or 0-9, got {choice!r}")
    return int(choice)
