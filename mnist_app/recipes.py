"""Training recipes: an architecture plus the defaults of the tutorial it comes from.

A recipe's ``config`` is a complete :class:`TrainConfig`; picking a recipe and changing
nothing reproduces its tutorial. ``make_config`` applies user overrides on top.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw")
LOSSES = ("cross_entropy", "mse")
SCHEDULES = ("none", "step", "onecycle")

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


# Far beyond any useful MNIST run, yet a typo (1e9 epochs) is caught before it starts.
MAX_EPOCHS = 10_000
MAX_STEPS = 10_000_000


@dataclass(frozen=True)
class TrainConfig:
    arch: str
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    loss: str = "cross_entropy"
    label_smoothing: float = 0.0
    schedule: str = "none"
    step_size: int = 5  # StepLR period, in epochs
    gamma: float = 0.5  # StepLR factor
    batch_size: int = 128  # 0 means full batch: every step sees the whole training set
    epochs: int = 1
    steps: int = 0  # when > 0, train for this many steps instead of `epochs`
    augment: bool = False
    rotate: float = 10.0  # degrees
    shift: float = 0.1  # fraction of the image size
    scale: float = 0.1  # relative zoom range
    shear: float = 0.0  # degrees
    thickness: float = 0.0  # stroke-thickness change, fraction of a 3x3 dilation/erosion
    mean: float = MNIST_MEAN
    std: float = MNIST_STD
    val_size: int = 5000
    # Extra training data: a UNIPEN pendigits file whose pen-drawn digits are replayed as
    # sketches through the app's preprocessing ("" for MNIST only), `drawn_copies` each.
    drawn_data: str = ""
    drawn_copies: int = 3
    seed: int = 0
    device: str = "auto"

    def validate(self) -> None:
        """Raise ValueError with a user-facing message for any impossible setting."""
        checks = [
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.lr > 0, "learning rate must be positive"),
            (self.batch_size >= 0, "batch size must be positive (or 0 for full batch)"),
            (self.epochs >= 0, "epochs must not be negative"),
            (self.steps >= 0, "steps must not be negative"),
            (self.epochs >= 1 or self.steps >= 1, "train for at least one epoch or one step"),
            (
                self.epochs <= MAX_EPOCHS and self.steps <= MAX_STEPS,
                f"too many epochs or steps: at most {MAX_EPOCHS:,} epochs or {MAX_STEPS:,} steps",
            ),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)"),
            (self.weight_decay >= 0, "weight decay must not be negative"),
            (0 <= self.label_smoothing < 1, "label smoothing must be in [0, 1)"),
            (self.std > 0, "normalisation std must be positive"),
            (self.val_size >= 0, "validation size must not be negative"),
            (self.step_size >= 1, "StepLR step size must be at least 1 epoch"),
            (0 <= self.thickness <= 1, "thickness augmentation must be in [0, 1]"),
            (self.drawn_copies >= 1, "drawn copies must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass(frozen=True)
class Recipe:
    name: str
    tutorial: str  # which tutorial it reproduces, or "modern"
    description: str
    config: TrainConfig
    note: str = ""  # what had to change to make a broken tutorial work


_TUTORIAL4 = dict(
    optimizer="sgd",
    lr=0.01,
    momentum=0.9,
    epochs=20,
    batch_size=64,
    schedule="step",
    step_size=5,
    gamma=0.5,
)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            "resnet_mini",
            "modern",
            "Residual BN CNN (32-64-128), SGD-Nesterov + one-cycle, label smoothing, and "
            "augmentation for drawn digits (rotation, shift, scale, shear, stroke thickness): "
            "the default.",
            TrainConfig(
                arch="resnet_mini",
                optimizer="sgd",
                lr=0.1,
                momentum=0.9,
                nesterov=True,
                weight_decay=5e-4,
                label_smoothing=0.1,
                schedule="onecycle",
                batch_size=128,
                epochs=12,
                augment=True,
                rotate=12.0,
                shift=0.1,
                scale=0.12,
                shear=10.0,
                thickness=0.6,
            ),
        ),
        Recipe(
            "speedrun",
            "modern",
            "Tiny BN CNN (space-to-depth input, FC 256 head) tuned to pass 99% test accuracy in "
            "seconds on a CPU: SGD-Nesterov, one-cycle, label smoothing, 700 steps of 128.",
            TrainConfig(
                arch="speednet",
                arch_kwargs={"hidden": 256},
                optimizer="sgd",
                lr=0.1,
                momentum=0.9,
                nesterov=True,
                weight_decay=5e-4,
                label_smoothing=0.1,
                schedule="onecycle",
                batch_size=128,
                steps=700,
                val_size=0,
            ),
        ),
        Recipe(
            "t1_mlp_mse",
            "1",
            "MLP 784-256-64-10 with ReLU, MSE loss on one-hot targets, SGD 0.01 momentum 0.9, "
            "batch 512, 3 epochs.",
            TrainConfig(
                arch="mlp",
                arch_kwargs={"hidden": [256, 64]},
                loss="mse",
                lr=0.01,
                momentum=0.9,
                batch_size=512,
                epochs=3,
            ),
        ),
        Recipe(
            "t2_fullbatch_mlp",
            "2",
            "MLP 784-30-30-10, full-batch gradient descent (each step sees all training "
            "images), SGD 0.003, cross-entropy, 5000 steps.",
            TrainConfig(
                arch="mlp",
                arch_kwargs={"hidden": [30, 30]},
                lr=0.003,
                batch_size=0,
                steps=5000,
            ),
        ),
        Recipe(
            "t3_cnn",
            "3",
            "CNN conv 1-32-64-128 (3x3, each + max-pool), FC 1152-768-10 with dropout and "
            "batch norm, rotation and shift augmentation, Normalize(0.5, 0.5).",
            TrainConfig(
                arch="tutorial_cnn",
                arch_kwargs={"dropout": 0.5},
                optimizer="adam",
                lr=0.001,
                batch_size=64,
                epochs=10,
                augment=True,
                rotate=10.0,
                shift=0.1,
                scale=0.0,
                mean=0.5,
                std=0.5,
            ),
            note="The tutorial applied softmax before CrossEntropyLoss (which applies it "
            "again); the model here outputs logits.",
        ),
        Recipe(
            "t4_mlp_bn",
            "4",
            "MLP 784-300-100-10 with batch norm, SGD 0.01 momentum 0.9, StepLR(5, 0.5), "
            "20 epochs; dropout, weight decay and augmentation are options.",
            TrainConfig(
                arch="mlp", arch_kwargs={"hidden": [300, 100], "batch_norm": True}, **_TUTORIAL4
            ),
        ),
        Recipe(
            "t4_cnnnet",
            "4",
            "CNNNet: two 5x5 conv + BN + pool blocks (16, 32 channels), FC 1568-10; "
            "SGD 0.01 momentum 0.9, StepLR(5, 0.5), 20 epochs.",
            TrainConfig(arch="cnnnet", **_TUTORIAL4),
            note="The tutorial's flatten size did not fit 1x28x28; padding 2 keeps 28->14->7.",
        ),
        Recipe(
            "t4_lenet5",
            "4",
            "LeNet-5 (conv 6-16, FC 120-84-10); SGD 0.01 momentum 0.9, StepLR(5, 0.5), 20 epochs.",
            TrainConfig(arch="lenet5", **_TUTORIAL4),
            note="LeNet-5 expects 32x32 input; padding 2 on the first conv makes 28x28 fit.",
        ),
        Recipe(
            "t5_mlp_bn",
            "5",
            "MLP 784-128 (batch norm, ReLU)-10, batch 128, SGD 0.02, weight decay 1e-4, "
            "20 epochs, Normalize(0.5, 0.5).",
            TrainConfig(
                arch="mlp",
                arch_kwargs={"hidden": [128], "batch_norm": True},
                lr=0.02,
                weight_decay=1e-4,
                batch_size=128,
                epochs=20,
                mean=0.5,
                std=0.5,
            ),
        ),
    ]
}
DEFAULT_RECIPE = "resnet_mini"

# Knobs a user may set per run; "dropout" goes into the architecture's arguments.
ARCH_OPTIONS = ("dropout",)


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of: {', '.join(RECIPES)}")
    return RECIPES[name]


def make_config(recipe: str, **overrides: Any) -> TrainConfig:
    """The recipe's config with the given knobs replaced; None means "keep the default"."""
    config = get_recipe(recipe).config
    overrides = {k: v for k, v in overrides.items() if v is not None}
    arch_overrides = {k: overrides.pop(k) for k in ARCH_OPTIONS if k in overrides}
    unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise ValueError(f"unknown training option(s): {', '.join(sorted(unknown))}")
    if arch_overrides:
        overrides["arch_kwargs"] = {**config.arch_kwargs, **arch_overrides}
    config = dataclasses.replace(config, **overrides)
    config.validate()
    return config
