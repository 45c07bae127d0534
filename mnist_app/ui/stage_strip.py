"""Every preprocessing stage side by side, one picture of what the model sees (no Gradio)."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..preprocess.mnist_style import Preprocessed
from ..preprocess.scale import fit_within

CAPTIONS = ("your ink", "cropped", "MNIST pen width", "fitted in 20x20", "28x28: model input")
# Each stage is scaled to fit a CELL x CELL square: whole pixels for 20x20 (7x) and 28x28 (5x).
CELL = 140
GAP = 28  # room for an arrow between stages
MARGIN = 10
CAPTION_HEIGHT = 26
# Grey, not colour: every pen-up sends the strip, and a grey PNG takes a third of the
# time to make and encode (1.3 ms instead of 4.3; bench/classroom.py).
BACKGROUND = 57  # lighter than the stages' black, so each stage's extent shows
TEXT = 231
WIDTH = 2 * MARGIN + len(CAPTIONS) * CELL + (len(CAPTIONS) - 1) * GAP
HEIGHT = 2 * MARGIN + CELL + CAPTION_HEIGHT


def stage_strip(stages: Preprocessed) -> np.ndarray:
    """A grey uint8 strip: ink, crop, MNIST pen width, 20x20 and 28x28, light ink on black, each
    scaled to the same height (nearest neighbour, so the model's pixels stay visible)."""
    strip = _captioned_background().copy()
    pictures = (stages.ink, stages.crop, stages.restroked, stages.box, stages.image)
    for index, picture in enumerate(pictures):
        cell = _fit_cell(picture)
        height, width = cell.shape
        top = MARGIN + (CELL - height) // 2
        left = MARGIN + index * (CELL + GAP) + (CELL - width) // 2
        strip[top : top + height, left : left + width] = cell
    return strip


def _fit_cell(picture: np.ndarray) -> np.ndarray:
    # Averaging when shrinking keeps thin strokes of a big canvas from vanishing.
    enlarging = max(picture.shape) <= CELL
    resample = Image.Resampling.NEAREST if enlarging else Image.Resampling.BOX
    pixels = (np.clip(picture, 0, 1) * 255).astype(np.uint8)
    return np.asarray(fit_within(Image.fromarray(pixels), CELL, resample))


@functools.cache
def _captioned_background() -> np.ndarray:
    """Captions and arrows never change: drawn once, copied per prediction."""
    image = Image.new("L", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    middle = MARGIN + CELL // 2
    for index, caption in enumerate(CAPTIONS):
        left = MARGIN + index * (CELL + GAP)
        draw.text(
            (left + CELL / 2, MARGIN + CELL + CAPTION_HEIGHT / 2),
            caption,
            fill=TEXT,
            font=font,
            anchor="mm",
        )
        if index:
            tip = left - GAP // 4
            draw.polygon([(tip - 10, middle - 7), (tip, middle), (tip - 10, middle + 7)], TEXT)
    pixels = np.asarray(image)
    pixels.setflags(write=False)
    return pixels
