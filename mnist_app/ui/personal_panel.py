"""The Draw tab's "teach it your handwriting": after a prediction, one click keeps the
drawing with its true digit in the person's own set; "Fit to my handwriting" makes a model
of theirs from the set (personal.job), and shows the before and after.

`PersonalHandlers` answers the panel's events and endpoints (testable without the page);
`build_personal_panel` lays out the components and wires the events to it."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from ..core.messages import counted
from ..core.predict import REFUSAL
from ..personal.fit import MIN_PER_DIGIT, Progress, needed_message, samples_needed
from ..preprocess import NotADigit, Preprocessed
from ..service.child_process import TrainingProcessDied
from ..service.library import ModelLibrary
from ..service.personal_jobs import MAX_FITS, FitOrder, Fitted, fit_in_process
from ..service.personal_store import NAME_FIRST, PersonalStore, Sample, check_set_name
from .errors import user_error
from .identity import owner, owner_keys
from .inputs import guarded_image_input
from .limits import Limits
from .pen_answers import read_page_drawing
from .sketch import read_drawing
from .text import NO_MODEL, not_a_digit
from .watch_panel import WatchHandlers

FIT_EVENTS = 4 * MAX_FITS

# Every button that answers in the message line brings it back for its answer.
SHOW_MESSAGE = 'document.getElementById("personal-message")?.classList.remove("stale");'
WITH_MESSAGE = f"(...args) => {{ {SHOW_MESSAGE} return args; }}"
# The answer buttons also send the pen's drawing with their click (pen_canvas.js's
# `drawing()`).
WITH_DRAWING = f"""(drawing, ...rest) => {{
  {SHOW_MESSAGE}
  return [window.mnistPen ? window.mnistPen.drawing() : null, ...rest];
}}"""
# The message is about the drawing it answered: hidden once the pen changes it.
HIDE_MESSAGE_ON_PEN_CHANGE = """() => {
  document.addEventListener("pen-change", () =>
    document.getElementById("personal-message")?.classList.add("stale"));
}"""
# "✓ Right" stands out only when there is a digit to confirm: on a blank canvas, or for
# "not a digit", the brightest button on the page led a newcomer nowhere. The pen canvas
# marks its answer's kind in #prediction's data-state.
RIGHT_STANDS_OUT_FOR_A_DIGIT = """() => {
  const update = () => {
    const right = document.getElementById("personal-right");
    if (!right) return;
    const digit = document.getElementById("prediction")?.dataset.state === "digit";
    right.classList.toggle("primary", digit);
    right.classList.toggle("secondary", !digit);
  };
  new MutationObserver(update).observe(document.body, {
    subtree: true, attributes: true, attributeFilter: ["data-state"],
  });
  update();
}"""
# Asked for a name, the name box takes the focus; the panel has just been opened, and
# Gradio mounts an accordion's content only then.
FOCUS_NAME_WHEN_ASKED = """(asked) => {
  if (!asked) return;
  let tries = 40;
  const focus = () => {
    const box = document.querySelector("#personal-name textarea, #personal-name input");
    if (box) {
      box.scrollIntoView({ block: "center" });
      box.focus();
    } else if (tries-- > 0) setTimeout(focus, 50);
  };
  focus();
}"""
RIGHT = "right"
REFUSED_MARK = "⚠"


class Unconfirmed(Exception):
    """A digit pressed for a drawing the model read as "not a digit": kept only if the
    same digit is pressed again for the same drawing."""


def person(name: str | None, request: gr.Request | None) -> str:
    """The set's name: the login user's when login is on, else the one typed."""
    username = getattr(request, "username", None)
    if username:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", username)[:40].lstrip("._-") or "user"
    try:
        return check_set_name(name)
    except ValueError as err:
        raise user_error(str(err)) from None


@dataclass(frozen=True)
class PersonalHandlers:
    """The panel's answers: keeping, listing and deleting a person's drawings, and fitting
    a model to them; the page's events and the API endpoints alike."""

    library: ModelLibrary
    store: PersonalStore
    limits: Limits

    def set_view(self, name: str, secrets: list[str]):
        """The counts line, the thumbnails and their ids."""
        try:
            samples = self.store.samples(name, secrets)
        except PermissionError as err:
            raise user_error(str(err)) from None
        per_digit = np.bincount([s.label for s in samples], minlength=10)
        line = " · ".join(f"**{d}** ×{n}" for d, n in enumerate(per_digit))
        needed = samples_needed([s.label for s in samples])
        if not needed:
            status = "Ready: press **Fit to my handwriting**."
        elif len(needed) > 3:
            status = (
                f"{sum(needed.values())} more needed: a fit takes {MIN_PER_DIGIT} of each digit."
            )
        else:
            status = needed_message(needed)
        text = f"{counted(len(samples), 'drawing')} in **{name}**'s set: {line}. {status}"
        text += _refused_note(sum(s.refused for s in samples))
        thumbnails = [(s.pixels(), _caption(s)) for s in samples]
        return text, gr.update(value=thumbnails, visible=bool(samples)), [s.id for s in samples]

    def show(self, name: str | None, token: str | None, request: gr.Request):
        """The set of the name typed; what is wrong with the name, in its place."""
        nothing = [gr.update(value=[], visible=False), [], None, gr.update(interactive=False)]
        if not (name or getattr(request, "username", None)):
            return "", *nothing
        try:
            view = self.set_view(person(name, request), owner_keys(token, request))
        except gr.Error as err:
            return f"⚠ {err.message}", *nothing
        return *view, None, gr.update(interactive=False)

    def keep(
        self,
        stages: Preprocessed | None,
        label: str,
        name: str | None,
        model_name: str | None,
        token,
        request,
        confirmed: bool = True,
    ):
        """Keep a drawing (its stages; None for no ink) as `label`, or as what the model
        reads when `label` is RIGHT. A drawing the model reads as "not a digit" is kept
        under a digit marked as such, and only if `confirmed` (else Unconfirmed). Returns
        the message and the set's view."""
        if stages is None:  # before the name: with nothing drawn, asking for it misleads
            raise user_error("Draw a digit first, then say which digit it is.")
        reading = self._reading(stages, model_name)  # before the name too
        if label == RIGHT:
            label = _confirmable(reading, model_name)
        refused = reading == REFUSAL
        if refused and not confirmed:
            raise Unconfirmed(
                f"{model_name} read this as not a digit. Press **{label}** again to keep it "
                f"as a {label}: a fit learns from it that such drawings are {label}s."
            )
        who = person(name, request)
        secrets = owner_keys(token, request)
        try:
            address = getattr(getattr(request, "client", None), "host", "") or ""
            self.store.add(who, secrets, stages.image, stages.ink, int(label), address, refused)
        except (PermissionError, ValueError) as err:
            raise user_error(str(err)) from None
        text, thumbnails, ids = self.set_view(who, secrets)
        return _kept_message(label, who, model_name if refused else None), text, thumbnails, ids

    def _reading(self, stages: Preprocessed, model_name: str | None) -> str | None:
        """What `model_name` reads in the drawing: a digit or REFUSAL; None with no model."""
        if not model_name:
            return None
        try:
            return self.library.predictor(model_name).label(stages.image)
        except ValueError as err:
            raise user_error(str(err)) from None

    def keep_from_page(self, drawing_json, label, name, model_name, token, pending, request):
        """As `keep`, with a refusal said in the message line (not as an error toast); a
        drawing the model read as "not a digit" is kept under a digit only when the same
        digit is pressed twice for it (`pending`: what the last press asked to confirm).
        Returns the message, the set's view, the panel (opened), what is now pending and
        whether to focus the name box."""
        asking = _asking(drawing_json, label)
        try:
            max_bytes = self.limits.max_upload_bytes
            stages = read_page_drawing(drawing_json, max_bytes) if drawing_json else None
            confirmed = pending is not None and pending == asking
            kept = self.keep(stages, label, name, model_name, token, request, confirmed)
            return *kept, open_panel(), None, False
        except Unconfirmed as question:
            refusal, pending = str(question), asking
        except NotADigit as err:
            refusal = f"Not kept: {not_a_digit(err)}."
        except gr.Error as err:
            refusal = err.message
        except (ValueError, OSError) as err:
            refusal = f"Could not read that drawing: {err}"
        ask_name = refusal == NAME_FIRST
        panel = open_panel() if ask_name else gr.skip()
        return f"⚠ {refusal}", gr.skip(), gr.skip(), gr.skip(), panel, pending, ask_name

    def delete_drawing(
        self, name: str, sample_id: str, token: str | None, request: gr.Request
    ) -> str:
        """Delete one drawing from your set.

        Args:
            name: your set's name (ignored when login is on: the login user's set).
            sample_id: the drawing's id, as personal_set lists it.
            token: the secret the set was started with (see collect).

        Returns:
            What was done.
        """
        who = person(name, request)
        try:
            self.store.delete_sample(who, owner_keys(token, request), sample_id)
        except (PermissionError, ValueError) as err:
            raise user_error(str(err)) from None
        return "Deleted that drawing."

    def delete_selected(self, name, sample_id, token, request: gr.Request):
        if not sample_id:
            raise user_error("Click a drawing first.")
        done = self.delete_drawing(name, sample_id, token, request)
        return done, *self.show(name, token, request)

    def ask_delete_all(self, name: str, token, request: gr.Request):
        who = person(name, request)
        try:
            count = len(self.store.samples(who, owner_keys(token, request)))
        except PermissionError as err:
            raise user_error(str(err)) from None
        if not count:
            raise user_error("Your set is empty already.")
        them = f"{'the' if count == 1 else 'all'} {counted(count, 'drawing')}"
        return gr.update(visible=True), f"Delete {them} of **{who}**'s set for good?"

    def delete_personal_set(self, name: str, token: str | None, request: gr.Request) -> str:
        """Delete your whole set of drawings, at once and for good (models fitted to it are
        kept: delete those in the Models tab).

        Args:
            name: your set's name (ignored when login is on: the login user's set).
            token: the secret the set was started with (see collect).

        Returns:
            What was done.
        """
        who = person(name, request)
        try:
            count = self.store.delete_set(who, owner_keys(token, request))
        except PermissionError as err:
            raise user_error(str(err)) from None
        return f"Deleted {counted(count, 'drawing')}: {who}'s set is gone from the server."

    def confirm_delete(self, name: str, token: str | None, request: gr.Request):
        return self.delete_personal_set(name, token, request), gr.update(visible=False)

    def fit(self, name: str, model_name: str, token: str | None, request: gr.Request):
        """Fit a model to your handwriting: the model `model_name` fitted to your set (at
        least 3 drawings of each digit), saved as `<model>-<name>`.

        Args:
            name: your set's name (ignored when login is on: the login user's set).
            model_name: the model to start from, e.g. "resnet_mini".
            token: the secret the set was started with (see collect).

        Returns:
            The new model's name (saved_as), and the before and after: own_before and
            own_after (your drawings, each read by a fit that did not see it), mnist_before
            and mnist_after (the 10,000 MNIST test images), samples, folds, fit_s.
        """
        for update in self.fit_updates(name, model_name, token, request):
            if isinstance(update, Fitted):
                return {"saved_as": update.saved_as, **update.figures}
        raise user_error("The fit ended without a result.")

    def fit_updates(self, name, model_name, token, request) -> Iterator[Progress | Fitted]:
        """The fit's progress, then what it saved; user errors for what stops it."""
        who = person(name, request)
        if not model_name:
            raise user_error(NO_MODEL)
        secrets = owner_keys(token, request)
        try:
            images, labels = self.store.images(who, secrets)
        except PermissionError as err:
            raise user_error(str(err)) from None
        needed = samples_needed(labels)
        if needed:
            raise user_error(f"Not yet: {needed_message(needed)}")
        order = FitOrder(
            model_name,
            who,
            images,
            labels,
            self.library.weights_dir,
            owner_secret=owner(token, request),
        )
        try:
            yield from fit_in_process(order, self.library.data())
        except (ValueError, TrainingProcessDied) as err:
            raise user_error(str(err)) from None

    def fit_from_page(self, name, model_name, token, request: gr.Request):
        yield _progress_html("Starting", 0.0), "", gr.skip()
        try:
            for update in self.fit_updates(name, model_name, token, request):
                if isinstance(update, Progress):
                    yield _progress_html(update.message, update.fraction), gr.skip(), gr.skip()
                else:
                    done = _progress_html(f"Saved as {update.saved_as}", 1.0, "done")
                    choices = gr.update(choices=self.library.choices(), value=update.saved_as)
                    yield done, _result_markdown(update), choices
        except gr.Error as err:  # said where the result would be, not as a passing toast
            yield "", f"⚠ {err.message}", gr.skip()

    def collect(
        self, image: Any, digit: str, name: str, model_name: str, token: str, request: gr.Request
    ) -> str:
        """Keep one of your drawings in your personal set, with its true digit.

        Args:
            image: the drawing: PNG or JPEG, any size; dark ink on light or on transparent.
            digit: its true digit, "0" to "9"; or "right" for what `model_name` reads
                (an error where it reads "not a digit": nothing to confirm). A drawing
                that `model_name` reads as "not a digit" is kept under a digit all the
                same, marked refused (see personal_set).
            name: your set's name, e.g. "ada" (ignored when login is on).
            model_name: the model whose reading "right" confirms, e.g. "resnet_mini".
            token: a secret of yours: whoever starts a set with it owns the set (required
                through MCP, where every agent shares one session).

        Returns:
            What was kept, e.g. "Kept as a 7 in ada's set."
        """
        if digit != RIGHT and not (
            isinstance(digit, str) and digit in "0123456789" and len(digit) == 1
        ):
            raise user_error(f'The digit must be "0" to "9", or "right"; not {digit!r}.')
        try:
            stages = read_drawing(image)
        except NotADigit as err:
            raise user_error(f"Not kept: {not_a_digit(err)}.") from None
        except (ValueError, OSError) as err:
            raise user_error(f"Could not read that image: {err}") from None
        return self.keep(stages, digit, name, model_name, token, request)[0].replace("**", "")

    def personal_set(self, name: str, token: str, request: gr.Request) -> dict:
        """Your set of drawings.

        Args:
            name: your set's name (ignored when login is on).
            token: the secret the set was started with (see collect).

        Returns:
            counts (drawings per digit, "0" to "9"), needed (how many more of each digit
            a fit needs), and drawings: [{"id", "digit", "refused"}], by digit; refused:
            kept although the model read it as "not a digit" (a fit learns it as `digit`).
        """
        who = person(name, request)
        try:
            samples = self.store.samples(who, owner_keys(token, request))
        except PermissionError as err:
            raise user_error(str(err)) from None
        labels = [s.label for s in samples]
        return {
            "name": who,
            "counts": {str(d): labels.count(d) for d in range(10)},
            "needed": {str(d): n for d, n in samples_needed(labels).items()},
            "drawings": [{"id": s.id, "digit": s.label, "refused": s.refused} for s in samples],
        }


@dataclass(frozen=True)
class KeepAs:
    """One answer button's click: the page's drawing kept as `label` (a digit, or RIGHT)."""

    handlers: PersonalHandlers
    label: str

    def __call__(self, drawing_json, name, model_name, token, pending, request: gr.Request):
        return self.handlers.keep_from_page(
            drawing_json, self.label, name, model_name, token, pending, request
        )


def pick(ids: list[str], selection: gr.SelectData):
    """The drawing clicked in the gallery, and the delete button enabled for it."""
    index = selection.index if isinstance(selection.index, int) else None
    chosen = ids[index] if index is not None and index < len(ids) else None
    return chosen, gr.update(interactive=chosen is not None)


def remember(name: str):
    return name


def name_on_load(saved: str | None, request: gr.Request):
    """The login user's name (fixed), or the one this browser used last."""
    username = getattr(request, "username", None)
    if username:
        return gr.update(value=person(None, request), interactive=False, info="your login")
    return gr.update(value=saved) if saved else gr.skip()  # keep what was typed


def open_panel():
    return gr.update(open=True)


def forget_fit_warning(result: str):
    """A fit's refusal ("Not yet: draw 3 more 0s") is about the set as it was: gone once
    the set changes. A fit's result stays."""
    return "" if (result or "").startswith("⚠") else gr.skip()


def hide():
    return gr.update(visible=False)


@dataclass(frozen=True)
class Panel:
    """The panel's components: the person's name, their set, and what to do with it."""

    accordion: gr.Accordion
    name: gr.Textbox
    counts: gr.Markdown
    gallery: gr.Gallery
    sample_ids: gr.State
    selected: gr.State
    fit_button: gr.Button
    delete_one: gr.Button
    delete_all: gr.Button
    confirm_row: gr.Row
    confirm_text: gr.Markdown
    confirm: gr.Button
    cancel: gr.Button
    progress: gr.HTML
    result: gr.Markdown

    @property
    def view(self) -> list:
        """What PersonalHandlers.show fills."""
        return [self.counts, self.gallery, self.sample_ids, self.selected, self.delete_one]


def build_personal_panel(
    library: ModelLibrary,
    store: PersonalStore,
    limits: Limits,
    model: gr.Dropdown,
    owner_token: gr.BrowserState,
    remembered_name: gr.BrowserState,
    watching: WatchHandlers,
) -> Callable[[gr.Blocks], None]:
    """The answer row ("Is it right?", and 👁 to watch the drawing while a model trains)
    and the panel of the person's own drawings, under the pen; `remembered_name` is the
    browser's memory of their set's name. Returns `connect(demo)`, which fills the name and
    the set when the page loads."""
    handlers = PersonalHandlers(library, store, limits)
    answers, watch = _answer_buttons()
    message = gr.Markdown(elem_id="personal-message")
    panel = _panel()
    drawing = gr.JSON(visible=False)
    pending = gr.State(None)  # the drawing and digit a press asked to confirm
    ask_name = gr.Checkbox(False, visible=False)  # tells the page to focus the name box
    keep_outputs = [message, panel.counts, panel.gallery, panel.sample_ids]
    for button, label in answers:
        button.click(
            KeepAs(handlers, label),
            [drawing, panel.name, model, owner_token, pending],
            [*keep_outputs, panel.accordion, pending, ask_name],
            js=WITH_DRAWING,
            api_visibility="private",
        ).then(None, ask_name, None, js=FOCUS_NAME_WHEN_ASKED, api_visibility="private")
    watch.click(
        watching.watch_drawing,
        [drawing, owner_token],
        message,
        js=WITH_DRAWING,
        api_visibility="private",
        queue=False,
    )
    _wire_deletes(handlers, panel, message, owner_token)
    panel.counts.change(
        forget_fit_warning, panel.result, panel.result, api_visibility="private", queue=False
    )
    panel.fit_button.click(
        handlers.fit_from_page,
        [panel.name, model, owner_token],
        [panel.progress, panel.result, model],
        api_visibility="private",
        # More than the fits that run: those beyond MAX_FITS are answered "busy" at once
        # (personal_jobs.fit_in_process) instead of waiting in Gradio's queue.
        concurrency_limit=FIT_EVENTS,
        concurrency_id="personal-fit",
    )
    name, view = panel.name, panel.view
    name.change(remember, name, remembered_name, api_visibility="private", queue=False)
    name.blur(handlers.show, [name, owner_token], view, api_visibility="private")
    name.submit(handlers.show, [name, owner_token], view, api_visibility="private")
    _build_api(handlers, limits)
    return functools.partial(
        _connect,
        handlers=handlers,
        panel=panel,
        remembered_name=remembered_name,
        owner_token=owner_token,
    )


def _answer_buttons() -> tuple[list[tuple[gr.Button, str]], gr.Button]:
    """The answer row: "✓ Right" and the ten digits, each with the label it keeps; and
    👁, which picks the drawing for the next training run to read as it learns."""
    with gr.Row(elem_id="personal-answer", equal_height=True):
        gr.Markdown("**Is it right?**", elem_classes="personal-ask")
        # Secondary until the pen's answer is a digit (RIGHT_STANDS_OUT_FOR_A_DIGIT).
        right = gr.Button(
            "✓ Right", size="sm", variant="secondary", scale=0, elem_id="personal-right"
        )
        gr.Markdown("or it is", elem_classes="personal-ask")
        digit_buttons = [
            gr.Button(str(d), size="sm", scale=0, min_width=36, elem_id=f"personal-digit-{d}")
            for d in range(10)
        ]
        watch = gr.Button(
            "👁 Watch while training", size="sm", scale=0, min_width=190, elem_id="watch-drawing"
        )
    return [(right, RIGHT), *[(b, str(d)) for d, b in enumerate(digit_buttons)]], watch


def _panel() -> Panel:
    # Its title says what a fit takes, before anyone opens it.
    with gr.Accordion(
        f"Your handwriting: {MIN_PER_DIGIT} of each digit ({10 * MIN_PER_DIGIT} drawings) "
        "make a model of yours",
        open=False,
        elem_id="personal-panel",
    ) as accordion:
        gr.Markdown(
            f"Each drawing you mark above is kept in your own set, here on the server, under "
            f"your name. With {MIN_PER_DIGIT} or more of every digit, **Fit to my "
            "handwriting** makes a model of yours from the one selected above, in seconds, "
            "and shows how it reads your drawings before and after. Your set is used for "
            "your models only, never leaves this server, and you can delete it whole at any "
            "time.",
            elem_classes="personal-intro",
        )
        name = gr.Textbox(
            label="Your name",
            placeholder="a name for your set, e.g. ada",
            max_lines=1,
            max_length=40,
            elem_id="personal-name",
        )
        counts = gr.Markdown(elem_id="personal-counts")
        gallery = gr.Gallery(
            label="Your drawings, each with the digit a fit learns from it",
            columns=10,
            height="auto",
            object_fit="contain",
            allow_preview=False,
            elem_id="personal-samples",
            elem_classes="pixelated",
            visible=False,
        )
        sample_ids = gr.State([])
        selected = gr.State(None)
        with gr.Row():
            fit_button = gr.Button(
                "Fit to my handwriting", variant="primary", elem_id="personal-fit"
            )
            delete_one = gr.Button(
                "Delete the selected drawing", interactive=False, elem_id="personal-delete-drawing"
            )
            delete_all = gr.Button(
                "Delete all my drawings", variant="stop", elem_id="personal-delete-set"
            )
        with gr.Row(visible=False, elem_id="personal-confirm") as confirm_row:
            confirm_text = gr.Markdown()
            confirm = gr.Button("Delete them", variant="stop", elem_id="personal-confirm-delete")
            cancel = gr.Button("Keep them", elem_id="personal-cancel-delete")
        progress = gr.HTML(elem_id="personal-progress")
        result = gr.Markdown(elem_id="personal-result")
    return Panel(
        accordion,
        name,
        counts,
        gallery,
        sample_ids,
        selected,
        fit_button,
        delete_one,
        delete_all,
        confirm_row,
        confirm_text,
        confirm,
        cancel,
        progress,
        result,
    )


def _wire_deletes(
    handlers: PersonalHandlers, panel: Panel, message: gr.Markdown, owner_token: gr.BrowserState
) -> None:
    """A drawing picked in the gallery and deleted; the whole set deleted, once confirmed."""
    panel.gallery.select(
        pick,
        panel.sample_ids,
        [panel.selected, panel.delete_one],
        api_visibility="private",
        queue=False,
    )
    panel.delete_one.click(
        handlers.delete_selected,
        [panel.name, panel.selected, owner_token],
        [message, *panel.view],
        js=WITH_MESSAGE,
        api_visibility="private",
    )
    panel.delete_all.click(
        handlers.ask_delete_all,
        [panel.name, owner_token],
        [panel.confirm_row, panel.confirm_text],
        api_visibility="private",
    )
    panel.cancel.click(hide, None, panel.confirm_row, api_visibility="private", queue=False)
    panel.confirm.click(
        handlers.confirm_delete,
        [panel.name, owner_token],
        [message, panel.confirm_row],
        js=WITH_MESSAGE,
        api_visibility="private",
    ).success(handlers.show, [panel.name, owner_token], panel.view, api_visibility="private")


def _build_api(handlers: PersonalHandlers, limits: Limits) -> None:
    """The API: the same, for a drawing sent as an image."""
    with gr.Group(visible=False):
        image = guarded_image_input(gr.Image(type="pil", image_mode=None), limits.max_pixels)
        api_name, api_digit, api_token, api_model = (
            gr.Textbox(),
            gr.Textbox(),
            gr.Textbox(),
            gr.Textbox(),
        )
        api_answer, api_set = gr.Textbox(), gr.JSON()
        api_only = gr.Button()
    api_only.click(
        handlers.collect,
        [image, api_digit, api_name, api_model, api_token],
        api_answer,
        api_name="collect",
    )
    api_only.click(handlers.personal_set, [api_name, api_token], api_set, api_name="personal_set")
    gr.api(handlers.delete_drawing, api_name="delete_drawing")
    gr.api(handlers.delete_personal_set, api_name="delete_personal_set")
    api_only.click(
        handlers.fit,
        [api_name, api_model, api_token],
        api_set,
        api_name="fit_personal",
        # More than the fits that run: those beyond MAX_FITS are answered "busy" at once
        # (personal_jobs.fit_in_process) instead of waiting in Gradio's queue.
        concurrency_limit=FIT_EVENTS,
        concurrency_id="personal-fit",
    )


def _connect(
    demo: gr.Blocks,
    *,
    handlers: PersonalHandlers,
    panel: Panel,
    remembered_name: gr.BrowserState,
    owner_token: gr.BrowserState,
) -> None:
    """On page load: the login user's name (fixed) or the one this browser used last,
    and that set."""
    demo.load(None, js=HIDE_MESSAGE_ON_PEN_CHANGE)
    demo.load(None, js=RIGHT_STANDS_OUT_FOR_A_DIGIT)
    demo.load(
        name_on_load, remembered_name, panel.name, api_visibility="private", queue=False
    ).then(handlers.show, [panel.name, owner_token], panel.view, api_visibility="private")


def _confirmable(reading: str | None, model_name: str | None) -> str:
    """The digit that "right" confirms; a user error where there is none."""
    if reading is None:
        raise user_error(NO_MODEL)
    if reading == REFUSAL:  # its best guess is no answer to confirm
        raise user_error(
            f"{model_name} says this is not a digit, so there is no answer to confirm: "
            "if it is one, press the digit it is."
        )
    return reading


def _asking(drawing_json: Any, label: str) -> str:
    """Which drawing and which digit a press is about: a second press of the same digit
    for the same drawing confirms the first."""
    image = drawing_json.get("image") if isinstance(drawing_json, dict) else None
    digest = hashlib.sha256(str(image).encode()).hexdigest()[:16]
    return f"{label}:{digest}"


def _kept_message(label: str, who: str, refused_by: str | None) -> str:
    """What was kept; for a drawing the model `refused_by` read as "not a digit", what a
    fit will learn from it."""
    kept = f"Kept as a **{label}** in {who}'s set"
    if not refused_by:
        return f"{kept}."
    return (
        f"{kept}, marked {REFUSED_MARK}: {refused_by} read it as not a digit, and a fit "
        f"learns from it that such drawings are {label}s. Delete it if that was a slip."
    )


def _caption(sample: Sample) -> str:
    """The digit a fit learns from the drawing, marked where the model read none there."""
    return f"{sample.label} {REFUSED_MARK}" if sample.refused else str(sample.label)


def _refused_note(count: int) -> str:
    if not count:
        return ""
    them = "it" if count == 1 else "them"
    return (
        f"\n\n{REFUSED_MARK} marks {counted(count, 'drawing')} kept although the model read "
        f"{them} as not a digit: a fit learns {them} as digits all the same. Click one and "
        "**Delete the selected drawing** if it was a slip."
    )


def _progress_html(message: str, fraction: float, state: str = "running") -> str:
    """The Train tab's progress bar (its CSS), for a fit; a running step's message ends
    in an ellipsis."""
    text = html.escape(message) + ("…" if state == "running" else "")
    return (
        f'<div class="train-progress {state}">'
        f'<div class="bar"><div class="fill" style="width:{100 * fraction:.0f}%"></div></div>'
        f'<div class="detail">{text}</div></div>'
    )


def _result_markdown(fitted: Fitted) -> str:
    f = fitted.figures
    right_before = round(f["own_before"] * f["samples"])
    right_after = round(f["own_after"] * f["samples"])
    return (
        f"**Saved as {fitted.saved_as}**, now selected above: {f['base']} fitted to your "
        f"{f['samples']} drawings in {f['fit_s']:.1f} s.\n\n"
        "| | before | after |\n|---|---|---|\n"
        f"| Your drawings, each read by a fit that had not seen it ({f['folds']}-fold) "
        f"| {f['own_before']:.1%} ({right_before} of {f['samples']}) "
        f"| {f['own_after']:.1%} ({right_after} of {f['samples']}) |\n"
        f"| MNIST test, 10,000 images | {f['mnist_before']:.2%} | {f['mnist_after']:.2%} |\n\n"
        f"It reads a drawing its own way when the drawing is more like one of yours than "
        f"like any of 4,000 MNIST digits; any other as {f['base']} does."
    )
