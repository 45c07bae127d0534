"""The models a server offers: checkpoints in one folder, each loaded and evaluated once.

Predictors and test-set evaluations are cached per checkpoint file version (name and
modification time), so the app answers clicks from memory and still notices a checkpoint
that was replaced on disk.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import checkpoint_path, free_name, list_checkpoints, load_checkpoint
from .data import Mnist, load_mnist
from .evaluation import Evaluation, evaluate
from .messages import quoted
from .paths import WEIGHTS_DIR
from .predict import Predictor


@dataclass(frozen=True)
class ModelFacts:
    """What a model is and how good: for lists, tables and agents."""

    name: str
    recipe: str
    architecture: str
    parameters: int
    file_bytes: int
    test_accuracy: float | None  # on the 10,000 MNIST test images, as recorded when saved
    training_s: float | None
    created: str

    def label(self) -> str:
        """Short, for a dropdown: `resnet_mini · 99.63% · 288k`."""
        accuracy = f"{self.test_accuracy:.2%}" if self.test_accuracy is not None else "?"
        millions = self.parameters >= 10**6
        size = f"{self.parameters / 10**6:.1f}M" if millions else f"{self.parameters / 1000:.0f}k"
        return f"{self.name} · {accuracy} · {size}"


class ModelLibrary:
    """Checkpoints of one weights folder, plus the MNIST data they are trained and judged on."""

    def __init__(
        self,
        weights_dir: str | os.PathLike | None = None,
        data_dir: str | os.PathLike | None = None,
    ):
        self.weights_dir = Path(weights_dir or WEIGHTS_DIR)
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._data_lock = threading.Lock()
        self._data: Mnist | None = None
        self._predictors: dict[tuple[str, float], Predictor] = {}
        self._evaluations: dict[tuple[str, float], Evaluation] = {}

    def names(self) -> list[str]:
        """Checkpoint names, newest first."""
        if not self.weights_dir.is_dir():
            return []
        return list_checkpoints(self.weights_dir)

    def best_name(self) -> str | None:
        """The checkpoint with the highest recorded test accuracy (newest on ties): what a
        visitor should meet first."""
        scored = []
        for name in self.names():
            try:
                accuracy = self.predictor(name).checkpoint.metrics.get("test_accuracy") or 0.0
            except ValueError:  # unreadable checkpoint: the selectors still list it
                accuracy = -1.0
            scored.append((accuracy, name))
        return max(scored, key=lambda item: item[0])[1] if scored else None

    def path(self, name: str) -> Path:
        """The checkpoint file of `name`: names only, never paths (they come from the web)."""
        return checkpoint_path(name, self.weights_dir)

    def free_name(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`... whichever names no checkpoint yet."""
        return free_name(base, self.weights_dir)

    def data(self) -> Mnist:
        """MNIST, loaded on first use (raises MnistNotFoundError with instructions)."""
        with self._data_lock:
            if self._data is None:
                self._data = load_mnist(self.data_dir)
            return self._data

    def predictor(self, name: str) -> Predictor:
        """The model behind checkpoint `name` (raises ValueError / CheckpointError)."""
        key = self._key(name)
        with self._lock:
            if key not in self._predictors:
                self._predictors[key] = Predictor(load_checkpoint(self.path(name)))
            return self._predictors[key]

    def facts(self, name: str) -> ModelFacts:
        """Recipe, architecture, size, accuracy and training time of checkpoint `name`
        (raises ValueError / CheckpointError)."""
        checkpoint = self.predictor(name).checkpoint
        metrics = checkpoint.metrics
        parameters = metrics.get("parameters") or sum(
            tensor.numel() for tensor in checkpoint.state_dict.values()
        )
        return ModelFacts(
            name=name,
            recipe=checkpoint.recipe,
            architecture=checkpoint.arch,
            parameters=int(parameters),
            file_bytes=self.path(name).stat().st_size,
            test_accuracy=metrics.get("test_accuracy"),
            training_s=metrics.get("train_time_s"),
            created=checkpoint.created,
        )

    def choices(self) -> list[tuple[str, str]]:
        """(label, name) for each model, for a dropdown: `resnet_mini · 99.63% · 288k`."""
        choices = []
        for name in self.names():
            try:
                choices.append((self.facts(name).label(), name))
            except ValueError:  # unreadable: choosing it says what is wrong
                choices.append((f"{name} · unreadable", name))
        return choices

    def evaluation(self, name: str) -> Evaluation:
        """The model's results on the 10,000 MNIST test images, computed once per version."""
        key = self._key(name)
        predictor = self.predictor(name)
        data = self.data()
        with self._lock:
            if key in self._evaluations:
                return self._evaluations[key]
        # Seconds of work, done outside the lock: predictions must not wait for it.
        checkpoint = predictor.checkpoint
        result = evaluate(
            predictor.model, data.test_images, data.test_labels, checkpoint.mean, checkpoint.std
        )
        with self._lock:
            return self._evaluations.setdefault(key, result)

    def _key(self, name: str) -> tuple[str, float]:
        path = self.path(name)
        try:
            return name, path.stat().st_mtime
        except FileNotFoundError:
            raise ValueError(f"no model named {quoted(name)} in {self.weights_dir}") from None
