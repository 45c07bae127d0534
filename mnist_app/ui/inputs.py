"""Gradio's decoding errors turned into messages for the user.

Gradio decodes an upload before any handler runs; a file that is not an image, or a
truncated one, would otherwise end as a bare "Error" with the reason only in the log.
"""

from __future__ import annotations

from typing import Any, TypeVar

import gradio as gr

from ..drawing.ink import unreadable_message
from .errors import user_error

C = TypeVar("C", bound=gr.components.Component)


def with_readable_errors(component: C) -> C:
    """The component, its decoding failures raised as a gr.Error that says what is wrong.
    (Wrapped on the instance: a subclass would make Gradio write a .pyi stub beside this
    file at import time.)"""
    decode = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return decode(payload)
        except gr.Error:
            raise
        except Exception as err:
            raise user_error(f"Could not read that image: {unreadable_message(err)}.") from None

    component.preprocess = preprocess
    return component
