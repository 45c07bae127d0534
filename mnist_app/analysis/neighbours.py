"""What a model thought an image resembled: the training images nearest to it in the
model's own penultimate layer (the input of its last linear layer, where the digits are
already separated), by cosine similarity."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

import torch
from torch import nn

from ..core.data import normalize
from ..core.models import last_linear
from ..core.predict import intra_op_threads


@dataclass(frozen=True)
class Neighbour:
    index: int  # position among the training images
    label: int
    similarity: float  # cosine, -1 to 1


@torch.inference_mode()
def penultimate_features(
    model: nn.Module,
    images: torch.Tensor,
    mean: float,
    std: float,
    batch_size: int = 1000,
    unit: bool = True,
) -> torch.Tensor:
    """(N, D) float32: what the last layer sees, for uint8 or 0-1 images; scaled to unit
    length if `unit`."""
    captured: list[torch.Tensor] = []
    hook = last_linear(model).register_forward_pre_hook(
        lambda _module, args: captured.append(args[0].flatten(1).float())
    )
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(images), batch_size):
            model(normalize(images[start : start + batch_size].to(device), mean, std))
    finally:
        hook.remove()
        model.train(was_training)
    features = torch.cat(captured).cpu() if captured else torch.empty(0, 0)
    return _unit(features) if unit else features


def _unit(features: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(features, dim=1)


class FeatureIndex:
    """The training set in one model's feature space, for nearest-neighbour look-ups.

    Features are centred on the training set's mean before the cosine: after a ReLU they
    are all positive, and every pair then looks 0.99 alike, which drowns the ranking in
    float16 rounding. Kept as float16: 60,000 x 128 features take 15 MB."""

    def __init__(self, model: nn.Module, mean: float, std: float, images, labels):
        # A copy of its own: the feature hook would also catch the inputs of other threads
        # (the app's predictions) running the shared model meanwhile.
        self._model, self._mean, self._std = copy.deepcopy(model), mean, std
        self._lock = threading.Lock()  # and one look-up at a time, for the same reason
        model = self._model
        with intra_op_threads(torch.get_num_threads()):
            features = penultimate_features(model, images, mean, std, unit=False)
        self._centre = features.mean(dim=0)
        self._features = _unit(features - self._centre).half()
        self._labels = labels.cpu().long()

    def __len__(self) -> int:
        return len(self._labels)

    def nearest(self, image: torch.Tensor, k: int = 6) -> list[Neighbour]:
        """The `k` training images most like `image` (28x28, uint8 or 0-1) to this model."""
        with self._lock, intra_op_threads(1):
            image = image.reshape(1, 28, 28)
            query = penultimate_features(self._model, image, self._mean, self._std, unit=False)
        similarity = self._features.float() @ _unit(query - self._centre)[0]
        top = similarity.topk(min(k, len(similarity)))
        return [
            Neighbour(int(i), int(self._labels[i]), float(s))
            for s, i in zip(top.values, top.indices, strict=True)
        ]
