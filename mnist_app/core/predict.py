"""Prediction API: a checkpoint in, ten probabilities per 28x28 image out.

    >>> from mnist_app import load_predictor
    >>> predictor = load_predictor("resnet_mini")        # or a path to a .pt file
    >>> predictor.probabilities(image_28x28)              # numpy (10,)
    >>> predictor.probabilities(batch_nx28x28)            # numpy (N, 10)
    >>> predictor.label(image_28x28)                      # "7", or "not a digit"

Images follow MNIST's convention: light digit on a dark background, uint8 0-255 or
float 0-1. The checkpoint's own normalisation is applied here.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from .checkpoint import Checkpoint, load_checkpoint, locate
from .evaluation import predict_logits
from .models import last_linear


class Predictor:
    def __init__(self, checkpoint: Checkpoint, device: str | torch.device = "cpu"):
        self.checkpoint = checkpoint
        self.model = checkpoint.build(device)
        self.detector = checkpoint.build_detector()
        # The features the last layer saw in this thread's current call: the app predicts
        # from several threads with one model.
        self._seen = threading.local()
        if self.detector is not None:
            last_linear(self.model).register_forward_pre_hook(self._keep_features)

    @property
    def name(self) -> str:
        return self.checkpoint.name

    @property
    def can_refuse(self) -> bool:
        """Whether it ever answers "not a digit": only with a digit detector or a refusal
        threshold; else it names a digit for anything, a letter too."""
        return self.detector is not None or self.reject_below > 0

    def probabilities(self, images) -> np.ndarray:
        """(10,) for one 28x28 image, (N, 10) for a batch (array, tensor or PIL image)."""
        return self.answer(images)[0]

    def answer(self, images) -> tuple[np.ndarray, bool | np.ndarray]:
        """The ten probabilities, and whether they name a digit (the top probability is at
        least `reject_below`, and the checkpoint's digit detector, if any, agrees): for one
        image a (10,) array and a bool, for a batch (N, 10) and (N,)."""
        tensor = _as_tensor(images)
        single = tensor.dim() == 2
        batch = tensor.unsqueeze(0) if single else tensor
        if batch.shape[-2:] != (28, 28) or batch.dim() not in (3, 4):
            raise ValueError(
                f"expected 28x28 images, (N, 28, 28) or (N, 1, 28, 28); got {tuple(tensor.shape)}"
            )
        self._seen.features = []
        try:
            with intra_op_threads(1 if len(batch) <= _SMALL_BATCH else torch.get_num_threads()):
                logits = predict_logits(
                    self.model, batch, self.checkpoint.mean, self.checkpoint.std
                )
            features = self._seen.features
        finally:
            del self._seen.features
        probs = torch.softmax(logits, dim=1).numpy()
        answered = probs.max(axis=1) >= self.reject_below
        if self.detector is not None:
            answered &= self.detector.is_digit(torch.cat(features)).numpy()
        return (probs[0], bool(answered[0])) if single else (probs, answered)

    def _keep_features(self, _module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        kept = getattr(self._seen, "features", None)
        if kept is not None:  # a call through answer(), not another use of the model
            kept.append(args[0].flatten(1).float().cpu())

    def predict(self, images) -> int | np.ndarray:
        """The most likely digit (an int for one image, an array for a batch), even where
        `label` would say it is not a digit."""
        probs = self.probabilities(images)
        return int(probs.argmax()) if probs.ndim == 1 else probs.argmax(axis=1)

    @property
    def reject_below(self) -> float:
        """The top probability under which this model answers REFUSAL."""
        return self.checkpoint.reject_below

    def label(self, images) -> str | list[str]:
        """The answer as text: the digit ("7"), or REFUSAL for what is not a digit."""
        probs, answered = self.answer(images)
        labels = [
            str(p.argmax()) if digit else REFUSAL
            for p, digit in zip(np.atleast_2d(probs), np.atleast_1d(answered), strict=True)
        ]
        return labels[0] if probs.ndim == 1 else labels


# The answer for ink that a model trained to tell says is not a digit.
REFUSAL = "not a digit"


# Up to this many images, one thread is faster: waking a second one costs more than it
# saves on a 28x28 input (resnet_mini, one image: 1.6 ms on one thread, 3.6 ms on two).
_SMALL_BATCH = 8


@contextlib.contextmanager
def intra_op_threads(count: int) -> Iterator[None]:
    """Intra-op threads for the calling thread only (OpenMP keeps the setting per thread,
    so a training run in another thread keeps its own)."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _as_tensor(images) -> torch.Tensor:
    if isinstance(images, torch.Tensor):
        tensor = images.detach().cpu()
    else:
        tensor = torch.from_numpy(np.asarray(images).copy())
    if tensor.dtype == torch.uint8:
        return tensor
    tensor = tensor.float()
    if not torch.isfinite(tensor).all():
        raise ValueError("image contains NaN or infinite values")
    # Float input is read as 0-1 unless it is clearly on the 0-255 scale.
    return tensor / 255 if tensor.max() > 1.0 else tensor


def load_predictor(
    name_or_path: str | os.PathLike,
    device: str = "cpu",
    weights_dir: str | os.PathLike | None = None,
) -> Predictor:
    """A Predictor for a checkpoint name (in `weights_dir`, default weights/) or a path
    to a .pt file."""
    return Predictor(load_checkpoint(locate(name_or_path, weights_dir)), device)
