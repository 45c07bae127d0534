"""Drawn-digit accuracy: real pen-drawn digits (pendigits) replayed as 280x280 canvas
sketches at several brush radii, then read through the app's own preprocessing, as a
drawing on the Draw tab is. The figure the Models tab and `bench/drawn_accuracy.py` show."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..core.predict import Predictor
from ..preprocess import NotADigit, to_mnist
from .replay import parse, random_sketches
from .sources import pendigits_path

BRUSHES = (6.0, 12.0, 20.0)  # fine pen, the canvas's default, a thick marker


@dataclass(frozen=True)
class DrawnSet:
    """Model inputs (N, 28, 28) float 0-1 per brush radius, and their labels."""

    inputs: dict[float, np.ndarray]
    labels: np.ndarray
    source: str


def model_input(sketch: np.ndarray) -> np.ndarray:
    """The app's input for a sketch; a blank for one it refuses (no ink, a dot), which
    then counts as a mistake."""
    try:
        image = to_mnist(sketch)
    except NotADigit:
        image = None
    return np.zeros((28, 28), np.float32) if image is None else image


def drawn_set(
    split: str = "test",
    brushes: tuple[float, ...] = BRUSHES,
    seed: int = 0,
    limit: int = 0,
    source: str | os.PathLike | None = None,
) -> DrawnSet:
    """The pendigits `split` writers' digits (or a UNIPEN file `source`), each rendered at
    every brush radius with a random size (35-75% of the canvas) and position. About 2.5 ms
    a digit and brush (the pendigits files are downloaded if need be; FileNotFoundError
    where they cannot be had)."""
    path = source or pendigits_path(split)
    digits = parse(path)[: limit or None]
    inputs = {
        float(brush): np.stack(
            [model_input(sketch) for sketch, _ in random_sketches(digits, brush, seed=seed)]
        )
        for brush in brushes
    }
    labels = np.array([d.label for d in digits])
    return DrawnSet(inputs=inputs, labels=labels, source=os.path.basename(path))


def share_read(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> float:
    """The share of `images` read as their digit; a refusal ("not a digit") is wrong."""
    probabilities, answered = predictor.answer(images)
    return float(((probabilities.argmax(axis=1) == labels) & answered).mean())


def drawn_accuracy(predictor: Predictor, drawn: DrawnSet) -> dict[float, float]:
    """The share of the drawn digits read right (not refused), per brush radius."""
    return {
        brush: share_read(predictor, images, drawn.labels) for brush, images in drawn.inputs.items()
    }
