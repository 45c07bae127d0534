"""What the server lets in: loopback only unless told, an optional login, no code run from
checkpoints, no password echoed back."""

from __future__ import annotations

import ast
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from mnist_app.cli import serve as app
from mnist_app.core.paths import PROJECT_ROOT as ROOT
from tests.conftest import MNIST_DIR
from tests.harness.server import MODEL, label_of, launched_app
from tests.harness.sketches import composite_value as sketch
from tests.harness.sketches import pen_drawing


def test_the_server_listens_on_loopback_only_by_default(monkeypatch):
    monkeypatch.delenv("MNIST_APP_HOST", raising=False)
    assert app.parse_args([]).host == "127.0.0.1"


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on `port`, from the kernel's own table."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                    raw = bytes.fromhex(address)
                    # The kernel writes each 32-bit word in host (little-endian) order.
                    words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
                    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
                    addresses.add(socket.inet_ntop(family, b"".join(words)))
    return addresses


def test_the_launched_app_listens_on_loopback_only(app_url):
    port = int(app_url.rstrip("/").rsplit(":", 1)[1])
    assert listening_addresses(port) == {"127.0.0.1"}


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
    login = {
        "MNIST_APP_USERNAME": "ada",
        "MNIST_APP_PASSWORD": "correct horse",
        "MNIST_APP_PERSONAL_DIR": str(tmp_path / "personal"),
    }
    with launched_app(app_weights, MNIST_DIR, tmp_path / "app.log", env=login) as url:
        with pytest.raises(Exception):  # noqa: B017 - refused at connection, whatever the type
            Client(url, verbose=False)
        with pytest.raises(Exception):  # noqa: B017
            Client(url, auth=("ada", "wrong"), verbose=False)
        client = Client(url, auth=("ada", "correct horse"), verbose=False)
        png, _ = pen_drawing(0, tmp_path / "pen.png")
        assert label_of(client.predict(sketch(png), MODEL, api_name="/predict")) in "0123456789"
        # A personal set is the login user's, whatever name is typed.
        kept = client.predict(handle_file(str(png)), "3", "bob", MODEL, "", api_name="/collect")
        assert kept == "Kept as a 3 in ada's set."
        assert (tmp_path / "personal" / "ada" / "3").is_dir()


def test_every_torch_load_in_the_code_is_weights_only():
    """A checkpoint is data: torch.load without weights_only=True would run a pickle's code."""
    calls = []
    for path in [
        ROOT / "app.py",
        *ROOT.glob("mnist_app/**/*.py"),
        *ROOT.glob("bench/*.py"),
        *ROOT.glob("research/*.py"),
    ]:
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                calls.append((path.name, ast.unparse(node)))
    assert calls, "expected the checkpoint loader to call torch.load"
    for where, call in calls:
        assert "weights_only=True" in call, f"{where}: {call}"


def test_help_says_what_each_option_does_and_its_real_default():
    help_text = subprocess.run(
        [sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "(default: None)" not in help_text and ") (default" not in help_text
    for option, default in [("--host", "127.0.0.1"), ("--port", "7860"), ("--max-upload-mb", "10")]:
        described = re.search(rf"\n  {option} \S+\s+(.*?)(?=\n  -|\n\n)", help_text, re.S)
        assert described and f"default: {default}" in described.group(1), option
