"""Batched, gradient-free evaluation: accuracy, per-class accuracy, confusion matrix and
the misclassified images with their probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch
import torch.nn.functional as F
from torch import nn

from .data import normalize


@torch.inference_mode()
def predict_logits(
    model: nn.Module,
    images: torch.Tensor,
    mean: float,
    std: float,
    batch_size: int = 2000,
) -> torch.Tensor:
    """Float logits (N, 10) on the CPU for uint8 or [0, 1] float images."""
    device = next(model.parameters()).device
    was_training = model.training
    if was_training:  # walking the modules costs a quarter of a small model's answer
        model.eval()
    try:
        chunks = []
        for start in range(0, len(images), batch_size):
            batch = normalize(images[start : start + batch_size].to(device), mean, std)
            chunks.append(model(batch).float().cpu())
        return torch.cat(chunks) if chunks else torch.empty(0, 10)
    finally:
        if was_training:
            model.train()


@dataclass(frozen=True)
class Example:
    """One evaluated image: what it is, what the model read, and how sure it was."""

    index: int  # position in the evaluated set
    true: int
    predicted: int
    confidence: float  # probability of the predicted class
    probabilities: list[float]


@dataclass(frozen=True)
class Evaluation:
    logits: torch.Tensor  # (N, 10)
    labels: torch.Tensor  # (N,)

    @cached_property
    def probabilities(self) -> torch.Tensor:
        return F.softmax(self.logits, dim=1)

    @cached_property
    def predictions(self) -> torch.Tensor:
        return self.probabilities.argmax(dim=1)

    @property
    def accuracy(self) -> float:
        if len(self.labels) == 0:
            return float("nan")
        return (self.predictions == self.labels).float().mean().item()

    @cached_property
    def confusion(self) -> torch.Tensor:
        """(10, 10) counts; rows are true digits, columns predicted ones."""
        flat = self.labels * 10 + self.predictions
        return torch.bincount(flat, minlength=100).reshape(10, 10)

    @property
    def per_class_accuracy(self) -> list[float]:
        confusion = self.confusion.double()
        totals = confusion.sum(dim=1)
        correct = confusion.diagonal()
        return [
            (c / t).item() if t > 0 else float("nan") for c, t in zip(correct, totals, strict=True)
        ]

    def mistakes(self, true: int | None = None, predicted: int | None = None) -> list[Example]:
        """Misclassified items, most confident first, optionally filtered by digit."""
        preds = self.predictions
        wrong = preds != self.labels
        if true is not None:
            wrong &= self.labels == true
        if predicted is not None:
            wrong &= preds == predicted
        return self._examples(wrong, most_confident_first=True)

    def correct(self, digit: int) -> list[Example]:
        """Images of `digit` read right, least confident first: the near misses."""
        right = (self.labels == digit) & (self.predictions == digit)
        return self._examples(right, most_confident_first=False)

    def _examples(self, chosen: torch.Tensor, most_confident_first: bool) -> list[Example]:
        preds = self.predictions
        idx = chosen.nonzero().flatten()
        confidence = self.probabilities[idx, preds[idx]]
        order = confidence.argsort(descending=most_confident_first, stable=True)
        return [
            Example(
                index=int(i),
                true=int(self.labels[i]),
                predicted=int(preds[i]),
                confidence=float(self.probabilities[i, preds[i]]),
                probabilities=self.probabilities[i].tolist(),
            )
            for i in idx[order]
        ]


def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    mean: float,
    std: float,
    batch_size: int = 2000,
) -> Evaluation:
    logits = predict_logits(model, images, mean, std, batch_size)
    return Evaluation(logits=logits, labels=labels.cpu().long())


def format_report(evaluation: Evaluation) -> str:
    """Accuracy, per-class accuracy and the confusion matrix as aligned text."""
    lines = [f"test accuracy: {evaluation.accuracy:.2%}  ({len(evaluation.labels)} images)", ""]
    lines.append("per-class accuracy:")
    for digit, acc in enumerate(evaluation.per_class_accuracy):
        lines.append(f"  {digit}: {acc:.2%}")
    lines += ["", "confusion matrix (rows: true digit, columns: predicted):"]
    lines.append("      " + "".join(f"{d:>6}" for d in range(10)))
    for digit, row in enumerate(evaluation.confusion.tolist()):
        lines.append(f"{digit:>6}" + "".join(f"{v:>6}" for v in row))
    return "\n".join(lines)
