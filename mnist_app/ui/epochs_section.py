"""The Mistakes tab's "Epoch by epoch": the test set as the model read it at each
evaluation of its run (the checkpoint's timeline): the confusion matrix and the mistakes at
a chosen point, and which images it learnt (wrong then, right now) and forgot (right then,
wrong now) between two chosen points."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
from PIL import Image

from ..core.data import MnistFormatError, MnistNotFoundError
from ..core.timeline import Timeline
from ..service.library import ModelLibrary
from .charts import confusion_image, enlarge
from .errors import user_error

SHOWN = 100  # images per gallery: the first ones in test-set order
NO_TIMELINE = (
    "**{name}** was trained before the app kept a run's predictions at each evaluation (or "
    "was not trained here: a personal fit, a model copied in), so there is nothing to show "
    "epoch by epoch. Models trained from now on keep them."
)


@dataclass(frozen=True)
class EpochsSection:
    accordion: gr.Accordion
    status: gr.Markdown
    start: gr.Slider
    at: gr.Slider
    summary: gr.Markdown
    confusion: gr.Image
    learnt: gr.Gallery
    forgotten: gr.Gallery

    @property
    def outputs(self) -> list:
        """What `EpochsHandlers.compare` fills."""
        return [self.summary, self.confusion, self.learnt, self.forgotten]


def lay_out_epochs_section() -> EpochsSection:
    with gr.Accordion(
        "Epoch by epoch: what it learnt and forgot", open=False, elem_id="epochs"
    ) as accordion:
        status = gr.Markdown(elem_id="epochs-status")
        with gr.Row():
            start = gr.Slider(1, 2, value=1, step=1, label="From evaluation", elem_id="epochs-from")
            at = gr.Slider(1, 2, value=2, step=1, label="At evaluation", elem_id="epochs-at")
        summary = gr.Markdown(elem_id="epochs-summary")
        with gr.Row(equal_height=False):
            confusion = gr.Image(
                label="Confusion matrix at that evaluation",
                show_label=False,
                alt_text="Confusion matrix at the chosen evaluation",
                format="png",
                interactive=False,
                elem_id="epochs-confusion",
            )
            with gr.Column():
                learnt = _gallery(
                    "Learnt: wrong at the first, right at the second (read then→now)", "learnt"
                )
                forgotten = _gallery(
                    "Forgotten: right at the first, wrong at the second (read then→now)",
                    "forgotten",
                )
    return EpochsSection(accordion, status, start, at, summary, confusion, learnt, forgotten)


def _gallery(label: str, name: str) -> gr.Gallery:
    return gr.Gallery(
        label=label, columns=8, height=220, allow_preview=False, elem_id=f"epochs-{name}"
    )


@dataclass(frozen=True)
class EpochsHandlers:
    library: ModelLibrary

    def _timeline(self, name: str | None) -> Timeline | None:
        if not name:
            return None
        try:
            return self.library.predictor(name).checkpoint.timeline
        except ValueError as err:
            raise user_error(str(err)) from None

    def show(self, name: str | None):
        """The status line and the two sliders for the picked model (the whole run:
        from its first evaluation to its last)."""
        timeline = self._timeline(name)
        hidden = gr.update(visible=False)
        if timeline is None or not timeline.evaluations:
            return (NO_TIMELINE.format(name=name) if name else "", hidden, hidden)
        count = timeline.evaluations
        status = (
            f"**{name}** was evaluated on the 10,000 test images {count} times as it trained "
            f"(steps {timeline.eval_steps[0]:,} to {timeline.eval_steps[-1]:,}). Pick two "
            "evaluations to see what it learnt and forgot between them."
        )
        sliders = dict(minimum=1, maximum=max(count, 2), visible=True, interactive=count > 1)
        return status, gr.update(value=1, **sliders), gr.update(value=count, **sliders)

    def compare(self, name: str | None, start: float, at: float):
        """The mistakes and confusion matrix at evaluation `at`, and the images learnt and
        forgotten since evaluation `start` (1-based, as the sliders count)."""
        timeline = self._timeline(name)
        if timeline is None or not timeline.evaluations:
            return "", None, [], []
        try:
            data = self.library.data()
        except (MnistNotFoundError, MnistFormatError) as err:
            raise user_error(str(err)) from None
        labels = data.test_labels
        last = timeline.evaluations - 1
        a, b = (min(max(0, round(k or 1) - 1), last) for k in (start, at))
        learnt = timeline.learnt(a, b, labels)
        forgotten = timeline.forgotten(a, b, labels)
        mistakes = timeline.mistakes_at(b, labels)
        summary = (
            f"At evaluation {b + 1} of {last + 1} ({_when(timeline, b)}): **{mistakes:,} "
            f"mistakes** ({1 - mistakes / len(labels):.2%} right). Since evaluation {a + 1} "
            f"({_when(timeline, a)}): **{len(learnt):,} learnt**, **{len(forgotten):,} "
            "forgotten**"
            + (
                f" (the first {SHOWN} of each shown)."
                if max(len(learnt), len(forgotten)) > SHOWN
                else "."
            )
        )
        matrix = timeline.confusion_at(b, labels).numpy()

        read = timeline.test_predictions

        def items(indices) -> list:
            return [
                (
                    Image.fromarray(enlarge(data.test_images[i].numpy(), 2)),
                    f"{int(read[a, i])}→{int(read[b, i])}",
                )
                for i in indices[:SHOWN].tolist()
            ]

        title = f"Confusion matrix at evaluation {b + 1}"
        return summary, confusion_image(matrix, title), items(learnt), items(forgotten)


def _when(timeline: Timeline, k: int) -> str:
    return f"step {timeline.eval_steps[k]:,}, epoch {timeline.eval_epochs[k]:.2f}"


def wire_epochs_section(
    section: EpochsSection, handlers: EpochsHandlers, model: gr.Dropdown
) -> None:
    """Opening the section, or picking a model, fills it; each slider compares again.
    Named apart: Gradio names an event after its function, and a private "compare" took
    the Models tab's public /compare."""
    sliders = [section.start, section.at]
    private = dict(api_visibility="private")
    compare = dict(api_name="epochs_compare", **private)
    gr.on(
        [section.accordion.expand, model.change],
        handlers.show,
        model,
        [section.status, *sliders],
        api_name="epochs_show",
        **private,
    ).then(handlers.compare, [model, *sliders], section.outputs, **compare)
    for slider in sliders:
        slider.release(
            handlers.compare,
            [model, *sliders],
            section.outputs,
            trigger_mode="always_last",
            **compare,
        )
