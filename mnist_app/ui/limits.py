"""What one request, one client and all of them together may make the server hold.

`Limits` gathers every bound in one place (docs/security.md lists them);
`RequestGuard` is the ASGI middleware that enforces the ones Gradio itself does not: the
size of each request body, the upload quota and the login throttle. It runs before Gradio
reads a byte of the body, so a refused request costs nothing but its headers.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from gradio_client import Client
from starlette.requests import Request, cookie_parser

from ..preprocess.ink import MAX_PIXELS
from .fair_turns import FairTurns, Superseded, TurnsFull
from .identity import MCP_CALL_HEADERS
from .login_throttle import LoginThrottle
from .upload_cache import UploadCache

MB = 2**20
# Routes whose body may carry an image as a data URL (the pen canvas's upload, a drawing
# kept from the page, an image passed to /call/ or the queue): one bigger than a drawing
# counts towards the client's upload quota like a file sent to /upload. A canvas frame is
# about 15 kB: a class drawing behind one address never reaches the quota.
IMAGE_ROUTES = ("/component_server", "/queue/join", "/call/", "/run/")
DRAWING_BYTES = 128 * 1024


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
    locked_login_s: float = 1.0  # a locked-out address's logins: checked in turn, each
    # after 1 s, doubling with the account's failures up to 8 s
    locked_logins_waiting: int = 16  # ... and at most this many waiting (503 beyond)
    max_run_s: float = 3600.0  # a training run started from the web stops after this
    personal_drawings: int = 300  # drawings in one person's set
    personal_sets: int = 500  # people's sets on the server
    fetch_urls: bool = False  # whether a file input may be a URL the server fetches
    connections_per_address: int = 300  # requests open at once from one address (a page
    # holds 2-4; a class behind one school address, 30 pages)
    canvas_slots: int = 4  # pen canvas requests (and Sketchpad blobs) running at once; more
    # wait, their turns shared fairly between addresses
    canvas_per_address: int = 2  # ... of them from one address
    canvas_waiting_per_address: int = 64  # ... and at most this many waiting per address
    body_deadline_s: float = 30.0  # a canvas request's body arrives within this

    @property
    def component_body_bytes(self) -> int:
        """The pen canvas posts an uploaded image as a data: URL, 4/3 of its size."""
        return self.max_upload_bytes * 4 // 3 + 64 * 1024

    @property
    def upload_body_bytes(self) -> int:
        return self.max_upload_bytes + 64 * 1024  # the multipart wrapping


class RequestGuard:
    """ASGI middleware: refuses over-long bodies (413), bodies of unknown length (411),
    uploads over quota (429 or 507) and wrong passwords from a locked-out address (429).

    A locked-out address is not shut out: someone else's failures there (a shared
    address, or an attacker's) must not keep its owner out. Its logins wait their turn,
    one at a time for the whole server, each after a delay that grows with the account's
    failures, and a right password gets through: guessing is held to one guess per 8 s
    for the account, however many addresses it comes from."""

    def __init__(
        self,
        app: Any,
        limits: Limits,
        uploads: UploadCache | None,
        logins: LoginThrottle,
        auth: tuple[str, str] | None = None,
    ):
        self.app, self.limits, self.uploads, self.logins = app, limits, uploads, logins
        self.auth = auth
        self._turn = asyncio.Lock()  # a locked-out address's login checks, one at a time
        self._waiting = 0
        self._account_failures = 0  # failed logins in a row, whatever the address
        self._address_logins: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, its users
        self._open: Counter[str] = Counter()  # requests in progress per address
        self._canvas = FairTurns(
            limits.canvas_slots, limits.canvas_per_address, limits.canvas_waiting_per_address
        )

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("unknown",))[0]
        if self._open[client] >= self.limits.connections_per_address:
            return await _refuse(send, 429, "Too many requests open from this address.")
        self._open[client] += 1
        try:
            await self._guarded(scope, receive, send, client)
        finally:
            self._open[client] -= 1
            if not self._open[client]:
                del self._open[client]

    async def _guarded(self, scope: dict, receive: Any, send: Any, client: str) -> None:
        path = scope["path"].rstrip("/")
        headers = dict(scope.get("headers") or [])
        mcp = "/gradio_api/mcp" in path
        if self.auth and ("/heartbeat/" in path or mcp) and not _logged_in(scope):
            # Gradio streams heartbeats, and serves MCP tools, to anyone: log in first
            # (POST /login, then send its cookie; MCP passes it on to the tools it runs).
            return await _refuse(send, 401, "Log in first: POST /login, then send its cookie.")
        if self.auth and mcp:
            await self._logged_in_mcp_client(scope)
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
        carries_image = length > DRAWING_BYTES and any(r in path + "/" for r in IMAGE_ROUTES)
        if (
            scope["method"] == "POST"
            and self.uploads
            and (path.endswith("/upload") or carries_image)
        ):
            refusal = self.uploads.admit(client, length, kept_on_disk=not carries_image)
            if refusal:
                full = refusal.startswith("The server's upload space")
                return await _refuse(send, 507 if full else 429, refusal)
        if path.endswith("/login") and scope["method"] == "POST":
            return await self._login(scope, receive, send, client)
        if path.endswith("/component_server"):
            return await self._canvas_request(scope, receive, send, client)
        await self.app(scope, receive, send)

    def _body_cap(self, path: str) -> int:
        if path.endswith("/upload"):
            return self.limits.upload_body_bytes
        if path.endswith("/component_server"):
            return self.limits.component_body_bytes
        return self.limits.json_body_bytes

    async def _canvas_request(self, scope: dict, receive: Any, send: Any, client: str) -> None:
        """The body first, within a deadline, then a turn: a request trickling in its body
        must not hold a slot that others wait for."""
        try:
            with anyio.fail_after(self.limits.body_deadline_s):
                body = await _body(receive)
        except TimeoutError:
            return await _refuse(send, 408, "The drawing took too long to arrive.")
        request = _json_object(body)
        live, page = _canvas_frame(request)
        try:
            async with self._canvas.turn(client, urgent=not live, page=page):
                answer = _answered_here(scope, request)
                if answer is None:
                    await self.app(scope, _replay(body), send)
                else:
                    threads = getattr(scope["app"].get_blocks(), "limiter", None)  # Gradio's
                    reply = await anyio.to_thread.run_sync(answer, request["data"], limiter=threads)
                    await _json(send, reply)
        except TurnsFull:
            await _refuse(send, 429, "Too many drawings waiting from this address.")
        except Superseded:  # the page lifted its pen meanwhile: this glimpse is not shown
            await _json(send, SUPERSEDED)

    async def _login(self, scope: dict, receive: Any, send: Any, client: str) -> None:
        # One login at a time per address: a burst as a lock-out ends is checked in turn,
        # each failure locking the address again before the next is looked at.
        lock, users = self._address_logins.get(client, (asyncio.Lock(), 0))
        self._address_logins[client] = (lock, users + 1)
        try:
            async with lock:
                await self._login_in_turn(scope, receive, send, client)
        finally:
            lock, users = self._address_logins[client]
            if users > 1:
                self._address_logins[client] = (lock, users - 1)
            else:
                del self._address_logins[client]

    async def _login_in_turn(self, scope: dict, receive: Any, send: Any, client: str) -> None:
        wait_s = self.logins.wait_s(client)
        if wait_s > 0:
            body = await _body(receive)
            receive = _replay(body)
            right = await self._right_password_in_turn(scope, body)
            if right is None:  # too many waiting: not a guess, so not a failure
                return await _refuse(
                    send, 503, "Logins are busy: try again in a minute.", [(b"retry-after", b"60")]
                )
            if not right:
                self.logins.failed(client)
                self._account_failures += 1
                return await _refuse(
                    send,
                    429,
                    f"Too many failed logins from this address: a wrong password waits "
                    f"{wait_s:.0f} s, the right one gets in.",
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
            self._account_failures = 0
        elif 400 <= status < 500:
            self.logins.failed(client)
            self._account_failures += 1

    async def _logged_in_mcp_client(self, scope: dict) -> None:
        """Gradio's MCP server runs tools through a gradio_client of its own, made without
        the login: with one, it failed ("credentials were not provided"). It is made here,
        logged in, before the first tool call needs it (in a thread: it calls this server)."""
        blocks = getattr(scope.get("app"), "get_blocks", lambda: None)()
        server = getattr(blocks, "mcp_server_obj", None)
        if server is None or server._client_instance is not None or not server.local_url:
            return

        def logged_in_client() -> Client:
            return Client(  # as Gradio makes it (gradio/mcp.py), with the login
                server.local_url,
                auth=self.auth,
                download_files=False,
                verbose=False,
                analytics_enabled=False,
                ssl_verify=False,
                _skip_components=False,
                headers=MCP_CALL_HEADERS,
            )

        client = await anyio.to_thread.run_sync(logged_in_client)
        server._client_instance = server._client_instance or client

    async def _right_password_in_turn(self, scope: dict, body: bytes) -> bool | None:
        """Whether a locked-out address's login is right, checked in the account's turn:
        one check at a time for the whole server, each after a delay that doubles with
        the account's failures in a row (1 s to 8 s, so at most ~10,800 guesses a day
        whatever the addresses). None when too many wait already."""
        if self.auth is None:
            return False
        if self._waiting >= self.limits.locked_logins_waiting:
            return None
        self._waiting += 1
        try:
            async with self._turn:
                doublings = min(max(self._account_failures - self.limits.free_logins, 0), 3)
                await asyncio.sleep(self.limits.locked_login_s * 2**doublings)
        finally:
            self._waiting -= 1
        # The login page sends multipart form data, a script often a urlencoded one.
        form = await Request(scope, _replay(body)).form()
        user = str(form.get("username") or "").strip()  # Gradio strips it too
        password = str(form.get("password") or "")
        right_user = hmac.compare_digest(user.encode(), self.auth[0].encode())
        return hmac.compare_digest(password.encode(), self.auth[1].encode()) & right_user


def _logged_in(scope: dict) -> bool:
    """Whether the request carries the session cookie of a login (Gradio's own check)."""
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if tokens is None or cookie_id is None:
        return False
    # Starlette's parser on the first Cookie header, as Gradio reads them: the standard
    # library's stops at the first malformed cookie (another app on the same host can set
    # one). The secure cookie first, else the other, as Gradio's get_current_user.
    first = next((value for key, value in scope.get("headers") or [] if key == b"cookie"), b"")
    cookies = cookie_parser(first.decode("latin-1"))
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    return token is not None and token in tokens


async def _body(receive: Any) -> bytes:
    """The whole request body (its size was checked against the cap already)."""
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


# What a dropped frame gets instead of an answer: the page shows live answers of digits only.
SUPERSEDED = {"html": "", "state": "superseded", "stages": "", "live": True}


def _json_object(body: bytes) -> dict:
    try:
        request = json.loads(body)
    except ValueError:
        return {}
    return request if isinstance(request, dict) else {}


def _canvas_frame(request: dict) -> tuple[bool, str | None]:
    """Whether a canvas request is a frame sent while the pen is still down (pen_canvas.js
    marks them live: it waits behind pen-ups, whose answers people wait for), and its
    page (Gradio's session hash)."""
    data, page = request.get("data"), request.get("session_hash")
    live = isinstance(data, dict) and data.get("live") is True
    return live, page if isinstance(page, str) else None


def answered_by_the_guard(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Marks a component's server function that needs neither the request nor the
    session's state (JSON in, JSON out): the guard calls it itself, without Gradio's
    route, its ten middlewares and a session state made for each new page (the pen
    canvas, 300-435 requests a second in a class of 60; bench/classroom.py)."""
    fn.answered_by_the_guard = True  # type: ignore[attr-defined]
    return fn


def _answered_here(scope: dict, request: dict) -> Callable[[Any], Any] | None:
    """The server function a /component_server request asks for, when the guard may call
    it itself: marked, and asked for by a request Gradio would let through (well formed,
    logged in where the app has a login); None leaves the request to Gradio."""
    app = scope.get("app")
    blocks = getattr(app, "get_blocks", None)
    ids, name = request.get("component_id"), request.get("fn_name")
    if (
        blocks is None
        or scope["method"] != "POST"
        or not scope["path"].rstrip("/").endswith("/gradio_api/component_server")
        or not isinstance(request.get("session_hash"), str)
        or not isinstance(ids, int)
        or not isinstance(name, str)
        or "data" not in request
        or getattr(app, "auth_dependency", None) is not None
    ):
        return None
    if getattr(app, "auth", None) is not None and not _logged_in(scope):
        return None  # Gradio says 401
    function = getattr(blocks().blocks.get(ids), name, None)
    marked = getattr(function, "_is_server_fn", False) and getattr(
        function, "answered_by_the_guard", False
    )
    return function if marked else None


async def _json(send: Any, payload: dict) -> None:
    await _respond(send, 200, json.dumps(payload).encode(), b"application/json")


def _replay(body: bytes) -> Any:
    """An ASGI `receive` that hands the app a body already read."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _refuse(
    send: Any, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    closing = [(b"connection", b"close"), *(headers or [])]  # the unread body is not ours
    await _respond(send, status, text.encode(), b"text/plain; charset=utf-8", closing)


async def _respond(
    send: Any,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    length = str(len(body)).encode()
    headers = [(b"content-type", content_type), (b"content-length", length), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
