"""A user's mistake is an answer, not a crash: one line in the server's log."""

from __future__ import annotations

import logging

import gradio as gr

from ..core.predict import Predictor
from ..service.library import ModelLibrary
from .text import NO_MODEL

log = logging.getLogger("mnist_app.ui")


def user_error(message: str) -> gr.Error:
    """The message shown to the user; the log gets one line instead of Gradio's traceback."""
    log.info("refused a request: %s", message[:300])
    return gr.Error(message, print_exception=False)


def predictor_of(library: ModelLibrary, model_name: str | None) -> Predictor:
    """The named model, or a user error saying why there is none (no name, a missing or
    corrupt file)."""
    if not model_name:
        raise user_error(NO_MODEL)
    try:
        return library.predictor(model_name)
    except ValueError as err:  # includes CheckpointError
        raise user_error(str(err)) from None
