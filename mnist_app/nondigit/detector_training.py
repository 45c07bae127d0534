"""A trained model's digit detector (core/digit_detector.py), fitted on its own training data:
the digits it trained on against non-digits it never saw (the training split's kinds and
fonts, from other seeds), so that the detector learns what the features of a new shape
look like rather than those the model was taught to flatten."""

from __future__ import annotations

import torch
from torch import nn

from ..analysis.neighbours import penultimate_features
from ..core.digit_detector import DigitDetector, fit_detector
from ..core.settings import TrainConfig
from .negatives import negative_images
from .stroke_fonts import stroke_font_images

# At most this many fresh non-digits of the generator's kinds (fewer for a run taught fewer),
# and half as many script letters in the training fonts.
GENERATED = 6000


def fit_model_detector(
    model: nn.Module, config: TrainConfig, digits: torch.Tensor
) -> DigitDetector:
    """The detector for `model`, trained per `config`, on `digits` (uint8 (N, 28, 28):
    those it trained on), refusing `config.detector_refuse` of them."""
    digit_features, non_digit_features = detector_features(model, config, digits)
    return fit_detector(
        digit_features, non_digit_features, config.detector_refuse, seed=config.seed
    )


def detector_features(
    model: nn.Module, config: TrainConfig, digits: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """What `model`'s detector is fitted on: the features of `digits` and of fresh
    non-digits (detector_non_digits, as many as `config` taught, at most GENERATED)."""
    non_digits = detector_non_digits(min(config.negatives, GENERATED), config.seed)

    def features(images: torch.Tensor) -> torch.Tensor:
        return penultimate_features(model, images, config.mean, config.std, unit=False)

    return features(digits), features(non_digits)


def detector_non_digits(count: int, seed: int) -> torch.Tensor:
    """uint8 (N, 28, 28): `count` non-digits of the training split's kinds and `count` / 2
    script letters in its fonts, other than those a model trained with `seed` saw. Raises
    StrokeFontsMissing before the fonts are fetched."""
    fresh = seed + 1
    return torch.cat(
        [
            torch.from_numpy(negative_images(count, "train", fresh)),
            torch.from_numpy(stroke_font_images("script letters", count // 2, "train", fresh)),
        ]
    )
