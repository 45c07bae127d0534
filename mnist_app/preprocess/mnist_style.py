"""The MNIST recipe: an ink map becomes the 28x28 image an MNIST model expects.

One function, ``preprocess`` (``to_mnist`` for just the result), serves the web app, the
API, the benchmarks and the tests, so that every face of the project sees a drawing the
same way. It follows MNIST's own recipe: take the ink, crop it to its bounding box, fit it
into 20x20 keeping the aspect ratio (anti-aliased), then place it in 28x28 with its centre
of mass at the centre. One step is added: the strokes are eroded or dilated to MNIST's
typical width, because a canvas brush can be far thinner or thicker than MNIST's pens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from .ink import ink_map
from .scale import fit_within
from .strokes import dilate

# Checkpoints record this (checkpoint.Checkpoint.preprocessing): change it with any change
# to what `preprocess` outputs, so that models trained on the old outputs say so.
PREPROCESSING = "mnist_style/1"

_BOX, _SIZE = 20, 28
# MNIST's median stroke width in 28x28 pixels (ink above half intensity, measured on the
# training set as ink area over skeleton length).
MNIST_STROKE_WIDTH = 2.55
# Stroke width is changed on a grid whose longer side is this many pixels (4x the 20 px box).
_WORK = 80
# Ink over this fraction of the canvas is a fill, not a digit: the fattest pen-drawn digits
# (20-28 px brush, 75% of a 280 px canvas) cover under 60%, MNIST digits under 40%.
_MAX_COVERAGE = 0.8
# A dot: ink whose extent is under this many pen widths (a round dab measures 1.8-2.5; the
# thickest pen-drawn digits 2.0 and up, so a dot must also be small on the canvas) ...
_DOT_SHAPE = 2.6
# ... and under this fraction of the canvas's shorter side (digits are drawn larger).
_DOT_EXTENT = 0.25


class NotADigit(ValueError):
    """Ink that cannot be a digit; `reason` says which kind ("dot" or "filled")."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Preprocessed:
    """Every stage, so a user can see what the model sees: all float32 in [0, 1]."""

    ink: np.ndarray  # ink strength on the original canvas
    crop: np.ndarray  # cropped to the ink's bounding box
    restroked: np.ndarray  # strokes brought to MNIST's width (working resolution)
    box: np.ndarray  # fitted into 20x20, aspect ratio kept
    image: np.ndarray  # 28x28, centre of mass at the centre: the model's input
    origin: tuple[int, int] = (0, 0)  # the crop's top-left corner in `ink`
    offset: tuple[int, int] = (0, 0)  # the box's top-left corner in `image`

    def to_canvas(self, values: np.ndarray) -> np.ndarray:
        """A 28x28 map (one value per input pixel) laid back over the original canvas,
        the box's pixels stretched over the crop they came from (ink.shape, float32)."""
        top, left = self.offset
        height, width = self.box.shape
        patch = np.asarray(values, np.float32)[top : top + height, left : left + width]
        crop_h, crop_w = self.crop.shape
        stretched = Image.fromarray(patch).resize((crop_w, crop_h), Image.Resampling.BILINEAR)
        canvas = np.zeros(self.ink.shape, np.float32)
        row, col = self.origin
        canvas[row : row + crop_h, col : col + crop_w] = np.asarray(stretched)
        return canvas


def preprocess(source: Any) -> Preprocessed | None:
    """All stages from a drawing to the model's input, or None when there is no ink.

    `source` may be a PIL image, a numpy array (HxW, HxWx1-4; uint8, or any real dtype and
    range) or an image file path: see `ink.ink_map`. Raises NotADigit for a dot or a
    filled canvas, UnreadableImage for a file that is not an image, ValueError for an
    array that is not one.
    """
    return preprocess_ink(ink_map(source))


def preprocess_ink(ink: np.ndarray | None) -> Preprocessed | None:
    """`preprocess` for an ink map already made (`ink.ink_map`, `ink.ink_from_alpha`)."""
    if ink is None:
        return None
    crop, origin = _crop(ink), _origin(ink)
    mask = _working_mask(crop)
    _check_looks_like_writing(ink, crop, mask)
    restroked = _restroke(crop, mask)
    box = _fit_box(restroked)
    image, offset = _center(box)
    return Preprocessed(ink, crop, restroked, box, image, origin, offset)


def to_mnist(source: Any) -> np.ndarray | None:
    """The 28x28 float32 model input (light ink on dark), or None when there is no ink."""
    result = preprocess(source)
    return None if result is None else result.image


def _crop(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _origin(ink: np.ndarray) -> tuple[int, int]:
    return int(np.argmax(ink.any(axis=1))), int(np.argmax(ink.any(axis=0)))


def _working_mask(crop: np.ndarray) -> np.ndarray:
    """The ink as a boolean mask whose longer side is _WORK pixels."""
    # Area-average then threshold at half: holes in thick strokes stay open.
    mask = Image.fromarray(((crop > 0.5) * 255).astype(np.uint8))
    return np.asarray(fit_within(mask, _WORK, Image.Resampling.BOX)) >= 128


def _check_looks_like_writing(ink: np.ndarray, crop: np.ndarray, mask: np.ndarray) -> None:
    """NotADigit for ink no model should be asked about: it would still name a digit."""
    if (ink > 0.5).mean() > _MAX_COVERAGE:
        raise NotADigit("filled", "the ink fills the canvas")
    small = max(crop.shape) < _DOT_EXTENT * min(ink.shape)
    if small and mask.any() and max(mask.shape) < _DOT_SHAPE * _stroke_width_estimate(mask):
        raise NotADigit("dot", "the ink is a dot, not a digit")


def _restroke(crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The ink with its strokes eroded or dilated to the width that, once fitted into
    20x20, matches MNIST_STROKE_WIDTH: thin and thick brushes then look alike to the model.
    (Erosion, not skeleton-and-redraw: a fat brush fills a digit's corners, and a skeleton
    of that blob loses the shape that the eroded outline keeps.)"""
    if not mask.any():
        return crop
    pen = _stroke_width_estimate(mask)
    target = MNIST_STROKE_WIDTH / _BOX * max(mask.shape)
    mask = np.pad(mask, int(abs(pen - target)) + 2)  # room to grow; no edge effects
    if pen > target:
        mask = ~dilate(~mask, radius=(pen - target) / 2)
    elif pen < target:
        mask = dilate(mask, radius=(target - pen) / 2)
    return _crop(mask.astype(np.float32)) if mask.any() else crop


def _stroke_width_estimate(mask: np.ndarray) -> float:
    """Twice the ink area over its boundary length: a pen's width. Unlike area over
    skeleton length, it does not overrate a fat brush's blobs (and so over-erode them)."""
    inner = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    boundary = mask.sum() - inner.sum()
    return 2 * mask.sum() / boundary if boundary else 1.0


def _fit_box(ink: np.ndarray) -> np.ndarray:
    """Scale so the longer side is 20 pixels; Lanczos averages away the aliasing."""
    resized = fit_within(Image.fromarray(ink.astype(np.float32)), _BOX, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized), 0, 1)


def _center(patch: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Paste into 28x28 so that the centre of mass lands on the centre pixel; also where."""
    height, width = patch.shape
    total = patch.sum()
    rows, cols = np.arange(height), np.arange(width)
    com_y = (patch.sum(axis=1) @ rows) / total if total else (height - 1) / 2
    com_x = (patch.sum(axis=0) @ cols) / total if total else (width - 1) / 2
    top = int(np.clip(round((_SIZE - 1) / 2 - com_y), 0, _SIZE - height))
    left = int(np.clip(round((_SIZE - 1) / 2 - com_x), 0, _SIZE - width))
    image = np.zeros((_SIZE, _SIZE), np.float32)
    image[top : top + height, left : left + width] = patch
    return image, (top, left)
