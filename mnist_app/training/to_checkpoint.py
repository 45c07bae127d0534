"""Train and save: the one path from settings to a checkpoint file, for the CLI and for the
app's training process alike."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from ..core.checkpoint import check_free, check_name, make_checkpoint, save_under_name
from ..core.data import Mnist
from ..core.settings import TrainConfig
from ..core.timeline import Watched
from ..nondigit import stroke_fonts
from .distributed import world
from .loop import DoneEvent, EpochEvent, Evaluating, StepEvent, train
from .material import find_pen_data
from .start import starting_model
from .timeline_recorder import WatchEvent


@dataclass(frozen=True)
class RunOrder:
    """What to train and where to save it."""

    config: TrainConfig
    recipe: str
    name: str
    weights_dir: str | os.PathLike | None = None
    overwrite: bool = False  # replace a checkpoint of that name (else save under a free one)
    owners: tuple[str, ...] = ()  # model_files.owner_key of whoever may manage the result
    watched: Watched | None = None  # drawings to read as it learns (loop.train)
    watch_file: str = ""  # where drawings picked during the run come from (loop.train)

    def check(self) -> None:
        """ValueError (a message for the user) for settings or a name that cannot be used,
        before any data is loaded."""
        self.config.validate()
        if (
            self.config.script_negatives
            or self.config.symbol_negatives
            or self.config.detector_refuse
        ):
            stroke_fonts.require()
        find_pen_data(self.config, download=False)  # else what to download, and where
        if self.config.start_from:  # a start that cannot be used says why, before any data
            starting_model(self.config)
        check_name(self.name)
        if not self.overwrite:
            check_free(self.name, self.weights_dir)


@dataclass(frozen=True)
class Finished:
    """The last event of a run: its result and the checkpoint's name (the model itself
    stays in the file)."""

    saved_as: str | None  # None when stopped before the first step: nothing to save
    test_accuracy: float
    steps: int
    stopped: bool  # stopped early from outside
    train_time_s: float


RunEvent = StepEvent | EpochEvent | WatchEvent | Evaluating | Finished


def train_and_save(
    order: RunOrder, data: Mnist, stop: threading.Event | None = None
) -> Iterator[RunEvent]:
    """`loop.train`'s events, its DoneEvent replaced by Finished once the checkpoint is
    saved. The name is `order.name` unless a checkpoint took it during training and
    `order.overwrite` is off: then the next free one (name-2, ...), never replacing it."""
    order.config.validate()
    check_name(order.name)  # free or not, saving finds a free one (see above)
    for event in train(
        order.config, data, stop, watched=order.watched, watch_file=order.watch_file
    ):
        if isinstance(event, DoneEvent):
            yield _save(order, event)
        else:
            yield event


def _save(order: RunOrder, done: DoneEvent) -> Finished:
    saved_as = None
    if done.steps and world().main:  # of several processes, rank 0 saves
        saved_as = save_under_name(
            lambda name: make_checkpoint(
                name,
                done.model,
                done.config,
                order.recipe,
                done.metrics(),
                list(order.owners),
                done.detector,
                done.timeline,
            ),
            order.name,
            order.weights_dir,
            order.overwrite,
        )
    return Finished(
        saved_as=saved_as,
        test_accuracy=done.test_accuracy,
        steps=done.steps,
        stopped=done.stopped,
        train_time_s=done.train_time_s,
    )
