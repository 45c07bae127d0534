"""Architectures: every tutorial's network, made to fit 1x28x28, plus modern CNNs.

Every model takes a normalised (N, 1, 28, 28) float batch and returns (N, 10) logits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


class MLP(nn.Module):
    """Fully connected net; optional batch norm and dropout after each hidden layer."""

    def __init__(
        self,
        hidden: Sequence[int] = (256, 64),
        batch_norm: bool = False,
        dropout: float = 0.0,
        activation: str = "relu",
    ):
        super().__init__()
        act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
        layers: list[nn.Module] = [nn.Flatten()]
        width = 28 * 28
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, 10))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _conv_bn_relu(c_in: int, c_out: int, kernel: int = 3) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class TutorialCNN(nn.Module):
    """Tutorial 3: conv 1-32-64-128 (3x3, pad 1, each + max-pool 2), FC 1152-768-10.

    28 -> 14 -> 7 -> 3 after the three pools, so the flattened size is 128*3*3 = 1152.
    The tutorial applied softmax before CrossEntropyLoss; this returns logits instead.
    """

    def __init__(self, dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out in ((1, 32), (32, 64), (64, 128)):
            layers += [*_conv_bn_relu(c_in, c_out), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(1152, 768),
            nn.BatchNorm1d(768),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(768, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class CNNNet(nn.Module):
    """Tutorial 4's "CNNNet": two 5x5 conv + pool blocks, then FC 7*7*32 -> 10.

    The tutorial's flatten size assumed unpadded convs; padding 2 keeps 28 -> 14 -> 7.
    """

    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(
            *_conv_bn_relu(1, 16, 5),
            nn.MaxPool2d(2),
            *_conv_bn_relu(16, 32, 5),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(7 * 7 * 32, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LeNet5(nn.Module):
    """LeNet-5 (tutorial 4). It was designed for 32x32 input: padding 2 on the first conv
    makes 28x28 fit, so the 16*5*5 = 400 flatten size holds unchanged."""

    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SpeedNet(nn.Module):
    """Tiny BN conv net for seconds-long CPU training. A 2x2 space-to-depth first
    (28x28x1 -> 14x14x4) quarters the cost of the first conv at no loss in accuracy.
    Two stages (14 and 7 px) of `depth` 3x3 BN convs, each stage then max-pooled."""

    def __init__(
        self,
        widths: Sequence[int] = (32, 64),
        hidden: int = 0,
        dropout: float = 0.0,
        depth: int = 1,
    ):
        super().__init__()
        layers: list[nn.Module] = [nn.PixelUnshuffle(2)]
        c_in = 4
        for width in widths:
            for _ in range(depth):
                layers += _conv_bn_relu(c_in, width)
                c_in = width
            layers.append(nn.MaxPool2d(2))
        head: list[nn.Module] = [nn.Linear(c_in * 3 * 3, 10)]
        if hidden:
            head = [nn.Linear(c_in * 3 * 3, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 10)]
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(dropout), *head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ResNetMini(nn.Module):
    """Modern default: three stages (28, 14, 7 px) of a widening 3x3 BN conv followed by
    a residual 3x3 BN conv, then global average pooling."""

    def __init__(self, widths: Sequence[int] = (32, 64, 128), dropout: float = 0.1):
        super().__init__()
        stages: list[nn.Module] = []
        c_in = 1
        for i, w in enumerate(widths):
            stages.append(_ResidualStage(c_in, w, pool=i < len(widths) - 1))
            c_in = w
        self.features = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(c_in, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class _ResidualStage(nn.Module):
    def __init__(self, c_in: int, c_out: int, pool: bool):
        super().__init__()
        self.enter = nn.Sequential(*_conv_bn_relu(c_in, c_out))
        self.body = nn.Sequential(*_conv_bn_relu(c_out, c_out))
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.enter(x)
        return self.pool(x + self.body(x))


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLP,
    "tutorial_cnn": TutorialCNN,
    "cnnnet": CNNNet,
    "lenet5": LeNet5,
    "speednet": SpeedNet,
    "resnet_mini": ResNetMini,
}


# Twenty times the largest network a recipe trains (t3_cnn, 0.99M): a checkpoint's arguments
# asking for more are refused before any memory is taken (a crafted file asked for 517M).
MAX_PARAMETERS = 20_000_000
MAX_LAYERS = 64


def build_model(arch: str, **kwargs) -> nn.Module:
    """Instantiate a registered architecture; unknown names list the known ones. Its size
    is checked first on the meta device (no memory): over MAX_PARAMETERS is a ValueError."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    for key, value in kwargs.items():  # a list of layers is built even on the meta device
        if isinstance(value, list | tuple) and len(value) > MAX_LAYERS:
            raise ValueError(f"{arch}: {key} lists {len(value):,} layers; at most {MAX_LAYERS}")
    with torch.device("meta"):
        size = count_parameters(ARCHITECTURES[arch](**kwargs))
    if size > MAX_PARAMETERS:
        raise ValueError(
            f"{arch} with {kwargs} would have {size:,} parameters; at most "
            f"{MAX_PARAMETERS:,} are built"
        )
    return ARCHITECTURES[arch](**kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def is_convolutional(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def last_linear(model: nn.Module) -> nn.Linear:
    """The classifier's last linear layer: its input is the penultimate feature."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no linear layer to read features from")
    return linears[-1]
