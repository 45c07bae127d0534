"""The Draw tab's "Inside the network": every layer of the model for the current drawing,
and for a clicked feature map or unit, the training images that excite it most.

The page asks for it on its own, after the canvas's answer has arrived and only while the
view is open (inside_view.js), so the answer never waits for it. Each layer is one PNG of
tiles (a map per channel, or a cell per unit), scaled to the layer's strongest response:
light is strong, black is zero, blue is negative (tanh and sigmoid layers, the features
of some heads)."""

from __future__ import annotations

import base64
import html
import io
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..analysis.channel_examples import ChannelExampleJobs, ChannelExamples
from ..analysis.layers import CONV, Layer, inspector
from ..core.data import MnistNotFoundError
from ..preprocess import NotADigit
from ..service.library import ModelLibrary
from .errors import predictor_of, user_error
from .pen_answers import png_data_url, read_page_drawing
from .sketch import read_drawing
from .text import DRAW_A_DIGIT, not_a_digit

HERE = Path(__file__).parent
JS = (HERE / "inside_view.js").read_text()
CSS = (HERE / "inside_view.css").read_text()

GAP = 1  # picture px between tiles, in the grid colour
GRID = (71, 85, 105)
NEGATIVE = np.array([96, 165, 250], np.float32)  # blue
TILE = 42  # a feature map is shown about this many px wide (whole-pixel zoom)
MAP_COLUMNS = 16
UNIT = 9  # picture px per hidden unit, shown at zoom 1
UNIT_COLUMNS = 64
INPUT_SCALE = 4
HINT = "Click a map or a unit to see the 9 training images that excite it most."
# Tiles are palette images: 0 is the grid, 128 zero, 128 + k (k = 1..127) a positive value
# k/127 of the layer's strongest, 128 - k a negative one. One byte a pixel at the layer's
# own resolution keeps a ResNet's 384 maps to a few ms of PNG; the browser zooms them.
PALETTE = np.concatenate(
    [
        [GRID],
        NEGATIVE * (np.arange(127, 0, -1) / 127)[:, None],
        np.linspace(0, 255, 128)[:, None].repeat(3, axis=1),
    ]
).astype(np.uint8)


@dataclass(frozen=True)
class Tiles:
    """A layer drawn as a grid: `indices` (into PALETTE), `columns` tiles a row, each
    `cell` px square after a GAP; tile i is at row i // columns, column i % columns. Shown
    `zoom` times larger."""

    indices: np.ndarray
    columns: int
    cell: int
    count: int
    zoom: int

    def rgb(self) -> np.ndarray:
        """The picture as RGB at its zoom."""
        pixels = PALETTE[self.indices]
        return pixels.repeat(self.zoom, axis=0).repeat(self.zoom, axis=1)

    def data_url(self) -> str:
        image = Image.fromarray(self.indices, mode="P")
        image.putpalette(PALETTE.tobytes())
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)  # speed over size
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def tiles(layer: Layer) -> Tiles:
    """The layer's maps (C, H, W) or units (N,) as a grid of tiles, scaled to its own
    strongest response."""
    values = layer.values
    if values.ndim == 1:
        cells = np.repeat(np.repeat(values[:, None, None], UNIT, axis=1), UNIT, axis=2)
        return _grid(cells, UNIT_COLUMNS, zoom=1, strongest=strongest(layer))
    zoom = max(1, round(TILE / values.shape[1]))
    return _grid(values, MAP_COLUMNS, zoom, strongest(layer))


def _grid(maps: np.ndarray, columns: int, zoom: int, strongest: float) -> Tiles:
    count, cell, _ = maps.shape
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    scaled = np.rint(maps * (127 / (strongest or 1.0))).astype(np.int16) + 128
    framed = np.zeros((rows * columns, cell + GAP, cell + GAP), np.uint8)  # 0: the grid
    framed[:count, GAP:, GAP:] = np.clip(scaled, 1, 255)
    sheet = framed.reshape(rows, columns, cell + GAP, cell + GAP).swapaxes(1, 2)
    sheet = sheet.reshape(rows * (cell + GAP), columns * (cell + GAP))
    return Tiles(np.pad(sheet, ((0, GAP), (0, GAP))), columns, cell, count, zoom)


def strongest(layer: Layer) -> float:
    """The layer's largest response, positive or negative: what its brightest tile shows."""
    return float(np.abs(layer.values).max())


@dataclass
class InsideHandlers:
    """The view's server functions and the /inspect_layers endpoint."""

    library: ModelLibrary
    max_upload_bytes: int
    jobs: ChannelExampleJobs = field(default_factory=ChannelExampleJobs)
    # An uploaded photo may take a big decode: a few at a time, as the canvas's answers.
    uploads_at_once: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(2)
    )

    def inspect_drawing(self, request: dict) -> dict[str, Any]:
        """The page's question: {"image": data URL, "kind": "canvas" | "upload", "model":
        name}. Returns {"html": every layer, "model": name} or {"html": a message}."""
        request = request if isinstance(request, dict) else {}
        model = request.get("model") if isinstance(request.get("model"), str) else None
        upload = request.get("kind") != "canvas"
        if upload and not self.uploads_at_once.acquire(timeout=10):
            return _message("The server is busy reading other images: try again in a moment.")
        try:
            stages = read_page_drawing(request, self.max_upload_bytes)
        except NotADigit as err:
            return _message(not_a_digit(err))
        except (ValueError, OSError) as err:
            return _message(f"Could not read that image: {err}")
        finally:
            if upload:
                self.uploads_at_once.release()
        if stages is None:
            return _message(DRAW_A_DIGIT)
        try:
            layers = self._layers(stages.image, model)
        except gr.Error as err:
            return _message(err.message)
        return {"html": layers_html(layers), "model": model}

    def channel_images(self, request: dict) -> dict[str, Any]:
        """The page's click: {"model": name, "layer": i, "channel": c}. Returns {"state":
        "ready", "html": the 9 images} or {"state": "pending", "html": how far along}, or
        {"state": "error", "html": why}."""
        request = request if isinstance(request, dict) else {}
        model, layer, channel = (request.get(k) for k in ("model", "layer", "channel"))
        if not (isinstance(model, str) and _whole(layer) and _whole(channel)):
            return {"state": "error", "html": _paragraph("The page asked for no channel.")}
        try:
            found = self.examples(model, layer, channel)
        except gr.Error as err:
            return {"state": "error", "html": _paragraph(err.message)}
        if isinstance(found, float):
            return {"state": "pending", "html": _paragraph(_pending(found))}
        return {"state": "ready", "html": examples_html(found, channel, self.library)}

    def examples(self, model: str, layer: int, channel: int) -> list[tuple[int, float]] | float:
        """The top images of one channel ((training index, response), strongest first), or
        while the model's are being computed, the fraction done."""
        predictor = predictor_of(self.library, model)
        try:
            images = self.library.data().train_images
        except MnistNotFoundError:
            raise user_error("MNIST is not on this server: no training images to show.") from None
        status = self.jobs.status(predictor, images)
        if not isinstance(status, ChannelExamples):
            return status
        try:
            return status.top(layer, channel)
        except IndexError:
            raise user_error(f"{model} has no channel {channel} in that layer.") from None

    def inspect_layers(
        self, image: Any, model_name: str | None
    ) -> tuple[dict[str, Any], np.ndarray]:
        """Every layer of a model for a drawing or photo of a digit: its activations.

        Args:
            image: the image: PNG or JPEG, any size; dark ink on light or light on dark.
            model_name: the model to ask (see the models tool), e.g. "resnet_mini".

        Returns:
            Two things: the activations as JSON, {"model", "layers": [{"name", "kind"
            (input, conv, dense, features or output), "shape", "values" (nested lists,
            rounded to 3 decimals)}]}, input first and the ten probabilities last; and the
            same as one picture, a row per layer.
        """
        try:
            stages = read_drawing(image)
        except NotADigit as err:
            raise user_error(not_a_digit(err)) from None
        except (ValueError, OSError) as err:
            raise user_error(f"Could not read that image: {err}") from None
        if stages is None:
            raise user_error("Draw a digit first: there is nothing to look inside.")
        layers = self._layers(stages.image, model_name)
        return {"model": model_name, "layers": [_as_json(layer) for layer in layers]}, sheet(layers)

    def _layers(self, image: np.ndarray, model_name: str | None) -> list[Layer]:
        return inspector(predictor_of(self.library, model_name)).inspect(image)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _pending(done: float) -> str:
    return (
        "Finding the training images that excite each channel of this model, once: "
        f"{done:.0%} of the 60,000 done."
    )


def _paragraph(text: str) -> str:
    return f'<p class="inside-note">{html.escape(text)}</p>'


def _message(text: str) -> dict[str, str]:
    return {"html": _paragraph(text)}


def _as_json(layer: Layer) -> dict[str, Any]:
    return {
        "name": layer.name,
        "kind": layer.kind,
        "shape": list(layer.values.shape),
        "values": np.round(layer.values.astype(np.float64), 3).tolist(),
    }


def layers_html(layers: list[Layer]) -> str:
    """The view: the input, a row of tiles per layer (clickable where it has channels),
    and the ten probabilities."""
    rows, channel_layer = [], 0
    for layer in layers:
        if layer.kind == "output":
            rows.append(_output_html(layer))
        elif layer.channels:
            rows.append(_tiles_html(layer, channel_layer))
            channel_layer += 1
        else:
            rows.append(_input_html(layer))
    return "".join(rows)


def _input_html(layer: Layer) -> str:
    pixels = (np.clip(layer.values[0], 0, 1) * 255).astype(np.uint8)
    return (
        f'<figure class="inside-row inside-input"><figcaption>{html.escape(layer.name)}'
        f'</figcaption><img src="{png_data_url(pixels)}" alt="the model\'s 28x28 input"></figure>'
    )


def _tiles_html(layer: Layer, channel_layer: int) -> str:
    grid = tiles(layer)
    what = "maps" if layer.kind == CONV else "units"
    caption = (
        f'{html.escape(layer.name)} <span class="scale">· white = {strongest(layer):.2f}, '
        f"the layer's strongest</span>"
    )
    return (
        f'<figure class="inside-row" data-kind="{layer.kind}"><figcaption>{caption}</figcaption>'
        f'<div class="inside-grid"><img class="inside-tiles" tabindex="0" src="{grid.data_url()}" '
        f'style="width:{grid.indices.shape[1] * grid.zoom}px" '
        f'data-layer="{channel_layer}" data-columns="{grid.columns}" data-cell="{grid.cell}" '
        f'data-gap="{GAP}" data-count="{grid.count}" data-name="{html.escape(layer.name)}" '
        f'alt="{grid.count} {what} of {html.escape(layer.name)}: click one, or Enter and '
        f'the arrow keys">'
        '<span class="inside-mark" hidden></span></div></figure>'
    )


def _output_html(layer: Layer) -> str:
    probabilities = layer.values
    best = int(probabilities.argmax())
    rows = "".join(
        f'<span class="{"best" if d == best else ""}">{d}</span>'
        f'<span class="bar"><span style="width:{100 * p:.1f}%"></span></span>'
        f'<span class="num">{p:.1%}</span>'
        for d, p in enumerate(probabilities)
    )
    return (
        f'<figure class="inside-row inside-output"><figcaption>{html.escape(layer.name)}'
        f'</figcaption><div class="bars">{rows}</div></figure>'
    )


def examples_html(found: list[tuple[int, float]], channel: int, library: ModelLibrary) -> str:
    """The training images of one channel, strongest first, each captioned with its digit
    and the channel's response to it."""
    images, labels = library.data().train_images, library.data().train_labels
    figures = "".join(
        f'<figure><img src="{png_data_url(images[index].numpy())}" '
        f'alt="training image {index}, a {int(labels[index])}">'
        f"<figcaption>a {int(labels[index])} · {response:.2f}</figcaption></figure>"
        for index, response in found
    )
    heading = f"Channel {channel}: the {len(found)} training images that excite it most"
    return f'<p class="inside-note">{heading}</p><div class="inside-examples-grid">{figures}</div>'


def sheet(layers: list[Layer]) -> np.ndarray:
    """Every layer in one RGB picture, a captioned row each (for the API)."""
    font = ImageFont.load_default(size=13)
    pictures = [_sheet_picture(layer) for layer in layers]
    width = max(p.shape[1] for p in pictures) + 20
    height = sum(p.shape[0] + 28 for p in pictures) + 10
    canvas = Image.new("RGB", (width, height), (30, 41, 59))
    draw = ImageDraw.Draw(canvas)
    top = 10
    for layer, picture in zip(layers, pictures, strict=True):
        draw.text((10, top), layer.name, fill=(226, 232, 240), font=font)
        canvas.paste(Image.fromarray(picture), (10, top + 18))
        top += picture.shape[0] + 28
    return np.asarray(canvas)


def _sheet_picture(layer: Layer) -> np.ndarray:
    if layer.kind == "input":
        pixels = (np.clip(layer.values[0], 0, 1) * 255).astype(np.uint8)
        big = pixels.repeat(INPUT_SCALE, 0).repeat(INPUT_SCALE, 1)
        return np.stack([big] * 3, axis=-1)
    if layer.kind == "output":
        return _probability_strip(layer.values)
    return tiles(layer).rgb()


def _probability_strip(probabilities: np.ndarray) -> np.ndarray:
    """Ten cells, 0 to 9, each as light as its probability, with the digit written under."""
    cell = 28
    image = Image.new("RGB", (10 * (cell + GAP) + GAP, cell + 16), GRID)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=12)
    for digit, p in enumerate(probabilities):
        left = GAP + digit * (cell + GAP)
        level = int(255 * float(p))
        draw.rectangle([left, GAP, left + cell - 1, cell], fill=(level, level, level))
        draw.text(
            (left + cell / 2, cell + 8), str(digit), fill=(226, 232, 240), font=font, anchor="mm"
        )
    return np.asarray(image)


INTRO = (
    "What each layer of the model computes for your drawing, from its 28x28 input to the "
    "ten probabilities: a tile per feature map (or a cell per unit), light where it "
    "responds strongly, black where not at all."
)
TEMPLATE = f"""<div class="inside">
  <p class="inside-intro">{INTRO}</p>
  <div class="inside-main">
    <div class="inside-layers"><p class="inside-note">{DRAW_A_DIGIT}</p></div>
    <aside class="inside-examples" aria-live="polite"><p class="inside-note">{HINT}</p></aside>
  </div>
</div>"""


def build_inside_view(handlers: InsideHandlers) -> gr.HTML:
    """The "Inside the network" accordion, closed at first: while it is closed the page
    asks nothing of it."""

    # Gradio marks a server function with an attribute, which a bound method cannot take.
    def inspect_drawing(request: dict) -> dict[str, Any]:
        return handlers.inspect_drawing(request)

    def channel_images(request: dict) -> dict[str, Any]:
        return handlers.channel_images(request)

    with gr.Accordion("Inside the network", open=False, elem_id="inside-accordion"):
        return gr.HTML(
            TEMPLATE,
            css_template=CSS,
            js_on_load=JS,
            server_functions=[inspect_drawing, channel_images],
            elem_id="inside",
            padding=False,
        )
