"""Who is asking, for the runs and models they own: the login user when login is on, else
the browser's own id (a token kept in its storage), else the Gradio session."""

from __future__ import annotations

import gradio as gr


def owner(browser_token: str | None, request: gr.Request | None) -> str:
    """The caller's main key: what a run it starts is owned by."""
    username = getattr(request, "username", None)
    if username:
        return f"user:{username}"
    return browser_token or getattr(request, "session_hash", None) or ""


def owner_keys(token: str | None, request: gr.Request | None) -> list[str]:
    """Every key the caller holds: its login or browser id, its session, and a token it
    was given (a /train call's stop token, for a model trained through the API)."""
    keys = [owner(token, request), owner(None, request), token or ""]
    return [key for key in dict.fromkeys(keys) if key]
