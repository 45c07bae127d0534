"""What can be gained after training, without the test writers: test-time augmentation,
an ensemble of two models, and scores other than the top probability for refusing
non-digits, measured on models trained on MNIST (5,000 images held out) plus pendigits
train writers 1-15, kept by the searches:

    python -m bench.refusal_search --only resnet_drawn --save data/val/models
    python -m bench.drawing_recipe_search --only recipe_3400 --save data/val/models
    python -m bench.posthoc_search data/val/models/resnet_drawn.pt \\
        --other data/val/models/recipe_3400.pt --other-recipe speedrun_drawn

Everything is measured on what the models never saw: the held-out MNIST images, train
writers 16-30 at each brush, and (for the scores) the *val* non-digits. A view of
test-time augmentation warps the 28x28 input the way training augmentation does; the
probabilities of the views are averaged. A refusal score competes with the top probability
at the same cost in digits: the strongest single threshold that refuses at most 0.15% of
the held-out MNIST images and 0.6% of the drawn digits at every brush (the rule the digit
detector was chosen by, research/detector_search.py).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench import run_script
from mnist_app.analysis.neighbours import penultimate_features
from mnist_app.core.data import load_mnist
from mnist_app.core.evaluation import predict_logits
from mnist_app.core.models import build_model, last_linear
from mnist_app.nondigit import stroke_fonts
from mnist_app.nondigit.refusal import non_digit_sets, stroke_font_sets
from mnist_app.pen.drawn_accuracy import drawn_set
from mnist_app.training.add_detector import trained_digits
from mnist_app.training.recipes import make_config
from research.drawing_recipe_search import CHECK, on_fit_writers

REFUSE_MNIST, REFUSE_DRAWN = 0.0015, 0.006


def warp(x: torch.Tensor, zoom: float = 1.0, angle: float = 0.0, dx: float = 0.0, dy: float = 0.0):
    """(N, 1, 28, 28) images zoomed, rotated (degrees) and shifted (pixels)."""
    a = math.radians(angle)
    cos, sin = math.cos(a) / zoom, math.sin(a) / zoom
    theta = torch.tensor([[cos, -sin, -dx * 2 / 28], [sin, cos, -dy * 2 / 28]])
    grid = F.affine_grid(theta.expand(len(x), 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


def thinner(x: torch.Tensor) -> torch.Tensor:
    return (x - F.max_pool2d(-x, 3, 1, 1)) / 2  # halfway to eroded


def thicker(x: torch.Tensor) -> torch.Tensor:
    return torch.maximum(x, F.max_pool2d(x, 3, 1, 1) * 0.5)


VIEWS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "as drawn": lambda x: x,
    "1 px left": lambda x: warp(x, dx=-1),
    "1 px right": lambda x: warp(x, dx=1),
    "1 px up": lambda x: warp(x, dy=-1),
    "1 px down": lambda x: warp(x, dy=1),
    "90%": lambda x: warp(x, zoom=0.9),
    "110%": lambda x: warp(x, zoom=1.1),
    "-8 deg": lambda x: warp(x, angle=-8),
    "+8 deg": lambda x: warp(x, angle=8),
    "thinner": thinner,
    "thicker": thicker,
}
SHIFTS = ("1 px left", "1 px right", "1 px up", "1 px down")
COMBOS = {
    "none": (),
    "4 shifts": SHIFTS,
    "2 zooms": ("90%", "110%"),
    "2 rotations": ("-8 deg", "+8 deg"),
    "thinner, thicker": ("thinner", "thicker"),
    "shifts and zooms": (*SHIFTS, "90%", "110%"),
    "all ten": tuple(v for v in VIEWS if v != "as drawn"),
}


def load(weights: Path, recipe: str) -> tuple[torch.nn.Module, object]:
    config = make_config(recipe)
    model = build_model(config.arch, **config.model_kwargs())
    model.load_state_dict(torch.load(weights, weights_only=True))
    return model.eval(), config


def as_float(images) -> torch.Tensor:
    x = torch.as_tensor(images)
    return (x.float() / 255 if x.dtype == torch.uint8 else x.float()).unsqueeze(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", type=Path, help="a state dict saved by a search")
    parser.add_argument("--recipe", default="resnet_drawn")
    parser.add_argument("--other", type=Path, help="a second model, for the ensemble")
    parser.add_argument("--other-recipe", default="speedrun_drawn")
    parser.add_argument("--non-digits", type=int, default=300, help="per kind")
    args = parser.parse_args()
    model, config = load(args.weights, args.recipe)

    data = load_mnist()
    held_out = data.split(5000, seed=config.seed)[1]
    check = drawn_set(source=Path(CHECK))
    sets = {"MNIST held out": (held_out.images, held_out.labels.numpy())}
    sets |= {f"r = {b:g}": (x, check.labels) for b, x in check.inputs.items()}

    def probabilities(net, cfg, images, view="as drawn") -> np.ndarray:
        with torch.inference_mode():
            logits = predict_logits(net, VIEWS[view](as_float(images)), cfg.mean, cfg.std)
        return torch.softmax(logits, 1).numpy()

    print("Test-time augmentation: share read right, views averaged")
    print(f"{'views besides the drawing':<26}" + "".join(f"{n:>16}" for n in sets))
    seen = {(n, v): probabilities(model, config, x, v) for n, (x, _) in sets.items() for v in VIEWS}
    for combo, views in COMBOS.items():
        cells = []
        for name, (_, labels) in sets.items():
            probs = np.mean([seen[name, v] for v in ("as drawn", *views)], axis=0)
            cells.append(f"{np.mean(probs.argmax(1) == labels):>16.2%}")
        print(f"{combo:<26}{''.join(cells)}", flush=True)

    if args.other:
        other, other_config = load(args.other, args.other_recipe)
        theirs = {name: probabilities(other, other_config, x) for name, (x, _) in sets.items()}
        print(f"\nEnsemble with {args.other.name}: weight of the second model's probabilities")
        for weight in (0.0, 0.25, 0.5):
            cells = []
            for name, (_, labels) in sets.items():
                probs = (1 - weight) * seen[name, "as drawn"] + weight * theirs[name]
                cells.append(f"{np.mean(probs.argmax(1) == labels):>16.2%}")
            print(f"{weight:<26}{''.join(cells)}", flush=True)

    refusal_scores(model, config, data, sets, args.non_digits)


def refusal_scores(model, config, data, sets, count: int) -> None:
    """Each score's strongest threshold within the digits' refusal budget, and the
    non-digits it still answers."""

    def features(images) -> np.ndarray:
        return penultimate_features(
            model, torch.as_tensor(images), config.mean, config.std, unit=False
        ).numpy()

    # The digits the model trained on (MNIST's other 55,000, writers 1-15 as its run drew them).
    trained = trained_digits(on_fit_writers(config), data)
    bank, bank_labels = features(trained.images), trained.labels.numpy()
    means = np.stack([bank[bank_labels == c].mean(0) for c in range(10)])
    centred = bank - means[bank_labels]
    precision = np.linalg.inv(centred.T @ centred / len(bank) + 1e-3 * np.eye(bank.shape[1]))
    unit_bank = F.normalize(torch.from_numpy(bank), dim=1)
    layer = last_linear(model)

    def logits(f: np.ndarray) -> torch.Tensor:
        with torch.inference_mode():
            return layer(torch.from_numpy(f))

    def nearest(f: np.ndarray, k: int) -> np.ndarray:
        sims = F.normalize(torch.from_numpy(f), dim=1) @ unit_bank.T
        return 1 - sims.topk(k, dim=1).values[:, -1].numpy()

    def mahalanobis(f: np.ndarray) -> np.ndarray:
        d = f[:, None, :] - means[None]
        return np.einsum("ncd,de,nce->nc", d, precision, d).min(1)

    # Higher means less like a digit.
    scores = {
        "top probability": lambda f: -torch.softmax(logits(f), 1).max(1).values.numpy(),
        "energy": lambda f: -torch.logsumexp(logits(f), 1).numpy(),
        "Mahalanobis": mahalanobis,
        "5th neighbour": lambda f: nearest(f, 5),
        "20th neighbour": lambda f: nearest(f, 20),
    }
    digits = {name: features(images) for name, (images, _) in sets.items()}
    others = non_digit_sets(count, "val") + stroke_font_sets(count, "val")
    other_features = {s.kind: features(s.inputs) for s in others}
    print("\nRefusal scores: refused at the strongest allowed threshold; non-digits answered")
    for name, score in scores.items():
        mnist, *drawn = (score(f) for f in digits.values())
        threshold = max(
            np.quantile(mnist, 1 - REFUSE_MNIST), *(np.quantile(d, 1 - REFUSE_DRAWN) for d in drawn)
        )
        refused = [np.mean(s > threshold) for s in (mnist, *drawn)]
        answered = {s.kind: s.answered(score(other_features[s.kind]) <= threshold) for s in others}
        six = np.mean([v for k, v in answered.items() if k not in stroke_fonts.KINDS])
        print(
            f"  {name:<16} digits refused {' / '.join(f'{r:.2%}' for r in refused)} | "
            f"answered: six kinds {six:.1%}, script letters {answered['script letters']:.1%}, "
            f"Chinese {answered['chinese']:.1%}",
            flush=True,
        )


if __name__ == "__main__":
    run_script(main)
