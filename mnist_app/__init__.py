"""mnist_app: train, inspect and use handwritten-digit classifiers on MNIST.

The engine behind the web app, the CLI, the benchmarks and the tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# The public API, loaded on first use: importing the package loads no torch, so that every
# command's --help answers at once. No OpenMP wait policy is set: libgomp's default measured
# best alone, beside people drawing and with two trainers on the cores (docs/performance.md).
# Name -> module that defines it.
_API = {
    "CheckpointError": ".core.checkpoint",
    "list_checkpoints": ".core.checkpoint",
    "load_checkpoint": ".core.checkpoint",
    "save_checkpoint": ".core.checkpoint",
    "MnistFormatError": ".core.data",
    "MnistNotFoundError": ".core.data",
    "load_mnist": ".core.data",
    "Predictor": ".core.predict",
    "load_predictor": ".core.predict",
    "SETTINGS": ".core.settings",
    "TrainConfig": ".core.settings",
    "DoneEvent": ".training",
    "EpochEvent": ".training",
    "Finished": ".training",
    "RunOrder": ".training",
    "StepEvent": ".training",
    "TrainingDiverged": ".training",
    "train": ".training",
    "train_and_save": ".training",
    "DEFAULT_RECIPE": ".training.recipes",
    "RECIPES": ".training.recipes",
    "make_config": ".training.recipes",
}

if TYPE_CHECKING:
    from .core.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, save_checkpoint
    from .core.data import MnistFormatError, MnistNotFoundError, load_mnist
    from .core.predict import Predictor, load_predictor
    from .core.settings import SETTINGS, TrainConfig
    from .training import (
        DoneEvent,
        EpochEvent,
        Finished,
        RunOrder,
        StepEvent,
        TrainingDiverged,
        train,
        train_and_save,
    )
    from .training.recipes import DEFAULT_RECIPE, RECIPES, make_config


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = [
    "DEFAULT_RECIPE",
    "RECIPES",
    "SETTINGS",
    "CheckpointError",
    "DoneEvent",
    "EpochEvent",
    "Finished",
    "MnistFormatError",
    "MnistNotFoundError",
    "Predictor",
    "RunOrder",
    "StepEvent",
    "TrainConfig",
    "TrainingDiverged",
    "list_checkpoints",
    "load_checkpoint",
    "load_mnist",
    "load_predictor",
    "make_config",
    "save_checkpoint",
    "train",
    "train_and_save",
]
