"""The app's named endpoints called as a plain REST client would: /gradio_api/call/<api>,
with no gradio_client and no session."""

from __future__ import annotations

from typing import Any

import httpx


def call(
    client: httpx.Client, api: str, data: list, first_only: bool = False
) -> list[tuple[str, str]]:
    """The call's (event, data) pairs up to its end (or its first update when
    `first_only`); a request refused outright gives one ("http", "<status> <text>")."""
    started = client.post(f"gradio_api/call/{api}", json={"data": data})
    if started.status_code != 200:
        return [("http", f"{started.status_code} {started.text[:120]}")]
    event_id = started.json()["event_id"]
    events, kind = [], None
    with client.stream("GET", f"gradio_api/call/{api}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, line[6:]))
                if kind in ("complete", "error") or (first_only and kind == "generating"):
                    break
    return events


def train_data(arguments: dict[str, Any]) -> list:
    """/train's arguments as /call/ takes them: positional, in its signature's order."""
    from mnist_app.ui.train_tab import API_SIGNATURE  # Gradio, only when a test or bench calls

    return [arguments.get(name) for name in API_SIGNATURE.parameters if name != "request"]
