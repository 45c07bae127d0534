"""The settings table drives every face: each setting is in the CLI, the Train tab and the
/train API, and a value set in any of them reaches the trainer's config."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from types import SimpleNamespace

import pytest

from mnist_app.cli import train as train_cli
from mnist_app.core.checkpoint import make_checkpoint, save_checkpoint
from mnist_app.core.models import build_model
from mnist_app.core.paths import PROJECT_ROOT
from mnist_app.core.settings import HIDDEN, SETTINGS, Setting, TrainConfig
from mnist_app.nondigit import stroke_fonts
from mnist_app.service.library import ModelLibrary
from mnist_app.service.training_jobs import TrainingBusy, TrainingJobs
from mnist_app.training import Finished
from mnist_app.training.recipes import RECIPES
from mnist_app.ui import build_app
from mnist_app.ui.train_tab import API_SIGNATURE, WEB_SETTINGS

RECIPE = "t4_lenet5"


def sample_value(spec: Setting):
    """A valid value for the setting that differs from the recipe's."""
    current = getattr(RECIPES[RECIPE].config, spec.name)
    if spec.name == "device":
        return "cpu"
    if spec.choices:
        return next(c for c in spec.choices if c != current)
    if spec.type is bool:
        return not current
    if spec.type is str:
        return "some/pen-digits.tra"
    bounded = spec.high is not None
    value = spec.low + (spec.high - spec.low) / 3 if bounded else (current or 0) + 3
    if spec.type is int:
        return int(value) if int(value) != current else int(value) + 1
    return value


def as_cli_text(value) -> str:
    return (
        {True: "on", False: "off"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    )


class CapturingJobs(TrainingJobs):
    """Records the config a face hands over, then refuses the run (nothing trains)."""

    def start(self, recipe, config, name, owner="", watched=None):
        self.started = (recipe, config, name)
        raise TrainingBusy("captured")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    jobs = CapturingJobs(ModelLibrary(tmp_path_factory.mktemp("weights")))
    return build_app(jobs.library, jobs), jobs


def block(demo, elem_id: str):
    (found,) = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id]
    return found


def setting_of(component) -> Setting | None:
    """The setting behind a Train tab input, or None for the recipe and name fields."""
    elem_id = getattr(component, "elem_id", None) or ""
    return next((s for s in SETTINGS if elem_id == f"setting-{s.name}"), None)


def first_update(updates):
    """The first value an async generator handler yields (or the error it raises)."""
    return asyncio.run(updates.__anext__())


def handler(demo, name: str):
    (fn,) = [f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name]
    return fn


def test_every_setting_is_declared_with_help_a_label_and_a_recipe_value():
    names = [spec.name for spec in SETTINGS]
    assert len(names) == len(set(names)) >= 25
    for spec in SETTINGS:
        assert spec.help and spec.label and spec.type in (int, float, bool, str), spec.name
        for recipe in RECIPES.values():
            recipe.config.validate()  # every recipe's value passes the table's checks


def test_every_setting_is_in_the_cli_help():
    result = subprocess.run(
        [sys.executable, "-m", "mnist_app", "train", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    for spec in SETTINGS:
        assert spec.flag in result.stdout, spec.flag


@pytest.mark.parametrize("spec", SETTINGS, ids=lambda spec: spec.name)
def test_a_value_set_on_the_command_line_reaches_the_trainer(spec, monkeypatch, tmp_path):
    orders = []

    def capture(order, data, stop):
        orders.append(order)
        yield Finished("x", 0.9, 1, False, 0.1)

    monkeypatch.setattr(train_cli, "train_and_save", capture)
    monkeypatch.setattr(train_cli, "load_mnist", lambda data_dir: SimpleNamespace(source="none"))
    value = sample_value(spec)
    if spec.name == "start_from":  # a saved model of the recipe's architecture
        config = RECIPES[RECIPE].config
        model = build_model(config.arch, **config.model_kwargs())
        value = str(tmp_path / "start.pt")
        save_checkpoint(make_checkpoint("start", model, config, RECIPE, {}), value)
    # Writing styles are made from drawn digits: a recipe that trains on some.
    recipe = "speedrun_drawn" if spec.name == "drawn_styles" else RECIPE
    args = ["--recipe", recipe, "--name", "x", "--overwrite", spec.flag, as_cli_text(value)]
    if spec.name in ("script_negatives", "symbol_negatives", "pen_letters", "detector_refuse"):
        # Counted among the non-digits, or fitted against them; fonts not needed here.
        args += ["--negatives", str(value if spec.type is int else 1000)]
        monkeypatch.setattr(stroke_fonts, "require", lambda folder=None: None)
    assert train_cli.main(args) == 0
    (order,) = orders
    assert getattr(order.config, spec.name) == value
    assert order.config.arch == RECIPES[recipe].config.arch


def test_the_train_tab_shows_every_web_setting_in_table_order(app):
    demo, _ = app
    shown = [spec.name for component in demo.blocks.values() if (spec := setting_of(component))]
    assert shown == [spec.name for spec in WEB_SETTINGS]
    assert {spec.name for spec in SETTINGS} - set(shown) == {
        spec.name for spec in SETTINGS if spec.ui == HIDDEN
    }
    for component in demo.blocks.values():
        if spec := setting_of(component):
            assert component.label == spec.label


def test_values_set_in_the_train_tab_reach_the_trainer(app):
    demo, jobs = app
    page = handler(demo, "train_from_page")
    form = {}
    for component in page.inputs:
        if spec := setting_of(component):
            form[component] = sample_value(spec)
        else:
            form[component] = RECIPE if component.label == "Recipe" else "page-run"
    with pytest.raises(Exception, match="captured"):
        first_update(page.fn(form, SimpleNamespace(session_hash="me")))
    recipe, config, name = jobs.started
    assert (recipe, name) == (RECIPE, "page-run")
    for spec in WEB_SETTINGS:
        assert getattr(config, spec.name) == sample_value(spec), spec.name


@pytest.mark.parametrize("recipe", RECIPES)
def test_pressing_train_with_a_recipes_values_trains_exactly_that_recipe(app, recipe):
    demo, jobs = app
    page = handler(demo, "train_from_page")
    (fill,) = [f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "fill_recipe"]
    shown = dict(zip(fill.outputs, fill.fn(recipe), strict=True))
    form = {c: shown.get(c, recipe if c.label == "Recipe" else None) for c in page.inputs}
    # What comes back from the browser: each value as sent out, then read back in.
    form = {c: c.preprocess(c.postprocess(v)) for c, v in form.items()}
    with pytest.raises(Exception, match="captured"):
        first_update(page.fn(form, SimpleNamespace(session_hash="me")))
    assert jobs.started[1] == RECIPES[recipe].config


def test_an_empty_field_in_the_train_tab_is_named_in_the_message(app):
    demo, _ = app
    page = handler(demo, "train_from_page")
    form = {c: sample_value(setting_of(c)) if setting_of(c) else RECIPE for c in page.inputs}
    form[block(demo, "setting-lr")] = None
    with pytest.raises(Exception, match=r"Please enter a value for: Learning rate\."):
        first_update(page.fn(form, SimpleNamespace(session_hash="me")))


def test_train_api_parameters_are_the_web_settings_named_like_the_cli_flags(app):
    demo, _ = app
    parameters = demo.get_api_info()["named_endpoints"]["/train"]["parameters"]
    names = [p["parameter_name"] for p in parameters]
    assert names == ["recipe", "name", *(spec.name for spec in WEB_SETTINGS)]
    assert all(f"--{name.replace('_', '-')}" in {s.flag for s in SETTINGS} for name in names[2:])
    # Left out, a setting takes the recipe's value: the client sends None.
    assert all(
        p["parameter_has_default"] and p["parameter_default"] is None for p in parameters[2:]
    )
    assert "drawn_data" not in names and "start_from" not in names  # server-side paths


def test_values_sent_to_the_train_api_reach_the_trainer_and_the_rest_are_the_recipes(app):
    demo, jobs = app
    api = handler(demo, "train_from_api")
    request = SimpleNamespace(session_hash="me")
    values = {spec.name: sample_value(spec) for spec in WEB_SETTINGS}
    call = API_SIGNATURE.bind(recipe=RECIPE, name="api-run", request=request, **values)
    with pytest.raises(Exception, match="captured"):
        first_update(api.fn(*call.args))
    _, config, name = jobs.started
    assert name == "api-run"
    for spec in WEB_SETTINGS:
        assert getattr(config, spec.name) == values[spec.name], spec.name

    only_epochs = API_SIGNATURE.bind(RECIPE, "", *[None] * len(WEB_SETTINGS), request)
    only_epochs.arguments["epochs"] = 2
    with pytest.raises(Exception, match="captured"):
        first_update(api.fn(*only_epochs.args))
    recipe, config, name = jobs.started
    expected = RECIPES[RECIPE].config
    assert config == TrainConfig(**{**vars(expected), "epochs": 2})
    assert (recipe, name) == (RECIPE, RECIPE)  # the name defaults to the recipe's


def test_the_engine_the_cli_and_the_predictor_run_without_gradio():
    code = (
        "import sys, mnist_app, mnist_app.cli, mnist_app.core, mnist_app.preprocess, "
        "mnist_app.pen.drawn_accuracy, mnist_app.analysis.explain, mnist_app.nondigit.refusal, "
        "mnist_app.training, mnist_app.personal.fit, mnist_app.service.library, "
        "mnist_app.service.training_jobs, mnist_app.service.child_process\n"
        "assert 'gradio' not in sys.modules, 'the engine imported gradio'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True, timeout=120)
