"""Whether a digit detector on the features (mnist_app/core/digit_detector.py) refuses what the
top probability lets through, chosen without the test writers or the test non-digits.

It needs a model trained on MNIST (5,000 images held out) plus pendigits train writers 1-15,
kept by the refusal search:

    python -m bench.refusal_search --only resnet_drawn --save data/val/models
    python -m bench.detector_search data/val/models/resnet_drawn.pt

The detector is fitted as training fits it (nondigit/detector_training.py): on the digits that
model trained on (MNIST's other 55,000, writers 1-15 as its run drew them) against fresh
training non-digits (other seeds; the training fonts' script letters), its threshold
refusing a share of those digits. It is measured on what the model
never saw: the held-out MNIST images, writers 16-30, and the *val* non-digits. Every
answer must pass both the top-probability threshold (chosen as in the refusal search) and
the detector.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from bench import run_script
from mnist_app.analysis.neighbours import penultimate_features
from mnist_app.core.data import load_mnist
from mnist_app.core.digit_detector import fit_detector
from mnist_app.core.models import build_model, last_linear
from mnist_app.nondigit import stroke_fonts
from mnist_app.nondigit.detector_training import detector_features
from mnist_app.nondigit.refusal import non_digit_sets, stroke_font_sets, threshold_refusing
from mnist_app.pen.drawn_accuracy import BRUSHES, drawn_set
from mnist_app.training.add_detector import trained_digits
from mnist_app.training.recipes import make_config
from research.drawing_recipe_search import CHECK, on_fit_writers
from research.refusal_search import REFUSE_DIGITS, REFUSE_MNIST

SHARES = (0.0005, 0.001, 0.002, 0.003, 0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", type=Path, help="a state dict saved by the refusal search")
    parser.add_argument("--recipe", default="resnet_drawn")
    parser.add_argument("--non-digits", type=int, default=300, help="per kind")
    parser.add_argument("--shares", type=float, nargs="*", default=SHARES)
    args = parser.parse_args()
    config = make_config(args.recipe)
    model = build_model(config.arch, **config.model_kwargs())
    model.load_state_dict(torch.load(args.weights, weights_only=True))
    model.eval()

    data = load_mnist()
    # The digits that model trained on, as the refusal search made them.
    seen = on_fit_writers(config)
    digit_features, non_digit_features = detector_features(
        model, config, trained_digits(seen, data).images
    )
    held_out = data.split(seen.val_size, seed=config.seed)[1]
    check = drawn_set(source=Path(CHECK))
    sets = non_digit_sets(args.non_digits, "val") + stroke_font_sets(args.non_digits, "val")

    def read(images) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
        """Top probability, best guess and features, from one pass of the model."""
        features = penultimate_features(
            model, torch.as_tensor(images), config.mean, config.std, unit=False
        )
        with torch.inference_mode():
            probs = torch.softmax(last_linear(model)(features), 1)
        return probs.max(1).values.numpy(), probs.argmax(1).numpy(), features

    mnist = read(held_out.images)
    drawn = {b: read(images) for b, images in check.inputs.items()}
    made = {s.kind: (read(s.inputs), s) for s in sets}
    top_drawn = np.concatenate([top for top, _, _ in drawn.values()])
    threshold = min(
        threshold_refusing(top_drawn, REFUSE_DIGITS), threshold_refusing(mnist[0], REFUSE_MNIST)
    )
    print(f"top-probability threshold {threshold:.3f} (as in the refusal search)")
    print("detector refuses | MNIST held out: right, refused | writers 16-30 r = 6 / 12 / 20:")
    print("  right counting refusals (refused) | non-digits answered: six kinds, script, Chinese")

    def row(name: str, detector) -> None:
        def answered(reading) -> np.ndarray:
            top, _, features = reading
            keep = top >= threshold
            return keep if detector is None else keep & detector.is_digit(features).numpy()

        mnist_ok = answered(mnist)
        cells = [
            f"{np.mean((mnist[1] == held_out.labels.numpy()) & mnist_ok):.2%}",
            f"{1 - mnist_ok.mean():.2%}",
        ]
        for brush in BRUSHES:
            ok = answered(drawn[brush])
            right = np.mean((drawn[brush][1] == check.labels) & ok)
            cells.append(f"{right:.2%} ({1 - ok.mean():.2%})")
        shares = {kind: answered(r).sum() / s.sketches for kind, (r, s) in made.items()}
        six = np.mean([v for k, v in shares.items() if k not in stroke_fonts.KINDS])
        script, chinese = shares["script letters"], shares["chinese"]
        print(f"{name:<16} {' | '.join(cells)} | {six:.1%}, {script:.1%}, {chinese:.1%}")
        print("    " + "  ".join(f"{k} {v:.1%}" for k, v in shares.items()), flush=True)

    row("top only", None)
    for share in args.shares:
        detector = fit_detector(digit_features, non_digit_features, share, seed=config.seed)
        row(f"{share:.2%} of seen", detector)


if __name__ == "__main__":
    run_script(main)
