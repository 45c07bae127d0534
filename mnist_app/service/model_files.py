"""Managing checkpoint files: which ones shipped with the project (and may not be touched),
who trained the others, and renaming and deleting them without ever losing a file.

Ownership is a key only the trainer holds: the browser's own id for a run started on the
page, the run's stop token for one started through the API. A checkpoint stores hashes of
those keys, never the keys themselves, since anyone may download it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..core.checkpoint import Checkpoint, checkpoint_path, load_checkpoint, save_checkpoint
from ..core.messages import quoted

# The checkpoints that ship in weights/, listed in this file beside them.
SHIPPED_MANIFEST = "shipped.json"


def owner_key(secret: str) -> str:
    """What a checkpoint stores of its owner's secret."""
    return hashlib.sha256(f"mnist_app owner:{secret}".encode()).hexdigest()[:32]


def shipped_in_order(weights_dir: str | os.PathLike) -> tuple[str, ...]:
    """The names the manifest in `weights_dir` lists, in its order (none if there is no
    manifest)."""
    try:
        manifest = json.loads((Path(weights_dir) / SHIPPED_MANIFEST).read_text())
    except FileNotFoundError:
        return ()
    return tuple(manifest["models"])


def shipped_names(weights_dir: str | os.PathLike) -> frozenset[str]:
    """The names the manifest in `weights_dir` lists (none if there is no manifest)."""
    return frozenset(shipped_in_order(weights_dir))


def shipped_default(weights_dir: str | os.PathLike) -> str | None:
    """The model the manifest in `weights_dir` names for visitors to meet first, if any."""
    try:
        return json.loads((Path(weights_dir) / SHIPPED_MANIFEST).read_text()).get("default")
    except FileNotFoundError:
        return None


def check_may_change(
    checkpoint: Checkpoint, weights_dir: str | os.PathLike, secrets: list[str]
) -> None:
    """PermissionError, saying why, unless the holder of one of `secrets` trained this
    model."""
    name = checkpoint.name
    if name in shipped_names(weights_dir):
        raise PermissionError(f"{name} shipped with the app; shipped models cannot be changed.")
    if not checkpoint.owners:
        raise PermissionError(
            f"{name} was trained from the command line or by an older version; "
            "manage it in the weights folder."
        )
    if not {owner_key(secret) for secret in secrets if secret} & set(checkpoint.owners):
        raise PermissionError(f"{name} was trained by someone else; only they can change it.")


def rename_checkpoint(name: str, new_name: str, weights_dir: str | os.PathLike) -> Path:
    """The checkpoint saved anew as `new_name` (its recorded name changed too, its date
    kept), then the old file removed: a crash in between leaves both, never neither.
    ValueError if `new_name` is invalid or taken."""
    source = checkpoint_path(name, weights_dir)
    target = checkpoint_path(new_name, weights_dir)
    checkpoint = load_checkpoint(source)
    checkpoint.name = new_name
    try:
        save_checkpoint(checkpoint, target)
    except FileExistsError:
        raise ValueError(f"a model named {quoted(new_name)} already exists") from None
    stat = source.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # keeps its place in lists
    source.unlink()
    return target


def delete_checkpoint(name: str, weights_dir: str | os.PathLike) -> None:
    """Removes the file in one step (unlink is atomic): it is there whole, or gone."""
    checkpoint_path(name, weights_dir).unlink()
