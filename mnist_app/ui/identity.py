"""Who is asking, for the runs, models and drawings they own: the login user when login is
on, else the browser's own id (a token kept in its storage), else the Gradio session.

Gradio runs every MCP client's tools through one client of its own, in one Gradio session,
and its MCP server is stateless (no session of the agent's own reaches the tools). Counted
as an owner, that one session made every agent the owner of every other agent's models
and drawings. So through MCP only a login or the call's own token says who is asking, and
a call that needs to know is refused without one.
"""

from __future__ import annotations

import gradio as gr

from .errors import user_error

# The header Gradio's MCP server puts on the calls it makes for agents (gradio/mcp.py).
MCP_CALL_HEADERS = {"x-gradio-user": "mcp"}
MCP_NEEDS_TOKEN = (
    "Through MCP, pass a token (a secret of yours, the same in every call): it is what makes "
    "drawings, runs and models yours, since all MCP clients share one session here."
)


def owner(browser_token: str | None, request: gr.Request | None) -> str:
    """The caller's main key: what a run it starts is owned by ("" through MCP without a
    token: the run's stop token is then its only key)."""
    username = getattr(request, "username", None)
    if username:
        return f"user:{username}"
    if via_mcp(request):
        return browser_token or ""
    return browser_token or getattr(request, "session_hash", None) or ""


def owner_keys(token: str | None, request: gr.Request | None) -> list[str]:
    """Every key the caller holds: its login or browser id, its session, and a token it
    was given (a /train call's stop token, for a model trained through the API). Through
    MCP, a call with neither login nor token is refused: it could only be anyone."""
    keys = [owner(token, request), owner(None, request), token or ""]
    keys = [key for key in dict.fromkeys(keys) if key]
    if not keys and via_mcp(request):
        raise user_error(MCP_NEEDS_TOKEN)
    return keys


def via_mcp(request: gr.Request | None) -> bool:
    """Whether the call comes from Gradio's MCP server (which marks its calls so; a client
    that claims it only gives up its own session as a key)."""
    headers = getattr(request, "headers", None) or {}
    return all(headers.get(key) == value for key, value in MCP_CALL_HEADERS.items())
