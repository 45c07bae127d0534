"""Load: many people drawing while someone trains, on one server.

Launches `python app.py` (a copy of weights/ in a temporary folder), then:
1. trains a run through /train with no other traffic: the reference accuracy and time;
2. trains the same run (same seed) again while N gradio_client clients call /predict
   back to back for D seconds, each call uploading a real pen-drawn digit as the Sketchpad
   sends it.
Reports every request's outcome, latency p50/p95/p99/max, and both runs' test accuracy.
Targets (2 CPU cores): zero errors, p99 <= 1.5 s, the same accuracy under load.
`--floor` runs the same clients against bench/trivial_server.py instead (a Sketchpad ->
Label endpoint doing nothing, no training): what Gradio itself allows on this machine.

    python -m bench.load                          # 50 clients, 60 s, resnet_mini serving
    python -m bench.load --clients 10 --seconds 20 --train-steps 500
    python -m bench.load --floor
"""

from __future__ import annotations

import argparse
import functools
import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx._transports.default
import numpy as np
from gradio_client import Client

from bench import run_script
from mnist_app.core.paths import WEIGHTS_DIR, shared_mnist_dir
from tests.harness.server import launched_app, launched_server, train_args
from tests.harness.sketches import composite_value, pen_drawing

# gradio_client opens a new httpx client, with a fresh SSL context (~5 ms of CPU parsing the
# CA bundle, even for plain http), for every call. Fifty such clients on the server's own two
# cores would measure the load generator more than the server; real users' clients run on
# their own machines. One cached context per setting removes that cost and nothing else.
httpx._transports.default.create_ssl_context = functools.lru_cache(maxsize=8)(
    httpx._transports.default.create_ssl_context
)


def train(url: str, name: str, steps: int) -> tuple[str, float]:
    """Train through the app; the result text and the wall time."""
    start = time.perf_counter()
    # The speedrun recipe for `steps` steps, seed 0: long enough to span the load.
    args = train_args(recipe="speedrun", steps=steps, lr=0.1, schedule="onecycle", name=name)
    final = Client(url, verbose=False).predict(**args, api_name="/train")
    return final["message"], time.perf_counter() - start


def drawings(folder: Path, count: int) -> list[dict]:
    """Pen-drawn test-writer digits as PNG canvases, sent as the Sketchpad's composite."""
    return [
        composite_value(pen_drawing(i, folder / f"digit{i}.png", brush_radius=10)[0])
        for i in range(count)
    ]


class Load:
    """`clients` threads, each with its own gradio_client session, calling /predict back
    to back until the time is up; every latency and every error is kept."""

    def __init__(self, url: str, inputs: list[tuple], clients: int, seconds: float):
        self.url, self.inputs, self.seconds = url, inputs, seconds
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._until = time.monotonic() + seconds
        self._threads = [threading.Thread(target=self._client) for _ in range(clients)]
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _client(self) -> None:
        try:
            client = Client(self.url, verbose=False)
        except Exception as err:  # a refused connection counts like a failed request
            self._record(error=f"connect: {type(err).__name__}: {err}")
            return
        i = 0
        while time.monotonic() < self._until:
            start = time.perf_counter()
            try:
                result = client.predict(*self.inputs[i % len(self.inputs)], api_name="/predict")
                if len(result.get("confidences") or []) != 10:
                    raise RuntimeError(f"unexpected answer {result}")
                self._record(latency=time.perf_counter() - start)
            except Exception as err:
                self._record(error=f"{type(err).__name__}: {err}")
            i += 1

    def _record(self, latency: float | None = None, error: str | None = None) -> None:
        with self._lock:
            if error is None:
                self.latencies.append(latency)
            else:
                self.errors.append(error)

    def report(self) -> None:
        ms, errors = np.array(self.latencies) * 1000, len(self.errors)
        print(f"  requests {len(ms) + errors}  answered {len(ms)}  errors {errors}")
        print(f"  throughput {len(ms) / self.seconds:.1f} predictions/s")
        if len(ms):
            p50, p95, p99 = np.percentile(ms, [50, 95, 99])
            print(
                f"  latency p50 {p50:.0f} ms  p95 {p95:.0f} ms  p99 {p99:.0f} ms  "
                f"max {ms.max():.0f} ms  (target p99 <= 1500 ms)"
            )
        counts: dict[str, int] = {}
        for message in self.errors:
            counts[message[:200]] = counts.get(message[:200], 0) + 1
        for message, count in sorted(counts.items(), key=lambda item: -item[1])[:5]:
            print(f"  error x{count}: {message}")


def floor(args: argparse.Namespace, folder: Path) -> int:
    values = drawings(folder, 40)
    with launched_server(["bench/trivial_server.py"], folder / "trivial.log") as url:
        Client(url, verbose=False).predict(values[0], api_name="/predict")
        load = Load(url, [(value,) for value in values], args.clients, args.seconds)
        load.join()
    print(f"{args.clients} clients for {args.seconds:.0f} s asking a do-nothing Gradio endpoint:")
    load.report()
    return 0 if not load.errors else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--model", default="resnet_mini", help="the model the clients ask")
    parser.add_argument("--train-steps", type=int, default=1500, help="speedrun steps per run")
    parser.add_argument("--floor", action="store_true", help="a do-nothing endpoint instead")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.floor:
            return floor(args, folder)
        weights = folder / "weights"
        shutil.copytree(WEIGHTS_DIR, weights)
        values = drawings(folder, 40)
        with launched_app(weights, shared_mnist_dir(), folder / "app.log") as url:
            warm = Client(url, verbose=False)
            warm.predict(values[0], args.model, api_name="/predict")
            warm.predict(args.model, "any", "any", api_name="/mistakes")  # waits for warm-up
            quiet_result, quiet_time = train(url, "quiet", args.train_steps)
            print(f"training without load: {quiet_time:.1f} s  {quiet_result}")

            trained: dict[str, tuple[str, float]] = {}
            trainer = threading.Thread(
                target=lambda: trained.update(run=train(url, "loaded", args.train_steps))
            )
            trainer.start()
            time.sleep(2)  # the run is under way before the clients arrive
            inputs = [(value, args.model) for value in values]
            load = Load(url, inputs, args.clients, args.seconds)
            load.join()
            still_training = trainer.is_alive()
            trainer.join()
            loaded_result, loaded_time = trained["run"]

    print(
        f"\n{args.clients} clients for {args.seconds:.0f} s asking {args.model}, training "
        f"{'throughout' if still_training else 'ENDED BEFORE THE LOAD DID'}:"
    )
    load.report()
    print(f"training under load: {loaded_time:.1f} s  {loaded_result}")
    same = _accuracy(quiet_result) == _accuracy(loaded_result)
    print(f"  same test accuracy as without load: {'yes' if same else 'NO'}")
    return 0 if not load.errors and same else 1


def _accuracy(result: str) -> str:
    """'99.01%' out of the Train tab's result text."""
    return result.split("Test accuracy ")[1].split("%")[0] if "Test accuracy" in result else result


if __name__ == "__main__":
    run_script(main)
