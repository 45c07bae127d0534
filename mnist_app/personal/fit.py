"""Fit a model to one person's handwriting in seconds: its last layer retrained on their
drawings (each augmented into many), with MNIST mixed in so that nothing is forgotten.

Only the last linear layer changes, so the rest of the network is run once per image to
get its features, and each training step is a small matrix product: a fit of resnet_mini
on 50 drawings takes about a second, the MNIST test measure a few more. That is also what
makes an honest before/after affordable: the person's accuracy after the fit is
cross-validated, each fold fitted without the drawings it is measured on.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..analysis.neighbours import penultimate_features
from ..core.checkpoint import MAX_NAME, Checkpoint, check_name
from ..core.data import Mnist
from ..core.models import last_linear
from ..core.personal_head import PersonalHead, last_linear_key
from ..core.predict import intra_op_threads
from ..training.augment import random_affine, random_thickness

MIN_PER_DIGIT = 3  # the fewest drawings of each digit a fit takes
MAX_FOLDS = 5


@dataclass(frozen=True)
class FitSettings:
    """How a fit is done. The defaults were chosen on pendigits train writers 16-30, with
    a base model trained without them (bench/personalize.py --validation;
    docs/personal-handwriting.md)."""

    copies: int = 16  # augmented renderings of each drawing
    steps: int = 300  # full-batch Adam steps on the last layer
    lr: float = 0.01
    anchor: float = 0.001  # pull towards the base model's last layer
    replay: int = 4000  # MNIST training images mixed in
    # The most of MNIST a fit may forget: the share of other MNIST training images (not
    # the replay) fewer read right than by the base model. Beyond it, the fit is scaled
    # back towards the base's layer until it is within.
    max_forgetting: float = 0.001
    checks: int = 4000  # those other MNIST training images
    rotate: float = 10.0
    shift: float = 0.08
    scale: float = 0.1
    shear: float = 8.0
    thickness: float = 0.5
    seed: int = 0


@dataclass(frozen=True)
class Progress:
    message: str
    fraction: float  # 0-1


@dataclass(frozen=True)
class PersonalFit:
    """A fit's result: the new model and its before and after figures."""

    checkpoint: Checkpoint
    figures: dict  # base, samples, folds, own_before, own_after, mnist_before/after, fit_s


class NotEnoughSamples(ValueError):
    """Fewer than MIN_PER_DIGIT drawings of some digit."""


def samples_needed(labels) -> dict[int, int]:
    """How many more drawings of each digit a fit needs (digits that need none left out)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=10)
    return {d: MIN_PER_DIGIT - int(n) for d, n in enumerate(counts) if n < MIN_PER_DIGIT}


def needed_message(needed: dict[int, int]) -> str:
    """'Draw 2 more 4s and 3 more 9s: a fit needs at least 3 of each digit.'"""
    parts = [f"{n} more {d}{'s' if n > 1 else ''}" for d, n in needed.items()]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Draw {listed}: a fit needs at least {MIN_PER_DIGIT} of each digit."


def personal_name(base: str, person: str) -> str:
    """`<base>-<person>`, shortened to a valid checkpoint name."""
    return check_name(f"{base}-{person}"[:MAX_NAME])


@dataclass(frozen=True)
class MnistFeatures:
    """The base model's penultimate features of the MNIST images every fit of it uses:
    the same for every person, so computed once per base model (job caches them)."""

    replay: torch.Tensor  # mixed into the fit, and the gate's references
    replay_labels: torch.Tensor
    checks: torch.Tensor  # the forgetting limit's measure
    check_labels: torch.Tensor
    test: torch.Tensor  # the 10,000 test images: MNIST before and after
    test_labels: torch.Tensor


def mnist_features(
    base: Checkpoint, data: Mnist, settings: FitSettings = FitSettings()
) -> MnistFeatures:
    """`base`'s features of the replay, check and test images that `settings` choose."""
    model = base.build("cpu")
    order = torch.randperm(
        len(data.train_labels), generator=torch.Generator().manual_seed(settings.seed)
    )
    replay, checks = order[: settings.replay], order[settings.replay :][: settings.checks]
    with intra_op_threads(torch.get_num_threads()):
        return MnistFeatures(
            _features(model, base, data.train_images[replay]),
            data.train_labels[replay],
            _features(model, base, data.train_images[checks]),
            data.train_labels[checks],
            _features(model, base, data.test_images),
            data.test_labels,
        )


def fit_personal(
    base: Checkpoint,
    images: torch.Tensor,
    labels: torch.Tensor,
    reference: MnistFeatures,
    name: str,
    owners: list[str] | None = None,
    settings: FitSettings = FitSettings(),
) -> Iterator[Progress | PersonalFit]:
    """Progress events, then the PersonalFit: `base` fitted to the drawings `images`
    ((N, 28, 28) uint8 or 0-1, MNIST-style) of the digits `labels`, saved by the caller
    under `name`; `reference` is `mnist_features(base, data, settings)`. NotEnoughSamples
    below MIN_PER_DIGIT of any digit."""
    labels = torch.as_tensor(labels, dtype=torch.long)
    needed = samples_needed(labels)
    if needed:
        raise NotEnoughSamples(needed_message(needed))
    if base.personal_head:
        raise ValueError(f"{base.name} is a personal model: fit its base model instead")
    start = time.perf_counter()
    model = base.build("cpu")
    head = last_linear(model)
    generator = torch.Generator().manual_seed(settings.seed)
    with intra_op_threads(torch.get_num_threads()):
        # The fractions follow the time each step takes (resnet_mini on 2 cores).
        yield Progress(f"Reading your {len(labels)} drawings", 0.05)
        own = _features(model, base, _as_float(images))
        variants = _augment(_as_float(images), settings, generator)
        own_variants = _features(model, base, variants).view(settings.copies, len(labels), -1)
        base_head = _linear(head.weight.detach(), head.bias.detach())

        def fit(keep: torch.Tensor) -> PersonalHead:
            x = torch.cat([own[keep], own_variants[:, keep].flatten(0, 1)])
            y = labels[keep].repeat(settings.copies + 1)
            with intra_op_threads(1):  # small matrices: a second thread only waits
                personal = _fit_head(x, y, reference, base_head, settings)
            gated = PersonalHead(base_head, personal, reference.replay.mean(0), x, reference.replay)
            return _within_forgetting(gated, reference, settings.max_forgetting)

        folds = _folds(labels, generator)
        right_after = 0
        for k in range(folds.count):
            yield Progress(
                f"Checking on drawings it has not seen ({k + 1} of {folds.count})",
                0.2 + 0.7 * k / folds.count,
            )
            held = folds.index == k
            right_after += int((_predicted(fit(~held), own[held]) == labels[held]).sum())
        yield Progress("Fitting to all your drawings", 0.9)
        personal_head = fit(torch.ones(len(labels), dtype=torch.bool))
    test, test_labels = reference.test, reference.test_labels
    figures = {
        "base": base.name,
        "samples": len(labels),
        "folds": folds.count,
        "own_before": _accuracy(base_head, own, labels),
        "own_after": right_after / len(labels),
        "mnist_before": _accuracy(base_head, test, test_labels),
        "mnist_after": _accuracy(personal_head, test, test_labels),
        "fit_s": round(time.perf_counter() - start, 2),
    }
    key = last_linear_key(model)
    state = {k: v for k, v in base.state_dict.items() if not k.startswith(f"{key}.")}
    state.update({f"{key}.{k}": v.clone() for k, v in personal_head.state_dict().items()})
    metrics = {
        **base.metrics,
        "test_accuracy": figures["mnist_after"],
        "train_time_s": figures["fit_s"],
        "history": [],
        "personal": figures,
    }
    checkpoint = dataclasses.replace(
        base,
        name=check_name(name),
        state_dict=state,
        metrics=metrics,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        owners=list(owners or []),
        personal_head=True,
        timeline=None,  # the base model's learning, not this fit's
    )
    yield PersonalFit(checkpoint, figures)


def _as_float(images: torch.Tensor) -> torch.Tensor:
    images = torch.as_tensor(images)
    return images.float().div(255) if images.dtype == torch.uint8 else images.float()


def _features(model: nn.Module, base: Checkpoint, images: torch.Tensor) -> torch.Tensor:
    # clone(): features made in inference mode cannot take part in autograd.
    return penultimate_features(model, images, base.mean, base.std, unit=False).clone()


def _augment(images: torch.Tensor, settings: FitSettings, generator) -> torch.Tensor:
    """`settings.copies` warped renderings of each image, copy-major."""
    x = images.unsqueeze(1).repeat(settings.copies, 1, 1, 1)
    s = settings
    x = random_affine(x, generator, rotate=s.rotate, shift=s.shift, scale=s.scale, shear=s.shear)
    return random_thickness(x, generator, s.thickness)[:, 0]


def _linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer.requires_grad_(False)


def _fit_head(x, y, reference: MnistFeatures, base_head: nn.Linear, settings: FitSettings):
    """The last layer retrained: the person's drawings and the MNIST replay weigh alike,
    and the layer is held near the base's."""
    weight, bias = base_head.weight, base_head.bias
    w, b = weight.clone().requires_grad_(), bias.clone().requires_grad_()
    optimizer = torch.optim.Adam([w, b], lr=settings.lr)
    for _ in range(settings.steps):
        loss = (
            F.cross_entropy(x @ w.T + b, y)
            + F.cross_entropy(reference.replay @ w.T + b, reference.replay_labels)
            + settings.anchor * (w - weight).square().sum()
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return _linear(w.detach(), b.detach())


def _within_forgetting(head: PersonalHead, reference: MnistFeatures, limit: float):
    """`head`, its personal layer scaled back towards the base's until it reads no more
    than `limit` fewer of the MNIST check images right."""
    checks, labels = reference.checks, reference.check_labels
    floor = _accuracy(head.base, checks, labels) - limit
    base, fitted = head.base, head.personal
    for strength in (1.0, 0.75, 0.5, 0.25, 0.0):
        head.personal = _linear(
            base.weight + strength * (fitted.weight - base.weight),
            base.bias + strength * (fitted.bias - base.bias),
        )
        if _accuracy(head, checks, labels) >= floor:
            break
    return head


@dataclass(frozen=True)
class _Folds:
    index: torch.Tensor  # each drawing's fold
    count: int


def _folds(labels: torch.Tensor, generator) -> _Folds:
    """Stratified folds: each holds about as many drawings of every digit."""
    count = min(MAX_FOLDS, int(torch.bincount(labels, minlength=10).min()))
    index = torch.empty_like(labels)
    for digit in range(10):
        where = (labels == digit).nonzero().flatten()
        where = where[torch.randperm(len(where), generator=generator)]
        index[where] = torch.arange(len(where)) % count
    return _Folds(index, count)


@torch.no_grad()
def _predicted(layer: nn.Module, features: torch.Tensor) -> torch.Tensor:
    return layer(features).argmax(1)


def _accuracy(layer: nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    return float((_predicted(layer, features) == labels).float().mean())
