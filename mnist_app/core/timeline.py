"""What a run saw while it learnt, kept in its checkpoint: the MNIST test set's predictions
at each evaluation (10,000 bytes each), and the drawings a person asked to watch, read at
each evaluation and every 5% of the steps.

`Watched` is what a run is asked to watch; `Timeline` is what it keeps. Both are plain
tensors and lists, so that a checkpoint holding them still loads with weights_only=True.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import torch

from .atomic import write_atomically

# A watched drawing with no digit given: its series follows the digit the model reads.
NO_LABEL = -1
MAX_WATCHED = 10


@dataclass(frozen=True)
class Watched:
    """Drawings to read while training: uint8 (P, 28, 28) model inputs and their digits
    (NO_LABEL where the person gave none)."""

    images: torch.Tensor
    labels: tuple[int, ...]

    def __post_init__(self):
        if self.images.dtype != torch.uint8 or self.images.shape[1:] != (28, 28):
            raise ValueError(f"watched drawings must be uint8 (P, 28, 28), got {self.images}")
        if len(self.images) != len(self.labels):
            raise ValueError("one label per watched drawing (NO_LABEL for none)")
        if len(self.images) > MAX_WATCHED:
            raise ValueError(f"at most {MAX_WATCHED} drawings can be watched while training")


def save_watched(watched: Watched, path: str | os.PathLike) -> None:
    """The drawings a run under way should read, for it to pick up (`load_watched`)."""
    state = {"images": watched.images.clone(), "labels": list(watched.labels)}
    write_atomically(path, lambda tmp: torch.save(state, tmp), overwrite=True)


def load_watched(path: str | os.PathLike) -> Watched:
    """What `save_watched` wrote (ValueError or OSError for anything else)."""
    try:
        state = torch.load(path, weights_only=True)
        return Watched(state["images"], tuple(int(label) for label in state["labels"]))
    except (KeyError, TypeError, RuntimeError) as err:
        raise ValueError(f"not a list of watched drawings: {err}") from err


def _empty_images() -> torch.Tensor:
    return torch.zeros(0, 28, 28, dtype=torch.uint8)


@dataclass
class Timeline:
    """A run's record of its learning. Evaluation k was at `eval_steps[k]`; watch point t
    at `watch_steps[t]` (the first, step 0, is the untrained model)."""

    eval_steps: list[int] = field(default_factory=list)
    eval_epochs: list[float] = field(default_factory=list)
    test_predictions: torch.Tensor = field(  # uint8 (E, 10000): the digit read at each
        default_factory=lambda: torch.zeros(0, 0, dtype=torch.uint8)
    )
    watch_images: torch.Tensor = field(default_factory=_empty_images)  # uint8 (P, 28, 28)
    watch_labels: list[int] = field(default_factory=list)
    watch_steps: list[int] = field(default_factory=list)
    # float32 (T, P, 10): the ten probabilities of each watched drawing at each point (NaN
    # at the points before a drawing picked during the run joined it)
    watch_probabilities: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 0, 10))

    @property
    def evaluations(self) -> int:
        return len(self.eval_steps)

    def mistakes_at(self, k: int, labels: torch.Tensor) -> int:
        """How many test images evaluation `k` read wrong."""
        return int((self.test_predictions[k].long() != labels).sum())

    def confusion_at(self, k: int, labels: torch.Tensor) -> torch.Tensor:
        """(10, 10) counts at evaluation `k`; rows are true digits, columns predicted."""
        flat = labels.long() * 10 + self.test_predictions[k].long()
        return torch.bincount(flat, minlength=100).reshape(10, 10)

    def learnt(self, before: int, after: int, labels: torch.Tensor) -> torch.Tensor:
        """Indices of the test images read wrong at evaluation `before`, right at `after`."""
        return (~self._right(before, labels) & self._right(after, labels)).nonzero().flatten()

    def forgotten(self, before: int, after: int, labels: torch.Tensor) -> torch.Tensor:
        """Indices of the test images read right at evaluation `before`, wrong at `after`."""
        return (self._right(before, labels) & ~self._right(after, labels)).nonzero().flatten()

    def _right(self, k: int, labels: torch.Tensor) -> torch.Tensor:
        return self.test_predictions[k].long() == labels

    def followed_digit(self, p: int) -> int:
        """The digit watched drawing `p`'s series follows: its own, or else the one the
        model reads at the last point."""
        label = self.watch_labels[p]
        if label != NO_LABEL or not self.watch_steps:
            return label
        return int(self.watch_probabilities[-1, p].argmax())

    def series(self, p: int) -> list[float]:
        """The probability of `followed_digit(p)` at each watch point (NaN before it was
        read: see `read_from`)."""
        digit = self.followed_digit(p)
        if digit == NO_LABEL:
            return []
        return self.watch_probabilities[:, p, digit].tolist()

    def read_from(self, p: int) -> int:
        """The first watch point at which drawing `p` was read (later than 0 for a drawing
        picked while the run trained)."""
        return next(t for t, value in enumerate(self.series(p)) if not math.isnan(value))
