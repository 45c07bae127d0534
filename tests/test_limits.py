"""Every request has a bounded cost: each attack of the resource-exhaustion issue, replayed
small against a launched app (or, where the bound is internal, the real component)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import struct
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from mnist_app.core.paths import pendigits_file
from mnist_app.pen.replay import parse
from mnist_app.ui.inputs import with_bounded_blobs
from mnist_app.ui.limits import Limits, RequestGuard, answered_by_the_guard
from mnist_app.ui.login_throttle import LoginThrottle
from mnist_app.ui.upload_cache import UploadCache
from tests.conftest import MNIST_DIR
from tests.harness.hostile import blob_upload
from tests.harness.rest import call, train_data
from tests.harness.server import MODEL, launched_app, train_args
from tests.harness.sketches import canvas_data_url, pen_drawing
from tests.harness.sketches import composite_value as sketch

PASSWORD = "correct horse"


def giant_png_header(path: Path, side: int = 13000) -> Path:
    """A PNG that says it is side x side pixels: its header and nothing more."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit grey
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


def test_a_giant_png_is_refused_by_its_header_before_decoding(client, tmp_path):
    giant = giant_png_header(tmp_path / "giant.png")
    too_large = r"too large: 169,000,000 pixels, at most 40,000,000"
    with pytest.raises(AppError, match=too_large):
        client.predict(handle_file(str(giant)), MODEL, api_name="/predict_image")
    with pytest.raises(AppError, match=too_large):
        client.predict(sketch(giant), MODEL, api_name="/predict")


def test_a_sketchs_layers_count_towards_its_pixels(client, tmp_path):
    # Three 4000x4000 images: 16 million pixels each, under the limit alone, 48 together.
    big = tmp_path / "big.png"
    Image.new("L", (4000, 4000), 255).save(big)
    value = sketch(big)
    value["layers"] = [handle_file(str(big)), handle_file(str(big))]
    with pytest.raises(AppError, match="too large: 48,000,000 pixels"):
        client.predict(value, MODEL, api_name="/predict")


def hidden_sketchpad_id(app_url: str) -> int:
    config = httpx.get(app_url + "config").json()
    ids = [c["id"] for c in config["components"] if c["type"] == "imageeditor"]
    assert len(ids) == 1, ids
    return ids[0]


def send_blob(app_url: str, index: int | str, blob: bytes = b"x" * 64) -> httpx.Response:
    form = blob_upload(hidden_sketchpad_id(app_url), index, "d1", blob)
    return httpx.post(app_url + "gradio_api/component_server", **form)


def test_a_sketch_blob_with_a_huge_layer_index_is_refused(app_url):
    assert send_blob(app_url, 0).status_code == 200
    refused = send_blob(app_url, 30_000_000)
    assert refused.status_code == 400 and "layer index must be 0 to 3" in refused.text


def blobs(drawing: str, session: str, size: int) -> SimpleNamespace:
    data = {"type": "layer", "index": "0", "id": drawing, "session_hash": session}
    return SimpleNamespace(data=data, files=[("blob", b"x" * size)])


def test_the_sketchpads_blobs_are_bounded_per_session_and_in_total():
    import gradio as gr  # the real component, its blob store and Gradio's own accept_blobs

    editor = with_bounded_blobs(gr.Sketchpad(), 4, drawings_per_session=2, total_bytes=1000)
    for drawing in ("a1", "a2", "a3"):
        editor.accept_blobs(blobs(drawing, "alice", 100))
    assert list(editor.blob_storage) == ["a2", "a3"]  # her oldest drawing went first
    editor.accept_blobs(blobs("b1", "bob", 850))
    assert list(editor.blob_storage) == ["a3", "b1"]  # over 1000 bytes: the oldest went
    with pytest.raises(Exception, match="too large"):
        editor.accept_blobs(blobs("b2", "bob", 1001))
    assert sum(len(b.layers[0]) for b in editor.blob_storage.values()) <= 1000


def test_a_run_longer_than_the_step_cap_is_refused_through_rest(app_url):
    """/call/train, as a REST client calls it: refused before anything starts."""
    for changes, message in [
        (dict(epochs=10_000, batch_size=1, steps=0), "at most 10,000,000 steps"),
        (dict(batch_size=10**12), "batch size must be in"),
        (dict(seed=2**80), "seed must be in"),
    ]:
        with httpx.Client(base_url=app_url, timeout=300) as rest:
            events = call(rest, "train", train_data(train_args(**changes)))
        assert events[-1][0] == "error" and message in events[-1][1], events[-1]


def test_a_long_name_is_cut_short_in_the_answer_and_refused_when_huge(client, tmp_path):
    drawing, _ = pen_drawing(1, tmp_path / "one.png")
    long_name = "m" * 100_000
    with pytest.raises(AppError) as refused:
        client.predict(sketch(drawing), long_name, api_name="/predict")
    assert len(str(refused.value)) < 300 and "(100,000 characters)" in str(refused.value)
    body = json.dumps({"data": [None, "m" * 2_000_000], "fn_index": 0, "session_hash": "x"})
    huge = httpx.post(client.src.rstrip("/") + "/gradio_api/queue/join", content=body)
    assert huge.status_code == 413 and "maximum allowed size" in huge.text


@pytest.fixture(scope="module")
def guarded_app(app_weights, tmp_path_factory):
    """An app with a login, small upload quotas and a training time limit of 3 s."""
    folder = tmp_path_factory.mktemp("guarded")
    cache = folder / "cache"
    (cache / "old-upload").mkdir(parents=True)
    (cache / "old-upload" / "left.png").write_bytes(b"from an earlier run")
    env = {
        "MNIST_APP_USERNAME": "ada",
        "MNIST_APP_PASSWORD": PASSWORD,
        "MNIST_APP_CLIENT_UPLOAD_MB": "1",
        "MNIST_APP_CACHE_DIR": str(cache),
        "MNIST_APP_MAX_TRAIN_MINUTES": "0.05",
    }
    log = folder / "app.log"
    with launched_app(app_weights, MNIST_DIR, log, env=env) as url:
        yield SimpleNamespace(url=url, cache=cache)


def login(url: str, password: str, headers: dict | None = None) -> httpx.Response:
    data = {"username": "ada", "password": password}
    return httpx.post(url + "login", data=data, headers=headers, timeout=30)


@pytest.mark.slow
def test_failed_logins_lock_out_wrong_passwords_but_never_the_right_one(guarded_app):
    url = guarded_app.url
    for _ in range(6):  # five free failures, and the sixth locks the address for a second
        assert login(url, "wrong").status_code == 400
    started = time.perf_counter()
    locked = login(url, "wrong again")
    assert locked.status_code == 429 and "Too many failed logins" in locked.text
    assert int(locked.headers["retry-after"]) >= 1
    assert time.perf_counter() - started >= 1  # a locked address's guesses wait their turn
    # someone else's failures keep no one out, sent as the login page sends it (multipart)
    as_the_page = {"username": (None, " ada "), "password": (None, PASSWORD)}
    assert httpx.post(url + "login", files=as_the_page, timeout=30).status_code == 200


@pytest.mark.slow
def test_a_forwarded_for_header_does_not_make_one_client_many(guarded_app):
    """Uvicorn believes X-Forwarded-For from local clients unless told otherwise: rotating
    it passed the lock-out, and failures sent as another address locked that one out."""
    url = guarded_app.url
    answers = [
        login(url, "wrong", {"X-Forwarded-For": f"192.0.2.{k}"}).status_code for k in range(8)
    ]
    assert answers[:6] == [400] * 6 and answers[6:] == [429, 429], answers
    assert login(url, PASSWORD, {"X-Forwarded-For": "192.0.2.7"}).status_code == 200


@pytest.mark.slow
def test_with_a_login_heartbeats_and_the_api_schema_need_it_too(guarded_app):
    url = guarded_app.url
    assert httpx.get(url + "gradio_api/heartbeat/anyone", timeout=10).status_code == 401
    assert httpx.get(url + "gradio_api/openapi.json", timeout=10).status_code == 401
    assert httpx.get(url + "openapi.json", timeout=10).status_code == 404
    cookies = login(url, PASSWORD).cookies
    with httpx.stream("GET", url + "gradio_api/heartbeat/ada", cookies=cookies) as beat:
        assert beat.status_code == 200


@pytest.mark.slow
def test_with_a_login_the_pen_canvas_answers_only_those_logged_in(guarded_app):
    """The guard answers the canvas itself, without Gradio's route: its login check too."""
    url, cookies = guarded_app.url, login(guarded_app.url, PASSWORD).cookies
    config = httpx.get(url + "config", cookies=cookies, timeout=30).json()
    pen = next(c["id"] for c in config["components"] if c["props"].get("elem_id") == "pen")
    digit = parse(pendigits_file("test"))[0]
    image = canvas_data_url(digit.fit(280, 180, (140, 140)))
    body = {
        "session_hash": "a-page",
        "component_id": pen,
        "fn_name": "read_pen",
        "data": {"image": image, "kind": "canvas", "model": MODEL},
    }
    ask = url + "gradio_api/component_server"
    assert httpx.post(ask, json=body, timeout=30).status_code == 401
    answer = httpx.post(ask, json=body, cookies=cookies, timeout=30)
    assert answer.status_code == 200 and answer.json()["state"] == "digit"


def test_the_guard_calls_only_marked_canvas_functions_and_leaves_the_rest_to_gradio():
    """It answers a /component_server request itself only for a function marked
    answered_by_the_guard, asked by POST, and with a login only for the login's cookie read
    as Gradio reads it; anything else goes on to Gradio (here the inner app's "ok")."""

    def read_pen(data):
        return {"read": data}

    def other(data):
        return {"other": data}

    read_pen._is_server_fn = other._is_server_fn = True
    answered_by_the_guard(read_pen)
    blocks = SimpleNamespace(blocks={7: SimpleNamespace(read_pen=read_pen, other=other)})
    app = {"get_blocks": lambda: blocks, "auth": None, "auth_dependency": None}
    app |= {"tokens": {"token": "ada"}, "cookie_id": "c"}
    guard = RequestGuard(answering_app(), Limits(), None, LoginThrottle())

    def ask(name: str = "read_pen", method: str = "POST", cookie: bytes = b"", **changes):
        request = {"session_hash": "p", "component_id": 7, "fn_name": name, "data": 1}
        body = json.dumps(request).encode()
        headers = [(b"content-length", str(len(body)).encode()), (b"cookie", cookie)]
        scope = {"type": "http", "method": method, "path": "/gradio_api/component_server"}
        scope |= {"client": ("192.0.2.1", 1), "headers": headers}
        sent = []

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        asyncio.run(guard({**scope, "app": SimpleNamespace(**{**app, **changes})}, receive, send))
        return sent[-1]["body"]

    login = {"auth": {"ada": PASSWORD}}
    assert json.loads(ask()) == {"read": 1}
    assert ask("other") == b"ok"  # a server function, not marked
    assert ask("__init__") == b"ok"  # not a server function
    assert ask(method="PUT") == b"ok"
    assert ask(**login) == b"ok"  # Gradio answers 401
    assert json.loads(ask(cookie=b"access-token-c=token", **login)) == {"read": 1}
    # Gradio reads the secure cookie first, and only it when it is there.
    assert ask(cookie=b"access-token-c=bad; access-token-unsecure-c=token", **login) == b"ok"
    assert ask(auth_dependency=lambda request: "ada") == b"ok"  # Gradio asks it


async def empty_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


def answering_app(work_s: float = 0.0):
    """What stands behind the guard in these tests: each request answered 200 after
    `work_s` of (simulated) work."""

    async def app(scope, receive, send):
        await asyncio.sleep(work_s)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


async def through(
    guard: RequestGuard,
    address: str,
    path: str = "/gradio_api/component_server",
    method: str = "POST",
    size: int = 0,
    receive=empty_body,
) -> tuple[int, float]:
    """One request from `address` through `guard`: its status, and how long it took."""
    sent, started = [], time.perf_counter()

    async def send(message):
        sent.append(message)

    headers = [(b"content-length", str(size).encode())] if size else []
    scope = {"type": "http", "method": method, "path": path, "client": (address, 1)}
    await guard({**scope, "headers": headers}, receive, send)
    return sent[0]["status"], time.perf_counter() - started


def test_requests_open_at_once_from_one_address_are_capped():
    limits = Limits(connections_per_address=3)
    guard = RequestGuard(answering_app(0.2), limits, None, LoginThrottle())

    async def request(address: str) -> int:
        status, _ = await through(guard, address, path="/", method="GET")
        return status

    async def crowd() -> list[int]:
        return await asyncio.gather(*[request("192.0.2.1") for _ in range(5)], request("::1"))

    statuses = asyncio.run(crowd())
    assert sorted(statuses[:5]) == [200, 200, 200, 429, 429] and statuses[5] == 200
    assert asyncio.run(request("192.0.2.1")) == 200  # counted while open, not for ever


@pytest.mark.slow
def test_uploads_have_a_quota_per_client_and_the_cache_starts_empty(guarded_app, tmp_path):
    assert not (guarded_app.cache / "old-upload").exists()
    noise = tmp_path / "noise.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (330, 330, 3), dtype=np.uint8)).save(noise)  # ~330 kB
    cookies = login(guarded_app.url, PASSWORD).cookies
    statuses = []
    for _ in range(4):
        with open(noise, "rb") as f:
            answer = httpx.post(
                guarded_app.url + "gradio_api/upload", files={"files": f}, cookies=cookies
            )
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 200, 429], statuses
    assert "Upload quota reached: at most 1 MB" in answer.text


@pytest.mark.slow
def test_a_run_stops_at_the_servers_time_limit_and_saves(guarded_app, app_weights):
    client = Client(guarded_app.url, auth=("ada", PASSWORD), verbose=False)
    result = client.predict(**train_args(steps=1_000_000, name="timed"), api_name="/train")
    assert result["state"] == "done" and result["saved_as"] == "timed"
    assert "because it reached the server's time limit of 0.05 min" in result["message"]


@pytest.mark.slow
def test_the_stop_token_and_the_operators_signal_stop_a_run_from_anywhere(app_url, app_weights):
    starter, stranger = Client(app_url, verbose=False), Client(app_url, verbose=False)
    job = starter.submit(**train_args(steps=1_000_000, name="tokened"), api_name="/train")
    token = under_way(job)["stop_token"]
    assert "someone else" in stranger.predict("not-the-token", api_name="/stop")
    assert "Stopping" in stranger.predict(token, api_name="/stop")
    final = job.result(timeout=120)
    assert final["state"] == "done" and "Stopped early" in final["message"]
    assert "because" not in final["message"]  # its owner's stop needs no reason

    log = (app_weights.parent / "app.log").read_text()
    pid = int(re.search(r"pid (\d+):", log).group(1))
    job = starter.submit(**train_args(steps=1_000_000, name="signalled"), api_name="/train")
    under_way(job)
    os.kill(pid, signal.SIGUSR1)
    final = job.result(timeout=120)
    assert "because the server's operator stopped it" in final["message"]


def under_way(job) -> dict:
    """The first update of a run that has taken a step (stopped before, it saves nothing)."""
    for update in job:
        if update["step"] >= 1:
            return update
    raise AssertionError(f"the run ended before its first step: {job.result()}")


def test_the_login_throttle_doubles_the_lockout_and_forgets_a_quiet_address():
    now = [0.0]
    throttle = LoginThrottle(free=2, max_lock_s=10, max_clients=2, clock=lambda: now[0])
    for _ in range(2):
        throttle.failed("a")
    assert throttle.wait_s("a") == 0
    waits = []
    for _ in range(6):
        throttle.failed("a")
        waits.append(throttle.wait_s("a"))
    assert waits == [1, 2, 4, 8, 10, 10]
    now[0] += 21  # twice the longest lockout without a failure
    assert throttle.wait_s("a") == 0
    for client in ("b", "c", "d"):
        throttle.failed(client)
    assert len(throttle._records) == 2  # memory stays bounded however many addresses


def test_the_upload_cache_keeps_its_quota_and_sweeps_old_and_excess_files(tmp_path):
    cache = UploadCache(tmp_path, total_bytes=1000, client_bytes=600, client_files=10, max_age_s=60)
    assert cache.admit("a", 500) is None
    assert "Upload quota reached" in cache.admit("a", 200)
    assert cache.admit("b", 500) is None
    assert "upload space is full" in cache.admit("c", 100)
    for i, (age, size) in enumerate([(120, 300), (30, 400), (20, 400), (10, 400)]):
        path = tmp_path / f"u{i}" / "f.png"
        path.parent.mkdir()
        path.write_bytes(b"x" * size)
        os.utime(path, (time.time() - age, time.time() - age))
    cache.sweep()  # the old one goes, then the oldest while over 1000 bytes
    left = sorted(p.parent.name for p in tmp_path.rglob("*.png"))
    assert left == ["u2", "u3"]
    assert cache.admit("c", 100) is None  # recounted: room again


def test_session_state_is_capped_so_memory_levels_off(mnist, tmp_path):
    """Each new session costs Gradio ~130 kB of state: only `sessions` of them are kept.
    The pen canvas, answered by the guard, makes none."""
    from mnist_app.service.library import ModelLibrary
    from mnist_app.ui import Limits, build_app, launch_options, with_queue
    from tests.harness.server import weights_with_quick_model

    library = ModelLibrary(weights_with_quick_model(mnist, tmp_path / "weights"))
    demo = with_queue(build_app(library))
    limits = Limits(sessions=3)
    demo.launch(prevent_thread_lock=True, quiet=True, **launch_options(limits, None))
    try:
        pen = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "pen")
        for i in range(10):  # each from a new session, as an attacker would send them
            body = {
                "session_hash": f"new-{i}",
                "component_id": pen._id,
                "fn_name": "read_pen",
                "data": {"image": None, "kind": "canvas", "model": MODEL},
            }
            answer = httpx.post(demo.local_url + "gradio_api/component_server", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["state"] == "error"  # no image: "the page sent no image"
        assert len(demo.state_holder.session_data) == 0
        for _ in range(6):  # each a new page's session
            Client(demo.local_url, verbose=False).predict(api_name="/models")
        assert len(demo.state_holder.session_data) == 3
    finally:
        demo.close()


def test_a_flood_of_canvas_requests_from_one_address_leaves_others_their_turn():
    limits = Limits(canvas_slots=1, canvas_waiting_per_address=40)
    guard = RequestGuard(answering_app(0.05), limits, None, LoginThrottle())  # 50 ms an answer

    async def flood_then_a_person() -> tuple[list, tuple[int, float]]:
        flood = [asyncio.create_task(through(guard, "192.0.2.66")) for _ in range(45)]
        await asyncio.sleep(0.12)  # the flood's first answers are being worked on
        person = await through(guard, "198.51.100.7")
        return await asyncio.gather(*flood), person

    flood, (status, waited) = asyncio.run(flood_then_a_person())
    assert status == 200 and waited < 0.2  # its turn came next, not after 40 others (2 s)
    statuses = sorted(s for s, _ in flood)
    assert statuses.count(429) == 4 and statuses.count(200) == 41  # 1 running + 40 waiting


def test_images_sent_as_data_urls_count_towards_the_upload_quota(tmp_path):
    uploads = UploadCache(tmp_path, 10 * 2**20, client_bytes=2**20, client_files=1000)
    guard = RequestGuard(answering_app(), Limits(), uploads, LoginThrottle())

    def post(path: str, size: int) -> int:
        status, _ = asyncio.run(through(guard, "192.0.2.5", path=path, size=size))
        return status

    frames = [post("/gradio_api/component_server", 15_000) for _ in range(200)]  # 3 MB
    assert set(frames) == {200}, "a drawing's frames are not uploads"
    big = [post("/gradio_api/component_server", 300_000) for _ in range(4)]
    assert big == [200, 200, 200, 429]  # a 981 kB data URL flood is held to 1 MB an hour
    assert post("/gradio_api/call/predict_image", 300_000) == 429
    assert post("/gradio_api/upload", 300_000) == 429  # one quota for every route


def test_a_drawing_that_trickles_in_holds_no_turn_from_others():
    limits = Limits(canvas_slots=2, body_deadline_s=0.5)
    guard = RequestGuard(answering_app(), limits, None, LoginThrottle())

    async def never_ends() -> dict:
        await asyncio.sleep(3600)  # a body sent a byte at a time, for ever
        return {}

    async def trickle_then_a_person():
        trickles = [
            asyncio.create_task(through(guard, f"192.0.2.{k}", receive=never_ends))
            for k in range(4)
        ]
        await asyncio.sleep(0.05)
        person = await through(guard, "198.51.100.7")
        return await asyncio.gather(*trickles), person

    trickled, (status, waited) = asyncio.run(trickle_then_a_person())
    assert status == 200 and waited < 0.2
    assert [s for s, _ in trickled] == [408] * 4


def canvas_frame(live: bool, page: str = "a-page"):
    """A pen canvas request's body as `page` sends it: `live` while the pen is down."""
    request = {
        "session_hash": page,
        "fn_name": "read_pen",
        "data": {"kind": "canvas", "live": live},
    }
    body = json.dumps(request).encode()

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


@pytest.mark.parametrize("marked", [True, False])
def test_a_pen_up_is_answered_before_twenty_pages_frames_sent_while_drawing(marked):
    """20 pages behind one address keep a live frame each waiting (as pen_canvas.js does,
    one in flight per page); a 21st page lifts its pen. Its answer takes the next free
    turn. Were the frames not marked live, it would wait behind all of them (the control)."""
    guard = RequestGuard(answering_app(0.02), Limits(), None, LoginThrottle())  # 20 ms each

    async def page_drawing(k: int, until: float) -> None:
        while time.perf_counter() < until:
            await through(guard, "192.0.2.30", receive=canvas_frame(marked, f"page{k}"))

    async def class_then_a_pen_up() -> float:
        until = time.perf_counter() + 1.0
        pages = [asyncio.create_task(page_drawing(k, until)) for k in range(20)]
        await asyncio.sleep(0.3)  # every page has a frame waiting by now
        status, waited = await through(guard, "192.0.2.30", receive=canvas_frame(False, "lifted"))
        assert status == 200
        await asyncio.gather(*pages)
        return waited

    waited = asyncio.run(class_then_a_pen_up())
    # 2 turns at once for one address, 20 ms each: next turn within 20 ms; behind 20
    # frames, 200 ms.
    if marked:
        assert waited < 0.08
    else:
        assert waited > 0.15


def test_a_pages_pen_up_drops_its_frame_still_waiting_which_nobody_would_see():
    """The page sends its pen-up without waiting for the frame it sent while drawing: that
    frame, still waiting for a turn, is answered at once as superseded, with no work."""
    guard = RequestGuard(answering_app(0.1), Limits(canvas_slots=1), None, LoginThrottle())

    async def answer(receive) -> tuple[bytes, float]:
        sent, started = [], time.perf_counter()

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/gradio_api/component_server"}
        await guard({**scope, "client": ("192.0.2.40", 1), "headers": []}, receive, send)
        return sent[1]["body"], time.perf_counter() - started

    async def someone_busy_then_a_page_lifts_its_pen():
        busy = asyncio.create_task(answer(canvas_frame(False, "someone")))
        await asyncio.sleep(0.02)  # the one turn is taken for 100 ms
        glimpse = asyncio.create_task(answer(canvas_frame(True, "page")))
        other = asyncio.create_task(answer(canvas_frame(True, "another-page")))
        await asyncio.sleep(0.02)
        pen_up = await answer(canvas_frame(False, "page"))
        return await glimpse, pen_up, await other, await busy

    glimpse, pen_up, other, _ = asyncio.run(someone_busy_then_a_page_lifts_its_pen())
    assert json.loads(glimpse[0])["state"] == "superseded" and glimpse[1] < 0.08
    assert pen_up[0] == b"ok" and other[0] == b"ok"  # another page's frame is kept
