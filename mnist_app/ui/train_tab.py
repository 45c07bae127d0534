"""Train tab: pick a recipe, adjust its knobs, watch the curves, get a checkpoint."""

from __future__ import annotations

import html
from collections.abc import Callable

import gradio as gr
import torch

from ..device import describe_device, pick_device
from ..jobs import Snapshot, TrainingBusy, TrainingJobs
from ..recipes import DEFAULT_RECIPE, LOSSES, OPTIMIZERS, RECIPES, SCHEDULES, make_config
from .charts import accuracy_frame, loss_frame

# How often a watcher's plots refresh while a run is going.
POLL_S = 0.5


def device_choices() -> list[str]:
    choices = ["auto", "cpu"]
    if torch.cuda.is_available():
        choices.append("cuda")
    if torch.backends.mps.is_available():
        choices.append("mps")
    return choices


def recipe_text(name: str) -> str:
    recipe = RECIPES[name]
    origin = "modern recipe" if recipe.tutorial == "modern" else f"tutorial {recipe.tutorial}"
    text = f"**{name}** ({origin}): {recipe.description}"
    if recipe.note:
        text += f"\n\n**Fixed from the tutorial:** {recipe.note}"
    return text


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
    head = f"<b>{html.escape(snapshot.name)}</b> · {snapshot.state} · {snapshot.device}"
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
    early = f"Stopped early after {snapshot.step:,} steps. " if snapshot.stopped_early else ""
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


def build_train_tab(jobs: TrainingJobs) -> Callable[[list[gr.Dropdown], list[gr.Markdown]], None]:
    """Lay the tab out; return `connect(model_selectors, notices)`, to be called once the
    other tabs exist: when a run ends, their model dropdowns get the new model and their
    "no model yet" notices disappear."""
    library = jobs.library
    default = RECIPES[DEFAULT_RECIPE].config
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=340):
            recipe = gr.Dropdown(list(RECIPES), value=DEFAULT_RECIPE, label="Recipe")
            description = gr.Markdown(recipe_text(DEFAULT_RECIPE), elem_classes="recipe-text")
            with gr.Row():
                epochs = gr.Number(default.epochs, label="Epochs", precision=0)
                steps = gr.Number(default.steps, label="Steps (0 = train by epochs)", precision=0)
            with gr.Row():
                lr = gr.Number(default.lr, label="Learning rate (peak for one-cycle)")
                batch_size = gr.Number(
                    default.batch_size, label="Batch size (0 = full batch)", precision=0
                )
            with gr.Row():
                optimizer = gr.Dropdown(
                    list(OPTIMIZERS), value=default.optimizer, label="Optimizer"
                )
                loss = gr.Dropdown(list(LOSSES), value=default.loss, label="Loss")
                schedule = gr.Dropdown(list(SCHEDULES), value=default.schedule, label="LR schedule")
            with gr.Row():
                augment = gr.Checkbox(default.augment, label="Augmentation (rotate, shift, zoom)")
                seed = gr.Number(default.seed, label="Seed", precision=0)
            with gr.Row():
                device = gr.Dropdown(device_choices(), value="auto", label="Device")
                device_text = gr.Textbox(
                    _device_label("auto"), label="Trains on", interactive=False
                )
            name = gr.Textbox(
                library.free_name(DEFAULT_RECIPE),
                label="Save as (model name)",
                info="letters, digits, '_', '-', '.'; an existing name is never overwritten",
            )
            with gr.Row():
                start = gr.Button("Train", variant="primary", elem_id="train-button")
                stop = gr.Button("Stop", variant="stop")
            stop_message = gr.Markdown(label="Stop")
        with gr.Column(scale=3, min_width=420):
            progress = gr.HTML(progress_html(None), label="Progress", elem_id="train-progress")
            result = gr.Markdown(label="Result", elem_id="train-result")
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

    knobs = [epochs, steps, lr, batch_size, optimizer, loss, schedule, augment, seed]

    def fill_recipe(recipe_name: str):
        config = RECIPES[recipe_name].config
        values = [config.epochs, config.steps, config.lr, config.batch_size, config.optimizer]
        values += [config.loss, config.schedule, config.augment, config.seed]
        return [recipe_text(recipe_name), *values, library.free_name(recipe_name)]

    recipe.change(
        fill_recipe, recipe, [description, *knobs, name], api_visibility="private", queue=False
    )
    device.change(_device_label, device, device_text, api_visibility="private", queue=False)

    def train(
        recipe: str,
        epochs: float | None,
        steps: float | None,
        lr: float | None,
        batch_size: float | None,
        optimizer: str,
        loss: str,
        schedule: str,
        augment: bool,
        seed: float | None,
        device: str,
        name: str,
        request: gr.Request,
    ):
        """Train a recipe with the given knobs, streaming progress; saves weights/<name>.pt."""
        numbers = dict(epochs=epochs, steps=steps, lr=lr, batch_size=batch_size, seed=seed)
        empty = [k.replace("_", " ") for k, v in numbers.items() if v is None]
        if empty:
            raise gr.Error(f"Please enter a value for: {', '.join(empty)}.")
        if recipe not in RECIPES:
            raise gr.Error(f"Unknown recipe {recipe!r}; choose one of: {', '.join(RECIPES)}.")
        try:
            config = make_config(
                recipe,
                epochs=int(epochs),
                steps=int(steps),
                lr=float(lr),
                batch_size=int(batch_size),
                optimizer=optimizer,
                loss=loss,
                schedule=schedule,
                augment=bool(augment),
                seed=int(seed),
                device=device,
            )
            job = jobs.start(recipe, config, (name or "").strip(), owner=request.session_hash)
        except (ValueError, TrainingBusy) as err:
            raise gr.Error(str(err)) from None
        shown_epochs = -1  # the first update clears the previous run's plot
        while True:
            snapshot = jobs.snapshot(job)
            progress, losses = progress_html(snapshot), loss_frame(snapshot)
            if snapshot.finished:
                yield (
                    progress,
                    losses,
                    accuracy_frame(snapshot),
                    result_markdown(snapshot),
                    library.free_name(recipe),
                    snapshot.saved_as,
                )
                return
            # Each plot sent costs the server a JSON round trip of all its points: the
            # accuracy plot goes out only when an epoch has added one.
            changed = len(snapshot.epochs) != shown_epochs
            shown_epochs = len(snapshot.epochs)
            accuracy = accuracy_frame(snapshot) if changed else gr.skip()
            yield progress, losses, accuracy, "", gr.skip(), gr.skip()
            jobs.wait(job, POLL_S)

    def stop_training(request: gr.Request) -> str:
        """Stop your own training run after its current step; the model so far is saved."""
        return jobs.stop(owner=request.session_hash)

    saved = gr.State(None)
    run = start.click(
        train,
        [recipe, *knobs, device, name],
        [progress, loss_plot, accuracy_plot, result, name, saved],
        api_name="train",
        concurrency_limit=None,  # a second user must get the busy message, not a queue slot
        show_progress="hidden",
    )

    start.click(lambda: "", None, stop_message, api_visibility="private", queue=False)

    def connect(model_selectors: list[gr.Dropdown], notices: list[gr.Markdown]) -> None:
        def offer_new_model(saved_as: str | None):
            if not saved_as:
                return [gr.skip()] * (len(model_selectors) + len(notices))
            names = library.names()
            selectors = [gr.update(choices=names, value=saved_as) for _ in model_selectors]
            return selectors + [gr.update(visible=False) for _ in notices]

        run.then(offer_new_model, saved, [*model_selectors, *notices], api_visibility="private")

    stop.click(stop_training, None, stop_message, api_name="stop", queue=False)
    return connect


def _device_label(choice: str) -> str:
    try:
        return describe_device(pick_device(choice))
    except ValueError as err:
        return str(err)
