"""Real pen-drawn digits (UCI pendigits, UNIPEN trajectories) replayed as canvas sketches.

Used by the drawn-accuracy benchmark and the tests to measure what MNIST test accuracy
does not: how well the app recognises digits that people actually draw.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]


@dataclass(frozen=True)
class PenDigit:
    label: int
    writer: int
    strokes: list[Stroke]  # tablet units, y pointing up

    def fit(self, canvas: int, size: float, center: tuple[float, float]) -> list[Stroke]:
        """Strokes in canvas pixels (y down): the digit's height (or width, whichever is
        larger) becomes `size` pixels, its bounding box centred at `center`."""
        points = np.concatenate([np.asarray(s, dtype=float) for s in self.strokes])
        lo, hi = points.min(axis=0), points.max(axis=0)
        scale = size / max(hi - lo)
        mid = (lo + hi) / 2
        fitted = []
        for stroke in self.strokes:
            p = (np.asarray(stroke, dtype=float) - mid) * scale
            p[:, 1] = -p[:, 1]  # tablet y points up, canvas y points down
            p += center
            fitted.append([(float(x), float(y)) for x, y in np.clip(p, 0, canvas - 1)])
        return fitted


def parse(path: str | os.PathLike) -> list[PenDigit]:
    """Read a UNIPEN pendigits file (`pendigits-orig.tra` or `.tes`)."""
    digits: list[PenDigit] = []
    label = writer = None
    strokes: list[Stroke] = []
    current: Stroke | None = None
    for line in Path(path).read_text().splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == ".SEGMENT":
            if label is not None:
                digits.append(PenDigit(label, writer, strokes))
            label, writer, strokes = int(words[-1].strip('"')), None, []
        elif words[0] == ".COMMENT" and label is not None:
            writer = int(words[2])
        elif words[0] == ".PEN_DOWN":
            current = []
        elif words[0] == ".PEN_UP":
            if current:
                strokes.append(current)
            current = None
        elif current is not None and len(words) == 2:
            current.append((float(words[0]), float(words[1])))
    if label is not None:
        digits.append(PenDigit(label, writer, strokes))
    return digits


def render(
    strokes: list[Stroke], canvas: int = 280, brush_radius: float = 8, dark: bool = False
) -> np.ndarray:
    """Draw strokes as the Sketchpad does: round, not anti-aliased, dark ink on white
    (or white on 0x333333 in the dark theme). Returns (canvas, canvas, 3) uint8 RGB."""
    background, ink = ((0x33, 0x33, 0x33), (255, 255, 255)) if dark else ((255,) * 3, (0,) * 3)
    image = Image.new("RGB", (canvas, canvas), background)
    draw = ImageDraw.Draw(image)
    r = brush_radius
    for stroke in strokes:
        # A round brush: a disc at every sample joined by lines as wide (PIL's own line
        # joints leave gaps at sharp turns when the line is thick).
        if len(stroke) > 1:
            draw.line(stroke, fill=ink, width=round(2 * r))
        for x, y in stroke:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return np.asarray(image)


def random_sketches(
    digits: list[PenDigit],
    brush_radius: float,
    seed: int = 0,
    canvas: int = 280,
    size_range: tuple[float, float] = (0.35, 0.75),
) -> Iterator[tuple[np.ndarray, int]]:
    """Each digit rendered at a random size (fraction of the canvas) and position."""
    rng = np.random.default_rng(seed)
    for digit in digits:
        size = rng.uniform(*size_range) * canvas
        margin = size / 2 + brush_radius
        center = rng.uniform(margin, canvas - margin, size=2)
        yield render(digit.fit(canvas, size, tuple(center)), canvas, brush_radius), digit.label


def jittered(digit: PenDigit, rng: np.random.Generator, amount: float) -> PenDigit:
    """The digit as its writer might write it another time: each stroke moved by up to
    `amount` of the digit's size, and the whole bent by a smooth random warp (two waves a
    digit long per axis) of up to the same size."""
    points = np.concatenate([np.asarray(s, dtype=float) for s in digit.strokes])
    lo = points.min(axis=0)
    size = max(float(max(points.max(axis=0) - lo)), 1e-6)
    frequencies = rng.uniform(0.5, 1.5, size=(2, 2, 2))  # wave, displaced axis, input axis
    phases = rng.uniform(0, 2 * np.pi, size=(2, 2))
    amplitudes = rng.uniform(-0.5, 0.5, size=(2, 2)) * amount * size
    strokes = []
    for stroke in digit.strokes:
        p = np.asarray(stroke, dtype=float)
        u = (p - lo) / size
        warp = (
            amplitudes * np.sin(2 * np.pi * np.einsum("wan,pn->pwa", frequencies, u) + phases)
        ).sum(1)
        moved = p + warp + rng.uniform(-1, 1, size=2) * amount * size
        strokes.append([(float(x), float(y)) for x, y in moved])
    return PenDigit(digit.label, digit.writer, strokes)


def render_training_images(
    digits: list[PenDigit], copies: int = 3, seed: int = 0, jitter: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pen-drawn digits as extra training images: each digit rendered `copies` times at a
    random brush radius (4-28 px), size and position (and `jitter`ed: see `jittered`), then
    put through the app's own preprocessing, exactly as a drawing on the canvas would be.
    uint8 (N, 28, 28), labels."""
    from ..preprocess.mnist_style import (
        to_mnist,  # mnist_style imports nothing from here; keep it lazy
    )

    rng = np.random.default_rng(seed)
    # Its own generator: without jitter, the renderings are those of before it existed.
    jitter_rng = np.random.default_rng([seed, 1])
    images, labels = [], []
    for _ in range(copies):
        for digit in digits:
            radius = float(rng.uniform(4, 28))
            if jitter:
                digit = jittered(digit, jitter_rng, jitter)
            ((sketch, label),) = random_sketches([digit], radius, seed=int(rng.integers(1 << 31)))
            image = to_mnist(sketch)
            if image is not None:
                images.append(np.round(image * 255).astype(np.uint8))
                labels.append(label)
    return torch.from_numpy(np.stack(images)), torch.tensor(labels, dtype=torch.long)
