"""Train tab: pick a recipe, adjust its knobs, watch the curves, get a checkpoint."""

from __future__ import annotations

import asyncio
import html
import inspect
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import gradio as gr
from gradio.events import Dependency

from ..core.device import available_devices, describe_device, pick_device
from ..core.messages import quoted
from ..core.settings import HIDDEN, MAIN, MORE, SETTINGS, Setting, TrainConfig
from ..service.library import ModelLibrary
from ..service.training_jobs import (
    NOT_YOURS,
    STOPPING,
    Job,
    Snapshot,
    TrainingBusy,
    TrainingElsewhere,
    TrainingJobs,
    trains_elsewhere,
)
from ..service.watch_lists import WatchLists
from ..training.recipes import RECIPES, default_recipe, make_config
from .charts import accuracy_frame, loss_frame
from .errors import user_error
from .identity import owner as owner_of
from .watch_panel import WatchHandlers, WatchPanel, lay_out_watch_panel, watch_update

log = logging.getLogger(__name__)

# How often a watcher's plots refresh while a run is going.
POLL_S = 0.5
# The settings the web offers (the Train tab and /train), in the table's order; the
# hidden ones (a server-side file path) stay on the command line.
WEB_SETTINGS = tuple(spec for spec in SETTINGS if spec.ui != HIDDEN)
# The recipe the form opens on and /train defaults to: a quick one where training has only
# a CPU (a first click must not hold the server's only training slot for an hour).
TRAINS_ON = pick_device("auto").type
FIRST_RECIPE = default_recipe(TRAINS_ON)
# On a CPU, a recipe whose shipped model trained longer than this is named as long.
LONG_RUN_S = 300


def recipe_text(name: str) -> str:
    recipe = RECIPES[name]
    origin = "modern recipe" if recipe.tutorial == "modern" else f"tutorial {recipe.tutorial}"
    text = f"**{name}** ({origin}): {recipe.description}"
    if recipe.note:
        text += f"\n\n**Fixed from the tutorial:** {recipe.note}"
    return text


def recipe_choices(library: ModelLibrary, device_type: str) -> list[tuple[str, str]]:
    """(label, recipe) for the recipe list. On a CPU the long recipes say so, with the time
    their shipped model took to train (on 2 CPU cores; picking one estimates this machine's)."""
    choices, models = [], set(library.names())
    for name in RECIPES:
        label = name
        if device_type == "cpu" and name in models:
            try:
                facts = library.facts(name)
            except ValueError:  # unreadable: the recipe is still offered
                facts = None
            seconds = facts.training_s if facts and facts.shipped else None
            if seconds and seconds > LONG_RUN_S:
                label = f"{name} · long on a CPU (~{round(seconds / 60)} min)"
        choices.append((label, name))
    return choices


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def progress_html(snapshot: Snapshot | None) -> str:
    if snapshot is None:
        return '<div class="train-progress idle">Not training. Pick a recipe and press Train.</div>'
    percent = 100 * snapshot.fraction
    if snapshot.total_steps:
        detail = (
            f"step {snapshot.step:,}/{snapshot.total_steps:,} ({percent:.0f}%) · "
            f"epoch {snapshot.epoch:.2f} · {snapshot.images_per_s:,.0f} images/s · "
            f"elapsed {format_duration(snapshot.elapsed_s)}"
        )
        if not snapshot.finished:
            detail += f" · ETA {format_duration(snapshot.eta_s)}"
    else:
        detail = ""
    state = "stopped early, saved" if snapshot.stopped_early else snapshot.state
    head = f"<b>{html.escape(snapshot.name)}</b> · {state} · {snapshot.device}"
    return (
        f'<div class="train-progress {snapshot.state.replace(" ", "-")}">'
        f'<div class="bar"><div class="fill" style="width:{percent:.1f}%"></div></div>'
        f'<div class="detail">{head}<br>{detail}</div></div>'
    )


def result_markdown(snapshot: Snapshot) -> str:
    if snapshot.state == "failed":
        return f"**Training failed.** {snapshot.error}"
    if snapshot.state == "cancelled":
        return f"**Training cancelled.** {snapshot.error} Nothing was saved."
    if snapshot.state != "done":
        return ""
    why = f" because {snapshot.stop_reason}" if snapshot.stop_reason else ""
    early = f"Stopped early after {snapshot.step:,} steps{why}. " if snapshot.stopped_early else ""
    renamed = (
        f" (the name {snapshot.name!r} was taken meanwhile)"
        if snapshot.saved_as != snapshot.name
        else ""
    )
    return (
        f"{early}**Test accuracy {snapshot.test_accuracy:.2%}** on the 10,000 MNIST test "
        f"images. Saved as **`{snapshot.saved_as}`**{renamed}: try it in the Draw and "
        "Mistakes tabs."
    )


def setting_input(spec: Setting, value: Any) -> gr.components.Component:
    """The Train tab's input for one setting, from its row in the settings table."""
    # The main group's labels say enough; hints there would push Train below the fold.
    hint = spec.help if spec.ui == MORE or spec.type is bool else None
    common = dict(label=spec.label, info=hint, elem_id=f"setting-{spec.name}")
    if spec.name == "device":
        return gr.Dropdown(available_devices(), value=value, **common)
    if spec.choices:  # wide enough for "cross_entropy" beside the arrow
        return gr.Dropdown(list(spec.choices), value=value, min_width=190, **common)
    if spec.type is bool:
        return gr.Checkbox(value, elem_classes="setting-checkbox", **common)
    if spec.type in (int, float):
        # No minimum or maximum for Gradio to check: its toast names no field and came
        # twice; the settings' own check names it, next to Train (estimate_run).
        if spec.type is int:
            return gr.Number(value, precision=0, **common)
        # A fine step: the browser marks a value off the step's grid (0.02 with step 1)
        # invalid, and its arrow keys move by the step.
        return gr.Number(value, step=0.0001, **common)
    return gr.Textbox(value, **common)


def recipe_values(recipe_name: str) -> list[Any]:
    """The recipe's value for every web setting, in WEB_SETTINGS order."""
    config = RECIPES[recipe_name].config
    return [getattr(config, spec.name) for spec in WEB_SETTINGS]


def config_from_form(recipe: str, values: dict[str, Any], blank_means_recipe: bool) -> TrainConfig:
    """The run's settings from the Train tab's fields or a /train call (ValueError for the
    user). An empty field is an error on the page; from the API it means the recipe's."""
    if recipe not in RECIPES:
        raise ValueError(f"Unknown recipe {quoted(recipe)}; choose one of: {', '.join(RECIPES)}.")
    if not blank_means_recipe:
        empty = [spec.label for spec in WEB_SETTINGS if values.get(spec.name) is None]
        if empty:
            raise ValueError(f"Please enter a value for: {', '.join(empty)}.")
    return make_config(recipe, **values)


def _api_parameter(spec: Setting) -> inspect.Parameter:
    return inspect.Parameter(
        spec.name,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation=spec.type | None,
    )


# /train's parameters: the recipe, the name, then every web setting named as on the
# command line, each None by default (the recipe's value).
API_SIGNATURE = inspect.Signature(
    [
        inspect.Parameter(
            "recipe",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=FIRST_RECIPE,
            annotation=str,
        ),
        inspect.Parameter(
            "name", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="", annotation=str
        ),
        *map(_api_parameter, WEB_SETTINGS),
        inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request
        ),
    ],
    return_annotation=dict,  # each update: progress_record(snapshot)
)


def _with_api_signature(method: Callable) -> Callable:
    """`method`, showing API_SIGNATURE once bound (a bound method's signature is its
    function's, less `self`): gr.api reads /train's parameters and their types from it."""
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = [self_parameter, *API_SIGNATURE.parameters.values()]
    method.__signature__ = API_SIGNATURE.replace(parameters=parameters)
    method.__annotations__ = {
        **{p.name: p.annotation for p in API_SIGNATURE.parameters.values()},
        "return": dict,
    }
    return method


class TrainForm(NamedTuple):
    """The components whose values the Train button hands over, as one dict."""

    recipe: gr.Dropdown
    name: gr.Textbox
    owner_token: gr.BrowserState
    settings: dict[str, gr.components.Component]  # by setting name


class TrainHandlers:
    """The Train tab's handlers: what they need is the training jobs (and their library),
    and for train_from_page the form's components (None where no page is built)."""

    def __init__(
        self,
        jobs: TrainingJobs,
        form: TrainForm | None = None,
        watch_lists: WatchLists | None = None,
    ):
        self.jobs = jobs
        self.library = jobs.library
        self.form = form
        self.watch_lists = watch_lists or WatchLists()

    def fill_recipe(self, recipe_name: str) -> list[Any]:
        """A picked recipe's description, values and a model name that is free now."""
        return [
            recipe_text(recipe_name),
            *recipe_values(recipe_name),
            self.library.free_name(recipe_name),
        ]

    def estimate_run(self, recipe_name: str, *values: Any):
        """The time the run in the form will take, next to Train; or, for settings that
        cannot run, what is wrong with them (Train says it again if pressed)."""
        try:
            config = config_from_form(
                recipe_name,
                {spec.name: v for spec, v in zip(WEB_SETTINGS, values, strict=True)},
                False,
            )
        except ValueError as err:
            message = str(err).rstrip(".")
            yield f"⚠ {message[0].upper()}{message[1:]}."
            return
        yield "Estimating how long it takes: a few seconds of trial steps…"
        try:
            yield self.jobs.estimate(config).describe()
        except (TrainingBusy, TrainingElsewhere) as err:
            yield str(err)
        except Exception as err:  # no data, a dead process: Train will say so itself
            log.warning("estimating %s failed: %s", recipe_name, err)
            yield ""

    def start_run(
        self, recipe_name: str, name: str, values: dict[str, Any], owner: str, api: bool
    ) -> Job:
        """The run started (reading the drawings `owner` picked to watch), or a gr.Error
        that says why not."""
        try:
            config = config_from_form(recipe_name, values, blank_means_recipe=api)
            name = (name or "").strip()
            if api and not name:  # an API caller may leave the name to us
                name = self.library.free_name(recipe_name)
            watched = self.watch_lists.watched(owner) if owner else None
            return self.jobs.start(recipe_name, config, name, owner=owner, watched=watched)
        except (ValueError, TrainingBusy, TrainingElsewhere) as err:
            raise user_error(str(err)) from None

    async def train_from_page(self, form: dict, request: gr.Request):
        fields = self.form
        values = {spec.name: form[fields.settings[spec.name]] for spec in WEB_SETTINGS}
        owner = owner_of(form[fields.owner_token], request)
        job = self.start_run(form[fields.recipe], form[fields.name], values, owner, False)
        async for update in self.follow(job, owner):
            yield update

    async def follow(self, job: Job, viewer: str):
        """The run's progress, curves, watched drawings (to `viewer`, when the run is
        theirs) and at the end its result, as the page shows them."""
        shown_epochs = shown_points = -1  # the first update clears the previous run's
        mine = bool(viewer) and viewer == job.owner
        async for snapshot in _watch(self.jobs, job):
            progress_text, losses = progress_html(snapshot), loss_frame(snapshot)
            if snapshot.finished:
                yield (
                    progress_text,
                    losses,
                    accuracy_frame(snapshot),
                    watch_update(snapshot, mine),
                    result_markdown(snapshot),
                    self.library.free_name(snapshot.recipe),
                    snapshot.saved_as,
                )
                return
            # Each plot sent costs the server a JSON round trip of all its points: the
            # accuracy plot goes out only when an epoch has added one, the cards when a
            # watch point has.
            changed = len(snapshot.epochs) != shown_epochs
            shown_epochs = len(snapshot.epochs)
            accuracy = accuracy_frame(snapshot) if changed else gr.skip()
            watched = (
                watch_update(snapshot, mine) if len(snapshot.watch) != shown_points else gr.skip()
            )
            shown_points = len(snapshot.watch)
            yield progress_text, losses, accuracy, watched, "", gr.skip(), gr.skip()

    @_with_api_signature
    async def train_from_api(self, *args):
        """Train a recipe, streaming progress; every setting left out takes the recipe's
        value. Saves weights/<name>.pt (default name: the recipe's, or the next free one)."""
        call = API_SIGNATURE.bind(*args).arguments
        request = call.pop("request")
        recipe_name, name = call.pop("recipe"), call.pop("name")
        job = self.start_run(recipe_name, name, call, owner_of(None, request), api=True)
        async for snapshot in _watch(self.jobs, job):
            yield {**progress_record(snapshot), "stop_token": job.stop_token}

    def stop_from_page(self, token: str | None, request: gr.Request) -> str:
        return self.jobs.stop(owner=owner_of(token, request))

    def stop(self, stop_token: str = "", request: gr.Request = None) -> str:
        """Stop your training run after its current step; the model so far is saved.
        `stop_token`: the one in your /train call's updates (not needed from the same
        gradio_client session that started it)."""
        message = self.jobs.stop(owner=owner_of(None, request), token=stop_token)
        if message == NOT_YOURS:  # the page's visitors have no token to hear about
            message += " A run started through the API is stopped with its stop_token."
        return message

    async def stopped(self, message: str):
        """ "Stopping after the current step…" is over with the run. After the stop's own
        answer, not in the run's stream: that answer may reach the page after the stream's
        last update."""
        job = self.jobs.current()
        if not message.startswith(STOPPING) or job is None:
            return gr.skip()
        async for _snapshot in _watch(self.jobs, job):
            pass
        return ""

    async def follow_current_run(self, token: str | None, request: gr.Request):
        """On page load, anyone sees the run in progress as it goes (its owner, their
        watched drawings too); otherwise the page gets a model name that is free now (a run
        may have taken the one it was built with)."""
        job = self.jobs.current()
        if job is None or self.jobs.snapshot(job).finished:
            free = self.library.free_name(FIRST_RECIPE)
            yield progress_html(None), *[gr.skip()] * 4, free, gr.skip()
            return
        async for update in self.follow(job, owner_of(token, request)):
            yield update

    def form_of_current_run(self) -> list[Any]:
        """On page load during a run, the run's recipe, description, settings and name, so
        that the form beside its progress and curves is the run's, not the default recipe's."""
        job = self.jobs.current()
        if job is None or self.jobs.snapshot(job).finished:
            return [gr.skip()] * (len(WEB_SETTINGS) + 3)
        order = job.order
        values = [getattr(order.config, spec.name) for spec in WEB_SETTINGS]
        return [order.recipe, recipe_text(order.recipe), *values, order.name]


def remember_browser(token: str | None) -> str:
    return token or uuid.uuid4().hex


@dataclass(frozen=True)
class TrainView:
    """The tab's components."""

    recipe: gr.Dropdown
    name: gr.Textbox
    start: gr.Button
    stop_button: gr.Button
    estimate: gr.Markdown
    stop_message: gr.Markdown
    description: gr.Markdown
    inputs: dict[str, gr.components.Component]  # by setting name
    device_text: gr.Textbox
    progress: gr.HTML
    result: gr.Markdown
    loss_plot: gr.LinePlot
    accuracy_plot: gr.LinePlot
    watch: WatchPanel  # the drawings picked for the next run
    watch_view: gr.HTML  # how the run reads them
    saved: gr.State  # the name the last run saved its model as

    @property
    def settings(self) -> list[gr.components.Component]:
        """The settings' inputs, in WEB_SETTINGS order."""
        return [self.inputs[spec.name] for spec in WEB_SETTINGS]

    @property
    def shown(self) -> list[gr.components.Component]:
        """What a run's updates go to (TrainHandlers.follow)."""
        return [
            self.progress,
            self.loss_plot,
            self.accuracy_plot,
            self.watch_view,
            self.result,
            self.name,
            self.saved,
        ]


def lay_out_train_tab(jobs: TrainingJobs) -> TrainView:
    """The tab's components, laid out: the form on the left, the run on the right."""
    default = RECIPES[FIRST_RECIPE].config
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=340):
            # Recipe, name and the buttons first: Train is in sight without scrolling.
            with gr.Row():
                # Side by side where both fit, one under the other on a phone.
                recipe = gr.Dropdown(
                    recipe_choices(jobs.library, TRAINS_ON),
                    value=FIRST_RECIPE,
                    label="Recipe",
                    min_width=220,
                )
                name = gr.Textbox(
                    jobs.library.free_name(FIRST_RECIPE),
                    label="Save as (model name)",
                    min_width=220,
                    info="letters, digits, '_', '-', '.'; never overwrites a model",
                )
            if jobs.trains_at:
                link = f"[{html.escape(jobs.trains_at)}]({jobs.trains_at})"
                gr.Markdown(trains_elsewhere(link), elem_id="train-elsewhere")
            with gr.Row():
                start = gr.Button(
                    "Train",
                    variant="primary",
                    interactive=not jobs.trains_at,
                    elem_id="train-button",
                )
                stop_button = gr.Button("Stop", variant="stop", elem_id="stop-button")
            estimate = gr.Markdown(elem_id="train-estimate")
            stop_message = gr.Markdown(elem_id="stop-message")
            description = gr.Markdown(recipe_text(FIRST_RECIPE), elem_classes="recipe-text")
            with gr.Row():
                inputs = _setting_inputs(MAIN, default)
            device_text = gr.Textbox(_device_label("auto"), label="Trains on", interactive=False)
            with gr.Accordion("More settings", open=False), gr.Row():
                inputs |= _setting_inputs(MORE, default)
            watch = lay_out_watch_panel()
        with gr.Column(scale=3, min_width=420):
            progress = gr.HTML(progress_html(None), label="Progress", elem_id="train-progress")
            result = gr.Markdown(label="Result", elem_id="train-result")
            loss_plot, accuracy_plot = _plots()
            watch_view = gr.HTML(elem_id="watch-view", elem_classes="watch-view")
    return TrainView(
        recipe=recipe,
        name=name,
        start=start,
        stop_button=stop_button,
        estimate=estimate,
        stop_message=stop_message,
        description=description,
        inputs=inputs,
        device_text=device_text,
        progress=progress,
        result=result,
        loss_plot=loss_plot,
        accuracy_plot=accuracy_plot,
        watch=watch,
        watch_view=watch_view,
        saved=gr.State(None),
    )


def _setting_inputs(group: str, default: TrainConfig) -> dict[str, gr.components.Component]:
    """The inputs of one group of settings (MAIN or MORE), set to the default recipe's."""
    return {
        spec.name: setting_input(spec, getattr(default, spec.name))
        for spec in WEB_SETTINGS
        if spec.ui == group
    }


def _plots() -> tuple[gr.LinePlot, gr.LinePlot]:
    """The training loss per step, and the accuracy per epoch."""
    loss_plot = gr.LinePlot(
        None,
        x="step",
        y="loss",
        color="series",
        color_map={"per step": "#cbd5e1", "smoothed": "#ea580c"},
        title="Training loss",
        height=260,
    )
    accuracy_plot = gr.LinePlot(
        None,
        x="epoch",
        y="accuracy",
        color="series",
        color_map={"train": "#2563eb", "validation": "#16a34a"},
        title="Accuracy per epoch (%)",
        height=260,
    )
    return loss_plot, accuracy_plot


def build_train_tab(
    jobs: TrainingJobs,
    owner_token: gr.BrowserState,
    watching: WatchHandlers,
    personal_name: gr.BrowserState,
) -> Callable[..., None]:
    """Lay the tab out; return `connect(demo, opened, offer_new_model, inputs, outputs)`,
    to be called once the other tabs exist (see its docstring). `owner_token` is the
    browser's own id: who started a run, so that a reload or a second tab reattaches to it;
    `personal_name` the name of their handwriting set, which drawings to watch come from."""
    view = lay_out_train_tab(jobs)
    form = TrainForm(view.recipe, view.name, owner_token, view.inputs)
    handlers = TrainHandlers(jobs, form, watching.watch_lists)
    tab = _TrainTab.wire(view, handlers, owner_token)
    _wire_watch_panel(view.watch, watching, owner_token, personal_name)
    return tab.connect


def _wire_watch_panel(
    panel: WatchPanel,
    watching: WatchHandlers,
    owner_token: gr.BrowserState,
    personal_name: gr.BrowserState,
) -> None:
    private = dict(api_visibility="private", queue=False)
    panel.add_yours.click(
        watching.add_yours, [personal_name, owner_token], [panel.picked, panel.message], **private
    )
    panel.clear.click(watching.clear, owner_token, [panel.picked, panel.message], **private)


@dataclass(frozen=True)
class _TrainTab:
    """The tab's events; those that need the whole page are wired by `connect`."""

    view: TrainView
    handlers: TrainHandlers
    owner_token: gr.BrowserState
    recipe_picked: Dependency
    run: Dependency

    @classmethod
    def wire(
        cls, view: TrainView, handlers: TrainHandlers, owner_token: gr.BrowserState
    ) -> _TrainTab:
        """The tab's own events wired: picking a recipe, the device, Train and Stop, and
        the /train and /stop API."""
        private = dict(api_visibility="private", queue=False)
        # select, not change: picking the same recipe again resets its values too.
        recipe_picked = view.recipe.select(
            handlers.fill_recipe,
            view.recipe,
            [view.description, *view.settings, view.name],
            **private,
        )
        device = view.inputs["device"]
        device.change(_device_label, device, view.device_text, **private)
        # A new run starts with no message of the last one on screen. Registered first: the
        # page runs a trigger's listeners one after the other, and after the run's stream
        # this would wipe out its result.
        view.start.click(lambda: ("", ""), None, [view.stop_message, view.result], **private)
        run = view.start.click(
            handlers.train_from_page,
            {view.recipe, view.name, owner_token, *view.settings},
            view.shown,
            api_visibility="private",
            concurrency_limit=None,  # a second user must get the busy message, not a queue slot
            show_progress="hidden",
        )
        # concurrency_limit=None: a second caller must get the busy message, not a queue slot.
        gr.api(handlers.train_from_api, api_name="train", concurrency_limit=None)
        view.stop_button.click(
            handlers.stop_from_page, owner_token, view.stop_message, **private
        ).then(
            handlers.stopped,
            view.stop_message,
            view.stop_message,
            api_visibility="private",
            concurrency_limit=None,  # waits asleep, as a watching page does
            show_progress="hidden",
        )
        gr.api(handlers.stop, api_name="stop", queue=False)
        return cls(view, handlers, owner_token, recipe_picked, run)

    def connect(
        self,
        demo: gr.Blocks,
        opened: Callable,
        offer_new_model: Callable,
        inputs: list,
        outputs: list,
        watching: WatchHandlers,
    ) -> None:
        """Wire what needs the whole page: reattaching on load, the drawings picked to
        watch shown on load and when the tab is `opened` (they are picked in the Draw tab
        too), and offering a new model to the other tabs: `offer_new_model(saved_as,
        *inputs)` gives `outputs`' updates."""
        view, handlers, owner_token = self.view, self.handlers, self.owner_token
        gr.on(
            [demo.load, opened],
            watching.picked,
            owner_token,
            view.watch.picked,
            api_visibility="private",
            queue=False,
        )
        form = [view.recipe, *view.settings]
        # always_last: a recipe picked while the last one's estimate runs is estimated
        # after it (the default, "once", dropped it and left the last recipe's on screen).
        estimating = dict(
            api_visibility="private",
            concurrency_id="estimate",
            concurrency_limit=1,
            show_progress="hidden",
            trigger_mode="always_last",
        )
        # .input, not .change: a picked recipe fills every setting at once, and each
        # .change would calibrate a mix of the old recipe's settings and the new one's.
        gr.on(
            [demo.load, *(setting.input for setting in view.settings)],
            handlers.estimate_run,
            form,
            view.estimate,
            **estimating,
        )
        # After the recipe's values are in the form: on its own change, the estimate would
        # read the previous recipe's settings (a run of 7,272 steps for a 3,400-step recipe).
        self.recipe_picked.then(handlers.estimate_run, form, view.estimate, **estimating)
        demo.load(remember_browser, owner_token, owner_token, api_visibility="private", queue=False)
        demo.load(
            handlers.form_of_current_run,
            None,
            [view.recipe, view.description, *view.settings, view.name],
            api_visibility="private",
            queue=False,
        )
        watching_run = demo.load(
            handlers.follow_current_run,
            owner_token,
            view.shown,
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )
        for event in (self.run, watching_run):
            event.then(offer_new_model, [view.saved, *inputs], outputs, api_visibility="private")
            # While a run trains the estimate says it waits for it; once it is over, estimate.
            event.then(handlers.estimate_run, form, view.estimate, **estimating)


async def _watch(jobs: TrainingJobs, job: Job) -> AsyncIterator[Snapshot]:
    """The run's snapshot every POLL_S seconds, the last one final. Asleep in the event
    loop, not in a thread: many watching pages must not use up the threads that answer
    the pen."""
    while True:
        snapshot = jobs.snapshot(job)
        yield snapshot
        if snapshot.finished:
            return
        await asyncio.sleep(POLL_S)


def progress_record(snapshot: Snapshot) -> dict[str, Any]:
    """/train's progress as plain data: where the run is, and at the end its result."""
    last = snapshot.epochs[-1] if snapshot.epochs else None
    return {
        "name": snapshot.name,
        "recipe": snapshot.recipe,
        "device": snapshot.device,
        "state": snapshot.state,
        "step": snapshot.step,
        "total_steps": snapshot.total_steps,
        "epoch": snapshot.epoch,
        "loss": snapshot.losses[-1].loss if snapshot.losses else None,
        "train_accuracy": last.train_accuracy if last else None,
        "val_accuracy": last.val_accuracy if last else None,
        "test_accuracy": snapshot.test_accuracy,
        "saved_as": snapshot.saved_as,
        "message": result_markdown(snapshot).replace("**", "").replace("`", ""),
    }


def _device_label(choice: str) -> str:
    try:
        return describe_device(pick_device(choice))
    except ValueError as err:
        return str(err)
