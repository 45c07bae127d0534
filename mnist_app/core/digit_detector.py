"""A second look at whether ink is a digit: a small head on a trained classifier's
penultimate features, fitted afterwards on digits against non-digits.

Why: a classifier taught to give non-digits a flat answer can still be sure of a shape
that resembles none it was shown (a script c read as 0 at 90%), because its ten outputs
only tell digits apart. Its features say more than its top probability: 128 numbers
against one. Fitting the head on the frozen features costs seconds, not a retraining, and
leaves every digit's answer as it was; only what gets refused changes.

The threshold refuses a chosen share of the digits the head was fitted on. Those are
digits the classifier trained on, so held-out digits are refused somewhat more often:
`research/detector_search.py` measures by how much, on held-out train writers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Few enough units to fit in seconds on a CPU and leave no room to memorise 100,000 images.
HIDDEN = 64


class DigitDetector(nn.Module):
    """Penultimate features (N, D) -> (N,) score: high for digits. `threshold` is the
    score below which the ink is said not to be a digit."""

    def __init__(self, width: int, hidden: int = HIDDEN):
        super().__init__()
        self.register_buffer("centre", torch.zeros(width))
        self.register_buffer("scale", torch.ones(width))
        self.register_buffer("threshold", torch.tensor(0.0))
        self.net = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net((features - self.centre) / self.scale).squeeze(1)

    @torch.inference_mode()
    def is_digit(self, features: torch.Tensor) -> torch.Tensor:
        return self(features) >= self.threshold


def detector_from_state(state: dict[str, torch.Tensor]) -> DigitDetector:
    """A detector from its saved state dict (the checkpoint's `detector`)."""
    hidden, width = state["net.0.weight"].shape
    detector = DigitDetector(width, hidden)
    detector.load_state_dict(state)
    return detector.eval()


def fit_detector(
    digits: torch.Tensor,
    non_digits: torch.Tensor,
    refuse: float,
    epochs: int = 100,
    seed: int = 0,
) -> DigitDetector:
    """A detector fitted on the penultimate features (neighbours.penultimate_features,
    not unit-scaled) of digits and of non-digits, its threshold refusing the share `refuse`
    of those digits. Both classes weigh the same in the loss, however many of each."""
    if not 0 < refuse < 1:
        raise ValueError(f"the share of digits to refuse must be between 0 and 1, got {refuse}")
    if not len(digits) or not len(non_digits):
        raise ValueError("fitting a digit detector needs both digits and non-digits")
    features = torch.cat([digits, non_digits]).float()
    is_digit = torch.cat([torch.ones(len(digits)), torch.zeros(len(non_digits))])
    weight = torch.where(is_digit > 0, 1.0, len(digits) / len(non_digits))
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        detector = DigitDetector(features.shape[1])
    detector.centre.copy_(digits.mean(0))
    detector.scale.copy_(digits.std(0) + 1e-6)
    optimizer = torch.optim.Adam(detector.parameters(), lr=3e-3, weight_decay=1e-4)
    for _ in range(epochs):
        for batch in torch.randperm(len(features), generator=generator).split(8192):
            loss = F.binary_cross_entropy_with_logits(
                detector(features[batch]), is_digit[batch], weight=weight[batch]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.inference_mode():
        detector.threshold.fill_(torch.quantile(detector(digits.float()), refuse).item())
    return detector.eval()
