"""Where things live on disk, decided in one place.

The project's own folders (shipped weights, the MNIST and pen data caches) sit beside the
package. The shared data the tests and benchmarks read (MNIST, the pendigits pen
trajectories) is in ``../shared`` next to the project, or wherever ``MNIST_DIR`` and
``MNIST_APP_SHARED`` say. Pen data is looked for in more places (`pen_data_places`); finding
or downloading it is `mnist_app.pen.sources`.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WEIGHTS_DIR = PROJECT_ROOT / "weights"
MNIST_CACHE = PROJECT_ROOT / "data" / "mnist"
# Pen data downloaded (or an archive put there by hand): data/handwriting/<name>/, git-ignored.
PEN_CACHE = PROJECT_ROOT / "data" / "handwriting"
# The environment variables naming a folder that holds each pen data set.
PEN_DATA_ENV = {"pendigits": "PENDIGITS_DIR", "unipen": "UNIPEN_DIR"}
PENDIGITS_FILES = {"train": "pendigits-orig.tra", "test": "pendigits-orig.tes"}


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


def pen_data_places(name: str, folder: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """Where pen data set `name` ("pendigits" or "unipen") is looked for, first to last, each
    with what named it: `folder` (a command's flag), the folder its environment variable
    names (PENDIGITS_DIR, UNIPEN_DIR), handwriting/<name>/ in the shared data folder, and the
    project's cache data/handwriting/<name>/."""
    env = PEN_DATA_ENV[name]
    places = [("the folder given", Path(folder))] if folder else []
    if os.environ.get(env):
        places.append((env, Path(os.environ[env])))
    places.append(("the shared data folder", shared_dir() / "handwriting" / name))
    places.append(("the cache", PEN_CACHE / name))
    return places


def pendigits_file(split: str, folder: str | os.PathLike | None = None) -> Path:
    """Real pen-drawn digits: "train" (30 writers, for training and tuning) or "test"
    (14 other writers, for reporting), from the first of `pen_data_places` that has it; when
    none has, where the first of them would (the path a message names as missing). Never
    downloads: `mnist_app.pen.sources.pendigits_path` does."""
    name = PENDIGITS_FILES[split]
    places = pen_data_places("pendigits", folder)
    for _, place in places:
        if (place / name).is_file():
            return place / name
    return places[0][1] / name


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
