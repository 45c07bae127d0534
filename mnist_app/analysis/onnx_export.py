"""A checkpoint as an ONNX file, to run anywhere ONNX Runtime does (no PyTorch, no project).

    python -m mnist_app export resnet_mini                  # -> resnet_mini.onnx
    python -m mnist_app export weights/t4_lenet5.pt --out lenet.onnx

The file takes `image`, float32 (N, 1, 28, 28) in MNIST's convention (a light digit on a
dark background, 0 to 1: pixels / 255, as `preprocess.preprocess` makes them), and gives
`probabilities`, float32 (N, 10), and `is_digit`, bool (N,): whether the model names a digit
or says the ink is not one, as `Predictor.answer` does (its top-probability threshold and
digit detector, where it has them; always true for a model that always names a digit). The
checkpoint's normalisation, the softmax and those rules are inside the graph, so a user
needs nothing else from this project.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import torch
from torch import nn

from ..core.atomic import write_atomically
from ..core.checkpoint import Checkpoint
from ..core.data import normalize
from ..core.models import last_linear

OPSET = 18
# What the file computes, by version: a cached export of another version is made again.
# 2: the is_digit output.
FORMAT = 2


class Answer(nn.Module):
    """A checkpoint's model from [0, 1] images to its answer, as `Predictor.answer` gives
    it: the probabilities, and whether they name a digit. What the file computes."""

    def __init__(self, checkpoint: Checkpoint):
        super().__init__()
        self.model = checkpoint.build("cpu")
        self.mean, self.std = checkpoint.mean, checkpoint.std
        self.reject_below = checkpoint.reject_below
        self.detector = checkpoint.build_detector()
        self._features: list[torch.Tensor] = []
        if self.detector is not None:  # it reads what the last layer sees
            last_linear(self.model).register_forward_pre_hook(
                lambda _module, args: self._features.append(args[0].flatten(1))
            )

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probabilities = torch.softmax(self.model(normalize(image, self.mean, self.std)), dim=1)
        is_digit = probabilities.max(dim=1).values >= self.reject_below
        if self.detector is not None:
            features = self._features.pop()
            is_digit = is_digit & (self.detector(features) >= self.detector.threshold)
        return probabilities, is_digit


def export_onnx(checkpoint: Checkpoint, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write `checkpoint` as an ONNX file at `path` (atomically; an existing file is
    replaced only when `overwrite`); its metadata names the model, its recipe, its MNIST
    test accuracy and the input convention."""
    module = Answer(checkpoint).eval()
    example = torch.rand(2, 1, 28, 28)
    batch = torch.export.Dim("batch")
    with contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates every stage
        program = torch.onnx.export(
            module,
            (example,),
            input_names=["image"],
            output_names=["probabilities", "is_digit"],
            dynamic_shapes=({0: batch},),
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    metadata = {
        "name": checkpoint.name,
        "recipe": checkpoint.recipe,
        "architecture": checkpoint.arch,
        "mnist_test_accuracy": str(checkpoint.metrics.get("test_accuracy", "")),
        "preprocessing": checkpoint.preprocessing,
        "input": "image: float32 (N, 1, 28, 28), light digit on dark, 0 to 1",
        "output": "probabilities: float32 (N, 10), digits 0-9; is_digit: bool (N,), false "
        "where the model says the ink is not a digit",
        "config": json.dumps(checkpoint.config, default=str),
    }
    for key, value in metadata.items():
        program.model.metadata_props[key] = value
    return write_atomically(path, lambda tmp: program.save(tmp), overwrite)
