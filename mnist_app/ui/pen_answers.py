"""The pen canvas's answers without Gradio: the drawing the page sent, read and
preprocessed, and the answer panel's HTML (pen_canvas.py is the canvas's component and
server function; the other panels that read the page's drawing use these too)."""

from __future__ import annotations

import base64
import binascii
import html
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ..preprocess import NotADigit, Preprocessed, ink_from_alpha, preprocess, preprocess_ink
from ..preprocess.ink import read_image
from .text import DRAW_A_DIGIT, NOT_A_DIGIT_ANSWER, not_a_digit


@dataclass(frozen=True)
class NonDigit:
    """The model's answer that the ink is not a digit, its ten probabilities kept."""

    probabilities: dict[str, float]


# Ten probabilities, the model saying "not a digit", or what to tell the user instead.
Answer = dict[str, float] | NonDigit | str
CANVAS_PIXELS = 280 * 280  # the page's canvas (pen_canvas.html); a bigger one is not ours
# How often the page asks while the pen moves: 16 times a second; 4 while a model trains on
# this server, whose run would otherwise take 1.6x as long beside a class of 30 drawing
# (1.3x at 4 a second; bench/classroom.py). pen_canvas.js reads it from each reply.
LIVE_EVERY_MS = 60
LIVE_EVERY_MS_WHILE_TRAINING = 250


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


Reply = dict[str, str | bool | int]  # the canvas reply: html, state, stages, pace_ms, [live], [why]


def drawing_or_reply(request: dict, max_upload_bytes: int) -> Preprocessed | Reply:
    """The drawing the page sent, preprocessed; or, where there is nothing to ask a model
    about (no ink, not a digit, an unreadable image), the reply that says so."""
    try:
        stages = read_page_drawing(request, max_upload_bytes)
    except NotADigit as err:
        return {"html": answer_html(not_a_digit(err)), "state": "refused", "stages": ""}
    except (ValueError, OSError) as err:
        return error_reply(f"Could not read that image: {err}")
    if stages is None:
        return {"html": answer_html(DRAW_A_DIGIT), "state": "blank", "stages": ""}
    return stages


def error_reply(message: str) -> Reply:
    return {"html": answer_html(message), "state": "error", "stages": ""}


def answer_of(probabilities: np.ndarray, is_digit: bool) -> Answer:
    """A model's ten probabilities as the panel shows them: a digit's, or a NonDigit."""
    answer = {str(d): float(p) for d, p in enumerate(probabilities)}
    return answer if is_digit else NonDigit(answer)


def state_of(answer: Answer) -> str:
    return {dict: "digit", NonDigit: "not-digit"}.get(type(answer), "refused")


def live_reply(answer: Answer) -> Reply:
    """The reply to a frame sent while the pen is down: the answer alone, marked live."""
    return {"html": answer_html(answer), "state": state_of(answer), "stages": "", "live": True}
