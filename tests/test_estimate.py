"""The Train tab's time estimate: a few seconds of the run itself predict all of it."""

from __future__ import annotations

import math

import pytest

from mnist_app.pen import rendered
from mnist_app.training.estimate import WARM_UP_STEPS, Calibration, calibrate, estimate
from mnist_app.training.loop import EpochEvent, StepEvent, train
from mnist_app.training.recipes import make_config


# How close the estimate comes to the clock is measured by bench/time_estimate.py (docs/training.md
# figures), not here: a shared machine's speed changes under a test. What a test can hold
# is the arithmetic: the estimate counts the steps, the validation reports and the test-set
# readings (one a report, for the run's timeline, and one at the end) the run makes.
@pytest.mark.parametrize(("recipe", "settings"), [("t1_mlp_mse", {}), ("t4_lenet5", {"epochs": 1})])
def test_the_estimate_counts_the_steps_and_reports_the_run_makes(mnist, recipe, settings):
    config = make_config(recipe, **settings)
    steps = reports = validated = 0
    for event in train(config, mnist):
        steps += isinstance(event, StepEvent)
        reports += isinstance(event, EpochEvent)
        validated += isinstance(event, EpochEvent) and not math.isnan(event.val_loss)
    costs = Calibration(
        setup_s=2.0,
        step_s=0.01,
        test_s=0.5,
        validation_s=0.25,
        drawn_per_image_s=0.0,
        drawn_images=0,
        device="CPU",
    )
    guess = estimate(config, costs, len(mnist.train_labels))
    assert guess.steps == steps == (3 * 108 if recipe == "t1_mlp_mse" else 860)
    evaluation_s = validated * 0.25 + (reports + 1) * 0.5
    assert guess.evaluation_s == pytest.approx(evaluation_s)
    assert guess.seconds == pytest.approx(2.0 + (steps - WARM_UP_STEPS) * 0.01 + evaluation_s)


def test_the_estimate_says_what_it_is_made_of(mnist):
    config = make_config("t1_mlp_mse")
    calibration = calibrate(config, mnist, budget_s=0.3)
    longer = estimate(make_config("t1_mlp_mse", epochs=30), calibration, 60_000)
    shorter = estimate(config, calibration, 60_000)
    assert longer.steps == 10 * shorter.steps  # the length costs no new calibration
    assert longer.seconds > 5 * shorter.seconds
    assert longer.describe().startswith("About ") and "3,240 steps of " in longer.describe()


def test_the_estimate_counts_rendering_styles_and_making_non_digits(mnist, tmp_path, monkeypatch):
    monkeypatch.setattr(rendered, "CACHE", tmp_path)  # nothing kept rendered yet
    config = make_config("resnet_drawn")
    calibration = calibrate(config, mnist, budget_s=0.3)
    assert calibration.drawn_images > 2 * 7494  # two renderings of each, and their styles
    assert calibration.negative_per_image_s > 0
    guess = estimate(config, calibration, 60_000)
    making = calibration.drawn_images * calibration.drawn_per_image_s
    making += config.negatives * calibration.negative_per_image_s
    assert guess.setup_s >= making > 30  # rendering and generating take most of a minute
    assert guess.steps == 8000 and "to set up" in guess.describe()
    # A run that kept them rendered leaves the next nothing to make, the same images to see.
    monkeypatch.setattr(rendered, "is_kept", lambda what, folder=None: True)
    again = calibrate(config, mnist, budget_s=0.3)
    assert again.drawn_per_image_s == 0 == again.negative_per_image_s
    assert again.drawn_images == calibration.drawn_images
    assert estimate(config, again, 60_000).setup_s < making
