"""Resource exhaustion: each attack of the limits issue, replayed against a launched app.

Launches `python app.py` from a checkout (this one by default; `--root` another, such as a
`git worktree` of the commit before the limits, for the "before" figures) with a login,
a copy of its weights/ and an upload cache of its own, then replays, as raw HTTP:

  F1  component_server accept_blobs: layer index 30,000,000, then 30 blobs of 9.9 MB
  F2  a 13000x13000 1-bit PNG (~20 kB) as a sketch's composite and two of its layers
  F3  /call/train with epochs 10000, batch size 1 (no session), then /call/stop
  F4  200 uploads of 9.9 MB to /gradio_api/upload, then a restart
  F5  /predict with a valid sketch and a model name of 2 MB, then of 100 MB
  F7  1,000, then 2,000 more requests, each from a new session
  F6  1,500 wrong passwords on /login, 8 at a time (last: it locks this address out)
  F8  26 /mistakes calls cycling through 14 models (each queues the training images'
      features of its model), then one /inspect: how long it waits
  F9  12 personal fits asked at once (each a core for seconds), then one more: its time
  F10 personal sets started from one address with a new token and name each time, until
      refused (every newcomer was refused for good once 500 were taken)
  F11 the login's set fitted on five bases in turn, /models listed after each: the
      personal models kept, their disk, and the memory that stays
  F12 the pen canvas flooded from one address (50 at once, 20 s, with Why?), while a
      person on another address (127.0.0.2) lifts the pen every 0.5 s: their p50/p95/max

Prints per row the server's memory kept (RSS after - before), its peak over the row (VmHWM,
reset before each row), the upload cache on disk, the time taken and what happened.

    python -m bench.exhaust                       # this checkout
    git worktree add /tmp/before ede6320 && python -m bench.exhaust --root /tmp/before
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from bench import run_script
from mnist_app.core.paths import PROJECT_ROOT, shared_mnist_dir
from mnist_app.personal.fit import MIN_PER_DIGIT
from mnist_app.ui.pen_canvas import png_data_url
from tests.harness.hostile import blob_upload
from tests.harness.rest import call, train_data
from tests.harness.server import free_port
from tests.harness.sketches import pen_drawing

USER, PASSWORD = "bench", "a long and secret passphrase"
MODEL = "speedrun"  # a fit's base: small, its MNIST features quick to make
MB = 2**20


class Server:
    """app.py from `root`, launched with a login; its pid, log and upload cache."""

    def __init__(self, root: Path, work: Path):
        self.root, self.work = root, work
        self.weights = work / "weights"
        shutil.copytree(root / "weights", self.weights)
        self.cache = work / "cache"
        self.log = work / "app.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "GRADIO_ANALYTICS_ENABLED": "False",
            "MNIST_DIR": str(shared_mnist_dir()),
            "MNIST_APP_USERNAME": USER,
            "MNIST_APP_PASSWORD": PASSWORD,
            "GRADIO_TEMP_DIR": str(self.cache),  # the old app's cache: the same folder
            "MNIST_APP_CACHE_DIR": str(self.cache),
            "MNIST_APP_PERSONAL_DIR": str(self.work / "personal"),
        }
        command = [sys.executable, "app.py", "--weights-dir", str(self.weights)]
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)], cwd=self.root, env=env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url, timeout=5).status_code == 200:
                    self.settle()
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise RuntimeError(f"the app did not start:\n{self.log.read_text()[-3000:]}")

    def settle(self, within_mb: float = 5, longest_s: float = 60) -> None:
        """Wait until the warm-up (MNIST, the default model's evaluation) is over: the
        server's memory steady for 3 s."""
        readings = [self.status("VmRSS")]
        deadline = time.monotonic() + longest_s
        while time.monotonic() < deadline:
            time.sleep(1)
            readings.append(self.status("VmRSS"))
            if len(readings) > 3 and max(readings[-4:]) - min(readings[-4:]) < within_mb:
                return

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def status(self, field: str) -> float:
        """A memory figure of the server process from /proc, in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise KeyError(field)

    def reset_peak(self) -> None:
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def cache_mb(self) -> float:
        files = [p for p in self.cache.rglob("*") if p.is_file()] if self.cache.exists() else []
        return sum(p.stat().st_size for p in files) / MB


def logged_in(server: Server) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=120)
    answer = client.post("login", data={"username": USER, "password": PASSWORD})
    answer.raise_for_status()
    return client


def component_id(client: httpx.Client, kind: str, elem_id: str | None = None) -> int:
    config = client.get("config").json()
    for component in config["components"]:
        props = component.get("props", {})
        if component["type"] == kind and (elem_id is None or props.get("elem_id") == elem_id):
            return component["id"]
    raise LookupError(kind)


def png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def send_blob(client: httpx.Client, editor: int, drawing: str, index: int, blob: bytes) -> int:
    form = blob_upload(editor, index, drawing, blob)
    return client.post("gradio_api/component_server", **form).status_code


def upload(client: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return client.post("gradio_api/upload", files={"files": (name, data, "image/png")})


def file_ref(client: httpx.Client, path_or_bytes: Path | bytes, name: str = "x.png") -> dict:
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    answer = upload(client, name, data)
    answer.raise_for_status()
    return {"path": answer.json()[0], "meta": {"_type": "gradio.FileData"}}


def f1(server: Server, client: httpx.Client) -> str:
    editor = component_id(client, "imageeditor")
    tiny = png_bytes(Image.new("RGBA", (8, 8)))
    first = send_blob(client, editor, "huge-index", 30_000_000, tiny)
    big = os.urandom(int(9.9 * MB))
    codes = [send_blob(client, editor, f"blob-{i}", 0, big) for i in range(30)]
    kept = sum(code == 200 for code in codes)
    return f"index 30M: HTTP {first}; 9.9 MB blobs accepted: {kept}/30"


def f2(server: Server, client: httpx.Client) -> str:
    giant = png_bytes(Image.new("1", (13000, 13000), 1), optimize=True)
    ref = file_ref(client, giant, "giant.png")
    sketch = {"background": None, "layers": [ref, ref], "composite": ref}
    events = call(client, "predict", [sketch, "speedrun"])
    kind, data = events[-1]
    return f"{len(giant) / 1024:.0f} kB PNG: {kind}: {data[:90]}"


def f3(server: Server, client: httpx.Client) -> str:
    values = {"recipe": "t5_mlp_bn", "name": "exhaust", "epochs": 10_000, "batch_size": 1}
    events = call(client, "train", train_data(values), first_only=True)
    kind, data = events[-1]
    if kind != "generating":
        return f"refused: {data[:110]}"
    first = json.loads(data)[0]
    token = first.get("stop_token")
    time.sleep(5)
    stop = call(client, "stop", [token] if token else [])
    return f"started ({first.get('total_steps') or '?'} steps); /call/stop: {stop[-1][1][:80]}"


def f4(server: Server, client: httpx.Client) -> str:
    data = os.urandom(int(9.9 * MB))
    codes = [upload(client, f"u{i}.png", data).status_code for i in range(200)]
    accepted = sum(code == 200 for code in codes)
    on_disk = server.cache_mb()
    server.stop()
    server.start()
    return (
        f"accepted {accepted}/200 ({on_disk:,.0f} MB on disk); "
        f"after a restart: {server.cache_mb():,.0f} MB"
    )


def f5(server: Server, client: httpx.Client) -> str:
    drawing, _ = pen_drawing(1, server.work / "one.png")
    outcomes = []
    for size in (2 * MB, 100 * MB):
        log_before = server.log.stat().st_size
        sketch = {"background": None, "layers": [], "composite": file_ref(client, drawing)}
        events = call(client, "predict", [sketch, "m" * size])
        time.sleep(1)
        grown = (server.log.stat().st_size - log_before) / MB
        outcomes.append(
            f"{size // MB} MB name: reply {len(events[-1][1]):,} B, log +{grown:.1f} MB"
        )
    return "; ".join(outcomes)


def f6(server: Server, client: httpx.Client) -> str:
    def attempt(_: int) -> int:
        wrong = {"username": USER, "password": "guess"}
        return httpx.post(server.url + "login", data=wrong, timeout=60).status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(1500)))
    rate = len(codes) / (time.perf_counter() - start)
    checked = codes.count(400)
    return f"{rate:,.0f} tries/s; passwords checked: {checked}, refused unchecked: {1500 - checked}"


def f7(server: Server, client: httpx.Client) -> str:
    pen = component_id(client, "html", "pen")
    kept = []
    for start, count in ((0, 1000), (1000, 2000)):
        for i in range(start, start + count):
            body = {
                "session_hash": f"session-{i}",
                "component_id": pen,
                "fn_name": "read_pen",
                "data": {"image": None, "kind": "canvas", "model": "speedrun"},
            }
            client.post("gradio_api/component_server", json=body)
        time.sleep(1)
        kept.append(f"{start + count:,} sessions: RSS {server.status('VmRSS'):,.0f} MB")
    return "; ".join(kept)


# F6 last: it locks this machine's address out of logging in.
def f8(server: Server, client: httpx.Client) -> str:
    for k in range(3):  # 14 models: the 11 shipped and three copies
        shutil.copy2(server.weights / "t4_lenet5.pt", server.weights / f"lenet-copy{k}.pt")
    models = [name["name"] for name in call_json(client, "models", [])][:14]
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(lambda k: call(client, "mistakes", [models[k % 14], "any", "any"]), range(26))
        )
    started = time.perf_counter()
    answer = call(client, "inspect", ["resnet_drawn", 0])
    waited = time.perf_counter() - started
    return f"{len(models)} models; then /inspect answered in {waited:.1f} s ({answer[-1][0]})"


def f10(server: Server, client: httpx.Client) -> str:
    png, digit = pen_drawing(0, server.work / "pen.png")
    image = file_ref(client, png)
    refusal = ""
    for k in range(100):
        answer = call(client, "collect", [image, str(digit), f"taker{k}", "resnet_drawn", f"t{k}"])
        if answer[-1][0] != "complete":
            refusal = f", then: {json.loads(answer[-1][1])[:90]}"
            break
    sets = [p for p in (server.work / "personal").iterdir() if not p.name.startswith(".")]
    # With the login on (as here), every call keeps to the login's own set; without one,
    # the per-owner and per-address caps stop it (tests/test_doors.py).
    return f"{k + 1} calls: {len(sets)} set(s) on disk{refusal}"


def full_set(server: Server, client: httpx.Client) -> None:
    """Collect pen drawings into the login's personal set until a fit has enough."""
    counts = np.zeros(10, int)
    for k in range(200):
        png, digit = pen_drawing(k, server.work / "pen.png")
        if counts[digit] < MIN_PER_DIGIT:
            answer = call(client, "collect", [file_ref(client, png), str(digit), "me", MODEL, ""])
            assert answer[-1][0] == "complete", answer[-1]
            counts[digit] += 1
        if counts.min() >= MIN_PER_DIGIT:
            return


def fit(client: httpx.Client, base: str) -> tuple[float, str]:
    """One fit of the login's set onto `base`: seconds, and "fitted" or its refusal."""
    started = time.perf_counter()
    status, payload = call(client, "fit_personal", ["me", base, ""])[-1]
    said = "fitted" if status == "complete" else str(json.loads(payload))[:80]
    return time.perf_counter() - started, said


def f9(server: Server, client: httpx.Client) -> str:
    full_set(server, client)
    fit(client, MODEL)  # the base's MNIST features, once: not what is measured
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: fit(logged_in(server), MODEL), range(12)))
    busy = [s for s, said in answers if said != "fitted"]
    alone, said = fit(client, MODEL)
    return (
        f"12 at once: {12 - len(busy)} fitted, {len(busy)} answered busy in at most "
        f"{max(busy, default=0):.1f} s ({answers[-1][1][:50]}...); one more: {alone:.1f} s, {said}"
    )


def f11(server: Server, client: httpx.Client) -> str:
    full_set(server, client)
    said = []
    for base in ("speedrun", "t4_lenet5", "t5_mlp_bn", "t1_mlp_mse", "t2_fullbatch_mlp"):
        said.append(fit(client, base)[1])
        call_json(client, "models", [])
    shipped = {p.stem for p in (server.root / "weights").glob("*.pt")}
    kept = [p for p in server.weights.glob("*.pt") if p.stem not in shipped]
    disk = sum(p.stat().st_size for p in kept) / MB
    return f"5 fits: {len(kept)} personal models kept ({disk:.1f} MB); the last: {said[-1]}"


def call_json(client: httpx.Client, api: str, data: list):
    """A named endpoint's final answer, decoded."""
    return json.loads(call(client, api, data)[-1][1])[0]


def canvas_frame(client: httpx.Client, why: bool) -> dict:
    """A pen-drawn digit as the page's canvas posts it to component_server."""
    png, _ = pen_drawing(0, Path(tempfile.mkdtemp()) / "pen.png")
    rgb = np.asarray(Image.open(png).convert("L"))
    drawing = np.zeros((280, 280, 4), np.uint8)
    drawing[..., 3] = 255 - rgb  # black strokes on a transparent canvas
    request = {"image": png_data_url(drawing), "kind": "canvas", "why": why}
    return {
        "session_hash": secrets.token_hex(8),
        "component_id": component_id(client, "html", "pen"),
        "fn_name": "read_pen",
        "data": request,
    }


def f12(server: Server, client: httpx.Client) -> str:
    flood_frame, person_frame = canvas_frame(client, why=True), canvas_frame(client, why=False)
    cookies, until = client.cookies, time.perf_counter() + 20
    sent = []

    def flood(_: int) -> None:
        with httpx.Client(base_url=server.url, cookies=cookies, timeout=60) as flooder:
            while time.perf_counter() < until:
                status = flooder.post("gradio_api/component_server", json=flood_frame)
                sent.append(status.status_code)

    def person() -> list[float]:
        waits = []
        other_address = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=server.url, cookies=cookies, transport=other_address) as me:
            while time.perf_counter() < until:
                started = time.perf_counter()
                me.post("gradio_api/component_server", json=person_frame).raise_for_status()
                waits.append(time.perf_counter() - started)
                time.sleep(0.5)
        return waits

    with ThreadPoolExecutor(51) as pool:
        flooding = [pool.submit(flood, k) for k in range(50)]
        waits = sorted(person())
        for job in flooding:
            job.result()
    p = [waits[int(q * (len(waits) - 1))] * 1000 for q in (0.5, 0.95)]
    refused = sum(s == 429 for s in sent)
    return (
        f"the person's {len(waits)} pen-ups: p50 {p[0]:.0f} ms, p95 {p[1]:.0f} ms, max "
        f"{waits[-1] * 1000:.0f} ms; the flood: {len(sent)} requests, {refused} refused (429)"
    )


ROWS = {
    "F1": f1,
    "F2": f2,
    "F3": f3,
    "F4": f4,
    "F5": f5,
    "F7": f7,
    "F6": f6,
    "F8": f8,
    "F9": f9,
    "F10": f10,
    "F11": f11,
    "F12": f12,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="checkout to launch")
    parser.add_argument("--rows", default=",".join(ROWS), help="e.g. F1,F2")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="exhaust-"))
    server = Server(args.root.resolve(), work)
    server.start()
    print(f"app from {server.root} (pid {server.process.pid})\n")
    print("| row | kept MB | peak +MB | cache MB | time s | what happened |")
    print("|---|---:|---:|---:|---:|---|")
    try:
        for row in args.rows.split(","):
            client = logged_in(server)
            before = server.status("VmRSS")
            server.reset_peak()
            start = time.perf_counter()
            try:
                outcome = ROWS[row](server, client)
            except Exception as err:  # an attack may break the old server: say so, go on
                outcome = f"{type(err).__name__}: {str(err)[:100]}"
            took = time.perf_counter() - start
            time.sleep(3)
            if server.process.poll() is not None:
                print(f"| {row} | | | | {took:.1f} | server died: {outcome} |")
                server.start()
                continue
            if row == "F4":  # restarted: memory figures of another process
                kept = peak = "(restart)"
            else:
                kept = f"{server.status('VmRSS') - before:+,.0f}"
                peak = f"{server.status('VmHWM') - before:+,.0f}"
            print(
                f"| {row} | {kept} | {peak} | {server.cache_mb():,.0f} | {took:.1f} | {outcome} |",
                flush=True,
            )
            if row == "F3":  # a run the attack could not stop would hold the CPU for the rest
                server.stop()
                server.start()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_script(main)
