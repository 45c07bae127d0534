"""Inside the network: what every layer of a model computes for one image.

Which modules count as "a layer", for every architecture in core.models:
  - each weighted layer (Conv2d or Linear) followed by its activation, read at the
    activation's output. That is where a layer's answer is decided (batch norm only
    rescales it, pooling only shrinks it), and it is the same rule for every architecture:
    `mlp` gives one strip per hidden layer, `lenet5`, `cnnnet` and `tutorial_cnn` their
    conv blocks then their hidden dense layers, `speednet` its convs after the 2x2
    space-to-depth (so its first conv reads 4 channels of 14x14), and `resnet_mini` both
    convs of each stage. A residual sum has no weights of its own: what the next stage
    reads is the sum of the two maps shown, pooled;
  - the penultimate features: what the last linear layer reads (after ResNet's average
    pooling, or the flattened last conv maps of CNNNet and SpeedNet). Where that is
    exactly the last hidden layer's output (LeNet-5, the MLPs, SpeedNet with a hidden
    layer), the hidden layer is shown once, as the penultimate features;
  - the ten outputs, as probabilities.
A personal model's head (core.personal_head) is its last layer, with the same input.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..core.data import normalize
from ..core.models import last_linear
from ..core.predict import Predictor, intra_op_threads

ACTIVATIONS = (nn.ReLU, nn.Sigmoid, nn.Tanh)
CONV, DENSE, FEATURES = "conv", "dense", "features"  # the kinds of layer with channels


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a model, as read by a hook on `module`."""

    module: nn.Module
    kind: str  # CONV or DENSE
    weighted: nn.Module  # the Conv2d or Linear whose activation `module` is

    def title(self, number: int, shape: tuple[int, ...]) -> str:
        """'layer 2 · conv 32→64 · 14x14' or 'layer 4 · dense 400→120 · 120 units'."""
        if self.kind == CONV:
            conv = self.weighted
            k = conv.kernel_size[0]
            return (
                f"layer {number} · conv {conv.in_channels}→{conv.out_channels}, {k}x{k} · "
                f"{shape[1]}x{shape[2]}"
            )
        linear = self.weighted
        return (
            f"layer {number} · dense {linear.in_features}→{linear.out_features} · {shape[0]} units"
        )


@dataclass(frozen=True)
class Layer:
    """A layer's output for one image: conv maps (C, H, W), units (N,), the input
    (1, 28, 28, 0 to 1) or the ten probabilities."""

    name: str
    kind: str  # "input", CONV, DENSE, FEATURES or "output"
    values: np.ndarray  # float32

    @property
    def channels(self) -> int:
        """How many maps or units can be clicked for their training images (0: none)."""
        return len(self.values) if self.kind in (CONV, DENSE, FEATURES) else 0


def layer_specs(model: nn.Module) -> list[LayerSpec]:
    """Every weighted layer with an activation after it, in the order the model runs them
    (every architecture here registers its modules in that order)."""
    specs, weighted = [], None
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            weighted = module
        elif isinstance(module, ACTIVATIONS) and weighted is not None:
            kind = CONV if isinstance(weighted, nn.Conv2d) else DENSE
            specs.append(LayerSpec(module, kind, weighted))
            weighted = None  # a second activation in a row is not a layer of its own
    return specs


@contextmanager
def captured(
    model: nn.Module, specs: list[LayerSpec], keep: Callable[[torch.Tensor], torch.Tensor]
) -> Iterator[tuple[list[list[torch.Tensor]], list[torch.Tensor]]]:
    """While open, each forward pass appends keep(output) of every layer in `specs` (one
    list per layer) and keep(what the last linear layer reads, flattened) to the second."""
    outputs: list[list[torch.Tensor]] = [[] for _ in specs]
    penultimate: list[torch.Tensor] = []
    hooks = [
        spec.module.register_forward_hook(
            lambda _m, _args, out, kept=kept: kept.append(keep(out.float()))
        )
        for spec, kept in zip(specs, outputs, strict=True)
    ]
    hooks.append(
        last_linear(model).register_forward_pre_hook(
            lambda _m, args: penultimate.append(keep(args[0].flatten(1).float()))
        )
    )
    try:
        yield outputs, penultimate
    finally:
        for hook in hooks:
            hook.remove()


@dataclass(frozen=True)
class LayerPlan:
    """The layers a model shows: its specs, and which of them (if any) is exactly the
    penultimate features, found once by a probe image."""

    specs: list[LayerSpec]
    penultimate_is: int | None  # index into specs, or None: the features are a row of their own

    @property
    def channel_layers(self) -> int:
        """How many rows have clickable channels (every spec, plus separate features)."""
        return len(self.specs) + (self.penultimate_is is None)


@torch.inference_mode()
def layer_plan(model: nn.Module) -> LayerPlan:
    specs = layer_specs(model)
    probe = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    was_training = model.training
    model.eval()
    try:
        with captured(model, specs, lambda t: t) as (outputs, penultimate):
            model(probe.to(next(model.parameters()).device))
    finally:
        model.train(was_training)
    same = [
        i
        for i, spec in enumerate(specs)
        if spec.kind == DENSE and torch.equal(outputs[i][0].flatten(1), penultimate[0])
    ]
    return LayerPlan(specs, same[-1] if same else None)


class LayerInspector:
    """Every layer of one model for one image at a time, on a copy of its own: hooks on the
    shared model would also catch the other threads' predictions."""

    def __init__(self, model: nn.Module, mean: float, std: float):
        self._model = copy.deepcopy(model).eval()
        self._mean, self._std = mean, std
        self.plan = layer_plan(self._model)
        self._lock = threading.Lock()

    @torch.inference_mode()
    def inspect(self, image) -> list[Layer]:
        """The input, each layer, the penultimate features and the ten probabilities for
        one 28x28 image (uint8, or floats 0 to 1; MNIST's light digit on dark)."""
        pixels = _as_image(image)
        device = next(self._model.parameters()).device
        with self._lock, intra_op_threads(1):  # one image: one thread is faster
            with captured(self._model, self.plan.specs, lambda t: t[0].clone()) as kept:
                logits = self._model(normalize(pixels[None].to(device), self._mean, self._std))
            outputs, penultimate = kept
        probabilities = torch.softmax(logits.float(), dim=1)[0]
        return self._rows(pixels, [o[0] for o in outputs], penultimate[0], probabilities)

    def _rows(self, pixels, outputs, penultimate, probabilities) -> list[Layer]:
        rows = [Layer("input · 28x28, as the model reads it", "input", pixels[None].numpy())]
        for number, (spec, values) in enumerate(zip(self.plan.specs, outputs, strict=True), 1):
            title = spec.title(number, tuple(values.shape))
            if number - 1 == self.plan.penultimate_is:
                rows.append(Layer(f"{title} · penultimate", FEATURES, values.cpu().numpy()))
            else:
                rows.append(Layer(title, spec.kind, values.cpu().numpy()))
        if self.plan.penultimate_is is None:
            name = f"penultimate · {len(penultimate)} features, what the last layer reads"
            rows.append(Layer(name, FEATURES, penultimate.cpu().numpy()))
        rows.append(Layer("output · probability of each digit", "output", probabilities.numpy()))
        return rows


def _as_image(image) -> torch.Tensor:
    """(28, 28) float32 0 to 1."""
    pixels = torch.as_tensor(np.asarray(image))
    if pixels.shape != (28, 28):
        raise ValueError(f"expected a 28x28 image, got {tuple(pixels.shape)}")
    return pixels.float() / 255 if pixels.dtype == torch.uint8 else pixels.float()


_inspectors: weakref.WeakKeyDictionary[Predictor, LayerInspector] = weakref.WeakKeyDictionary()
_inspectors_lock = threading.Lock()


def inspector(predictor: Predictor) -> LayerInspector:
    """The inspector of a loaded model, made once: a library replaces the Predictor when its
    checkpoint file changes, and this one is forgotten with it."""
    with _inspectors_lock:
        if predictor not in _inspectors:
            checkpoint = predictor.checkpoint
            _inspectors[predictor] = LayerInspector(
                predictor.model, checkpoint.mean, checkpoint.std
            )
        return _inspectors[predictor]
