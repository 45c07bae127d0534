"""The Draw tab's pen canvas: a plain HTML canvas whose answer follows the pen.

Gradio's Sketchpad sends a drawing half a second after the pen lifts, as several uploads
and queued jobs (871 ms from pen-up to answer in Chromium). This canvas instead posts the
drawing as one small PNG to the component's server function while the pen moves and when
it lifts, and shows the answer and the stage strip itself (pen_canvas.js).
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from ..preprocess import NotADigit, Preprocessed, ink_from_alpha, preprocess, preprocess_ink
from ..preprocess.ink import read_image
from .stage_strip import stage_strip
from .text import DRAW_A_DIGIT, NOT_A_DIGIT_ANSWER, not_a_digit

HERE = Path(__file__).parent
JS = (HERE / "pen_canvas.js").read_text()
CSS = (HERE / "pen_canvas.css").read_text()
TEMPLATE = string.Template((HERE / "pen_canvas.html").read_text())


@dataclass(frozen=True)
class NonDigit:
    """The model's answer that the ink is not a digit, its ten probabilities kept."""

    probabilities: dict[str, float]


# Ten probabilities, the model saying "not a digit", or what to tell the user instead.
Answer = dict[str, float] | NonDigit | str
CANVAS_PIXELS = 280 * 280  # the page's canvas (pen_canvas.html); a bigger one is not ours


def answer_html(answer: Answer) -> str:
    """The prediction panel: the digit and its confidence first (its text starts with the
    digit), then all ten probabilities; or the message instead of a digit."""
    if isinstance(answer, str):
        return f'<p class="refusal">{html.escape(answer)}</p>'
    probabilities = answer.probabilities if isinstance(answer, NonDigit) else answer
    best = max(probabilities, key=probabilities.get)
    rows = "".join(
        f'<span class="{"best" if digit == best else ""}">{digit}</span>'
        f'<span class="bar {"best" if digit == best else ""}">'
        f'<span style="width:{100 * p:.1f}%"></span></span>'
        f'<span class="num">{p:.0%}</span>'
        for digit, p in probabilities.items()
    )
    bars = f'<div class="bars" aria-label="all ten probabilities">{rows}</div>'
    if isinstance(answer, NonDigit):
        return (
            f'<p class="refusal not-digit">{NOT_A_DIGIT_ANSWER}</p>'
            f'<p class="guess">best guess: <b>{best}</b>, {probabilities[best]:.0%}</p>'
            f'<div class="muted">{bars}</div>'
        )
    return (
        f'<div class="top"><span class="digit">{best}</span>'
        f'<span class="confidence">{probabilities[best]:.0%} sure</span></div>{bars}'
    )


def png_data_url(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)  # speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_data_url(data_url: Any, max_bytes: int) -> bytes:
    """The bytes of a data: URL from the page; ValueError saying what is wrong."""
    if not isinstance(data_url, str) or not data_url.startswith("data:"):
        raise ValueError("the page sent no image")
    if len(data_url) > max_bytes * 4 / 3 + 100:
        raise ValueError(f"the image is larger than {max_bytes / 2**20:.0f} MB")
    try:
        return base64.b64decode(data_url.partition(",")[2], validate=True)
    except binascii.Error:
        raise ValueError("the image data is damaged") from None


def read_canvas(image: Image.Image) -> Preprocessed | None:
    """The canvas's strokes: black on a transparent canvas, so the alpha is the ink."""
    return preprocess_ink(ink_from_alpha(np.asarray(image.convert("RGBA"))[..., 3]))


def read_page_drawing(request: dict, max_upload_bytes: int) -> Preprocessed | None:
    """The drawing the page sent ({"image": data URL, "kind": "canvas" | "upload"}), every
    stage of it, or None when there is no ink. Raises NotADigit, or ValueError / OSError
    saying why the image cannot be read."""
    data = decode_data_url(request.get("image"), max_upload_bytes)
    if request.get("kind") == "canvas":
        return read_canvas(read_image(io.BytesIO(data), max_pixels=CANVAS_PIXELS))
    return preprocess(read_image(io.BytesIO(data)))


Why = Callable[[Preprocessed, str | None], dict[str, str]]  # the "why" fields of an answer
Reply = dict[str, str | bool]  # the canvas's answer: html, state, stages, [live], [why...]


def pen_reader(
    answer: Callable[[Preprocessed, str | None, bool], Answer],
    max_upload_bytes: int,
    why: Why | None = None,
) -> Callable[[dict], Reply]:
    """The canvas's server function: `answer(stages, model, live)` reads a preprocessed
    drawing with the named model (`live` while the pen is down); when the page asks why,
    `why(stages, model)` explains a digit."""
    uploads_at_once = threading.BoundedSemaphore(2)

    def read_pen(request: dict) -> Reply:
        """The page's question: {"image": data URL, "kind": "canvas" | "upload",
        "model": name, "why": bool, "live": bool}. Returns the panel's HTML, the strip as a
        data URL, and when asked why, the explanation (see draw_tab's `_why`). A live
        question (the pen still down) gets the answer alone, marked live: the strip and
        the explanation, half the work of an answer, wait for the pen to lift."""
        request = request if isinstance(request, dict) else {}
        model = request.get("model") if isinstance(request.get("model"), str) else None
        is_canvas = request.get("kind") == "canvas"
        # An upload may take a big decode: a few at a time, the rest told to retry.
        if not is_canvas and not uploads_at_once.acquire(timeout=10):
            message = "The server is busy reading other images: try again in a moment."
            return {"html": answer_html(message), "state": "error", "stages": ""}
        try:
            stages = read_page_drawing(request, max_upload_bytes)
        except NotADigit as err:
            return {"html": answer_html(not_a_digit(err)), "state": "refused", "stages": ""}
        except (ValueError, OSError) as err:
            message = f"Could not read that image: {err}"
            return {"html": answer_html(message), "state": "error", "stages": ""}
        finally:
            if not is_canvas:
                uploads_at_once.release()
        if stages is None:
            return {"html": answer_html(DRAW_A_DIGIT), "state": "blank", "stages": ""}
        live = request.get("live") is True
        try:
            result = answer(stages, model, live)
        except gr.Error as err:
            return {"html": answer_html(err.message), "state": "error", "stages": ""}
        state = {dict: "digit", NonDigit: "not-digit"}.get(type(result), "refused")
        if live:
            return {"html": answer_html(result), "state": state, "stages": "", "live": True}
        strip = png_data_url(stage_strip(stages))
        reply = {"html": answer_html(result), "state": state, "stages": strip}
        if why and state == "digit" and request.get("why") is True:
            reply.update(why(stages, model))
        return reply

    return read_pen


def pen_canvas(
    model: str | None, read_pen: Callable[[dict], Reply], max_upload_bytes: int
) -> gr.HTML:
    """The canvas, its tools, the prediction panel (#prediction) and the stage strip; the
    page asks `read_pen` (see pen_reader) about every drawing."""
    template = TEMPLATE.substitute(
        model=html.escape(model or "", quote=True),
        max_upload=max_upload_bytes,
        blank_attribute=html.escape(answer_html(DRAW_A_DIGIT), quote=True),
        blank=answer_html(DRAW_A_DIGIT),
    )
    return gr.HTML(
        template,
        css_template=CSS,
        js_on_load=JS,
        server_functions=[read_pen],
        elem_id="pen",
        padding=False,
    )
