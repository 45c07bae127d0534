"""What the server lets in: loopback only unless told, an optional login, no code run from
checkpoints, no password echoed back."""

from __future__ import annotations

import ast
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from app_server import MODEL, ROOT, label_of, launched_app, pen_drawing, sketch
from conftest import MNIST_DIR
from gradio_client import Client

import app


def test_the_server_listens_on_loopback_only_by_default(monkeypatch):
    monkeypatch.delenv("MNIST_APP_HOST", raising=False)
    assert app.parse_args([]).host == "127.0.0.1"


def test_the_launched_app_cannot_be_reached_from_another_address(app_url):
    port = int(app_url.rstrip("/").rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks our LAN address
        own_address = probe.getsockname()[0]
    if own_address.startswith("127."):
        pytest.skip("this machine has no address besides loopback")
    with pytest.raises(OSError), socket.create_connection((own_address, port), timeout=3):
        pass


def test_a_login_needs_both_parts_and_the_password_is_never_printed(monkeypatch):
    monkeypatch.setenv("MNIST_APP_PASSWORD", "hunter2-secret")
    help_text = subprocess.run(
        [sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "--password" in help_text and "hunter2-secret" not in help_text
    monkeypatch.delenv("MNIST_APP_PASSWORD")
    with pytest.raises(SystemExit):
        app.parse_args(["--username", "ada"])


@pytest.mark.slow
def test_with_a_login_set_only_the_right_password_gets_in(app_weights, tmp_path):
    login = {"MNIST_APP_USERNAME": "ada", "MNIST_APP_PASSWORD": "correct horse"}
    with launched_app(app_weights, MNIST_DIR, tmp_path / "app.log", env=login) as url:
        with pytest.raises(Exception):  # noqa: B017 - refused at connection, whatever the type
            Client(url, verbose=False)
        with pytest.raises(Exception):  # noqa: B017
            Client(url, auth=("ada", "wrong"), verbose=False)
        client = Client(url, auth=("ada", "correct horse"), verbose=False)
        png, _ = pen_drawing(0, tmp_path / "pen.png")
        assert label_of(client.predict(sketch(png), MODEL, api_name="/predict")) in "0123456789"


def test_every_torch_load_in_the_code_is_weights_only():
    """A checkpoint is data: torch.load without weights_only=True would run a pickle's code."""
    calls = []
    for path in [ROOT / "app.py", *ROOT.glob("mnist_app/**/*.py"), *ROOT.glob("bench/*.py")]:
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                calls.append((path.name, ast.unparse(node)))
    assert calls, "expected the checkpoint loader to call torch.load"
    for where, call in calls:
        assert "weights_only=True" in call, f"{where}: {call}"
