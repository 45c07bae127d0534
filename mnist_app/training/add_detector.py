"""A digit detector for a model already trained (`python -m mnist_app fit-detector`): fitted
as its training run would have fitted one, without training it again."""

from __future__ import annotations

import dataclasses

from ..core.checkpoint import Checkpoint, cpu_state
from ..core.data import Mnist, Split
from ..core.settings import TrainConfig
from ..nondigit.detector_training import fit_model_detector
from .material import training_split


def with_detector(checkpoint: Checkpoint, data: Mnist, refuse: float) -> Checkpoint:
    """`checkpoint` with a detector fitted as its training would have fitted one with
    `--detector-refuse refuse`: on the digits its recipe's settings trained on (drawn
    digits rendered again from the same seeds). ValueError for a model it cannot serve."""
    if checkpoint.personal_head:
        raise ValueError("fit the digit detector on the base model, before personalising it")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in checkpoint.config.items() if k in fields})
    if not config.negatives:
        raise ValueError(
            f"{checkpoint.name} was trained without non-digits, so nothing taught its features "
            "to set them apart: train it with --negatives first"
        )
    config = dataclasses.replace(config, detector_refuse=refuse)
    config.validate()
    digits = trained_digits(config, data).images
    detector = fit_model_detector(checkpoint.build(), config, digits)
    return dataclasses.replace(
        checkpoint, config=dataclasses.asdict(config), detector=cpu_state(detector)
    )


def trained_digits(config: TrainConfig, data: Mnist) -> Split:
    """The digits a run of `config` trained on, with their labels (MNIST less validation,
    drawn digits rendered again from the same seeds), without making its non-digits."""
    digits_only = dataclasses.replace(config, negatives=0, script_negatives=0, symbol_negatives=0)
    return training_split(digits_only, data)[0]
