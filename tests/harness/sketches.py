"""Drawings as the app receives them: Sketchpad values, and real pen-drawn digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from mnist_app.core.paths import pendigits_file
from mnist_app.pen.replay import parse, render


def sketchpad_value(alpha: np.ndarray, background=(255, 255, 255)) -> dict:
    """What a handler gets from the Sketchpad: a transparent stroke layer (its alpha is
    `alpha`, 0-255) and the composite, black ink over `background`, both RGBA."""
    height, width = alpha.shape
    layer = np.zeros((height, width, 4), np.uint8)
    layer[..., 3] = alpha
    composite = np.empty((height, width, 4), np.uint8)
    composite[..., :3] = background
    composite[..., 3] = 255
    composite[alpha > 0, :3] = 0
    return {"background": None, "layers": [layer], "composite": composite}


def sent_as_files(value: dict, folder: Path) -> dict:
    """A Sketchpad value for gradio_client: every image saved as a PNG and sent as a file."""
    from gradio_client import handle_file

    folder.mkdir(parents=True, exist_ok=True)

    def send(array: np.ndarray, stem: str) -> dict:
        path = folder / f"{stem}.png"
        Image.fromarray(array).save(path)
        return handle_file(str(path))

    layers = [send(layer, f"layer{i}") for i, layer in enumerate(value["layers"])]
    return {"background": None, "layers": layers, "composite": send(value["composite"], "all")}


def composite_value(path: str | Path) -> dict:
    """An image file sent to /predict as the Sketchpad's composite (a bare handle_file
    arrives as an empty canvas)."""
    from gradio_client import handle_file

    return {"background": None, "layers": [], "composite": handle_file(str(path))}


def pen_drawing(index: int, path: Path, brush_radius: float = 9) -> tuple[Path, int]:
    """The `index`-th digit of the pendigits test writers (unseen by any tuning), drawn on a
    280x280 canvas and saved as a PNG at `path`; returns the path and the true digit."""
    digit = parse(pendigits_file("test"))[index]
    rgb = render(digit.fit(280, 180, (140, 140)), brush_radius=brush_radius)
    Image.fromarray(rgb).save(path)
    return path, digit.label


def pen_sketchpad_values(count: int, brush_radius: float = 10) -> list[dict]:
    """The first `count` pendigits test-writer digits as the browser's Sketchpad sends them."""
    values = []
    for digit in parse(pendigits_file("test"))[:count]:
        rgb = render(digit.fit(280, 180, (140, 140)), brush_radius=brush_radius)
        values.append(sketchpad_value(255 - rgb[..., 0]))
    return values


def canvas_data_url(strokes: list, brush_radius: float = 10) -> str:
    """Strokes on the Draw tab's pen canvas, as the page posts them: a 280x280 RGBA PNG
    data URL, black ink in the alpha channel (blank without strokes)."""
    from mnist_app.ui.pen_answers import png_data_url

    rgba = np.zeros((280, 280, 4), np.uint8)
    if strokes:
        rgba[..., 3] = 255 - render(strokes, brush_radius=brush_radius)[..., 0]
    return png_data_url(rgba)


def shadowed_photo_of_a_four() -> np.ndarray:
    """A pen-drawn 4 (test writer) photographed on grey paper, with a dark shadow band along
    the left edge, a vignette and sensor noise: read as a 1 (45%) before the background was
    flattened, the shadow counting as ink."""
    digit = next(d for d in parse(pendigits_file("test")) if d.label == 4)
    height, width = 300, 400
    ink = render(digit.fit(width, 190, (width * 0.58, height / 2)), width, brush_radius=5)
    ink = ink[:height, :, 0] < 128
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(-1, 1, height)[:, None]
    paper = 178 - 110 * np.clip((0.24 - x) / 0.06, 0, 1) - 18 * y**2
    noise = np.random.default_rng(0).normal(0, 4, (height, width))
    return np.clip(np.where(ink, 48, paper) + noise, 0, 255).astype(np.uint8)
