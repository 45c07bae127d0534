"""mnist_app: train, inspect and use handwritten-digit classifiers on MNIST.

The engine behind the web app, the CLI, the benchmarks and the tests.
"""

import os

# OpenMP threads that spin while waiting collapse throughput as soon as another process
# shares the cores (training next to the web server or a browser: measured 50x slower
# on 2 cores). Passive waiting costs little when the machine is idle. It only takes
# effect if set before torch is first imported, hence here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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
