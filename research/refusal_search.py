"""How the refusal was chosen, without the test writers or the test non-digits: candidate
settings trained on MNIST (5,000 images held out) plus pendigits train writers 1-15 (and
their digits edited into writing styles), measured on train writers 16-30, their styles,
the held-out MNIST images and the *val* non-digits (other seeds, other fonts); where the
stroke fonts are fetched (scripts/fetch_stroke_fonts.sh), also the val font's script
letters and Chinese characters, shown apart from the mean over the generator's kinds.

The threshold is the top probability that refuses 0.5% of the held-out drawn digits; the
table then shows what it lets through. Make the writer files first, as for the drawing
recipe search (`python -m bench.drawing_recipe_search --split-writers`).

    python -m bench.refusal_search --only speedrun_styles_neg
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from bench import run_script
from mnist_app.core.data import load_mnist
from mnist_app.core.evaluation import predict_logits
from mnist_app.nondigit import stroke_fonts
from mnist_app.nondigit.refusal import auroc, non_digit_sets, stroke_font_sets, threshold_refusing
from mnist_app.pen.drawn_accuracy import BRUSHES, drawn_set, model_input
from mnist_app.pen.replay import parse, random_sketches
from mnist_app.pen.styles import STYLES, in_style
from mnist_app.training import run
from mnist_app.training.recipes import make_config
from research.drawing_recipe_search import CHECK, FIT, on_fit_writers

# The threshold refuses at most these shares of held-out drawn digits and MNIST images.
REFUSE_DIGITS, REFUSE_MNIST = 0.005, 0.001

# name: (recipe, settings), all trained on writers 1-15 with 5,000 MNIST images held out.
CANDIDATES = {
    "speedrun_drawn": ("speedrun_drawn", dict()),
    "speedrun_styles": ("speedrun_drawn", dict(drawn_styles=1)),
    "speedrun_styles_neg": ("speedrun_drawn", dict(drawn_styles=1, negatives=12000)),
    "speedrun_styles2_neg": ("speedrun_drawn", dict(drawn_styles=2, negatives=20000)),
    "resnet_drawn": ("resnet_drawn", dict()),
    "resnet_drawn_jitter": ("resnet_drawn", dict(drawn_jitter=0.08)),
    "resnet_drawn_12000_steps": ("resnet_drawn", dict(steps=12000)),
    "resnet_drawn_script": ("resnet_drawn", dict(negatives=24000, script_negatives=4000)),
    "resnet_drawn_script_12000_steps": (
        "resnet_drawn",
        dict(negatives=24000, script_negatives=4000, steps=12000),
    ),
}


def measure(name: str, data, check, styled, non_digits, stroke_sets, save: Path | None) -> None:
    recipe, settings = CANDIDATES[name]
    config = on_fit_writers(make_config(recipe, **settings))
    began = time.perf_counter()
    done = run(config, data)
    wall = time.perf_counter() - began
    report(name, done, wall, data, check, styled, non_digits, stroke_sets, save)


def report(name: str, done, wall, data, check, styled, non_digits, stroke_sets, save) -> None:
    """The candidate's threshold, and what it reads and refuses on held-out material."""
    config = done.config

    def top(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits = predict_logits(done.model, torch.from_numpy(images), config.mean, config.std)
        probs = torch.softmax(logits, 1).numpy()
        return probs.max(1), probs.argmax(1)

    drawn_top = {b: top(images) for b, images in check.inputs.items()}
    all_top = np.concatenate([t for t, _ in drawn_top.values()])
    val_split = data.split(5000, seed=config.seed)[1]
    mnist_top, mnist_pred = top(val_split.images.numpy())
    threshold = min(
        threshold_refusing(all_top, REFUSE_DIGITS), threshold_refusing(mnist_top, REFUSE_MNIST)
    )
    if save:
        save.mkdir(parents=True, exist_ok=True)
        torch.save(done.model.state_dict(), save / f"{name}.pt")
    mnist_labels = val_split.labels.numpy()
    print(f"\n{name}: {done.train_time_s:.0f} s of steps ({wall:.0f} s in all)")
    print(f"  threshold {threshold:.3f}")
    mnist_right = np.mean(mnist_pred == mnist_labels)
    print(f"  MNIST held out {mnist_right:.2%}, refused {np.mean(mnist_top < threshold):.2%}")
    for b, (t, pred) in drawn_top.items():
        read = np.mean(pred == check.labels)
        ok = np.mean((pred == check.labels) & (t >= threshold))
        print(f"  writers 16-30 r={b:g}: {read:.2%} read, {ok:.2%} counting refusals")
    for style, (labels, inputs) in styled.items():
        cells = []
        for images in inputs.values():
            t, pred = top(images)
            cells.append(f"{np.mean((pred == labels) & (t >= threshold)):.1%}")
        print(f"  {style:<24} {' / '.join(cells)}")
    answered = []
    for s in non_digits:
        t, _ = top(s.inputs) if len(s.inputs) else (np.zeros(0), None)
        answered.append(s.answered(t >= threshold))
        print(f"  {s.kind:<10} AUROC {auroc(all_top, t):.4f}  answered {answered[-1]:.1%}")
    print(f"  non-digits answered, mean over kinds: {np.mean(answered):.1%}", flush=True)
    for s in stroke_sets:  # val fonts' letters, Chinese: not in the mean, for comparison
        t, _ = top(s.inputs)
        share = s.answered(t >= threshold)
        print(f"  {s.kind:<10} AUROC {auroc(all_top, t):.4f}  answered {share:.1%}")


def held_out(non_digits_per_kind: int) -> tuple:
    """What every candidate is measured on: MNIST, writers 16-30 (as they are and in each
    style) and the val non-digits (with the val fonts' letters and Chinese where fetched)."""
    if not FIT.exists():
        raise SystemExit(
            "make the writer files first: research/drawing_recipe_search.py --split-writers"
        )
    data = load_mnist()
    check = drawn_set(source=Path(CHECK))
    check_digits = parse(CHECK)
    styled = {}
    for style in STYLES:
        digits = in_style(check_digits, style, seed=1)
        inputs = {
            b: np.stack([model_input(s) for s, _ in random_sketches(digits, b, seed=1)])
            for b in BRUSHES
        }
        styled[style] = (np.array([d.label for d in digits]), inputs)
    non_digits = non_digit_sets(non_digits_per_kind, "val")
    fetched = stroke_fonts.available()
    stroke_sets = stroke_font_sets(non_digits_per_kind, "val") if fetched else []
    return data, check, styled, non_digits, stroke_sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(CANDIDATES), default=list(CANDIDATES))
    parser.add_argument("--non-digits", type=int, default=300, help="per kind")
    parser.add_argument("--save", type=Path, help="keep each model's weights in this folder")
    args = parser.parse_args()
    material = held_out(args.non_digits)
    for name in args.only:
        measure(name, *material, args.save)


if __name__ == "__main__":
    run_script(main)
