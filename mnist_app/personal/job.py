"""Fit and save: the one path from a person's drawings to a saved model, for the CLI and
for the app's training process alike (as training.to_checkpoint is for training)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from ..checkpoint import checkpoint_path, load_checkpoint, locate, save_under_name
from ..data import Mnist
from ..model_files import owner_key
from ..training.child import run_in_process
from .fit import FitSettings, PersonalFit, Progress, fit_personal, personal_name


@dataclass(frozen=True)
class FitOrder:
    """Whose drawings, which base model, and where the fitted one goes."""

    base: str  # a checkpoint name or a .pt path
    person: str  # the name the result is saved under: <base>-<person>
    images: np.ndarray  # (N, 28, 28), MNIST-style
    labels: np.ndarray
    weights_dir: str | os.PathLike | None = None
    owner_secret: str = ""  # whoever may replace, rename or delete the result in the app
    overwrite: bool = False  # replace a checkpoint of that name whoever made it
    settings: FitSettings = field(default_factory=FitSettings)


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
    base = load_checkpoint(locate(order.base, order.weights_dir))
    if base.metrics.get("personal"):  # a personal model: fit its own base again instead
        base = load_checkpoint(locate(base.metrics["personal"]["base"], order.weights_dir))
    name = personal_name(base.name, order.person)
    owners = [owner_key(order.owner_secret)] if order.owner_secret else []
    fitted = None
    for event in fit_personal(
        base,
        torch.as_tensor(order.images),
        torch.as_tensor(order.labels),
        data,
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
    server's predictions keep their cores, and a crash cannot take the server down."""
    return run_in_process(fit_and_save, order, data, threading.Event())
