"""Any drawing or image as an ink map: how strongly each pixel is ink, 0 to 1.

Files, Pillow images of every mode and arrays of any real dtype and range are read here;
dark ink on a light background and light ink on a dark one are both recognised.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageFilter

from .scale import fit_within

# Ink weaker than this fraction of the strongest ink is paper texture or JPEG noise.
_NOISE = 0.2
# An image whose strongest ink differs from the background by less than this (on 0-255)
# is blank: a photo of an empty page, a uniformly coloured canvas.
_MIN_CONTRAST = 32
# A border whose brightness spreads more than this (10th to 90th percentile, 0-255) is an
# unevenly lit page: a shadow, a gradient, a vignette.
_UNEVEN = 24
# The uneven page is estimated on a grid this many pixels long, with rank filters this
# wide: wider than a thick pen stroke (about an eighth of a digit), narrower than a shadow.
_PAPER_GRID, _PAPER_FILTER = 64, 15
# More pixels than this are refused before decoding: a small PNG can unpack to gigabytes.
# (A 6000x6000 photo, 36 million, is still read; Pillow itself only stops at 179 million.)
MAX_PIXELS = 40_000_000
# Larger images are shrunk to this many pixels on the longer side before anything else:
# an 8000x8000 upload would otherwise cost gigabytes of float arrays for no better result.
MAX_SIDE = 2048


class UnreadableImage(ValueError):
    """A file that is not an image, or a damaged one; the message says which."""


def ink_map(source: Any) -> np.ndarray | None:
    """Ink strength per pixel (float32, 0 = background, 1 = strongest ink), or None.

    `source`: an image file path, a PIL image or a numpy array (HxW, HxWx1-4). Arrays:
    uint8 is 0-255; other real dtypes are read as 0-1 when they fit, else as 0-255 when
    they fit, else (16-bit scans, signed data) their own min-max range is stretched. A
    transparent background makes the alpha channel the ink. Raises UnreadableImage for a
    file that is not an image, ValueError for an array that is not one.
    """
    if isinstance(source, str | os.PathLike):
        source = read_image(source)
    if isinstance(source, Image.Image):
        source = _pil_pixels(source)
    if source is None:
        return None
    return _image_ink(np.asarray(source))


def ink_from_alpha(alpha: np.ndarray) -> np.ndarray | None:
    """The ink map of a stroke layer's alpha channel (0-255), or None when it is empty."""
    return _normalise(np.asarray(alpha, dtype=np.float32))


def read_image(source: str | os.PathLike | BinaryIO, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """An image file (a path or an open binary file), fully decoded (and shrunk when huge),
    or UnreadableImage saying why (also for more than `max_pixels`)."""
    try:
        with Image.open(source if hasattr(source, "read") else Path(source)) as image:
            image.draft(image.mode, (MAX_SIDE, MAX_SIDE))  # JPEG: decode at reduced size
            if image.width * image.height > max_pixels:  # judged before a byte is decoded
                raise Image.DecompressionBombError(
                    f"{image.width}x{image.height} pixels, more than {max_pixels:,}"
                )
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
        opaque = array[..., :3][alpha == 255].astype(np.float32)
        drawn_on_opaque = opaque.size and np.ptp(opaque) >= _MIN_CONTRAST
        if alpha.min() < 255 and not drawn_on_opaque:
            return _normalise(alpha)  # ink on a transparent background: the alpha is the ink
        # A picture with some transparency (a card with rounded corners): the transparent
        # part becomes paper, of the opaque part's brightest colour.
        paper = opaque.max(axis=0) if opaque.size else np.full(3, 255, np.float32)
        weight = (alpha / 255)[..., None]
        array = array[..., :3].astype(np.float32) * weight + paper * (1 - weight)
    if array.ndim == 3:
        array = array.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    gray = array.astype(np.float32)
    paper_under_dark_ink, paper_under_light_ink = _paper(gray)
    darker = (paper_under_dark_ink - gray).clip(0)
    lighter = (gray - paper_under_light_ink).clip(0)
    # The ink is whichever side of the background goes further: dark pen on paper, or
    # chalk-like light strokes on a dark canvas.
    return _normalise(darker if darker.max() >= lighter.max() else lighter)


def _paper(gray: np.ndarray) -> tuple[np.ndarray | float, np.ndarray | float]:
    """The background's brightness under each pixel, for dark ink and for light ink.

    An evenly lit page (every canvas, most scans) is one value, the border's median. A
    photo with a shadow, a gradient or a vignette is not: there the page is the picture
    with the ink closed over (dark ink) or opened away (light ink) by a rank filter wider
    than any pen stroke, computed small and scaled back up smoothly.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    low, middle, high = np.percentile(border, [10, 50, 90])
    if high - low < _UNEVEN:
        return float(middle), float(middle)
    small = Image.fromarray(gray.astype(np.float32))
    small = fit_within(small, _PAPER_GRID, Image.Resampling.BOX)
    wide = _PAPER_FILTER
    closed = small.filter(ImageFilter.MaxFilter(wide)).filter(ImageFilter.MinFilter(wide))
    opened = small.filter(ImageFilter.MinFilter(wide)).filter(ImageFilter.MaxFilter(wide))
    full = gray.shape[::-1]
    return tuple(np.asarray(p.resize(full, Image.Resampling.BICUBIC)) for p in (closed, opened))


def _block_mean(array: np.ndarray, factor: int) -> np.ndarray:
    """Shrink by `factor` averaging each factor x factor block (thin strokes survive).
    (Pillow's reduce() does this for 8-bit images only; these are float, up to 4 channels.)"""
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
    # Halved first: the range of values near float64's limits would overflow to inf.
    half_range = high / 2 - low / 2
    if half_range == 0:  # one value everywhere (or denormals apart): blank whatever it is
        return np.zeros(array.shape, np.float32)
    return ((array / 2 - low / 2) * (255 / half_range)).astype(np.float32)


def _normalise(ink: np.ndarray) -> np.ndarray | None:
    peak = float(ink.max())
    if peak < _MIN_CONTRAST:
        return None
    ink = ink / peak
    ink[ink < _NOISE] = 0
    return ink
