"""Pen drawings rendered once: a training run's replayed sketches, kept on disk.

Replaying a drawing on the canvas and preprocessing it takes ~2 ms, so the 50,000 drawings
a drawing recipe trains on took a minute and a half of every run; reading UNIPEN's letters
takes ten more seconds. Each set of renderings is kept under data/cache/rendered/ by what
made it (the data's place and date, the count, seed, copies, jitter and `VERSION`), so the
next run with the same settings loads it in a fraction of a second. Delete the folder to
render anew; a crash mid-write leaves no half file (`atomic.write_atomically`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import torch

from ..core.atomic import write_atomically
from ..core.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

CACHE = PROJECT_ROOT / "data" / "cache" / "rendered"
# Bump when the drawing or the preprocessing changes what the same settings render.
VERSION = 1

Renderings = tuple[torch.Tensor, torch.Tensor]  # uint8 (N, 28, 28), labels (N,)


def data_stamp(path: Path) -> str:
    """Where data lives and when it last changed, for a cache key: the file's, or for a
    folder, its newest direct entry's modification time."""
    path = path.resolve()
    times = [path.stat().st_mtime_ns]
    if path.is_dir():
        times += [entry.stat().st_mtime_ns for entry in path.iterdir()]
    return f"{path}@{max(times)}"


def _path(what: dict, folder: Path | None) -> tuple[str, Path]:
    key = json.dumps({**what, "version": VERSION}, sort_keys=True)
    return key, (folder or CACHE) / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.pt"


def is_kept(what: dict, folder: Path | None = None) -> bool:
    """Whether the renderings `what` describes are in the cache (an estimate's question)."""
    return _path(what, folder)[1].is_file()


def cached(what: dict, render: Callable[[], Renderings], folder: Path | None = None) -> Renderings:
    """The renderings `what` describes (a JSON-able dict of everything that decides them),
    from the cache (`folder`, else CACHE), else `render()`ed and kept."""
    key, path = _path(what, folder)
    try:
        kept = torch.load(path, weights_only=True)
        if kept["key"] == key:
            return kept["images"], kept["labels"]
    except FileNotFoundError:
        pass
    except Exception as err:  # unreadable: rendered anew, and replaced
        log.warning("re-rendering %s: the kept copy is unreadable (%s)", path.name, err)
    images, labels = render()
    kept = {"key": key, "images": images, "labels": labels}
    try:
        write_atomically(path, lambda tmp: torch.save(kept, tmp), overwrite=True)
    except OSError as err:  # a read-only checkout still trains, only slower next time
        log.warning("could not keep the renderings in %s: %s", path.parent, err)
    return images, labels
