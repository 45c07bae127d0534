"""The Train tab's handlers, called without building the page: a real model library on a
weights folder that holds the quick model, real MNIST, and a real (short) run."""

from __future__ import annotations

import asyncio
import inspect
import re
import typing
from types import SimpleNamespace

import gradio as gr
import pytest

from mnist_app.core.paths import WEIGHTS_DIR
from mnist_app.core.timeline import NO_LABEL
from mnist_app.service.library import ModelLibrary
from mnist_app.service.training_jobs import STOPPING, TrainingJobs
from mnist_app.training.recipes import default_recipe
from mnist_app.ui.train_tab import (
    API_SIGNATURE,
    FIRST_RECIPE,
    WEB_SETTINGS,
    TrainHandlers,
    recipe_choices,
    recipe_values,
)
from tests.conftest import MNIST_DIR
from tests.harness.server import MODEL, weights_with_quick_model

ME = SimpleNamespace(session_hash="me", username=None)


@pytest.fixture
def handlers(mnist, tmp_path) -> TrainHandlers:
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    return TrainHandlers(TrainingJobs(ModelLibrary(weights, MNIST_DIR)))


def every(updates) -> list:
    """Every value an async generator handler yields."""

    async def collect():
        return [update async for update in updates]

    return asyncio.run(collect())


def form_values(recipe: str, **changes) -> dict:
    """The recipe's value for every web setting, by name, but for `changes`."""
    names = [spec.name for spec in WEB_SETTINGS]
    return {**dict(zip(names, recipe_values(recipe), strict=True)), **changes}


def test_picking_a_recipe_fills_its_description_values_and_a_free_name(handlers):
    # The quick model in the weights folder has a name of its own; a recipe's is free.
    description, *values, name = handlers.fill_recipe("t5_mlp_bn")
    assert description.startswith("**t5_mlp_bn** (tutorial")
    assert values == recipe_values("t5_mlp_bn")
    assert name == "t5_mlp_bn"
    handlers.library.weights_dir.joinpath("t5_mlp_bn.pt").write_bytes(b"taken")
    assert handlers.fill_recipe("t5_mlp_bn")[-1] == "t5_mlp_bn-2"


def test_a_form_that_cannot_run_says_which_field_instead_of_an_estimate(handlers):
    values = form_values("speedrun", lr=None)
    empty = list(handlers.estimate_run("speedrun", *values.values()))
    assert empty == ["⚠ Please enter a value for: Learning rate."]
    values = form_values("speedrun", lr=-1)
    negative = list(handlers.estimate_run("speedrun", *values.values()))
    assert negative == ["⚠ Learning rate must be positive, got -1."]  # not the last estimate


def test_on_a_cpu_the_form_opens_on_a_quick_recipe_and_names_the_long_ones(handlers):
    assert default_recipe("cpu") == "speedrun" and default_recipe("cuda") == "resnet_mini"
    shipped = ModelLibrary(WEIGHTS_DIR)
    labels = dict((recipe, label) for label, recipe in recipe_choices(shipped, "cpu"))
    assert labels["speedrun"] == "speedrun" and labels["t1_mlp_mse"] == "t1_mlp_mse"
    assert labels["resnet_mini"].startswith("resnet_mini · long on a CPU (~")
    assert labels["t2_fullbatch_mlp"].startswith("t2_fullbatch_mlp · long on a CPU")
    assert all(label == recipe for label, recipe in recipe_choices(shipped, "cuda"))


def test_an_unknown_recipe_or_an_empty_field_is_refused_with_a_message(handlers):
    with pytest.raises(gr.Error, match="Unknown recipe 'nope'; choose one of: "):
        handlers.start_run("nope", "x", {}, "me", api=True)
    with pytest.raises(gr.Error, match=r"Please enter a value for: Learning rate\."):
        handlers.start_run("speedrun", "x", form_values("speedrun", lr=None), "me", api=False)
    assert handlers.jobs.current() is None


def test_a_taken_model_name_is_refused_and_nothing_trains(handlers):
    with pytest.raises(gr.Error, match="already exists"):
        handlers.start_run("speedrun", MODEL, form_values("speedrun"), "me", api=False)
    assert handlers.jobs.current() is None


def test_with_no_run_stop_says_so_and_a_new_page_is_idle(handlers):
    assert handlers.stop("", ME) == "No training is running."
    assert handlers.stop_from_page("my-browser", ME) == "No training is running."
    assert asyncio.run(handlers.stopped("No training is running.")) == gr.skip()  # left as is
    ((progress, *_, name, _saved),) = every(handlers.follow_current_run(None, ME))
    assert "Not training" in progress
    assert name == FIRST_RECIPE  # the form's first recipe's name, free
    assert handlers.form_of_current_run() == [gr.skip()] * (len(WEB_SETTINGS) + 3)  # as built


def test_the_train_api_shows_its_signature_so_gradio_fills_in_the_request(handlers):
    method = handlers.train_from_api
    assert inspect.signature(method) == API_SIGNATURE
    assert inspect.isasyncgenfunction(method)
    assert typing.get_type_hints(method)["request"] is gr.Request  # gr.api reads these
    assert method.__doc__.startswith("Train a recipe, streaming progress")


def test_a_short_run_streams_progress_and_ends_saved(handlers):
    values = form_values("t5_mlp_bn", steps=30, device="cpu", val_size=1000)
    job = handlers.start_run("t5_mlp_bn", "", values, "me", api=True)
    updates = every(handlers.follow(job, "me"))
    progress, _losses, _accuracy, watched, result, next_name, saved_as = updates[-1]
    assert watched == ""  # no drawings were picked to watch
    assert saved_as == "t5_mlp_bn" and (handlers.library.weights_dir / "t5_mlp_bn.pt").exists()
    assert "step 30/30 (100%)" in progress and "done" in progress
    assert "**Test accuracy" in result and "Saved as **`t5_mlp_bn`**" in result
    assert next_name == "t5_mlp_bn-2"  # the next run of the recipe gets a free name
    # A page loaded now sees no run going, and a stop comes too late.
    assert "Not training" in every(handlers.follow_current_run(None, ME))[0][0]
    assert handlers.stop("", ME) == "No training is running."


def test_stop_saves_the_run_so_far_and_its_message_goes_when_the_run_is_over(handlers):
    values = form_values("t5_mlp_bn", steps=100_000, device="cpu", val_size=1000)
    job = handlers.start_run("t5_mlp_bn", "long", values, "me", api=False)
    while handlers.jobs.snapshot(job).step < 1:  # under way
        assert not handlers.jobs.wait(job, 0.1).finished, handlers.jobs.snapshot(job).error
    # A page loaded now shows this run's form beside its curves, not the default recipe's.
    recipe, description, *settings, name = handlers.form_of_current_run()
    assert (recipe, name) == ("t5_mlp_bn", "long") and description.startswith("**t5_mlp_bn**")
    assert dict(zip((spec.name for spec in WEB_SETTINGS), settings, strict=True)) == values
    not_mine = handlers.stop_from_page("another-browser", ME)
    assert "someone else" in not_mine and "token" not in not_mine  # a visitor has none
    assert "stop_token" in handlers.stop("wrong-token", SimpleNamespace(session_hash="api"))
    message = handlers.stop_from_page(None, ME)  # the same session that started it
    assert message.startswith(STOPPING)
    assert asyncio.run(handlers.stopped(message)) == ""  # waited for the run to end
    *_, result, _next_name, saved_as = every(handlers.follow(job, "me"))[-1]
    assert saved_as == "long" and result.startswith("Stopped early after ")


def test_a_run_reads_the_drawings_its_owner_picked_and_shows_them_to_them_only(handlers, mnist):
    images = list(mnist.test_images[:3].numpy())
    handlers.watch_lists.add("me", images, [int(mnist.test_labels[0]), NO_LABEL, NO_LABEL])
    values = form_values("t5_mlp_bn", steps=400, device="cpu", val_size=1000)
    job = handlers.start_run("t5_mlp_bn", "watching", values, "me", api=False)
    assert not handlers.jobs.watch_now("someone else", handlers.watch_lists.watched("me"))
    while handlers.jobs.snapshot(job).step < 1:  # under way: a fourth drawing joins it
        assert not handlers.jobs.wait(job, 0.05).finished
    handlers.watch_lists.add("me", [mnist.test_images[5].numpy()], [NO_LABEL])
    assert handlers.jobs.watch_now("me", handlers.watch_lists.watched("me"))
    mine = [update[3] for update in every(handlers.follow(job, "me"))]
    cards = mine[-1]
    assert cards.count('class="watch-card"') == 4
    assert f"a {int(mnist.test_labels[0])}" in cards and "no digit given; read as" in cards
    assert "at step 400" in cards  # the last point is the end of the run
    assert "over 400 steps" in cards  # each card says in words what its line shows
    assert re.search(r"went from \d+% to \d+% from step [1-9][\d,]* to 400", cards)
    theirs = every(handlers.follow(job, "someone else"))[-1][3]
    assert "only they see them" in theirs and "<img" not in theirs
