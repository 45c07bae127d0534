"""What one request, one client and all of them together may make the server hold.

`Limits` gathers every bound in one place (the README's security table lists them);
`RequestGuard` is the ASGI middleware that enforces the ones Gradio itself does not: the
size of each request body, the upload quota and the login throttle. It runs before Gradio
reads a byte of the body, so a refused request costs nothing but its headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..preprocess.ink import MAX_PIXELS
from .login_throttle import LoginThrottle
from .upload_cache import UploadCache

MB = 2**20


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 10 * MB  # one uploaded image (Gradio's max_file_size too)
    json_body_bytes: int = 1 * MB  # any other request: settings, names, file references
    max_pixels: int = MAX_PIXELS  # all the images of one request together, by their headers
    cache_bytes: int = 1024 * MB  # the upload cache on disk
    client_upload_bytes: int = 200 * MB  # per client address and hour
    client_upload_files: int = 20_000  # per client address and hour (a proxy shares one)
    sessions: int = 1000  # Gradio's per-session state kept in memory (about 180 kB each)
    sketch_layers: int = 4  # the hidden Sketchpad's blob uploads: layers per drawing
    sketch_drawings_per_session: int = 4  # ... drawings held per session
    sketch_blob_bytes: int = 64 * MB  # ... bytes held for all sessions together
    free_logins: int = 5  # failed logins in a row before the address is locked out
    max_login_lock_s: float = 900.0  # the longest lockout
    max_run_s: float = 3600.0  # a training run started from the web stops after this
    personal_drawings: int = 300  # drawings in one person's set
    personal_sets: int = 500  # people's sets on the server

    @property
    def component_body_bytes(self) -> int:
        """The pen canvas posts an uploaded image as a data: URL, 4/3 of its size."""
        return self.max_upload_bytes * 4 // 3 + 64 * 1024

    @property
    def upload_body_bytes(self) -> int:
        return self.max_upload_bytes + 64 * 1024  # the multipart wrapping


class RequestGuard:
    """ASGI middleware: refuses over-long bodies (413), bodies of unknown length (411),
    uploads over quota (429 or 507) and logins from a locked-out address (429)."""

    def __init__(
        self, app: Any, limits: Limits, uploads: UploadCache | None, logins: LoginThrottle
    ):
        self.app, self.limits, self.uploads, self.logins = app, limits, uploads, logins

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        client = (scope.get("client") or ("unknown",))[0]
        headers = dict(scope.get("headers") or [])
        if b"content-length" in headers:
            try:
                length = int(headers[b"content-length"])
            except ValueError:
                return await _refuse(send, 400, "Content-Length is not a number.")
        elif b"transfer-encoding" in headers:
            return await _refuse(
                send, 411, "Send a Content-Length: bodies of unknown size are refused."
            )
        else:
            length = 0
        cap = self._body_cap(path)
        if length > cap:
            return await _refuse(
                send,
                413,
                f"Request too large: {length:,} bytes; the maximum allowed size here is "
                f"{cap:,} bytes.",
            )
        if path.endswith("/upload") and scope["method"] == "POST" and self.uploads:
            refusal = self.uploads.admit(client, length)
            if refusal:
                full = refusal.startswith("The server's upload space")
                return await _refuse(send, 507 if full else 429, refusal)
        if path.endswith("/login") and scope["method"] == "POST":
            return await self._login(scope, receive, send, client)
        await self.app(scope, receive, send)

    def _body_cap(self, path: str) -> int:
        if path.endswith("/upload"):
            return self.limits.upload_body_bytes
        if path.endswith("/component_server"):
            return self.limits.component_body_bytes
        return self.limits.json_body_bytes

    async def _login(self, scope: dict, receive: Any, send: Any, client: str) -> None:
        wait_s = self.logins.wait_s(client)
        if wait_s > 0:
            return await _refuse(
                send,
                429,
                f"Too many failed logins: try again in {wait_s:.0f} s.",
                [(b"retry-after", str(max(1, round(wait_s))).encode())],
            )
        status = 0

        async def watched_send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watched_send)
        if status == 200:
            self.logins.succeeded(client)
        elif 400 <= status < 500:
            self.logins.failed(client)


async def _refuse(
    send: Any, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the unread body is not ours to drain
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
