"""A classroom drawing at once: N people on one server, each at the page's own cadence.

Each simulated person draws pendigits test-writer digits stroke by stroke on the Draw
tab's pen canvas, as pen_canvas.js does: while the pen is down, the drawing so far is
posted to the canvas's server function at most every 60 ms (or as the last reply's
`pace_ms` says: 250 ms while a model trains on the server) and never two at a time,
marked live (answered without the stage strip); at pen-up, the whole stroke is posted
once more, at once, even while a live frame is out (the server drops that frame if it still
waits; `--unmarked` sends frames unmarked and the pen-up after them, as before). The pen
moves at 500 canvas px/s, lifts for 100 ms between strokes, and rests 1 s between digits.
Every frame is rendered before the pen goes down, so the clients cost little CPU.

Timed: pen-up -> its answer (the wait a person sees), p50 / p95 / max, errors, canvas
answers per second (live frames dropped unanswered are not answers), and the server's and
the simulated people's CPU per answer. Against:
  app        the app (`python app.py`, the shipped weights, the Draw tab's default model)
  floor      a do-nothing server function behind the same canvas (bench/trivial_server.py)
  training   the app while a `speedrun` run trains through /train, started 2 s into a class
             that lasts until it ends (its time against the same run on the quiet app)

    python -m bench.classroom                              # app, N = 1 10 30 60
    python -m bench.classroom --against floor app training --people 30 --seconds 20
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from gradio_client import Client

from bench import run_script
from mnist_app.core.paths import WEIGHTS_DIR, pendigits_file, shared_mnist_dir
from mnist_app.pen.replay import PenDigit, parse
from mnist_app.ui.pen_answers import LIVE_EVERY_MS
from tests.harness.server import launched_app, launched_server, server_pid, train_args
from tests.harness.sketches import canvas_data_url

PEN_SPEED = 500.0  # canvas px per second
LIFT_S = 0.100  # pen up between strokes
REST_S = 1.0  # between digits
TICK_S = 0.020  # frames rendered per this much pen time
HEADER = (
    "| against | people | pen-ups | p50 | p95 | max | errors | answers/s | frames dropped/s "
    "| server CPU ms/answer | the people's CPU ms/answer |"
)


@dataclass(frozen=True)
class Stroke:
    frames: list[str]  # the drawing so far every TICK_S of this stroke, as data URLs
    final: str  # the drawing at this stroke's pen-up

    @property
    def seconds(self) -> float:
        return len(self.frames) * TICK_S


def drawn_strokes(digit: PenDigit) -> list[Stroke]:
    """A digit's strokes as the frames the page would send while and after drawing each."""
    fitted = digit.fit(280, 180, (140, 140))
    strokes = []
    for k, stroke in enumerate(fitted):
        points = np.asarray(stroke)
        lengths = np.r_[0, np.cumsum(np.hypot(*np.diff(points, axis=0).T))]
        frames = []
        for t in np.arange(0, lengths[-1] / PEN_SPEED, TICK_S):
            upto = max(1, int(np.searchsorted(lengths, t * PEN_SPEED, side="right")))
            frames.append(canvas_data_url([*fitted[:k], stroke[:upto]]))
        whole = canvas_data_url(fitted[: k + 1])
        strokes.append(Stroke(frames or [whole], whole))
    return strokes


@dataclass
class Tally:
    waits: list[float] = field(default_factory=list)  # pen-up -> answer, seconds
    errors: list[str] = field(default_factory=list)
    answers: int = 0
    dropped: int = 0  # live frames the server dropped unanswered at their page's pen-up
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        wait: float | None = None,
        error: str | None = None,
        answered: int = 0,
        dropped: int = 0,
    ):
        with self.lock:
            self.answers += answered
            self.dropped += dropped
            if wait is not None:
                self.waits.append(wait)
            if error is not None:
                self.errors.append(error)


@dataclass(frozen=True)
class Page:
    """The Draw tab's canvas on a served page: its component, the model it opens on, and
    whether it marks the frames sent while the pen is down (pen_canvas.js; unmarked, as
    before 2026-12-07, every frame is answered in full)."""

    url: str
    pen: int
    model: str
    marks_live: bool = True


def page_at(url: str, marks_live: bool = True) -> Page:
    config = httpx.get(url + "config", timeout=30).json()
    for component in config["components"]:
        props = component.get("props", {})
        if props.get("elem_id") == "pen":
            model = props.get("value", "").split('data-model="')[-1].split('"')[0]
            return Page(url, component["id"], model, marks_live)
    raise LookupError("no pen canvas on the page")


class Person(threading.Thread):
    def __init__(self, page: Page, digits, tally: Tally, until: float, offset: float):
        super().__init__(daemon=True)
        self.page, self.digits, self.tally = page, digits, tally
        self.until, self.offset = until, offset  # when to stop drawing, and start
        self.session = secrets.token_hex(8)
        self.live_every_s = LIVE_EVERY_MS / 1000  # as pen_canvas.js: each reply may say more
        # The page's frame sent while drawing stays out as the pen lifts: a second sender.
        self.live_frames = futures.ThreadPoolExecutor(1)

    def run(self) -> None:
        with httpx.Client(base_url=self.page.url, timeout=60) as client, self.live_frames:
            time.sleep(self.offset)  # people do not all start on the same millisecond
            k = 0
            while time.monotonic() < self.until:
                for stroke in self.digits[k % len(self.digits)]:
                    self.draw(client, stroke)
                    time.sleep(LIFT_S)
                time.sleep(REST_S)
                k += 1

    def draw(self, client: httpx.Client, stroke: Stroke) -> None:
        down = time.monotonic()
        up = down + stroke.seconds
        last, live = -1.0, None  # when the last live frame left, and its answer to come
        while (now := time.monotonic()) < up:
            if live is not None and not live.done():  # one in flight at a time
                futures.wait([live], timeout=up - now)
                continue
            if now - last < self.live_every_s:
                time.sleep(min(self.live_every_s - (now - last), up - now))
                continue
            last = now
            frame = stroke.frames[min(int((now - down) / TICK_S), len(stroke.frames) - 1)]
            live = self.live_frames.submit(self.ask, client, frame, True)
        if (now := time.monotonic()) < up:
            time.sleep(up - now)
        if live is not None and not self.page.marks_live:
            live.result()  # the page before 2026-12-07 waited for it before its pen-up
        answered = self.ask(client, stroke.final)
        if live is not None:
            live.result()
        if answered is not None:
            self.tally.add(wait=answered - up)

    def ask(self, client: httpx.Client, image: str, live: bool = False) -> float | None:
        request = {"image": image, "kind": "canvas", "model": self.page.model, "why": False}
        if live and self.page.marks_live:
            request["live"] = True
        body = {
            "session_hash": self.session,
            "component_id": self.page.pen,
            "fn_name": "read_pen",
            "data": request,
        }
        try:
            response = client.post("gradio_api/component_server", json=body)
            response.raise_for_status()
            reply = response.json()
            state = reply.get("state")
            if isinstance(reply.get("pace_ms"), int):  # as pen_canvas.js: kept until told
                self.live_every_s = min(max(LIVE_EVERY_MS, reply["pace_ms"]), 1000) / 1000
            if live and state == "superseded":
                self.tally.add(dropped=1)
                return None
            if state not in ("digit", "not-digit", "refused"):
                raise RuntimeError(f"answer {state}")
        except Exception as err:  # every failure counts; the person goes on drawing
            self.tally.add(error=f"{type(err).__name__}: {err}"[:200])
            return None
        self.tally.add(answered=1)
        return time.monotonic()


def cpu_seconds(pid: int) -> float:
    """CPU seconds of the process and every process under it (the canvas's workers, the
    app's background measurements, a training run), dead children reaped by it included."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile
                continue
            parents[int(entry.name)], stats[int(entry.name)] = int(fields[1]), fields
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | more, bool(more)
    # utime + stime + cutime + cstime, in clock ticks of 10 ms
    return sum(sum(int(f) for f in stats[p][11:15]) for p in tree if p in stats) / 100


def wait_until_idle(pid: int, timeout: float = 300) -> None:
    """Until the process and its children use under 5% of a core for two seconds running
    (the app measures a model's drawn-digit accuracy and features in the background)."""
    deadline, quiet_since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        busy = cpu_seconds(pid) - before > 0.025
        quiet_since = None if busy else quiet_since or time.monotonic()
        if quiet_since and time.monotonic() - quiet_since >= 2:
            return


def classroom(
    page: Page,
    digits,
    people: int,
    seconds: float,
    settle: bool = True,
    begun: threading.Event | None = None,
) -> dict:
    """N people drawing for `seconds`; first, with `settle`, until the app is idle. `begun`
    is set as they start drawing."""
    pid = server_pid(page.url)
    Person(page, digits[:2], Tally(), time.monotonic() + 1, 0).run()  # warm
    if settle:  # the app warms its models up in the background at first
        wait_until_idle(pid)
    arrivals, tally = Tally(), Tally()
    crowd = [
        Person(page, digits[i::people] or digits, arrivals, math.inf, i / people)
        for i in range(people)
    ]
    # Each page's first frame before the class: whatever a first request costs (through
    # Gradio's route it made the page's session state, 29 ms of CPU) is paid as it loads.
    with httpx.Client(base_url=page.url, timeout=60) as client:
        for person in crowd:
            person.ask(client, digits[0][0].final)
    tally.errors += arrivals.errors
    cpu0, start = cpu_seconds(pid), time.monotonic()
    client0 = time.process_time()  # the simulated people's own CPU, on the same cores
    for person in crowd:
        person.tally, person.until = tally, start + seconds
    for person in crowd:
        person.start()
    if begun is not None:
        begun.set()
    for person in crowd:
        person.join()
    wall, cpu = time.monotonic() - start, cpu_seconds(pid) - cpu0
    client = time.process_time() - client0
    ms = np.array(tally.waits) * 1000
    return {
        "people": people,
        "pen-ups": len(ms),
        "p50": np.percentile(ms, 50) if len(ms) else float("nan"),
        "p95": np.percentile(ms, 95) if len(ms) else float("nan"),
        "max": ms.max() if len(ms) else float("nan"),
        "errors": len(tally.errors),
        "answers/s": tally.answers / wall,
        "dropped/s": tally.dropped / wall,
        "cpu ms/answer": 1000 * cpu / max(1, tally.answers),
        "client ms/answer": 1000 * client / max(1, tally.answers),
        "first error": tally.errors[0] if tally.errors else "",
    }


def print_row(against: str, row: dict) -> None:
    print(
        f"| {against} | {row['people']} | {row['pen-ups']} | {row['p50']:.0f} ms | "
        f"{row['p95']:.0f} ms | {row['max']:.0f} ms | {row['errors']} | "
        f"{row['answers/s']:.0f} | {row['dropped/s']:.0f} | {row['cpu ms/answer']:.1f} | "
        f"{row['client ms/answer']:.1f} |",
        flush=True,
    )
    if row["first error"]:
        print(f"  first error: {row['first error']}")


def train(url: str, name: str, steps: int = 700) -> tuple[float, str]:
    """A speedrun run through /train: its wall time (asking to answer) and its result."""
    started = time.perf_counter()
    args = train_args(recipe="speedrun", steps=steps, lr=0.1, schedule="onecycle", name=name)
    final = Client(url, verbose=False).predict(**args, api_name="/train")
    return time.perf_counter() - started, final["message"].splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--against", nargs="+", default=["app"], choices=["app", "floor", "training"]
    )
    parser.add_argument("--people", type=int, nargs="+", default=[1, 10, 30, 60])
    parser.add_argument("--seconds", type=float, default=17)
    parser.add_argument("--model", default="", help="the model asked (default: the page's)")
    parser.add_argument("--digits", type=int, default=120, help="pendigits test digits drawn")
    parser.add_argument(
        "--unmarked", action="store_true", help="send live frames unmarked, as before 2026-12-07"
    )
    args = parser.parse_args(argv)

    digits = [drawn_strokes(d) for d in parse(pendigits_file("test"))[: args.digits]]
    print(
        f"{len(digits)} digits, {sum(len(d) for d in digits)} strokes, "
        f"{statistics.mean(s.seconds for d in digits for s in d):.2f} s of pen per stroke\n"
    )
    print(HEADER)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "floor" in args.against:
            with launched_server(
                ["-m", "bench.trivial_server", "--pen"], folder / "floor.log"
            ) as url:
                page = page_at(url, marks_live=not args.unmarked)
                for n in args.people:
                    row = classroom(page, digits, n, args.seconds)
                    print_row("floor", row)
                    failed |= bool(row["errors"])
        if {"app", "training"} & set(args.against):
            weights = folder / "weights"
            shutil.copytree(WEIGHTS_DIR, weights, ignore=shutil.ignore_patterns(".*"))
            with launched_app(weights, shared_mnist_dir(), folder / "app.log") as url:
                page = page_at(url, marks_live=not args.unmarked)
                if args.model:
                    page = dataclasses.replace(page, model=args.model)
                if "app" in args.against:
                    for n in args.people:
                        row = classroom(page, digits, n, args.seconds)
                        print_row("app", row)
                        failed |= bool(row["errors"])
                if "training" in args.against:
                    failed |= beside_training(page, digits, args.people, args.seconds)
    return 1 if failed else 0


def beside_training(page: Page, digits, people: list[int], seconds: float) -> bool:
    """A speedrun run started 2 s into a class that lasts until it is over, against the
    same run on the quiet app."""
    # The first run starts the training child's fork server, and the app warms its models up
    # in the background at first: a whole run first, then the quiet ones on an idle server.
    url, pid = page.url, server_pid(page.url)
    train(url, "warm-up")
    wait_until_idle(pid)
    short_s, _ = train(url, "short")
    steps = 700 * max(1, round(seconds / 2 / short_s))  # about half the class, when quiet
    wait_until_idle(pid)
    quiet_s, quiet = train(url, "quiet", steps)
    print(f"\nspeedrun's network, {steps} steps: {quiet_s:.1f} s on the quiet app\n")
    failed = False
    for n in people:
        done: dict[str, tuple[float, str]] = {}
        begun = threading.Event()

        def run(done=done, begun=begun, n=n) -> None:
            begun.wait()
            time.sleep(2)  # the class is drawing before the run starts
            done["run"] = train(url, f"busy{n}", steps)

        wait_until_idle(pid)
        trainer = threading.Thread(target=run)
        trainer.start()
        # Long enough for the run to end within the class even at 2.5x its quiet time.
        row = classroom(page, digits, n, max(seconds, 3 + 2.5 * quiet_s), settle=False, begun=begun)
        trainer.join()
        print_row(f"app, speedrun training ({done['run'][0]:.1f} s vs {quiet_s:.1f} s quiet)", row)
        failed |= bool(row["errors"])
    print(f"\nquiet run: {quiet}; last run under the class: {done['run'][1]}")
    return failed


if __name__ == "__main__":
    run_script(main)
