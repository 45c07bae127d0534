"""The Draw tab's pen canvas: a plain HTML canvas whose answer follows the pen.

Gradio's Sketchpad sends a drawing half a second after the pen lifts, as several uploads
and queued jobs (871 ms from pen-up to answer in Chromium). This canvas instead posts the
drawing as one small PNG to the component's server function while the pen moves and when
it lifts, and shows the answer and the stage strip itself (pen_canvas.js).
"""

from __future__ import annotations

import html
import string
import threading
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from ..preprocess import Preprocessed
from .limits import answered_by_the_guard
from .pen_answers import (
    LIVE_EVERY_MS,
    Answer,
    Reply,
    answer_html,
    drawing_or_reply,
    error_reply,
    live_reply,
    png_data_url,
    state_of,
)
from .stage_strip import stage_strip
from .text import DRAW_A_DIGIT

HERE = Path(__file__).parent
JS = (HERE / "pen_canvas.js").read_text()
CSS = (HERE / "pen_canvas.css").read_text()
TEMPLATE = string.Template((HERE / "pen_canvas.html").read_text())


Why = Callable[[Preprocessed, str | None], dict[str, str]]  # the "why" fields of an answer


def pen_reader(
    answer: Callable[[Preprocessed, str | None, bool], Answer],
    max_upload_bytes: int,
    why: Why | None = None,
    pace: Callable[[], int] = lambda: LIVE_EVERY_MS,
) -> Callable[[dict], Reply]:
    """The canvas's server function: `answer(stages, model, live)` reads a preprocessed
    drawing with the named model (`live` while the pen is down); when the page asks why,
    `why(stages, model)` explains a digit. Each reply tells the page how often to ask
    while the pen moves: `pace()` ms apart."""
    uploads_at_once = threading.BoundedSemaphore(2)

    def read_pen(request: dict) -> Reply:
        """The page's question: {"image": data URL, "kind": "canvas" | "upload",
        "model": name, "why": bool, "live": bool}. Returns the panel's HTML, the strip as a
        data URL, and when asked why, the explanation (see draw_tab's `_why`). A live
        question (the pen still down) gets the answer alone, marked live: the strip and
        the explanation, half the work of an answer, wait for the pen to lift."""
        return {**answer_request(request), "pace_ms": pace()}

    def answer_request(request: dict) -> Reply:
        request = request if isinstance(request, dict) else {}
        model = request.get("model") if isinstance(request.get("model"), str) else None
        is_canvas = request.get("kind") == "canvas"
        live = request.get("live") is True
        # An upload may take a big decode: a few at a time, the rest told to retry.
        if not is_canvas and not uploads_at_once.acquire(timeout=10):
            return error_reply("The server is busy reading other images: try again in a moment.")
        try:
            stages = drawing_or_reply(request, max_upload_bytes)
        finally:
            if not is_canvas:
                uploads_at_once.release()
        if isinstance(stages, dict):
            return stages
        try:
            result = answer(stages, model, live)
        except gr.Error as err:
            return error_reply(err.message)
        if live:
            return live_reply(result)
        strip = png_data_url(stage_strip(stages))
        reply = {"html": answer_html(result), "state": state_of(result), "stages": strip}
        if why and reply["state"] == "digit" and request.get("why") is True:
            reply.update(why(stages, model))
        return reply

    return answered_by_the_guard(read_pen)


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
