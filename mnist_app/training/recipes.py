"""Training recipes: an architecture plus the defaults of the tutorial it comes from.

A recipe's ``config`` is a complete :class:`TrainConfig` that names only the recipe's own
values (the rest are the settings' defaults); picking a recipe and changing nothing
reproduces its tutorial. ``make_config`` applies user overrides on top.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..core.messages import quoted
from ..core.paths import PENDIGITS_TRAIN
from ..core.settings import BY_NAME, TrainConfig, coerce


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

# The modern recipes' optimizer: one-cycle SGD-Nesterov with label smoothing.
_ONE_CYCLE = dict(
    optimizer="sgd",
    momentum=0.9,
    nesterov=True,
    weight_decay=5e-4,
    label_smoothing=0.1,
    schedule="onecycle",
)
# Warps and stroke widths that drawings on the canvas have and MNIST lacks.
_DRAWING_AUGMENT = dict(augment=True, rotate=12.0, shift=0.1, scale=0.12, shear=10.0, thickness=0.6)

_RESNET_MINI = TrainConfig(
    arch="resnet_mini",
    **_ONE_CYCLE,
    lr=0.1,
    batch_size=128,
    epochs=12,
    **_DRAWING_AUGMENT,
    dropout=0.1,
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
            _RESNET_MINI,
        ),
        Recipe(
            "resnet_drawn",
            "modern",
            "resnet_mini trained to read every writer and to refuse what is not a digit: "
            "MNIST plus pen-drawn digits (the pendigits train writers replayed on the canvas), "
            "those digits edited into styles MNIST lacks (slashed zero, crossed seven...), "
            "and generated non-digits (letters, doodles, scribbles, blobs, noise) taught to "
            "get no digit. The Draw tab's reader.",
            dataclasses.replace(
                _RESNET_MINI,
                epochs=0,  # trained by steps
                steps=8000,
                drawn_data=PENDIGITS_TRAIN,
                drawn_copies=2,
                drawn_styles=1,
                negatives=20000,
                # Refuses 0.5% of held-out drawn digits or 0.1% of held-out MNIST, whichever
                # is less (research/refusal_search.py, on train writers 16-30: 0.233).
                reject_below=0.23,
            ),
        ),
        Recipe(
            "speedrun_drawn",
            "modern",
            "Reads drawings after about two minutes on a laptop CPU: speedrun's network on "
            "MNIST plus pen-drawn digits (the pendigits train writers replayed on the canvas, "
            "each seen three times an epoch) with resnet_mini's drawing augmentation.",
            TrainConfig(
                arch="speednet",
                arch_kwargs={"hidden": 256},
                **_ONE_CYCLE,
                lr=0.2,
                batch_size=256,
                epochs=0,  # trained by steps
                steps=3400,
                val_size=0,
                **_DRAWING_AUGMENT,
                drawn_data=PENDIGITS_TRAIN,
                drawn_copies=1,
                drawn_repeats=3,
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
                **_ONE_CYCLE,
                lr=0.1,
                batch_size=128,
                epochs=0,  # trained by steps
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
                epochs=0,  # trained by steps
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
                dropout=0.5,
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
# What a visitor's first run should be where training has only a CPU: DEFAULT_RECIPE takes
# over an hour there and holds the server's only training slot; this one takes seconds.
QUICK_RECIPE = "speedrun"


def default_recipe(device_type: str) -> str:
    """The recipe a form opens on where training runs on `device_type` ("cpu", "cuda"...):
    the best one where it is quick, a quick one on a CPU."""
    return QUICK_RECIPE if device_type == "cpu" else DEFAULT_RECIPE


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {quoted(name)}; choose one of: {', '.join(RECIPES)}")
    return RECIPES[name]


def make_config(recipe: str, **overrides: Any) -> TrainConfig:
    """The recipe's config with the given settings replaced; None means "the recipe's"."""
    config = get_recipe(recipe).config
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - set(BY_NAME)
    if unknown:
        raise ValueError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
    overrides = {k: coerce(BY_NAME[k], v) for k, v in overrides.items()}
    config = dataclasses.replace(config, **overrides)
    config.validate()
    return config
