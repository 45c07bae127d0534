"""Files that are whole or absent: written beside their place, fsynced, then linked in."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# A write in progress takes seconds; a leftover this old was a write that a crash cut short
# (younger ones may be another process's write: replicas share the weights folder).
LEFTOVER_AGE_S = 600


def write_atomically(
    path: str | os.PathLike, write: Callable[[Path], None], overwrite: bool = False
) -> Path:
    """`write(tmp)` writes the file at a temporary path in the same folder; it is fsynced
    and moved into place, so that a crash leaves either the old file or the new one, never
    half of one. Unless `overwrite`, an existing file is never replaced (FileExistsError),
    even one that appeared while this was writing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; these files are for sharing
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic, and fails rather than replace an existing file
    finally:
        tmp.unlink(missing_ok=True)
    return path


def remove_leftovers(folder: str | os.PathLike, older_than_s: float = LEFTOVER_AGE_S) -> int:
    """Remove the temporary files of writes that a crash (kill -9, power) cut short, under
    `folder` and its subfolders, caches included; returns how many."""
    removed = 0
    cutoff = time.time() - older_than_s
    for doomed in Path(folder).glob(".deleted-*"):  # a removal the crash cut short
        if doomed.is_dir() and doomed.stat().st_mtime < cutoff:
            shutil.rmtree(doomed, ignore_errors=True)
            removed += 1
    for tmp in Path(folder).rglob(".*.tmp"):
        try:
            if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
        except OSError:  # gone meanwhile, or not ours to remove
            continue
    return removed
