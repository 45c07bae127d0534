"""mnist_app: train, inspect and use handwritten-digit classifiers on MNIST.

The engine behind the web app, the CLI, the benchmarks and the tests.
"""

from .checkpoint import CheckpointError, list_checkpoints, load_checkpoint, save_checkpoint
from .data import MnistFormatError, MnistNotFoundError, load_mnist
from .predict import Predictor, load_predictor
from .recipes import DEFAULT_RECIPE, RECIPES, TrainConfig, make_config
from .trainer import DoneEvent, EpochEvent, StepEvent, TrainingDiverged, train

__all__ = [
    "DEFAULT_RECIPE",
    "RECIPES",
    "CheckpointError",
    "DoneEvent",
    "EpochEvent",
    "MnistFormatError",
    "MnistNotFoundError",
    "Predictor",
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
]
