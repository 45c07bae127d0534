"""Shared fixtures: real MNIST from ../shared/mnist (or MNIST_DIR), loaded once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from gradio_client import Client

from mnist_app.core.data import Mnist, load_mnist
from mnist_app.core.paths import PROJECT_ROOT, shared_mnist_dir
from mnist_app.nondigit import stroke_fonts
from mnist_app.service.model_files import SHIPPED_MANIFEST
from tests.harness.server import MODEL, launched_app, weights_with_quick_model

MNIST_DIR = shared_mnist_dir()


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    if not MNIST_DIR.is_dir():
        pytest.fail(f"tests need real MNIST: set MNIST_DIR (looked in {MNIST_DIR})")
    return load_mnist(MNIST_DIR, download=False)


@pytest.fixture(scope="session")
def small_mnist(mnist: Mnist) -> Mnist:
    """A real 6,000/1,000 subset, for tests that train a few steps."""
    return Mnist(
        train_images=mnist.train_images[:6000],
        train_labels=mnist.train_labels[:6000],
        test_images=mnist.test_images[:1000],
        test_labels=mnist.test_labels[:1000],
        source=mnist.source,
    )


@pytest.fixture(scope="session")
def stroke_fonts_fetched() -> None:
    """The stroke fonts, fetched from npm where install.sh could not: without them the
    tests that use them fail, never skip."""
    if not stroke_fonts.available():
        script = PROJECT_ROOT / "scripts" / "fetch_stroke_fonts.sh"
        subprocess.run(["bash", str(script)], check=True, timeout=300)
    assert stroke_fonts.available()


@pytest.fixture(scope="session")
def app_weights(mnist, tmp_path_factory) -> Path:
    """The launched app's weights folder: a quick model, listed as shipped, and a corrupt
    checkpoint (which must not crash it)."""
    weights = weights_with_quick_model(mnist, tmp_path_factory.mktemp("app-api") / "weights")
    (weights / "broken.pt").write_bytes(b"not a checkpoint")
    (weights / SHIPPED_MANIFEST).write_text(json.dumps({"models": [MODEL]}))
    return weights


@pytest.fixture(scope="session")
def app_url(app_weights: Path):
    """`python app.py` launched once for all the API tests."""
    with launched_app(app_weights, MNIST_DIR, app_weights.parent / "app.log") as url:
        yield url


@pytest.fixture(scope="session")
def client(app_url):
    return Client(app_url, verbose=False)
