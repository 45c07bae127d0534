"""The app for tests and benchmarks: a checkpoint trained in seconds, and app.py launched
for real in a subprocess."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from mnist_app.core.checkpoint import checkpoint_path
from mnist_app.core.data import Mnist
from mnist_app.core.paths import PROJECT_ROOT
from mnist_app.training import RunOrder, train_and_save
from mnist_app.training.recipes import make_config

MODEL = "quick"
_trained: dict[str, Path] = {}
_serving: dict[str, int] = {}  # URL -> pid of the process launched_server runs there


def quick_checkpoint(mnist: Mnist) -> Path:
    """A speedrun model after 150 steps (~97% on MNIST), trained once per test process."""
    if MODEL not in _trained:
        folder = Path(tempfile.mkdtemp(prefix="mnist-app-test-"))
        order = RunOrder(make_config("speedrun", steps=150), "speedrun", MODEL, folder)
        for _event in train_and_save(order, mnist):
            pass
        _trained[MODEL] = checkpoint_path(MODEL, folder)
    return _trained[MODEL]


def weights_with_quick_model(mnist: Mnist, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(quick_checkpoint(mnist), folder / f"{MODEL}.pt")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launched_app(
    weights_dir: Path, mnist_dir: Path, log: Path, env: dict[str, str] | None = None
) -> contextlib.AbstractContextManager[str]:
    """`python app.py` in a subprocess on a free port; yields its URL once it answers.
    People's drawings go to a folder beside the weights (`<weights>-personal`)."""
    personal = weights_dir.with_name(f"{weights_dir.name}-personal")
    env = {"MNIST_DIR": str(mnist_dir), "MNIST_APP_PERSONAL_DIR": str(personal), **(env or {})}
    return launched_server(["app.py", "--weights-dir", str(weights_dir)], log, env)


@contextlib.contextmanager
def launched_server(
    script_and_args: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A Python web server script (taking --port) in a subprocess; yields its URL."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    command = [sys.executable, *script_and_args, "--port", str(port)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/"
    _serving[url] = process.pid
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        del _serving[url]
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def server_pid(url: str) -> int:
    """The process serving `url`, while a launched_server (or launched_app) runs it."""
    return _serving[url]


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    # A generous bound: importing torch and Gradio takes ~10 s on a busy 2-core machine.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"the server did not start serving {url}:\n{log.read_text()}")


def label_of(result: dict) -> str:
    """The top label of a /predict answer: a digit, or a message such as "draw a digit"."""
    return result["label"]


def train_args(**changes) -> dict:
    """/train's arguments for a 60-step run of the small t5_mlp_bn recipe on the CPU; every
    other setting is the recipe's."""
    return {"recipe": "t5_mlp_bn", "steps": 60, "device": "cpu", "name": "tiny", **changes}
