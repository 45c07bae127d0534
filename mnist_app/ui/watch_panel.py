"""The Train tab's "Watch your drawings learnt": the drawings a visitor picked (from the
Draw tab's 👁 Watch, or from their own handwriting set) for the next run to read as it
learns, and the cards of how the run reads them (`watch_view`)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
from PIL import Image

from ..core.timeline import MAX_WATCHED, NO_LABEL, Timeline
from ..preprocess import NotADigit
from ..service.personal_store import PersonalStore, check_set_name
from ..service.training_jobs import Snapshot, TrainingJobs
from ..service.watch_lists import WatchLists
from ..training.timeline_recorder import live_timeline
from .charts import enlarge
from .errors import user_error
from .identity import owner, owner_keys
from .pen_answers import read_page_drawing
from .text import not_a_digit
from .watch_view import watch_html

HOW_TO_PICK = (
    f"Pick up to {MAX_WATCHED} drawings for the next run to read as it learns: press "
    "**👁 Watch while training** under a drawing in the Draw tab, or add some of your own "
    "handwriting set. Each one's card shows the probability of its digit step by step."
)
WAITING = "The run reads your drawings before its first step."
NOT_YOURS = "The run in progress reads drawings its owner picked; only they see them."


@dataclass(frozen=True)
class WatchPanel:
    picked: gr.Gallery
    add_yours: gr.Button
    clear: gr.Button
    message: gr.Markdown


def lay_out_watch_panel() -> WatchPanel:
    with gr.Accordion("Watch your drawings learnt", open=True, elem_id="watch-pick"):
        gr.Markdown(HOW_TO_PICK)
        picked = gr.Gallery(
            label="Drawings the next run reads",
            columns=MAX_WATCHED,
            height="auto",
            allow_preview=False,
            elem_id="watch-picked",
        )
        with gr.Row():
            add_yours = gr.Button("Add from your handwriting", size="sm", elem_id="watch-add")
            clear = gr.Button("Clear", size="sm", elem_id="watch-clear")
        message = gr.Markdown(elem_id="watch-message")
    return WatchPanel(picked, add_yours, clear, message)


@dataclass(frozen=True)
class WatchHandlers:
    watch_lists: WatchLists
    personal: PersonalStore
    jobs: TrainingJobs  # a run of the visitor's under way reads what they pick at once
    max_upload_bytes: int

    def _picked(self, who: str, them: str = "it") -> str:
        """Where the drawings just picked (`them`: "it" or "them") go: the visitor's run
        under way, or the next."""
        count = len(self.watch_lists.drawings(who))
        if self.jobs.watch_now(who, self.watch_lists.watched(who)):
            return f"your run under way reads {them} from its next point ({count} of {MAX_WATCHED})"
        return f"the next run you start reads {them} as it learns ({count} of {MAX_WATCHED} picked)"

    def watch_drawing(self, drawing_json, token: str | None, request: gr.Request) -> str:
        """The Draw tab's 👁: the pen's drawing joins the visitor's list, as the model
        sees it; what happened, for the message line."""
        try:
            stages = (
                read_page_drawing(drawing_json, self.max_upload_bytes) if drawing_json else None
            )
        except NotADigit as err:
            return f"⚠ Not watched: {not_a_digit(err)}."
        except (ValueError, OSError) as err:
            return f"⚠ Could not read that drawing: {err}"
        if stages is None:
            return "⚠ Draw a digit first, then press 👁 to watch it while a model trains."
        who = owner(token, request)
        try:
            self.watch_lists.add(who, [stages.image], [NO_LABEL])
        except ValueError as err:
            return f"⚠ {err}"
        return f"👁 Watched: {self._picked(who)}. See the Train tab."

    def picked(self, token: str | None, request: gr.Request):
        """The visitor's picked drawings, as the gallery shows them."""
        return [
            (Image.fromarray(enlarge(image, 2)), "?" if label == NO_LABEL else str(label))
            for image, label in self.watch_lists.drawings(owner(token, request))
        ]

    def add_yours(self, set_name: str | None, token: str | None, request: gr.Request):
        """Drawings of the visitor's handwriting set, as many as fit: the newest of each
        digit first, so that a full list shows ten different digits."""
        try:
            name = check_set_name(set_name)
        except ValueError:
            raise user_error(
                "You have no handwriting set yet: in the Draw tab, draw a digit, press its "
                "number to keep it, and come back."
            ) from None
        samples = self.personal.samples(name, owner_keys(token, request))
        if not samples:
            raise user_error(f"Your set {name!r} has no drawings yet.")
        chosen = _newest_of_each_digit_first(samples)
        images = [sample.pixels() for sample in chosen[:MAX_WATCHED]]
        labels = [sample.label for sample in chosen[:MAX_WATCHED]]
        who = owner(token, request)
        try:
            added = self.watch_lists.add(who, images, labels)
        except ValueError as err:
            raise user_error(str(err)) from None
        where = self._picked(who, "them")
        return self.picked(token, request), f"Added {added} of your drawings: {where}."

    def clear(self, token: str | None, request: gr.Request):
        self.watch_lists.clear(owner(token, request))
        return [], "Cleared: the next run reads no drawings of yours."


def _newest_of_each_digit_first(samples: list) -> list:
    by_digit: dict[int, list] = {}
    for sample in sorted(samples, key=lambda s: s.id, reverse=True):
        by_digit.setdefault(sample.label, []).append(sample)
    rounds = max(len(group) for group in by_digit.values())
    return [
        group[k] for k in range(rounds) for _, group in sorted(by_digit.items()) if k < len(group)
    ]


def watch_update(snapshot: Snapshot, viewer_is_owner: bool) -> str:
    """The run's cards for its owner; for anyone else, only that drawings are read."""
    if snapshot.watched is None:
        return ""
    if not viewer_is_owner:
        return f'<p class="watch-note">{NOT_YOURS}</p>'
    if not snapshot.watch:
        return f'<p class="watch-note">{WAITING}</p>'
    timeline = live_timeline(snapshot.watch)
    note = f"How {snapshot.name} reads your drawings as it learns (dashed line: 50%)."
    return watch_html(timeline, snapshot.total_steps, note)


def watch_replay(timeline: Timeline | None, mine: bool) -> str:
    """A saved run's cards (Models tab), to whoever trained it."""
    if timeline is None or not timeline.watch_labels:
        return ""
    if not mine:
        count = len(timeline.watch_labels)
        return (
            f'<p class="watch-note">{count} drawings were watched as it trained; only '
            "whoever trained it sees them.</p>"
        )
    note = "How it read the drawings you watched as it learnt (dashed line: 50%)."
    return watch_html(timeline, timeline.watch_steps[-1], note)
