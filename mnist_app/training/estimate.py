"""How long a run will take, from a short calibration: a few seconds of the run itself.

The calibration trains the very recipe (same model, batch, augmentation, device) for about
two seconds of steps and then evaluates the test set as a run's end does, timing each
part. A run's time is then arithmetic: setting up, each step times the steps, each
validation report, the test set, and rendering the drawn digits (and their writing styles)
and generating non-digits for recipes that train on them (each timed on a sample, since
they take the longest to set up). A calibration is kept per
recipe settings (other than the length of the run), so changing the epochs costs nothing.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..core.data import Mnist
from ..core.device import describe_device, pick_device
from ..core.settings import MAX_STEPS, TrainConfig
from ..nondigit.negatives import negative_images
from ..pen.replay import render_training_images
from ..pen.styles import training_styles
from .loop import (
    DoneEvent,
    EpochEvent,
    Evaluating,
    StepEvent,
    schedule,
    train,
)
from .material import drawn_digits, kept

WARM_UP_STEPS = 5  # the first steps choose kernels (and capture CUDA graphs): not timed
MIN_TIMED_STEPS = 5
BUDGET_S = 2.0  # of timed steps
DRAWN_SAMPLE = 40  # drawn digits rendered (and non-digits generated) to time it
TEST_SHARE = 10  # 1 in this many test images is evaluated to time the test set


@dataclass(frozen=True)
class Calibration:
    """What one run's parts cost with these settings, on this machine."""

    setup_s: float  # until the first timed step: data to the device, model, warm-up steps
    step_s: float  # one training step, on average
    test_s: float  # the 10,000 test images evaluated
    validation_s: float  # one validation report, less its reading of the test set
    drawn_per_image_s: float  # rendering one drawn digit (0 without drawn digits)
    # Drawn digits a run renders, their styles included (each then seen drawn_repeats times
    # an epoch).
    drawn_images: int
    device: str
    negative_per_image_s: float = 0.0  # generating one non-digit


@dataclass(frozen=True)
class Estimate:
    seconds: float
    steps: int
    step_s: float
    evaluation_s: float  # validation reports and the test set
    setup_s: float  # including rendering drawn digits
    device: str

    def describe(self) -> str:
        """'About 15 min 40 s on the CPU (2 threads): 7,224 steps of 0.13 s, ...'"""
        parts = [f"{self.steps:,} steps of {_short(self.step_s)}"]
        if self.evaluation_s >= 0.5:
            parts.append(f"{_long(self.evaluation_s)} of evaluation")
        if self.setup_s >= 0.5:
            parts.append(f"{_long(self.setup_s)} to set up")
        return f"About {_long(self.seconds)} on {self.device}: {', '.join(parts)}."


def calibrate(config: TrainConfig, data: Mnist, budget_s: float = BUDGET_S) -> Calibration:
    """Time a short run of `config` (about `budget_s` seconds of steps, then the test set)."""
    trial = dataclasses.replace(
        config,
        steps=MAX_STEPS,
        epochs=0,
        drawn_data="",
        drawn_styles=0,
        negatives=0,
        script_negatives=0,
        symbol_negatives=0,
        start_from="",  # fresh weights time the same
        detector_refuse=0.0,
    )
    # A tenth of the test set is evaluated, as its time grows with the images.
    sample = len(data.test_labels) // TEST_SHARE
    few_tests = dataclasses.replace(
        data, test_images=data.test_images[:sample], test_labels=data.test_labels[:sample]
    )
    stop = threading.Event()
    steps, validations = [], []
    setup_s = test_s = 0.0
    start = last = time.perf_counter()
    for event in train(trial, few_tests, stop):
        now = time.perf_counter()
        gap, last = now - last, now
        match event:
            case StepEvent() if event.step <= WARM_UP_STEPS:
                setup_s = now - start
            case StepEvent():
                steps.append(gap)
                if sum(steps) >= budget_s and len(steps) >= MIN_TIMED_STEPS:
                    stop.set()
            case EpochEvent():
                validations.append(gap)
            case DoneEvent():
                test_s = gap * TEST_SHARE
            case Evaluating():
                pass
    step_s = statistics.fmean(steps) if steps else setup_s / WARM_UP_STEPS
    share = config.val_size / max(1, len(data.test_labels))
    drawn_images, drawn_per_image_s = 0, 0.0
    drawn_kept, non_digits_kept = kept(config)  # rendered by an earlier run: no time now
    if config.drawn_data:
        digits = drawn_digits(config)
        if not drawn_kept:
            began = time.perf_counter()
            render_training_images(digits[:DRAWN_SAMPLE], copies=1, seed=config.seed)
            drawn_per_image_s = (time.perf_counter() - began) / min(DRAWN_SAMPLE, len(digits))
        drawn_images = len(digits) * config.drawn_copies
        if config.drawn_styles:
            drawn_images += len(training_styles(digits, config.seed)) * config.drawn_styles
    negative_per_image_s = 0.0
    if config.negatives and not non_digits_kept:
        began = time.perf_counter()
        negative_images(DRAWN_SAMPLE, seed=config.seed)
        negative_per_image_s = (time.perf_counter() - began) / DRAWN_SAMPLE
    return Calibration(
        setup_s=setup_s,
        step_s=step_s,
        test_s=test_s,
        # A report also reads the test set (for the run's timeline): here a tenth of it.
        validation_s=max(0.0, statistics.median(validations) - test_s / TEST_SHARE)
        if validations
        else test_s * share,
        drawn_per_image_s=drawn_per_image_s,
        drawn_images=drawn_images,
        device=describe_device(pick_device(config.device)),
        negative_per_image_s=negative_per_image_s,
    )


def estimate(config: TrainConfig, calibration: Calibration, mnist_train: int = 60_000) -> Estimate:
    """The run's time per `calibration` (made with `config`'s settings, whatever its length)."""
    drawn = calibration.drawn_images * config.drawn_repeats
    images = (mnist_train - config.val_size) * config.mnist_repeats + drawn + config.negatives
    _, total_steps, report_every = schedule(config, images, config.batch_size or images)
    reports = -(-total_steps // report_every)
    # Each report validates (when there is a validation set) and reads the test set (the
    # run's timeline); the end reads the test set again.
    validation_s = calibration.validation_s if config.val_size else 0.0
    evaluation_s = reports * (validation_s + calibration.test_s) + calibration.test_s
    setup_s = (
        calibration.setup_s
        + calibration.drawn_images * calibration.drawn_per_image_s
        + config.negatives * calibration.negative_per_image_s
    )
    # The setup's warm-up steps are steps of the run too.
    steps_s = max(0, total_steps - WARM_UP_STEPS) * calibration.step_s
    return Estimate(
        seconds=setup_s + steps_s + evaluation_s,
        steps=total_steps,
        step_s=calibration.step_s,
        evaluation_s=evaluation_s,
        setup_s=setup_s,
        device=calibration.device,
    )


def calibration_key(config: TrainConfig) -> str:
    """The settings a calibration depends on (all but the run's length), as a key."""
    same = dataclasses.asdict(dataclasses.replace(config, epochs=0, steps=0))
    return json.dumps(same, sort_keys=True, default=str)


def calibrate_job(config: TrainConfig, data: Mnist, stop=None) -> Iterator[Calibration]:
    """`calibrate` as a job for `child.run_in_process` (where the app's runs train)."""
    yield calibrate(config, data)


def _long(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if minutes < 10 and seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _short(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
