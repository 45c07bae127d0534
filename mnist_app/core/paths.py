"""Where things live on disk, decided in one place.

The project's own folders (shipped weights, the MNIST cache) sit beside the package. The
shared data the tests and benchmarks read (MNIST, the pendigits pen trajectories) is in
``../shared`` next to the project, or wherever ``MNIST_DIR`` and ``MNIST_APP_SHARED`` say.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WEIGHTS_DIR = PROJECT_ROOT / "weights"
MNIST_CACHE = PROJECT_ROOT / "data" / "mnist"


def configured_mnist_dir() -> Path | None:
    """The MNIST folder the user named with MNIST_DIR, if any."""
    return Path(os.environ["MNIST_DIR"]) if os.environ.get("MNIST_DIR") else None


def shared_dir() -> Path:
    """The shared data folder: MNIST_APP_SHARED, else the folder above MNIST_DIR, else
    ../shared beside the project."""
    if os.environ.get("MNIST_APP_SHARED"):
        return Path(os.environ["MNIST_APP_SHARED"])
    mnist = configured_mnist_dir()
    return mnist.parent if mnist else PROJECT_ROOT.parent / "shared"


def shared_mnist_dir() -> Path:
    """The four MNIST IDX files the tests and benchmarks read."""
    return configured_mnist_dir() or shared_dir() / "mnist"


def pendigits_file(split: str) -> Path:
    """Real pen-drawn digits: "train" (30 writers, for training and tuning) or "test"
    (14 other writers, for reporting)."""
    suffix = {"train": "tra", "test": "tes"}[split]
    return shared_dir() / "handwriting" / "pendigits" / f"pendigits-orig.{suffix}"


# A drawn-data setting naming the shared pendigits train writers, wherever they are.
PENDIGITS_TRAIN = "pendigits"


def drawn_data_file(setting: str) -> Path:
    """The UNIPEN file a `drawn_data` setting names: a path, or PENDIGITS_TRAIN."""
    return pendigits_file("train") if setting == PENDIGITS_TRAIN else Path(setting)


def personal_dir() -> Path:
    """Where people's own drawings are kept (MNIST_APP_PERSONAL_DIR, else data/personal/,
    which git ignores)."""
    configured = os.environ.get("MNIST_APP_PERSONAL_DIR")
    return Path(configured) if configured else PROJECT_ROOT / "data" / "personal"
