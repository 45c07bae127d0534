"""Turn what a person drew or uploaded into the 28x28 image an MNIST model expects.

One function, ``preprocess`` (``to_mnist`` for just the result), serves the web app, the
API, the benchmarks and the tests, so that every face of the project sees a drawing the
same way. It follows MNIST's own recipe: take the ink, crop it to its bounding box, fit it
into 20x20 keeping the aspect ratio (anti-aliased), then place it in 28x28 with its centre
of mass at the centre. One step is added: the strokes are eroded or dilated to MNIST's
typical width, because a canvas brush can be far thinner or thicker than MNIST's pens.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .strokes import dilate

DRAW_A_DIGIT = "draw a digit"

# Ink weaker than this fraction of the strongest ink is paper texture or JPEG noise.
_NOISE = 0.2
# An image whose strongest ink differs from the background by less than this (on 0-255)
# is blank: a photo of an empty page, a uniformly coloured canvas.
_MIN_CONTRAST = 32
_BOX, _SIZE = 20, 28
# MNIST's median stroke width in 28x28 pixels (ink above half intensity, measured on the
# training set as ink area over skeleton length).
MNIST_STROKE_WIDTH = 2.55
# Stroke width is changed on a grid whose longer side is this many pixels (4x the 20 px box).
_WORK = 80


@dataclass(frozen=True)
class Preprocessed:
    """Every stage, so a user can see what the model sees: all float32 in [0, 1]."""

    ink: np.ndarray  # ink strength on the original canvas
    crop: np.ndarray  # cropped to the ink's bounding box
    restroked: np.ndarray  # strokes brought to MNIST's width (working resolution)
    box: np.ndarray  # fitted into 20x20, aspect ratio kept
    image: np.ndarray  # 28x28, centre of mass at the centre: the model's input


def preprocess(source: Any) -> Preprocessed | None:
    """All stages from a drawing to the model's input, or None when there is no ink.

    `source` may be a Sketchpad value (dict with ``layers`` and ``composite``), a PIL image,
    a numpy array (HxW, HxWx3 or HxWx4; uint8 or float in [0, 1]) or an image file path.
    Dark ink on a light background and light ink on a dark one are both recognised.
    """
    ink = ink_map(source)
    if ink is None:
        return None
    crop = _crop(ink)
    restroked = _restroke(crop)
    box = _fit_box(restroked)
    return Preprocessed(ink=ink, crop=crop, restroked=restroked, box=box, image=_center(box))


def to_mnist(source: Any) -> np.ndarray | None:
    """The 28x28 float32 model input (light ink on dark), or None when there is no ink."""
    result = preprocess(source)
    return None if result is None else result.image


def ink_map(source: Any) -> np.ndarray | None:
    """Ink strength per pixel (float32, 0 = background, 1 = strongest ink), or None."""
    if isinstance(source, Mapping):
        return _sketch_ink(source)
    if isinstance(source, str | os.PathLike):
        with Image.open(Path(source)) as image:
            source = image.copy()
    if isinstance(source, Image.Image):
        source = np.asarray(source.convert("RGBA") if "A" in source.getbands() else source)
    if source is None:
        return None
    return _image_ink(np.asarray(source))


def _sketch_ink(value: Mapping) -> np.ndarray | None:
    """The strokes' alpha is the exact ink mask whatever the canvas colour (the dark theme
    paints the background 0x333333); the composite serves when there are no strokes, as
    for an image sent through the API or uploaded as the background."""
    for layer in value.get("layers") or []:
        array = np.asarray(layer)
        if array.ndim == 3 and array.shape[2] == 4 and array[..., 3].any():
            alphas = [np.asarray(x)[..., 3] for x in value["layers"] if np.ndim(x) == 3]
            return _normalise(np.max(alphas, axis=0).astype(np.float32))
    composite = value.get("composite")
    return None if composite is None else ink_map(composite)


def _image_ink(array: np.ndarray) -> np.ndarray | None:
    if array.size == 0:
        return None
    if array.dtype != np.uint8:
        array = np.asarray(array, dtype=np.float32)
        if not np.isfinite(array).all():
            raise ValueError("image contains NaN or infinite values")
        array = np.clip(array * 255 if array.max() <= 1 else array, 0, 255)
    if array.ndim == 3 and array.shape[2] == 4:
        alpha = array[..., 3].astype(np.float32)
        if alpha.min() < 255:  # transparent background: the alpha channel is the ink
            return _normalise(alpha)
        array = array[..., :3]
    if array.ndim == 3:
        array = array.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if array.ndim != 2:
        raise ValueError(f"expected a grayscale, RGB or RGBA image; got shape {array.shape}")
    gray = array.astype(np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    darker, lighter = (background - gray).clip(0), (gray - background).clip(0)
    # The ink is whichever side of the background goes further: dark pen on paper, or
    # chalk-like light strokes on a dark canvas.
    return _normalise(darker if darker.max() >= lighter.max() else lighter)


def _normalise(ink: np.ndarray) -> np.ndarray | None:
    peak = float(ink.max())
    if peak < _MIN_CONTRAST:
        return None
    ink = ink / peak
    ink[ink < _NOISE] = 0
    return ink


def _crop(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _restroke(crop: np.ndarray) -> np.ndarray:
    """The ink with its strokes eroded or dilated to the width that, once fitted into
    20x20, matches MNIST_STROKE_WIDTH: thin and thick brushes then look alike to the model.
    (Erosion, not skeleton-and-redraw: a fat brush fills a digit's corners, and a skeleton
    of that blob loses the shape that the eroded outline keeps.)"""
    mask = crop > 0.5
    height, width = crop.shape
    scale = _WORK / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Area-average then threshold at half: holes in thick strokes stay open.
    shrunk = Image.fromarray((mask * 255).astype(np.uint8)).resize(size, Image.Resampling.BOX)
    mask = np.asarray(shrunk) >= 128
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
    height, width = ink.shape
    scale = _BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized), 0, 1)


def _center(patch: np.ndarray) -> np.ndarray:
    """Paste into 28x28 so that the centre of mass lands on the centre pixel."""
    height, width = patch.shape
    total = patch.sum()
    rows, cols = np.arange(height), np.arange(width)
    com_y = (patch.sum(axis=1) @ rows) / total if total else (height - 1) / 2
    com_x = (patch.sum(axis=0) @ cols) / total if total else (width - 1) / 2
    top = int(np.clip(round((_SIZE - 1) / 2 - com_y), 0, _SIZE - height))
    left = int(np.clip(round((_SIZE - 1) / 2 - com_x), 0, _SIZE - width))
    image = np.zeros((_SIZE, _SIZE), np.float32)
    image[top : top + height, left : left + width] = patch
    return image
