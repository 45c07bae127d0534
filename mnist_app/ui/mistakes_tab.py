"""Mistakes tab: the MNIST test images a model gets wrong, and where its errors fall."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import gradio as gr
from PIL import Image

from ..analysis.explain import explain
from ..core.data import MnistFormatError, MnistNotFoundError
from ..core.evaluation import Evaluation, Example
from ..core.messages import quoted
from ..service.library import ModelLibrary
from .charts import confusion_cell, confusion_image, enlarge, per_class_table
from .epochs_section import EpochsHandlers, lay_out_epochs_section, wire_epochs_section
from .errors import user_error
from .explain_view import input_map, legend_html
from .text import no_models_help

ANY = "any"
DIGIT_CHOICES = [ANY, *map(str, range(10))]
# A gallery of thousands of images (a barely trained model) would stall the browser: the
# mistakes come a page at a time, the most confident (the instructive ones) first.
PAGE_SIZE = 200
THUMBNAIL_ZOOM = 3
NEIGHBOURS = 6


def scroll_into_view(element_id: str) -> str:
    """An event's `js`: brings the element into view as the click is sent, its inputs
    passed on unchanged."""
    return f"""(...args) => {{
  setTimeout(() => document.getElementById("{element_id}")?.scrollIntoView(
    {{behavior: "smooth", block: "start"}}), 50);
  return args;
}}"""


# The clicked image's details: below the gallery, off screen on a phone.
SCROLL_TO_DETAILS = scroll_into_view("example-details")
# A cell's images: the gallery is above the matrix, off screen when it is clicked; from the
# summary, which says what the gallery now holds.
SCROLL_TO_GALLERY = scroll_into_view("mistakes-summary")


DETAILS_PROMPT = (
    "Click an image above to see its ten probabilities, why the model read it so (red "
    f"pushed towards the answer, blue towards the runner-up), and the {NEIGHBOURS} training "
    "images most alike to it in the model's own features."
)


@dataclass
class MistakesTab:
    model: gr.Dropdown
    show: Callable  # fills the tab; the app also calls it when the tab is opened
    inputs: list[gr.components.Component]
    outputs: list[gr.components.Component]


def caption(mistake: Example) -> str:
    return f"true {mistake.true} -> predicted {mistake.predicted} ({mistake.confidence:.0%})"


def page_count(found: int) -> int:
    return max(1, -(-found // PAGE_SIZE))


class _Browser(NamedTuple):
    """The filters, and the gallery of the images they pick, a page at a time."""

    model: gr.Dropdown
    true: gr.Dropdown
    predicted: gr.Dropdown
    summary: gr.Markdown
    previous: gr.Button
    following: gr.Button
    page: gr.State
    gallery: gr.Gallery


class _Charts(NamedTuple):
    confusion: gr.Image
    per_class: gr.Dataframe


@dataclass
class MistakesHandlers:
    """The Mistakes tab's event handlers, over the model library: each can be called
    without building the page."""

    library: ModelLibrary

    def _evaluated(self, model_name: str):
        try:
            return self.library.evaluation(model_name), self.library.data().test_images
        except (ValueError, MnistNotFoundError, MnistFormatError) as err:
            raise user_error(str(err)) from None

    def one_page(self, model_name: str, true_digit: str, predicted_digit: str, number: int):
        """The gallery's page `number` (clamped) and the summary saying where it is."""
        evaluation, images = self._evaluated(model_name)
        found, read_right = of_filter(evaluation, true_digit, predicted_digit)
        number = min(max(1, number), page_count(len(found)))
        start = (number - 1) * PAGE_SIZE
        shown = found[start : start + PAGE_SIZE]
        gallery_items = [
            (Image.fromarray(enlarge(images[m.index].numpy(), THUMBNAIL_ZOOM)), caption(m))
            for m in shown
        ]
        total = len(evaluation.labels)
        errors = total - int(evaluation.confusion.diagonal().sum())
        order = "least confident first" if read_right else "most confident first"
        where = (
            f", showing {start + 1:,}-{start + len(shown):,} (page {number} of "
            f"{page_count(len(found))}), {order}."
            if len(found) > PAGE_SIZE
            else f", {order}."
            if found
            else "."
        )
        what = "read right" if read_right else "found"
        text = (
            f"**{model_name}**: test accuracy **{evaluation.accuracy:.2%}**, "
            f"{errors:,} of {total:,} test images misclassified. "
            f"Filter: true {true_digit}, predicted {predicted_digit}: {len(found):,} {what}{where}"
        )
        return gallery_items, text, number

    def mistakes(self, model_name: str | None, true_digit: str, predicted_digit: str):
        """The MNIST test images a model gets wrong.

        Args:
            model_name: the model (see the models tool), e.g. "resnet_mini".
            true_digit: "any", or "0" to "9": only images of this digit.
            predicted_digit: "any", or "0" to "9": only images read as this digit. The
                same digit as true_digit gives the images read right, least confident first.

        Returns:
            The first page of misclassified images (most confident first), each captioned
            with its true and predicted digit and confidence; a summary with the test
            accuracy; the confusion matrix as an image; per-class accuracy as a table;
            the page number.
        """
        if not model_name:
            return [], no_models_help(self.library.weights_dir), None, None, 1
        gallery_items, text, _ = self.one_page(model_name, true_digit, predicted_digit, 1)
        evaluation, _ = self._evaluated(model_name)
        self.library.prefetch_features(model_name)  # for a click on an image, in the background
        matrix = evaluation.confusion.numpy()
        table = per_class_table(evaluation.per_class_accuracy, matrix)
        return gallery_items, text, confusion_image(matrix), table, 1

    def turn_to(self, model_name: str | None, true_digit: str, predicted_digit: str, number: int):
        if not model_name:
            return gr.skip(), gr.skip(), 1
        return self.one_page(model_name, true_digit, predicted_digit, number)

    def previous_page(self, model_name, true_digit, predicted_digit, number: int):
        return self.turn_to(model_name, true_digit, predicted_digit, number - 1)

    def next_page(self, model_name, true_digit, predicted_digit, number: int):
        return self.turn_to(model_name, true_digit, predicted_digit, number + 1)

    def pick_cell(self, model_name: str | None, selected: gr.SelectData):
        """A click on the confusion matrix: that cell's images."""
        cell = None
        if model_name and isinstance(selected.index, list | tuple) and len(selected.index) == 2:
            matrix = self._evaluated(model_name)[0].confusion.numpy()
            cell = confusion_cell(matrix, *selected.index)
        if cell is None:
            return [gr.skip()] * 5
        true_digit, predicted_digit = map(str, cell)
        items, text, number = self.one_page(model_name, true_digit, predicted_digit, 1)
        return true_digit, predicted_digit, items, text, number

    def pick_example(
        self,
        model_name: str | None,
        true_digit: str,
        predicted_digit: str,
        number: int,
        selected: gr.SelectData,
    ):
        """A click on the gallery: the test image it shows."""
        if not model_name or not isinstance(selected.index, int):
            return gr.skip()
        found, _ = of_filter(self._evaluated(model_name)[0], true_digit, predicted_digit)
        position = (max(1, number) - 1) * PAGE_SIZE + selected.index
        return found[position].index if position < len(found) else gr.skip()

    def inspect(self, model_name: str, test_index: int):
        """One MNIST test image through a model's eyes.

        Args:
            model_name: the model (see the models tool), e.g. "resnet_mini".
            test_index: the image's position in the MNIST test set, 0 to 9999.

        Returns:
            A heading (true digit, answer, confidence); the ten probabilities; the
            explanation (Integrated Gradients over the 28x28 image, 280x280: red pixels
            pushed towards the answer, blue towards the runner-up) and its legend; the 6
            training images nearest to it in the model's penultimate-layer features,
            captioned with their labels and cosine similarity.
        """
        evaluation, images = self._evaluated(model_name)
        if test_index is None or not 0 <= int(test_index) < len(images):
            raise user_error(f"test_index must be 0 to {len(images) - 1}, got {test_index}")
        index = int(test_index)
        image = images[index].numpy().astype("float32") / 255
        predictor = self.library.predictor(model_name)
        explanation = explain(predictor, image)
        probabilities = evaluation.probabilities[index].tolist()
        true, answer = int(evaluation.labels[index]), int(evaluation.predictions[index])
        verdict = "right" if true == answer else "wrong"
        title = (
            f"**Test image #{index}**: a {true}, read as **{answer}** "
            f"({probabilities[answer]:.1%}, {verdict}); runner-up {explanation.runner_up}. "
            f"Also shown: the {NEIGHBOURS} training images most alike to it in its features."
        )
        train_images = self.library.data().train_images
        neighbours = [
            (
                Image.fromarray(enlarge(train_images[n.index].numpy(), THUMBNAIL_ZOOM)),
                f"a {n.label} · {n.similarity:.2f} alike",
            )
            for n in self.library.features(model_name).nearest(images[index], NEIGHBOURS)
        ]
        return (
            title,
            {str(d): p for d, p in enumerate(probabilities)},
            input_map(explanation, image),
            legend_html(explanation),
            neighbours,
        )


def forget_example():
    """Another model: the picked image's details were the last one's reading."""
    return (
        gr.update(selected_index=None),
        None,
        DETAILS_PROMPT,
        None,
        None,
        "",
        [],
    )


def build_mistakes_tab(library: ModelLibrary) -> MistakesTab:
    browser = _browser_section(library)
    details = _details_section()
    # The picked test image: set by a gallery click, or by an API caller of /inspect.
    test_index = gr.Number(visible=False, precision=0)
    charts = _charts_section()
    wire_epochs_section(lay_out_epochs_section(), EpochsHandlers(library), browser.model)
    handlers = MistakesHandlers(library)
    model, gallery, page = browser.model, browser.gallery, browser.page

    inputs = [model, browser.true, browser.predicted]
    outputs = [gallery, browser.summary, *charts, page]
    explaining = gallery.select(
        handlers.pick_example,
        [*inputs, page],
        test_index,
        js=SCROLL_TO_DETAILS,
        api_visibility="private",
        trigger_mode="always_last",  # the last image clicked is the one explained
    ).success(
        handlers.inspect,
        [model, test_index],
        details,
        api_name="inspect",
        trigger_mode="always_last",
    )
    # An explanation still on its way is the last model's: cancelled, and what it showed goes.
    model.change(
        handlers.mistakes, inputs, outputs, api_name="mistakes", cancels=[explaining]
    ).then(
        forget_example, None, [gallery, test_index, *details], api_visibility="private", queue=False
    )
    # .input, not .change: a click on the matrix sets both filters and fills the page once.
    for trigger in (browser.true.input, browser.predicted.input):
        trigger(
            handlers.mistakes,
            inputs,
            outputs,
            api_visibility="private",
            trigger_mode="always_last",
        )
    charts.confusion.select(
        handlers.pick_cell,
        model,
        [browser.true, browser.predicted, gallery, browser.summary, page],
        js=SCROLL_TO_GALLERY,
        api_visibility="private",
    )
    turns = ((browser.previous, handlers.previous_page), (browser.following, handlers.next_page))
    for button, turn in turns:
        button.click(
            turn, [*inputs, page], [gallery, browser.summary, page], api_visibility="private"
        )
    return MistakesTab(model=model, show=handlers.mistakes, inputs=inputs, outputs=outputs)


def _browser_section(library: ModelLibrary) -> _Browser:
    with gr.Row():
        model = gr.Dropdown(
            library.choices(),
            value=library.best_name(),
            label="Model",
            allow_custom_value=True,  # API callers may name a model trained after page load
            scale=2,
            min_width=260,  # a row of its own on a phone: its choice reads whole
            elem_id="mistakes-model",
        )
        true = gr.Dropdown(DIGIT_CHOICES, value=ANY, label="True digit", scale=1)
        predicted = gr.Dropdown(DIGIT_CHOICES, value=ANY, label="Predicted digit", scale=1)
    summary = gr.Markdown(
        no_models_help(library.weights_dir) if not library.names() else "",
        elem_id="mistakes-summary",
    )
    with gr.Row(elem_classes="pager"):
        previous = gr.Button("◀ Previous", size="sm", scale=0, min_width=120)
        following = gr.Button("Next ▶", size="sm", scale=0, min_width=120)
    page = gr.State(1)
    gallery = gr.Gallery(
        label="Test images of the filter",  # in the order the summary says
        columns=6,
        height=560,
        format="png",
        object_fit="contain",
        allow_preview=False,  # a click shows the image's details below instead
        elem_id="mistakes-gallery",
    )
    return _Browser(model, true, predicted, summary, previous, following, page, gallery)


def _details_section() -> list[gr.components.Component]:
    """The clicked image's details, in the order MistakesHandlers.inspect fills them."""
    # The id on a column: a group writes its elem_id on two nested elements.
    with gr.Column(elem_id="example-details"), gr.Group():
        title = gr.Markdown(DETAILS_PROMPT, elem_id="example-title")
        with gr.Row(equal_height=False):
            probabilities = gr.Label(
                num_top_classes=10, label="Probabilities", elem_id="example-probabilities"
            )
            with gr.Column():
                why = gr.Image(
                    label="Why",
                    format="png",
                    interactive=False,
                    # Gradio wraps the picture in a button: the alt text is that button's name.
                    alt_text="Why: the image coloured by what pushed the answer",
                    elem_id="example-why",
                    elem_classes="pixelated",
                )
                legend = gr.HTML(elem_id="example-legend")
            neighbours = gr.Gallery(
                label="Most alike to the model",
                columns=3,
                height=300,
                format="png",
                object_fit="contain",
                allow_preview=False,
                elem_id="example-neighbours",
            )
    return [title, probabilities, why, legend, neighbours]


def _charts_section() -> _Charts:
    with gr.Row(equal_height=False):
        confusion = gr.Image(
            label="Confusion matrix",
            alt_text="Confusion matrix: click a cell for its images",
            elem_id="mistakes-confusion",
            format="png",
            interactive=False,
            show_label=False,
            buttons=["fullscreen"],
        )
        per_class = gr.Dataframe(label="Per-class accuracy", interactive=False, max_height=520)
    return _Charts(confusion, per_class)


def of_filter(
    evaluation: Evaluation, true_digit: str, predicted_digit: str
) -> tuple[list[Example], bool]:
    """The test images a filter shows, in the gallery's order, and whether they are the
    ones read right (true = predicted: least confident first) or mistakes."""
    true, predicted = _digit(true_digit), _digit(predicted_digit)
    read_right = true is not None and true == predicted
    found = evaluation.correct(true) if read_right else evaluation.mistakes(true, predicted)
    return found, read_right


def _digit(choice: str | None) -> int | None:
    if choice in (None, "", ANY):
        return None
    if choice not in DIGIT_CHOICES:
        raise user_error(f"digit filter must be 'any' or 0-9, got {quoted(choice)}")
    return int(choice)
