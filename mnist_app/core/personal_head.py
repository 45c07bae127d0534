"""A personal model's last layer: the person's fitted layer for inputs that resemble their
drawings, the base model's layer for everything else.

"Resemble" is decided in the penultimate features (the last layer's input), centred on
the MNIST mean: an input is the person's when its nearest drawing of theirs (or an
augmented copy of one) is nearer than its nearest MNIST reference digit. A fit can then
follow a person's peculiar 4s without moving how MNIST-like digits are read: chosen on
pendigits train writers, this gate cut the per-writer error where a fitted layer for all
inputs had to be scaled back to keep MNIST (docs/personal-handwriting.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .models import last_linear


class PersonalHead(nn.Module):
    def __init__(
        self,
        base: nn.Linear,
        personal: nn.Linear,
        centre: torch.Tensor,
        drawings: torch.Tensor,
        references: torch.Tensor,
    ) -> None:
        super().__init__()
        # base first: last_linear() (the feature hook) finds `personal`, with the same input.
        self.base, self.personal = base, personal
        self.register_buffer("centre", centre)
        self.register_buffer("drawings", _direction(drawings, centre))
        self.register_buffer("references", _direction(references, centre))

    def mine(self, features: torch.Tensor) -> torch.Tensor:
        """(N,) bool: which inputs are nearer one of the person's drawings than any
        MNIST reference digit."""
        direction = _direction(features, self.centre)
        nearest_drawing = (direction @ self.drawings.T).amax(1)
        nearest_reference = (direction @ self.references.T).amax(1)
        return nearest_drawing >= nearest_reference

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.where(
            self.mine(features)[:, None], self.personal(features), self.base(features)
        )


def _direction(features: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    return F.normalize(features - centre, dim=1)


def install_personal_head(model: nn.Module, head: PersonalHead) -> nn.Module:
    """`model` with its last linear layer replaced by `head`."""
    key = last_linear_key(model)
    parent_key, _, child = key.rpartition(".")
    setattr(model.get_submodule(parent_key), child, head)
    return model


def last_linear_key(model: nn.Module) -> str:
    """The state-dict prefix of `model`'s last linear layer."""
    old = last_linear(model)
    return next(name for name, module in model.named_modules() if module is old)


def empty_personal_head(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> PersonalHead:
    """A PersonalHead for `model`'s last layer, sized for the personal checkpoint's
    `state_dict` (the counts of drawings and references differ per fit) to fill."""
    old, key = last_linear(model), last_linear_key(model)
    size = state_dict[f"{key}.drawings"].shape[0], state_dict[f"{key}.references"].shape[0]
    width = old.in_features
    return PersonalHead(
        old,
        nn.Linear(width, old.out_features),
        torch.zeros(width),
        torch.zeros(size[0], width),
        torch.zeros(size[1], width),
    )
