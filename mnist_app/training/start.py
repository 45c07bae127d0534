"""Where a run's weights start: fresh, or a saved model's (fine-tuning, `start_from`)."""

from __future__ import annotations

from torch import nn

from ..core.checkpoint import load_checkpoint, locate
from ..core.models import build_model
from ..core.settings import TrainConfig


def starting_model(config: TrainConfig) -> nn.Module:
    """A fresh model of `config`'s architecture, or the saved one `config.start_from` names
    (a .pt file or a checkpoint's name in weights/). ValueError, a message for the user,
    where that model cannot be the start."""
    model = build_model(config.arch, **config.model_kwargs())
    if not config.start_from:
        return model
    start = load_checkpoint(locate(config.start_from))
    if start.personal_head:
        raise ValueError(
            f"{start.name!r} is fitted to one person's handwriting: start from the model "
            "it was fitted on instead"
        )
    if start.arch != config.arch:
        raise ValueError(
            f"{start.name!r} is a {start.arch} model, not the recipe's {config.arch}: pick a "
            f"recipe of that architecture to fine-tune it"
        )
    if (start.mean, start.std) != (config.mean, config.std):
        raise ValueError(
            f"{start.name!r} was trained on images normalised with mean {start.mean:g} and std "
            f"{start.std:g}, not {config.mean:g} and {config.std:g}: fine-tune it with its own"
        )
    try:
        model.load_state_dict(start.state_dict)
    except RuntimeError as err:  # other widths or depth: the tensors do not fit
        raise ValueError(
            f"{start.name!r}'s weights do not fit this {config.arch} (other layer sizes)"
        ) from err
    return model
