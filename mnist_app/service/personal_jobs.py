"""Fit and save: the one path from a person's drawings to a saved model, for the CLI and
for the app's training process alike (as training.to_checkpoint is for training)."""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..core.atomic import write_atomically
from ..core.checkpoint import (
    Checkpoint,
    CheckpointError,
    checkpoint_path,
    load_checkpoint,
    save_under_name,
)
from ..core.data import Mnist
from ..core.paths import WEIGHTS_DIR
from ..personal.fit import (
    FitSettings,
    MnistFeatures,
    PersonalFit,
    Progress,
    fit_personal,
    mnist_features,
    personal_name,
)
from .child_process import run_in_process
from .model_files import owner_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitOrder:
    """Whose drawings, which base model, and where the fitted one goes."""

    base: str  # a checkpoint's name in base_dir: never a path, whoever sent it
    person: str  # the name the result is saved under: <base>-<person>
    images: np.ndarray  # (N, 28, 28), MNIST-style
    labels: np.ndarray
    weights_dir: str | os.PathLike | None = None
    owner_secret: str = ""  # whoever may replace, rename or delete the result in the app
    overwrite: bool = False  # replace a checkpoint of that name whoever made it
    settings: FitSettings = field(default_factory=FitSettings)
    # The operator's own checkpoint file to start from instead of `base` (the command
    # line's --base path); never set from a request.
    base_file: str | os.PathLike | None = None


@dataclass(frozen=True)
class Fitted:
    """The last event: where the fitted model was saved, and its before/after figures."""

    saved_as: str
    figures: dict


def fit_and_save(order: FitOrder, data: Mnist, stop=None) -> Iterator[Progress | Fitted]:
    """`fit.fit_personal`'s progress, then Fitted once the model is saved. A person's
    earlier fit of the same base is replaced; any other model of that name is kept and the
    result saved under a free name (<name>-2, ...). `stop` is accepted for the training
    process's protocol; a fit takes seconds and is not stopped half-way."""
    path = Path(order.base_file) if order.base_file else None
    path, base = _base_of(path or checkpoint_path(order.base, order.weights_dir))
    if order.owner_secret:  # before the minutes of reading MNIST, not after
        check_room(
            personal_name(base.name, order.person),
            [owner_key(order.owner_secret)],
            order.weights_dir,
        )
    reference = _cached_reference(path, order.settings)
    if reference is None:
        yield Progress("Reading 18,000 MNIST images (once for this model)", 0.0)
        reference = mnist_features(base, data, order.settings)
        _cache_reference(path, order.settings, reference)
    name = personal_name(base.name, order.person)
    owners = [owner_key(order.owner_secret)] if order.owner_secret else []
    fitted = None
    for event in fit_personal(
        base,
        torch.as_tensor(order.images),
        torch.as_tensor(order.labels),
        reference,
        name,
        owners,
        order.settings,
    ):
        if isinstance(event, PersonalFit):
            fitted = event
        else:
            yield event
    replace = order.overwrite or _earlier_fit_of(name, owners, order.weights_dir)
    saved_as = save_under_name(
        lambda free: _renamed(fitted.checkpoint, free), name, order.weights_dir, replace
    )
    yield Fitted(saved_as, fitted.figures)


class NoRoomForPersonalModels(ValueError):
    """A fit from the app that would keep more personal models than the server allows."""


# Each fit keeps a checkpoint (28.5 MB on a t4_cnnnet base): one person keeps at most
# PERSONAL_MODELS_PER_OWNER, and everyone's together at most PERSONAL_BYTES of disk.
PERSONAL_MODELS_PER_OWNER = 4
PERSONAL_BYTES = 2 * 2**30


def check_room(name: str, owners: list[str], weights_dir: str | os.PathLike | None) -> None:
    """NoRoomForPersonalModels unless a personal model called `name`, owned by `owners`,
    may be kept: a person's earlier fit of that name is replaced, and takes no more room."""
    mine, everyone = 0, 0
    for path in Path(weights_dir or WEIGHTS_DIR).glob("*.pt"):
        kept_by = _personal_owners(path)
        if kept_by is None or (path.stem == name and set(owners) & kept_by):
            continue
        everyone += path.stat().st_size
        mine += bool(set(owners) & kept_by)
    if mine >= PERSONAL_MODELS_PER_OWNER:
        raise NoRoomForPersonalModels(
            f"You keep {mine} personal models, the most one person may: delete one in the "
            "Models tab, then fit again."
        )
    if everyone >= PERSONAL_BYTES:
        raise NoRoomForPersonalModels(
            "The server has no room for more personal models now: ask its operator, or try "
            "again once some are deleted."
        )


def _personal_owners(path: Path) -> set[str] | None:
    """The owners of the personal model at `path`, None for any other file. Read without
    loading its weights (mmap), since this runs over every model before each fit."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # not a checkpoint, or gone meanwhile: not a personal model
        return None
    if not isinstance(payload, dict) or not payload.get("personal_head"):
        return None
    return set(payload.get("owners") or ())


def _base_of(path: Path) -> tuple[Path, Checkpoint]:
    """The model a fit starts from: the checkpoint at `path`, or a personal model's base
    (a personal model is never fitted again itself), in the same folder. Missing and
    unreadable answer alike, so that the answer tells nothing of what is on disk."""
    try:
        checkpoint = load_checkpoint(path)
        if checkpoint.metrics.get("personal"):
            path = checkpoint_path(str(checkpoint.metrics["personal"]["base"]), path.parent)
            checkpoint = load_checkpoint(path)
    except CheckpointError:
        raise ValueError(f"there is no usable model called {path.stem!r} to fit") from None
    return path, checkpoint


def prepare_fits(base: str | os.PathLike, data: Mnist, stop=None) -> Iterator[None]:
    """Compute and cache the MNIST features a fit of `base` needs, unless cached already:
    the app does it for its default model at launch, so that even the first fit is quick.
    A job for `training.child.run_in_process` (yields nothing)."""
    path, checkpoint = _base_of(Path(base))
    if _cached_reference(path, FitSettings()) is None:
        _cache_reference(path, FitSettings(), mnist_features(checkpoint, data))
    yield from ()


def reference_cache(base_path: Path) -> Path:
    """Where a base model's MNIST features for fits are kept: `.cache/personal/` beside
    it (git-ignored; the library removes it with the model)."""
    return base_path.parent / ".cache" / "personal" / f"{base_path.stem}.pt"


def _cached_reference(base_path: Path, settings: FitSettings) -> MnistFeatures | None:
    """The cached features, if made from this very file with these settings."""
    try:
        kept = torch.load(reference_cache(base_path), weights_only=True)
        if kept["made_from"] == _made_from(base_path, settings):
            return MnistFeatures(**kept["features"])
    except (OSError, KeyError, TypeError, RuntimeError, pickle.UnpicklingError):
        pass  # none yet, another version's, or unreadable: made again
    return None


def _cache_reference(base_path: Path, settings: FitSettings, reference: MnistFeatures) -> None:
    payload = {
        "made_from": _made_from(base_path, settings),
        "features": dataclasses.asdict(reference),
    }
    try:
        write_atomically(
            reference_cache(base_path), lambda tmp: torch.save(payload, tmp), overwrite=True
        )
    except OSError as err:  # a read-only weights folder: the next fit computes them again
        log.warning("cannot cache MNIST features in %s: %s", reference_cache(base_path), err)


def _made_from(base_path: Path, settings: FitSettings) -> list:
    stat = base_path.stat()
    return [stat.st_mtime_ns, stat.st_size, settings.seed, settings.replay, settings.checks]


def _earlier_fit_of(name: str, owners: list[str], weights_dir) -> bool:
    """Whether `name` is this person's own earlier fit (so a new fit replaces it)."""
    path = checkpoint_path(name, weights_dir)
    if not owners or not path.is_file():
        return False
    try:
        earlier = load_checkpoint(path)
    except ValueError:
        return False
    return bool(earlier.metrics.get("personal")) and bool(set(owners) & set(earlier.owners))


def _renamed(checkpoint, name: str):
    checkpoint.name = name
    return checkpoint


def fit_in_process(order: FitOrder, data: Mnist) -> Iterator[Progress | Fitted]:
    """`fit_and_save` in a child process at the lowest priority, as training runs: the
    server's predictions keep their cores, and a crash cannot take the server down. At
    most MAX_FITS run at once on the server, one per owner: others are answered "busy"
    (FitsBusy) at once rather than queued behind them."""
    with _fit_slot(order.owner_secret):
        yield from run_in_process(fit_and_save, order, data, threading.Event())


class FitsBusy(ValueError):
    """No room for another fit now."""


MAX_FITS = 2  # fits at once: each takes a core for seconds (12 queued made one take 75 s)
_fit_slots = threading.BoundedSemaphore(MAX_FITS)
_owners_fitting: set[str] = set()
_owners_lock = threading.Lock()


@contextmanager
def _fit_slot(owner_secret: str) -> Iterator[None]:
    owner = owner_key(owner_secret) if owner_secret else ""
    with _owners_lock:
        if owner and owner in _owners_fitting:
            raise FitsBusy("Your last fit is still running: wait for it to finish.")
        if not _fit_slots.acquire(blocking=False):
            raise FitsBusy(
                f"The server is fitting {MAX_FITS} models for others: try again in a minute."
            )
        if owner:
            _owners_fitting.add(owner)
    try:
        yield
    finally:
        with _owners_lock:
            _owners_fitting.discard(owner)
        _fit_slots.release()
