"""The web app: four tabs over one model library and one training-job manager."""

from __future__ import annotations

import logging
import os
import threading

import gradio as gr
from starlette.middleware import Middleware

from ..service.child_process import prepare as prepare_training
from ..service.library import ModelLibrary
from ..service.personal_store import PersonalStore
from ..service.training_jobs import TrainingJobs
from ..service.watch_lists import WatchLists
from .draw_tab import build_draw_tab
from .inputs import answer_bad_input_in_one_line, refuse_url_inputs
from .limits import Limits, RequestGuard
from .login_throttle import LoginThrottle
from .mistakes_tab import build_mistakes_tab
from .models_tab import build_models_tab, models_records
from .train_tab import build_train_tab
from .upload_cache import UploadCache
from .watch_panel import WatchHandlers
from .watch_view import CSS as WATCH_CSS

log = logging.getLogger(__name__)

TITLE = "MNIST studio"
# Soft's orange labels, white-on-orange buttons, pale checkbox borders and grey hints read
# at 1.05-2.8:1; these read at 4.5:1 or better (text) and 3:1 or better (a checkbox's
# border), in light and dark mode (tests/test_accessibility_browser.py measures them).
THEME = gr.themes.Soft(primary_hue="orange", secondary_hue="blue").set(
    body_text_color_subdued="*neutral_600",
    color_accent="*primary_700",  # also a hovered or focused text, e.g. a Label's row
    block_label_text_color="*primary_800",
    block_title_text_color="*primary_800",
    block_label_background_fill_dark="*primary_700",
    button_primary_background_fill="*primary_700",
    button_primary_background_fill_dark="*primary_700",
    button_primary_background_fill_hover="*primary_800",
    button_primary_background_fill_hover_dark="*primary_800",
    checkbox_label_background_fill_selected="*primary_700",
    checkbox_label_background_fill_selected_dark="*primary_700",
    checkbox_border_color="*neutral_500",
    checkbox_border_color_dark="*neutral_400",
    checkbox_border_color_hover="*neutral_600",
    checkbox_border_color_hover_dark="*neutral_300",
    checkbox_border_color_focus="*primary_700",
    checkbox_border_color_selected="*primary_700",
    checkbox_background_color_selected="*primary_700",
    checkbox_border_color_focus_dark="*primary_600",
    checkbox_border_color_selected_dark="*primary_600",
    checkbox_background_color_selected_dark="*primary_600",
)
CSS = (
    """
/* Greys that read at 4.5:1 or better on the theme's light and dark backgrounds (the pen
   canvas's css_template is nested under its element, so they are set here, page-wide). */
:root { --studio-text: #475569; --studio-subdued: #64748b; }
.dark { --studio-text: #cbd5e1; --studio-subdued: #94a3b8; }
/* THEME's accent (orange 700) in light mode only: on dark blocks it read at 2.8:1. */
.dark { --color-accent: var(--primary-500); }
/* Gradio's footer ends in a "·" before a Settings link that this app hides. */
footer > .divider:last-child { display: none; }
/* A busy component's "queue: 1/1 | 2.3s" covered its content; its spinner, bar and
   screen-reader status stay. ("minimal" trackers, which have nothing else, keep it.) */
[data-testid="status-tracker"].full > .progress-text { display: none; }
/* The page's own loading spinner covers the whole page for a moment after it shows, while
   its load events run; the canvas is ready by then, and a first stroke drawn under the
   spinner was lost (its pointer went to the spinner). It now goes through to the page. */
.gradio-container > .main > [data-testid="status-tracker"] { pointer-events: none; }
/* One line that only scrolled while its spinner showed, and so took a Tab stop of its
   own with nothing to do there. */
#mistakes-summary { overflow: visible !important; }
.pixelated img { image-rendering: pixelated; }
.notice { border-left: 4px solid #ea580c; padding-left: 0.8em; }
.towards-answer { color: #dc2626; }
.towards-runner-up { color: #2563eb; }
.train-progress .bar {
  height: 14px; border-radius: 7px; overflow: hidden;
  background: var(--border-color-primary, #e5e7eb);
}
.train-progress .fill { height: 100%; background: #ea580c; transition: width 0.4s; }
.train-progress.done .fill { background: #16a34a; }
.train-progress.failed .fill, .train-progress.cancelled .fill { background: #dc2626; }
.train-progress .detail { margin-top: 0.4em; font-size: 0.95em; }
.train-progress.idle { color: var(--studio-subdued); padding: 0.4em 0; }
/* A checkbox's label and hint need a column of their own, not a squeezed one (Gradio's
   min_width does not reach a checkbox's box). */
.setting-checkbox { flex: 1 1 200px !important; min-width: min(200px, 100%) !important; }
#mistakes-gallery .caption-label, #disagreements .caption-label,
#example-neighbours .caption-label { max-width: 96%; white-space: normal; font-size: 0.8em; }
/* Two models' answers go under each image, on one line, rather than over a third of it. */
#disagreements .thumbnail-item {
  display: flex; flex-direction: column; aspect-ratio: auto; height: auto;
}
#disagreements .thumbnail-item img { width: 100%; aspect-ratio: 1; height: auto; flex: none; }
#disagreements .caption-label {
  position: static; transform: none; margin: 4px auto; max-width: 100%;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
/* These galleries' labels float over their first row of images: the images start below. */
#example-neighbours .grid-wrap, #disagreements .grid-wrap { padding-top: 2.6em; }
/* A model picker's text stops before its arrow; a long name ends in "…". */
#draw-model input, #mistakes-model input, #models-compare input, #manage-model input {
  padding-right: 1.8em; text-overflow: ellipsis;
}
/* A header click sorts the table (models_tab.HEADER_SORT_JS); Gradio's own column menu,
   which sorted numbers as text and made a second sort only break ties, is hidden. */
#models-table th[role=columnheader] { cursor: pointer; }
#models-table .cell-menu-button { display: none; }
#personal-answer { align-items: center; gap: 6px; flex-wrap: wrap; }
#personal-answer .personal-ask { flex: 0 0 auto; min-width: 0; width: auto; }
#personal-answer .personal-ask p { margin: 0; white-space: nowrap; }
#personal-answer button { flex: 0 0 auto; min-height: 36px; }
/* Its colours swap at once when the answer becomes a digit: mid-fade it read 2.1:1. */
#personal-right { transition: none; }
#personal-samples .caption-label { font-size: 0.8em; }
#personal-message.stale { display: none; }
/* Thumbnail-sized, however few: Gradio spreads 2 drawings over the panel's whole width,
   in a box at least 450 px high. */
#personal-samples .grid-container {
  grid-template-columns: repeat(auto-fill, minmax(72px, 96px)) !important;
  grid-auto-rows: auto !important;
}
#personal-samples .grid-wrap { min-height: 0 !important; max-height: 340px; }
/* A gallery's label floats over its first row of images: they start below it. */
#personal-samples .grid-wrap, #mistakes-gallery .grid-wrap { padding-top: 2.6em; }
/* A phone: 2 thumbnails a row, so that a caption takes a line, not the digit. */
@media (max-width: 600px) {
  #mistakes-gallery .grid-container, #disagreements .grid-container {
    grid-template-columns: repeat(2, minmax(0, 1fr)) !important;
  }
  #mistakes-gallery .caption-label { font-size: 0.7em; line-height: 1.2; }
  .draw-intro { display: none; }
}
"""
    + WATCH_CSS
)


# A model picker shows its choice as "resnet_drawn · 99.67% · 288k", and a click put the
# caret in the middle of it, so that typing to filter garbled it ("resnet_drawn · 9t1...").
# The text is selected when the box takes focus, to show that typing replaces it; and the
# first key typed after focus selects it again before it lands, because the dropdown's own
# focus handling may undo the first selection at any time after the click (a race that a
# fast typist, and a test, could lose). A second click in the box places the caret as usual.
SELECT_PICKER_TEXT_ON_FOCUS = """() => {
  const pickers = ["#draw-model", "#mistakes-model", "#models-compare", "#manage-model"]
    .map((id) => `${id} input`).join(", ");
  let fresh = null;
  document.addEventListener("focusin", (event) => {
    if (!event.target.matches(pickers)) return;
    fresh = event.target;
    setTimeout(() => { if (fresh === event.target) event.target.select(); }, 0);
  });
  document.addEventListener("focusout", () => { fresh = null; });
  document.addEventListener("mousedown", (event) => {
    if (event.target === fresh && document.activeElement === fresh) fresh = null;
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.target !== fresh) return;
    fresh = null;
    const typed = event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey;
    if (typed) event.target.select();
  }, true);
}"""


def build_app(
    library: ModelLibrary,
    jobs: TrainingJobs | None = None,
    limits: Limits | None = None,
    personal: PersonalStore | None = None,
) -> gr.Blocks:
    """The app; `limits` bound what requests may cost (see limits.Limits; launch the app
    with `launch_options(limits, ...)` for those that Gradio's server enforces); people's
    own drawings are kept in `personal` (default: paths.personal_dir())."""
    limits = limits or Limits()
    personal = personal or PersonalStore(
        max_samples=limits.personal_drawings, max_sets=limits.personal_sets
    )
    jobs = jobs or TrainingJobs(library, max_run_s=limits.max_run_s)
    # Uploaded files are deleted from the cache after an hour (checked hourly).
    with gr.Blocks(title=TITLE, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            f"# {TITLE}\nTrain handwritten-digit classifiers on MNIST, draw digits for them "
            "to read, and see which test digits they get wrong."
        )
        # Outside the tabs: a component in a tab not yet shown is not mounted, and this one
        # must read and write the browser's storage at once.
        owner_token = gr.BrowserState(None, storage_key="mnist-studio-owner")
        # The name of the visitor's handwriting set (Draw tab), which the Train tab's
        # drawings to watch come from too.
        personal_name = gr.BrowserState(None, storage_key="mnist-studio-personal-name")
        watching = WatchHandlers(WatchLists(), personal, jobs, limits.max_upload_bytes)
        with gr.Tabs():
            with gr.Tab("Draw", id="draw") as draw_page:
                draw = build_draw_tab(
                    library, limits, personal, owner_token, personal_name, watching, jobs
                )
            with gr.Tab("Train", id="train") as train_page:
                connect_train = build_train_tab(jobs, owner_token, watching, personal_name)
            with gr.Tab("Mistakes", id="mistakes") as mistakes_page:
                mistakes = build_mistakes_tab(library)
            with gr.Tab("Models", id="models") as models_page:
                models_tab = build_models_tab(library, owner_token)
        if not limits.fetch_urls:
            refuse_url_inputs(demo)
        answer_bad_input_in_one_line(demo)

        def offer_new_model(saved_as: str | None, drawing_with: str | None):
            """A new model joins every model list; the Draw tab offers it rather than switch
            a user away from the model she is drawing with (unless she has none yet)."""
            if not saved_as:
                return [gr.skip()] * 5
            choices = library.choices()
            take_it = not drawing_with
            return (
                gr.update(choices=choices, value=saved_as if take_it else drawing_with),
                gr.update(choices=choices),
                gr.update(visible=False),  # no "train a model first" notice any more
                gr.update(value=f"Use the new model {saved_as}", visible=not take_it),
                saved_as,
            )

        connect_train(
            demo,
            train_page.select,
            offer_new_model,
            [draw.model],
            [draw.model, mistakes.model, draw.no_models, draw.offer, draw.offered],
            watching,
        )
        draw.connect(demo)

        def refresh_models(current: str | None):
            """Models trained elsewhere (another user, the command line) show up too."""
            choices = library.choices()
            value = current if current in {name for _, name in choices} else library.best_name()
            return gr.update(choices=choices, value=value), gr.update(visible=not choices)

        def refresh_mistakes_models(current: str | None):
            return refresh_models(current)[0]

        # Models trained since the page was built (this server, the command line) show up
        # at load and on each visit of a tab; a visit of Mistakes also fills it.
        gr.on(
            [demo.load, draw_page.select],
            refresh_models,
            draw.model,
            [draw.model, draw.no_models],
            api_visibility="private",
        )
        demo.load(refresh_mistakes_models, mistakes.model, mistakes.model, api_visibility="private")
        demo.load(None, js=SELECT_PICKER_TEXT_ON_FOCUS)

        def models() -> list[dict]:
            """The models this server offers, best first.

            Returns:
                One record per model: name, recipe, architecture, parameters, file_bytes,
                test_accuracy (0-1, on the 10,000 MNIST test images), training_s, created,
                device (where it trained, or null if not recorded), shipped (true for the
                models that come with the app), label (e.g. "resnet_mini · 99.63% · 288k"),
                drawn_accuracy (per brush radius in px, e.g. {"6": 0.987, "12": ...}, on
                the pendigits test writers' digits drawn on the canvas; null while it is
                measured in the background). A model that cannot be read is listed with
                its error instead.
            """
            return models_records(library)

        gr.api(models, api_name="models")
        models_tab.connect(models_page.select)
        mistakes_page.select(
            refresh_mistakes_models, mistakes.model, mistakes.model, api_visibility="private"
        ).then(mistakes.show, mistakes.inputs, mistakes.outputs, api_visibility="private")
    return demo


def launch_options(
    limits: Limits, uploads: UploadCache | None, auth: tuple[str, str] | None = None
) -> dict:
    """`launch` arguments that make Gradio's server keep `limits`: the request guard
    (body sizes, upload quota, login throttle) and the number of sessions kept."""
    logins = LoginThrottle(limits.free_logins, limits.max_login_lock_s)
    guard = Middleware(RequestGuard, limits=limits, uploads=uploads, logins=logins, auth=auth)
    return dict(
        max_file_size=limits.max_upload_bytes,
        state_session_capacity=limits.sessions,
        # FastAPI's own /openapi.json is served without Gradio's login check; Gradio's
        # /gradio_api/openapi.json has it.
        app_kwargs={"middleware": [guard], "openapi_url": None},
    )


def with_queue(demo: gr.Blocks) -> gr.Blocks:
    """The app's request queue, set up for many people at once.

    Gradio's defaults cost more than the model itself under load (bench/load.py, 50
    clients): every finished request sent each waiting one its new queue position
    (quadratic in the queue's length) and rebuilt a pandas summary of the last 10,000
    requests for a /monitoring page this app does not use. Positions now go out once a
    second, the summary once per 1,000 requests.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")  # read by .queue()
    return demo.queue(default_concurrency_limit=1, status_update_rate=1.0)


def warm_up(library: ModelLibrary) -> threading.Thread:
    """Load MNIST, evaluate the default model, start the training process's fork server
    and read the MNIST features a personal fit of the default model needs, in the
    background, so that the first visit to the Mistakes tab, the first Train click and the
    first "Fit to my handwriting" are quick rather than seconds slower."""

    def work() -> None:
        try:
            prepare_training()
            best = library.best_name()
            if best:
                library.evaluation(best)
                library.prepare_personal_fits(best)
            else:
                library.data()
        except Exception as err:  # the tabs report such problems to the user themselves
            log.warning("warm-up failed: %s", err)

    thread = threading.Thread(target=work, name="warm-up", daemon=True)
    thread.start()
    return thread
