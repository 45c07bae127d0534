"""Every training setting, declared once: the table the CLI, the Train tab, the /train API
and the validation are all generated from.

A setting is a field of :class:`TrainConfig` whose metadata holds a :class:`Setting`: its
type and default come from the field, the rest (help, range, choices, label, where it is
shown) from the ``Setting``. Adding a setting is one field here plus its use in the
trainer; every face picks it up. Recipes (``training/recipes.py``) give only their own values.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any

from .messages import quoted

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
# Far beyond any useful MNIST run, yet a typo (1e9 epochs) is caught before it starts.
MAX_EPOCHS = 10_000
MAX_STEPS = 10_000_000
MNIST_TRAIN = 60_000  # training images, before a validation set is carved out

# Where the Train tab shows a setting.
MAIN, MORE, HIDDEN = "main", "more", "hidden"


@dataclass(frozen=True)
class Setting:
    """How one training setting is described and checked, for every face of the app."""

    help: str
    label: str  # the Train tab's label, also used in error messages
    choices: tuple[str, ...] = ()
    low: float | None = None  # inclusive, unless low_open
    high: float | None = None  # inclusive, unless high_open
    low_open: bool = False
    high_open: bool = False
    ui: str = MAIN  # MAIN, MORE (the "More settings" group) or HIDDEN (CLI only)
    metavar: str = ""  # the CLI's name for the value, when its type says too little
    # Filled in from the TrainConfig field that declares the setting.
    name: str = ""
    type: type = str  # int, float, bool or str
    default: Any = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def setting(default: Any, help: str, label: str, **kwargs: Any) -> Any:
    return field(default=default, metadata={"setting": Setting(help, label, **kwargs)})


@dataclass(frozen=True)
class TrainConfig:
    # What the recipe builds; not a setting a user changes.
    arch: str
    arch_kwargs: dict[str, Any] = field(default_factory=dict)

    epochs: int = setting(1, "passes over the training set", "Epochs", low=0, high=MAX_EPOCHS)
    steps: int = setting(
        0,
        "train this many steps instead of epochs (0 = train by epochs)",
        "Steps (0 = by epochs)",
        low=0,
        high=MAX_STEPS,
    )
    lr: float = setting(
        0.01, "learning rate (the peak for one-cycle)", "Learning rate", low=0, low_open=True
    )
    batch_size: int = setting(
        128,
        "images per step (0 = full batch: every step sees the whole training set)",
        "Batch size (0 = full batch)",
        low=0,
        high=MNIST_TRAIN,
    )
    optimizer: str = setting("sgd", "optimizer", "Optimizer", choices=("sgd", "adam", "adamw"))
    loss: str = setting(
        "cross_entropy",
        "loss (mse is on one-hot targets)",
        "Loss",
        choices=("cross_entropy", "mse"),
    )
    schedule: str = setting(
        "none",
        "learning-rate schedule",
        "LR schedule",
        choices=("none", "step", "onecycle"),
    )
    augment: bool = setting(
        False,
        "random rotation, shift, zoom and shear, and stroke thickness, per batch",
        "Augmentation",
    )
    seed: int = setting(
        0, "random seed (data order, initial weights, augmentation)", "Seed", low=0, high=2**32 - 1
    )
    device: str = setting(
        "auto",
        "where to train: auto picks CUDA, then MPS, then the CPU",
        "Device",
        choices=("auto", "cpu", "cuda", "mps"),
    )
    momentum: float = setting(
        0.0, "SGD momentum", "Momentum", low=0, high=1, high_open=True, ui=MORE
    )
    nesterov: bool = setting(False, "Nesterov momentum (SGD only)", "Nesterov", ui=MORE)
    weight_decay: float = setting(0.0, "L2 weight decay", "Weight decay", low=0, ui=MORE)
    label_smoothing: float = setting(
        0.0,
        "cross-entropy label smoothing",
        "Label smoothing",
        low=0,
        high=1,
        high_open=True,
        ui=MORE,
    )
    step_size: int = setting(
        5, "StepLR period, in epochs", "Step schedule: period (epochs)", low=1, ui=MORE
    )
    gamma: float = setting(
        0.5, "StepLR factor", "Step schedule: factor", low=0, high=1, low_open=True, ui=MORE
    )
    dropout: float = setting(
        0.0, "dropout probability", "Dropout", low=0, high=1, high_open=True, ui=MORE
    )
    rotate: float = setting(
        10.0, "augmentation: largest rotation, degrees", "Rotate (°)", low=0, high=180, ui=MORE
    )
    shift: float = setting(
        0.1, "augmentation: largest shift, fraction of the image", "Shift", low=0, high=1, ui=MORE
    )
    scale: float = setting(
        0.1,
        "augmentation: largest zoom in or out, relative",
        "Zoom",
        low=0,
        high=1,
        high_open=True,
        ui=MORE,
    )
    shear: float = setting(
        0.0,
        "augmentation: largest shear, degrees",
        "Shear (°)",
        low=0,
        high=80,
        ui=MORE,
    )
    elastic: float = setting(
        0.0,
        "augmentation: largest elastic displacement, pixels (smooth local bending)",
        "Elastic (px)",
        low=0,
        high=4,
        ui=MORE,
    )
    thickness: float = setting(
        0.0,
        "augmentation: stroke thickening or thinning, as a fraction of a 3x3 dilation",
        "Stroke thickness",
        low=0,
        high=1,
        ui=MORE,
    )
    val_size: int = setting(
        5000,
        "validation images carved from the 60,000 training images (0 = train on all)",
        "Validation images",
        low=0,
        high=MNIST_TRAIN - 1,
        ui=MORE,
    )
    mean: float = setting(MNIST_MEAN, "normalisation mean", "Normalise: mean", ui=MORE)
    std: float = setting(MNIST_STD, "normalisation std", "Normalise: std", low=0.001, ui=MORE)
    # A server-side file: never offered to the web (no user input reaches the file system).
    drawn_data: str = setting(
        "",
        "also train on pen-drawn digits replayed as sketches through the app's "
        "preprocessing: pendigits (its train writers), unipen (the UNIPEN writers outside "
        "pen.writers.HELD_OUT), both as pendigits+unipen, or a pendigits-format file",
        "Drawn digits file",
        ui=HIDDEN,
        metavar="FILE",
    )
    # A server-side file too: never offered to the web.
    start_from: str = setting(
        "",
        "fine-tune: start from this saved model's weights (a checkpoint name in the weights "
        "folder, or a .pt file) instead of fresh ones; it must be of the recipe's architecture",
        "Start from",
        ui=HIDDEN,
        metavar="MODEL",
    )
    drawn_copies: int = setting(
        3, "renderings of each drawn digit", "Drawn copies", low=1, ui=HIDDEN
    )
    drawn_repeats: int = setting(
        1,
        "times each drawn rendering is seen per epoch (each time augmented anew): more weight "
        "for drawings without the time of more renderings",
        "Drawn repeats",
        low=1,
        high=100,
        ui=HIDDEN,
    )
    mnist_repeats: int = setting(
        1,
        "times each MNIST training image is seen per epoch (each time augmented anew): keeps "
        "MNIST's share of each batch when drawn digits and non-digits join it",
        "MNIST repeats",
        low=1,
        high=100,
        ui=HIDDEN,
    )
    drawn_jitter: float = setting(
        0.0,
        "each drawn rendering's strokes moved, and the digit bent by a smooth warp, by up to "
        "this share of its size (pen.replay.jittered), 0 = as written",
        "Drawn jitter",
        low=0,
        high=0.3,
        ui=HIDDEN,
    )
    drawn_styles: int = setting(
        0,
        "renderings of the drawn digits edited into writing styles MNIST lacks (slashed and "
        "dotted zero, crossed seven, flagged ones, looped two; pen.styles), 0 = none",
        "Drawn styles",
        low=0,
        high=100,
        ui=HIDDEN,
    )
    negatives: int = setting(
        0,
        "generated non-digits (letters, symbols, doodles, scribbles, blobs, noise; "
        "nondigit.negatives) taught to get no digit: the uniform answer",
        "Non-digits",
        low=0,
        high=1_000_000,
        ui=HIDDEN,
    )
    script_negatives: int = setting(
        0,
        "of the non-digits, how many are letters in Hershey's script fonts "
        "(nondigit.stroke_fonts; fetch them with scripts/fetch_stroke_fonts.sh)",
        "Script-letter non-digits",
        low=0,
        high=1_000_000,
        ui=HIDDEN,
    )
    symbol_negatives: int = setting(
        0,
        "of the non-digits, how many are letters of other alphabets and signs in Hershey's "
        "Greek, Cyrillic and symbol fonts (nondigit.stroke_fonts)",
        "Symbol non-digits",
        low=0,
        high=1_000_000,
        ui=HIDDEN,
    )
    pen_letters: int = setting(
        0,
        "of the non-digits, how many are real pen letters by the UNIPEN writers outside "
        "pen.writers.HELD_OUT (letters no one reads as a digit), replayed on the canvas",
        "Pen-letter non-digits",
        low=0,
        high=1_000_000,
        ui=HIDDEN,
    )
    reject_below: float = setting(
        0.0,
        'answer "not a digit" when the top probability is below this (0 = always answer a '
        "digit); kept in the checkpoint",
        "Refuse below",
        low=0,
        high=1,
        ui=HIDDEN,
    )
    detector_refuse: float = setting(
        0.0,
        "fit a digit detector on the features after training (core/digit_detector.py), refusing "
        "this share of the training digits (0 = none; needs non-digits and the stroke fonts)",
        "Digit detector: training digits refused",
        low=0,
        high=0.1,
        ui=HIDDEN,
    )

    def validate(self) -> None:
        """Raise ValueError with a user-facing message for any impossible setting."""
        for spec in SETTINGS:
            _check(spec, getattr(self, spec.name))
        if self.epochs < 1 and self.steps < 1:
            raise ValueError("train for at least one epoch or one step")
        if self.drawn_styles and not self.drawn_data:
            raise ValueError("writing styles are made from drawn digits: name drawn data too")
        if self.script_negatives + self.symbol_negatives + self.pen_letters > self.negatives:
            raise ValueError(
                "script-letter, symbol and pen-letter non-digits are counted in the non-digits"
            )
        if self.detector_refuse and not self.negatives:
            raise ValueError("a digit detector is fitted on digits against non-digits: add some")
        if self.negatives and self.loss != "cross_entropy":
            raise ValueError("non-digits are taught with the cross-entropy loss, not mse")
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            raise ValueError("Nesterov momentum needs a momentum above 0")
        steps_per_epoch = -(-MNIST_TRAIN // self.batch_size) if self.batch_size else 1
        if (self.steps or self.epochs * steps_per_epoch) > MAX_STEPS:
            raise ValueError(
                f"too long a run: at most {MAX_STEPS:,} steps (now {self.epochs:,} epochs of "
                f"{steps_per_epoch:,} steps); use fewer epochs or bigger batches"
            )

    def model_kwargs(self) -> dict[str, Any]:
        """The architecture's arguments, the dropout setting among them."""
        return {**self.arch_kwargs, "dropout": self.dropout}


_TYPES = typing.get_type_hints(TrainConfig)
SETTINGS: tuple[Setting, ...] = tuple(
    dataclasses.replace(f.metadata["setting"], name=f.name, type=_TYPES[f.name], default=f.default)
    for f in dataclasses.fields(TrainConfig)
    if "setting" in f.metadata
)
BY_NAME = {s.name: s for s in SETTINGS}


def coerce(spec: Setting, value: Any) -> Any:
    """A value from a form or a JSON request as the setting's type: 3.0 -> 3 for an
    integer, "on" -> True for a switch; anything else is left for `validate` to refuse."""
    if spec.type is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec.type is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"{spec.label.lower()} is too large") from None
    if spec.type is bool and isinstance(value, str):
        try:
            return parse_bool(value)
        except ValueError:
            return value
    return value


def _check(spec: Setting, value: Any) -> None:
    label = spec.label.split(" (")[0]
    what = label if label[:2].isupper() else label[0].lower() + label[1:]  # "LR schedule"
    if spec.type is bool:
        ok = isinstance(value, bool)
    elif spec.type is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif spec.type is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ValueError(f"{what} must be {_type_words(spec.type)}, got {quoted(value)}")
    if spec.choices and value not in spec.choices:
        raise ValueError(f"{what} must be one of {', '.join(spec.choices)}, got {quoted(value)}")
    below = spec.low is not None and (value <= spec.low if spec.low_open else value < spec.low)
    above = spec.high is not None and (value >= spec.high if spec.high_open else value > spec.high)
    if below or above:
        raise ValueError(f"{what} must be {describe_range(spec)}, got {_number(value)}")


def describe_range(spec: Setting) -> str:
    """'in [0, 1)', 'positive', 'at least 1', 'at most 10,000'... for messages and help."""
    low, high = spec.low, spec.high
    if low is not None and high is not None:
        left, right = "(" if spec.low_open else "[", ")" if spec.high_open else "]"
        return f"in {left}{_number(low)}, {_number(high)}{right}"
    if low is not None:
        if low == 0:
            return "positive" if spec.low_open else "at least 0"
        return f"above {_number(low)}" if spec.low_open else f"at least {_number(low)}"
    if high is not None:
        return f"below {_number(high)}" if spec.high_open else f"at most {_number(high)}"
    return "any value"


def _number(value: float) -> str:
    """10000 -> '10,000', 0.5 -> '0.5', 1e9 -> '1,000,000,000'."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _type_words(kind: type) -> str:
    return {int: "a whole number", float: "a number", bool: "on or off"}.get(kind, "text")


def parse_bool(text: str) -> bool:
    """on/off, true/false, yes/no, 1/0 (case-insensitive); ValueError otherwise."""
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected on or off, got {quoted(text)}")
