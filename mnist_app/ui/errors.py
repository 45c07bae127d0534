"""A user's mistake is an answer, not a crash: one line in the server's log."""

from __future__ import annotations

import logging

import gradio as gr

log = logging.getLogger("mnist_app.ui")


def user_error(message: str) -> gr.Error:
    """The message shown to the user; the log gets one line instead of Gradio's traceback."""
    log.info("refused a request: %s", message[:300])
    return gr.Error(message, print_exception=False)
