"""Personal fits, measured: each pendigits test writer in turn is "a person".

For each writer, at one brush radius drawn for that writer (6, 12 or 20 px), 5 drawings
of each digit are replayed as canvas sketches to fit on (mnist_app.personal.fit, as the
Draw tab's "Fit to my handwriting" does), and the writer's other drawings are read before
and after the fit. MNIST test accuracy before and after, and the fit's whole time (with
its cross-validation and MNIST measure), come from the fit itself.

    python -m bench.personalize                          # the 14 test writers: report
    python -m bench.personalize --validation --file data/val/writers16-30.tra \\
        --base val_model --weights-dir /tmp/val --set steps=200   # tuning (see --validation)
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench import run_script
from mnist_app.core.checkpoint import load_checkpoint, locate
from mnist_app.core.data import Mnist, load_mnist
from mnist_app.core.predict import Predictor
from mnist_app.pen.drawn_accuracy import BRUSHES, model_input
from mnist_app.pen.replay import parse, random_sketches
from mnist_app.pen.sources import pendigits_path
from mnist_app.personal.fit import FitSettings, PersonalFit, fit_personal, mnist_features
from mnist_app.service.child_process import prepare as prepare_child_processes
from mnist_app.service.personal_jobs import FitOrder, Fitted, fit_in_process

FIT_PER_DIGIT = 5


def writer_drawings(digits, writer: int, seed: int):
    """The writer's drawings at the writer's own brush: (brush, inputs, labels, fit mask)."""
    rng = np.random.default_rng([seed, writer])
    brush = float(rng.choice(BRUSHES))
    mine = [d for d in digits if d.writer == writer]
    inputs = np.stack([model_input(s) for s, _ in random_sketches(mine, brush, seed=writer)])
    labels = np.array([d.label for d in mine])
    fit = np.zeros(len(mine), bool)
    for digit in range(10):
        fit[rng.permutation(np.flatnonzero(labels == digit))[:FIT_PER_DIGIT]] = True
    return brush, inputs, labels, fit


def settings_from(pairs: list[str]) -> FitSettings:
    changes = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        kind = type(getattr(FitSettings(), key))
        changes[key] = kind(value)
    return dataclasses.replace(FitSettings(), **changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="resnet_mini", help="the model to fit")
    parser.add_argument("--weights-dir", type=Path, help="where the base model is")
    parser.add_argument("--file", type=Path, help="a UNIPEN file instead of the test writers")
    parser.add_argument("--set", nargs="*", default=[], help="fit settings, e.g. steps=200")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--validation",
        action="store_true",
        help="tuning: MNIST 'test' figures on the 5,000 training images the recipes hold "
        "out (val_size 5000, seed 0) instead of the test set",
    )
    args = parser.parse_args()

    settings = settings_from(args.set)
    base = load_checkpoint(locate(args.base, args.weights_dir))
    before_model = Predictor(base)
    data = load_mnist()
    if args.validation:
        train, held_out = data.split(5000, seed=0)
        data = Mnist(train.images, train.labels, held_out.images, held_out.labels, data.source)
    source = args.file or pendigits_path("test")
    digits = parse(source)
    writers = sorted({d.writer for d in digits})
    print(
        f"{base.name} fitted to each of {len(writers)} writers of {source.name}, "
        f"{FIT_PER_DIGIT} drawings per digit; {settings}"
    )
    print(f"{torch.get_num_threads()} threads\n")
    print(
        "| writer | brush | fit / test drawings | before | after | MNIST before | MNIST after "
        "| own (cross-validated) before / after | fit time |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    start = time.perf_counter()
    reference = mnist_features(base, data, settings)
    reading = time.perf_counter() - start
    rows = []
    for writer in writers:
        brush, inputs, labels, fit = writer_drawings(digits, writer, args.seed)
        start = time.perf_counter()
        result = None
        for event in fit_personal(
            base,
            torch.from_numpy(inputs[fit]),
            torch.from_numpy(labels[fit]),
            reference,
            f"{base.name}-writer{writer}",
            settings=settings,
        ):
            if isinstance(event, PersonalFit):
                result = event
        seconds = time.perf_counter() - start
        after_model = Predictor(result.checkpoint)
        test = ~fit
        before = float((before_model.predict(inputs[test]) == labels[test]).mean())
        after = float((after_model.predict(inputs[test]) == labels[test]).mean())
        f = result.figures
        rows.append((before, after, f["mnist_before"], f["mnist_after"], seconds))
        print(
            f"| {writer} | {brush:g} | {fit.sum()} / {test.sum()} | {before:.2%} | {after:.2%} "
            f"| {f['mnist_before']:.2%} | {f['mnist_after']:.2%} "
            f"| {f['own_before']:.0%} / {f['own_after']:.0%} | {seconds:.1f} s |",
            flush=True,
        )
    r = np.array(rows)
    err_before, err_after = 1 - r[:, 0].mean(), 1 - r[:, 1].mean()
    print(
        f"\nmean per-writer error: {err_before:.2%} before, {err_after:.2%} after "
        f"({err_after / max(err_before, 1e-9):.2f}x)"
    )
    print(
        f"writers worse after: {int((r[:, 1] < r[:, 0] - 1e-9).sum())} of {len(r)}; "
        f"better: {int((r[:, 1] > r[:, 0] + 1e-9).sum())}"
    )
    drop = (r[:, 2] - r[:, 3]) * 100
    print(f"MNIST test change: mean {-drop.mean():+.3f} pt, worst {-drop.max():+.3f} pt")

    print(
        f"fit time: median {np.median(r[:, 4]):.1f} s, max {r[:, 4].max():.1f} s, once the "
        f"base model's MNIST features are known ({reading:.1f} s, once per base model)"
    )

    # As the app does it: in a child process at the lowest priority, saved when done (the
    # app starts its fork server at launch, so that is not timed here either). The first
    # fit of a base model reads its MNIST features and caches them beside it.
    prepare_child_processes()
    brush, inputs, labels, fit = writer_drawings(digits, writers[0], args.seed)
    folder = Path(tempfile.mkdtemp())
    shutil.copy(locate(args.base, args.weights_dir), folder / f"{base.name}.pt")
    order = FitOrder(base.name, "bench", inputs[fit], labels[fit], folder, settings=settings)
    for which in ("first fit of this base model", "a later fit"):
        start = time.perf_counter()
        saved = [e for e in fit_in_process(order, data) if isinstance(e, Fitted)]
        print(
            f"{which}, as the app runs it (child process, saved): "
            f"{time.perf_counter() - start:.1f} s -> {saved[0].saved_as}"
        )
    shutil.rmtree(folder)


if __name__ == "__main__":
    run_script(main)
