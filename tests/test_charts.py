"""The Train tab's curves: what the plots are given to draw."""

from __future__ import annotations

import math

import numpy as np

from mnist_app.service.training_jobs import LossPoint, Snapshot
from mnist_app.training import EpochEvent
from mnist_app.ui.charts import (
    MAX_CURVE_POINTS,
    accuracy_frame,
    confusion_cell,
    confusion_image,
    loss_frame,
)


def snapshot(epochs: int, validation: bool = True, steps: int = 10) -> Snapshot:
    history = tuple(
        EpochEvent(e + 1, 10 * (e + 1), 0.5, 0.9, 0.4, 0.92 if validation else math.nan)
        for e in range(epochs)
    )
    losses = tuple(LossPoint(s + 1, 2.0 / (s + 1)) for s in range(steps))
    return Snapshot(name="m", recipe="r", device="cpu", epochs=history, losses=losses)


def test_a_run_without_a_validation_set_has_no_validation_series():
    frame = accuracy_frame(snapshot(3, validation=False))
    assert set(frame["series"]) == {"train"} and len(frame) == 3
    assert set(accuracy_frame(snapshot(3))["series"]) == {"train", "validation"}


def test_a_single_point_is_not_sent_as_a_curve():
    assert accuracy_frame(snapshot(1)) is None and accuracy_frame(snapshot(0)) is None


def test_the_loss_curve_is_thinned_keeps_the_last_step_and_smooths_from_the_first():
    frame = loss_frame(snapshot(0, steps=5000))
    per_step = frame[frame["series"] == "per step"]
    assert len(per_step) <= MAX_CURVE_POINTS + 1 and per_step["step"].iloc[-1] == 5000
    smoothed = frame[frame["series"] == "smoothed"]["loss"]
    assert smoothed.iloc[0] == 2.0  # debiased: the first point is the first loss itself


def test_a_click_on_the_confusion_matrix_finds_its_cell():
    counts = np.arange(100).reshape(10, 10)
    height, width, _ = confusion_image(counts).shape
    found = {confusion_cell(counts, x, y) for x in range(0, width, 4) for y in range(0, height, 4)}
    assert found == {(r, c) for r in range(10) for c in range(10)} | {None}
    assert confusion_cell(counts, 1, 1) is None  # the corner: no cell there
