"""Two models side by side on the MNIST test set: the images they read differently, and
how their errors differ."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.evaluation import Evaluation


@dataclass(frozen=True)
class Disagreement:
    index: int  # position in the test set
    true: int
    first: int  # what the first model read
    first_confidence: float
    second: int
    second_confidence: float

    @property
    def right(self) -> str:
        """Who read it right: "first", "second" or "neither"."""
        return (
            "first"
            if self.first == self.true
            else "second"
            if self.second == self.true
            else "neither"
        )


def disagreements(first: Evaluation, second: Evaluation) -> list[Disagreement]:
    """The test images the two models read as different digits: those one of them gets
    right first, the most confidently wrong first, then those both get wrong."""
    if len(first.labels) != len(second.labels):
        raise ValueError("the two evaluations are of different image sets")
    p1, p2 = first.predictions, second.predictions
    differ = (p1 != p2).nonzero().flatten()
    c1 = first.probabilities[differ, p1[differ]]
    c2 = second.probabilities[differ, p2[differ]]
    labels = first.labels[differ]
    wrong_confidence = torch.where(p1[differ] == labels, c2, c1)
    neither = (p1[differ] != labels) & (p2[differ] != labels)
    # Sort key: one right before neither right, then the surer wrong answer first.
    order = sorted(
        range(len(differ)), key=lambda k: (bool(neither[k]), -float(wrong_confidence[k]))
    )
    return [
        Disagreement(
            index=int(differ[k]),
            true=int(labels[k]),
            first=int(p1[differ[k]]),
            first_confidence=float(c1[k]),
            second=int(p2[differ[k]]),
            second_confidence=float(c2[k]),
        )
        for k in order
    ]


def confusion_difference(first: Evaluation, second: Evaluation) -> torch.Tensor:
    """(10, 10) counts, second's confusion matrix minus first's: off the diagonal, > 0
    where the second model makes more of that error."""
    return second.confusion - first.confusion
