"""Keeps a run's `Timeline` as it trains: the test set's predictions at each evaluation,
and the watched drawings' probabilities at each evaluation and every 5% of the steps.
Off the training clock, on rank 0 alone.

Drawings picked while the run trains reach it through a file (`timeline.save_watched`,
written by the server), looked at only when a watch point is due: they join the run there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..core.data import Mnist
from ..core.evaluation import Evaluation, evaluate, predict_logits
from ..core.settings import TrainConfig
from ..core.timeline import MAX_WATCHED, Timeline, Watched, load_watched

# Watch points in a run, at least: the curves of a run with few evaluations still bend.
WATCH_POINTS = 20


@dataclass(frozen=True)
class WatchEvent:
    """The watched drawings read at `step` (0: before training): their ten probabilities,
    in the order of `watched` (which grows when drawings are picked during the run)."""

    step: int
    epoch: float
    probabilities: tuple[tuple[float, ...], ...]  # (P, 10)
    watched: Watched


class TimelineRecorder:
    def __init__(
        self,
        config: TrainConfig,
        data: Mnist,
        watched: Watched | None,
        total_steps: int,
        watch_file: str = "",
    ):
        self._config, self._data = config, data
        self._images = list(watched.images) if watched is not None else []
        self._labels = list(watched.labels) if watched is not None else []
        self._file = Path(watch_file) if watch_file else None
        self._file_stamp: int | None = None
        self._watch_every = max(1, math.ceil(total_steps / WATCH_POINTS))
        self._predictions: list[torch.Tensor] = []
        self._points: list[torch.Tensor] = []
        self.timeline = Timeline()

    def watch_due(self, step: int, evaluated: bool) -> bool:
        if not (evaluated or step % self._watch_every == 0):
            return False
        self._pick_up_more()
        return bool(self._images)

    def _pick_up_more(self) -> None:
        """The drawings picked since the run began (see the module's docstring)."""
        if self._file is None:
            return
        try:
            stamp = self._file.stat().st_mtime_ns
            if stamp == self._file_stamp:
                return
            self._file_stamp = stamp
            more = load_watched(self._file)
        except (OSError, ValueError):  # none yet, or being replaced: next time
            return
        known = {image.numpy().tobytes() for image in self._images}
        for image, label in zip(more.images, more.labels, strict=True):
            if len(self._images) < MAX_WATCHED and image.numpy().tobytes() not in known:
                self._images.append(image)
                self._labels.append(label)

    def read_watched(self, model: nn.Module, step: int, epoch: float) -> WatchEvent:
        """The watched drawings read by the model as it is now (kept, and sent on)."""
        c = self._config
        watched = Watched(torch.stack(self._images), tuple(self._labels))
        probabilities = predict_logits(model, watched.images, c.mean, c.std).softmax(1)
        self._points.append(probabilities)
        self.timeline.watch_steps.append(step)
        return WatchEvent(step, epoch, tuple(map(tuple, probabilities.tolist())), watched)

    def evaluated(self, model: nn.Module, step: int, epoch: float) -> None:
        """The test set's predictions at an evaluation."""
        c, data = self._config, self._data
        test = evaluate(model, data.test_images, data.test_labels, c.mean, c.std)
        self._keep(test, step, epoch)

    def finish(self, test: Evaluation, steps: int, epoch: float) -> Timeline:
        """The timeline, its last evaluation the final test's (a run stopped between
        evaluations gets one more)."""
        if not self.timeline.eval_steps or self.timeline.eval_steps[-1] != steps:
            self._keep(test, steps, epoch)
        self.timeline.test_predictions = torch.stack(self._predictions)
        if self._points:
            self.timeline.watch_images = torch.stack(self._images[: len(self._points[-1])])
            self.timeline.watch_labels = self._labels[: len(self._points[-1])]
            self.timeline.watch_probabilities = padded(self._points)
        return self.timeline

    def _keep(self, test: Evaluation, step: int, epoch: float) -> None:
        self._predictions.append(test.predictions.to(torch.uint8))
        self.timeline.eval_steps.append(step)
        self.timeline.eval_epochs.append(epoch)


def padded(points: list[torch.Tensor]) -> torch.Tensor:
    """(T, P, 10) from T readings of up to P drawings each: NaN where a drawing was not
    read yet."""
    stacked = torch.full((len(points), len(points[-1]), 10), float("nan"))
    for t, point in enumerate(points):
        stacked[t, : len(point)] = point
    return stacked


def live_timeline(points: tuple[WatchEvent, ...]) -> Timeline:
    """The watched drawings' part of a timeline, from a run's WatchEvents so far."""
    latest = points[-1].watched
    return Timeline(
        watch_images=latest.images,
        watch_labels=list(latest.labels),
        watch_steps=[point.step for point in points],
        watch_probabilities=padded([torch.tensor(point.probabilities) for point in points]),
    )
