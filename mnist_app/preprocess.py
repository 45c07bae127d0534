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
FILLED = "the ink fills the canvas: clear it and draw one digit"
DOT = "that is a dot, not a digit: draw the whole digit"

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
# Ink over this fraction of the canvas is a fill, not a digit: the fattest pen-drawn digits
# (20-28 px brush, 75% of a 280 px canvas) cover under 60%, MNIST digits under 40%.
_MAX_COVERAGE = 0.8
# A dot: ink whose extent is under this many pen widths (a round dab measures 1.8-2.5; the
# thickest pen-drawn digits 2.0 and up, so a dot must also be small on the canvas) ...
_DOT_SHAPE = 2.6
# ... and under this fraction of the canvas's shorter side (digits are drawn larger).
_DOT_EXTENT = 0.25
# Larger images are shrunk to this many pixels on the longer side before anything else:
# an 8000x8000 upload would otherwise cost gigabytes of float arrays for no better result.
MAX_SIDE = 2048


class NotADigit(ValueError):
    """Ink that cannot be a digit (a dot, a filled canvas); the message says what to do."""


class UnreadableImage(ValueError):
    """A file that is not an image, or a damaged one; the message says which."""


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
    a numpy array (HxW, HxWx1-4; uint8, or any real dtype and range, see `ink_map`) or an
    image file path. Dark ink on a light background and light ink on a dark one are both
    recognised. Raises NotADigit for a dot or a filled canvas, UnreadableImage for a file
    that is not an image, ValueError for an array that is not one.
    """
    ink = ink_map(source)
    if ink is None:
        return None
    crop = _crop(ink)
    mask = _working_mask(crop)
    _check_looks_like_writing(ink, crop, mask)
    restroked = _restroke(crop, mask)
    box = _fit_box(restroked)
    return Preprocessed(ink=ink, crop=crop, restroked=restroked, box=box, image=_center(box))


def to_mnist(source: Any) -> np.ndarray | None:
    """The 28x28 float32 model input (light ink on dark), or None when there is no ink."""
    result = preprocess(source)
    return None if result is None else result.image


def ink_map(source: Any) -> np.ndarray | None:
    """Ink strength per pixel (float32, 0 = background, 1 = strongest ink), or None.

    Arrays: uint8 is 0-255; other real dtypes are read as 0-1 when they fit, else as 0-255
    when they fit, else (16-bit scans, signed data) their own min-max range is stretched.
    """
    if isinstance(source, Mapping):
        return _sketch_ink(source)
    if isinstance(source, str | os.PathLike):
        source = read_image(source)
    if isinstance(source, Image.Image):
        source = _pil_pixels(source)
    if source is None:
        return None
    return _image_ink(np.asarray(source))


def read_image(path: str | os.PathLike) -> Image.Image:
    """An image file, fully decoded (and shrunk when huge), or UnreadableImage saying why."""
    try:
        with Image.open(Path(path)) as image:
            image.draft(image.mode, (MAX_SIDE, MAX_SIDE))  # JPEG: decode at reduced size
            image.load()
            shrunk = _shrink(image)
            return image.copy() if shrunk is image else shrunk  # outlive the closed file
    except Exception as err:
        raise UnreadableImage(unreadable_message(err)) from None


def unreadable_message(err: Exception) -> str:
    """What went wrong opening an image file, in a user's words (Pillow's are terse)."""
    if isinstance(err, Image.DecompressionBombError):
        return f"the image has too many pixels to open safely ({err})"
    if isinstance(err, Image.UnidentifiedImageError):
        return "the file is not an image (PNG, JPEG, WebP, GIF, BMP or TIFF)"
    if isinstance(err, FileNotFoundError):
        return f"no such file: {err.filename}"
    return f"the image file is damaged or truncated ({err})"


def _shrink(image: Image.Image) -> Image.Image:
    """The image itself when it fits MAX_SIDE, else a shrunk copy."""
    if max(image.size) <= MAX_SIDE:
        return image
    image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
    return image


def _has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def _pil_pixels(image: Image.Image) -> np.ndarray:
    """Any Pillow mode as an array `_image_ink` reads: 16- and 32-bit grey stay numeric
    (converting them to "L" would clip at 255), palettes and CMYK become RGB(A)."""
    image = _shrink(image)
    if image.mode in ("L", "RGB", "RGBA") or image.mode.startswith(("I", "F")):
        return np.asarray(image)
    return np.asarray(image.convert("RGBA" if _has_alpha(image) else "RGB"))


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
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(
            "expected an image: HxW, or HxWxC with 1 (grey), 2 (grey + alpha), 3 (RGB) "
            f"or 4 (RGBA) channels; got shape {array.shape}"
        )
    if array.size == 0:
        return None
    array = _to_0_255(array)
    if max(array.shape[:2]) > MAX_SIDE:
        array = _block_mean(array, -(-max(array.shape[:2]) // MAX_SIDE))
    if array.ndim == 3 and array.shape[2] in (1, 2):  # grey, or grey + alpha as RGBA
        grey = array[..., :1].repeat(3, axis=2)
        array = np.concatenate([grey, array[..., 1:]], axis=2) if array.shape[2] == 2 else grey
    if array.ndim == 3 and array.shape[2] == 4:
        alpha = array[..., 3].astype(np.float32)
        if alpha.min() < 255:  # transparent background: the alpha channel is the ink
            return _normalise(alpha)
        array = array[..., :3]
    if array.ndim == 3:
        array = array.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    gray = array.astype(np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    darker, lighter = (background - gray).clip(0), (gray - background).clip(0)
    # The ink is whichever side of the background goes further: dark pen on paper, or
    # chalk-like light strokes on a dark canvas.
    return _normalise(darker if darker.max() >= lighter.max() else lighter)


def _block_mean(array: np.ndarray, factor: int) -> np.ndarray:
    """Shrink by `factor` averaging each factor x factor block (thin strokes survive)."""
    height, width = (array.shape[0] // factor) * factor, (array.shape[1] // factor) * factor
    if not (height and width):  # a sliver thinner than one block: nothing to average
        return array[::factor, ::factor]
    blocks = array[:height, :width].reshape(
        height // factor, factor, width // factor, factor, *array.shape[2:]
    )
    return blocks.mean(axis=(1, 3))


def _to_0_255(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"expected real-valued pixels; got dtype {array.dtype}")
    array = np.asarray(array, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError("image contains NaN or infinite values")
    low, high = float(array.min()), float(array.max())
    if low >= 0 and high <= 1:
        return (array * 255).astype(np.float32)
    if low >= 0 and high <= 255:
        return array.astype(np.float32)
    if high == low:  # one value everywhere: blank whatever it is
        return np.zeros(array.shape, np.float32)
    return ((array - low) * (255 / (high - low))).astype(np.float32)


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


def _working_mask(crop: np.ndarray) -> np.ndarray:
    """The ink as a boolean mask whose longer side is _WORK pixels."""
    height, width = crop.shape
    scale = _WORK / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Area-average then threshold at half: holes in thick strokes stay open.
    mask = Image.fromarray(((crop > 0.5) * 255).astype(np.uint8))
    return np.asarray(mask.resize(size, Image.Resampling.BOX)) >= 128


def _check_looks_like_writing(ink: np.ndarray, crop: np.ndarray, mask: np.ndarray) -> None:
    """NotADigit for ink no model should be asked about: it would still name a digit."""
    if (ink > 0.5).mean() > _MAX_COVERAGE:
        raise NotADigit(FILLED)
    small = max(crop.shape) < _DOT_EXTENT * min(ink.shape)
    if small and mask.any() and max(mask.shape) < _DOT_SHAPE * _stroke_width_estimate(mask):
        raise NotADigit(DOT)


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
