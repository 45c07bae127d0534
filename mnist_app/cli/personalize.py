"""Command line: fit a model to someone's handwriting, and print the before and after.

python -m mnist_app personalize --base resnet_mini --samples my_digits/ --name alice

my_digits/ holds one folder per digit (0/ ... 9/) of images: any size, dark ink on light
or ink on a transparent background, at least 3 of each digit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.checkpoint import checkpoint_path
from ..core.data import MnistFormatError, MnistNotFoundError, load_mnist
from ..personal.fit import Progress
from ..personal.folder import read_samples_folder
from ..service.personal_jobs import FitOrder, Fitted, fit_and_save
from ..service.personal_store import check_set_name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_app personalize",
        description="Fit a model to one person's handwriting (its last layer, with MNIST "
        "mixed in) and save it as <base>-<name>. Prints that person's accuracy before and "
        "after (cross-validated on the samples) and MNIST test accuracy before and after.",
    )
    parser.add_argument("--base", default="resnet_mini", help="model to start from (name or .pt)")
    parser.add_argument(
        "--samples", required=True, type=Path, help="folder with 0/ ... 9/ of digit images"
    )
    parser.add_argument("--name", required=True, help="whose handwriting: the model's suffix")
    parser.add_argument("--weights-dir", type=Path, help="where models are (default: weights/)")
    parser.add_argument("--overwrite", action="store_true", help="replace <base>-<name>")
    parser.add_argument("--data-dir", help="folder with the four MNIST IDX files (or MNIST_DIR)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        person = check_set_name(args.name)
        samples = read_samples_folder(args.samples)
        for line in samples.skipped:
            print(f"skipped {line}", file=sys.stderr)
        base = Path(args.base)
        is_path = base.suffix == ".pt" or base.is_file()  # the operator's own file
        order = FitOrder(
            base.stem if is_path else args.base,
            person,
            samples.images,
            samples.labels,
            args.weights_dir,
            overwrite=args.overwrite,
            base_file=base if is_path else None,
        )
        data = load_mnist(args.data_dir)
        for event in fit_and_save(order, data):
            if isinstance(event, Progress):
                print(f"{event.message}...", flush=True)
            elif isinstance(event, Fitted):
                fitted = event
    except (ValueError, MnistNotFoundError, MnistFormatError) as err:  # incl. NotEnoughSamples
        print(f"error: {err}", file=sys.stderr)
        return 2
    f = fitted.figures
    print(
        f"\n{f['samples']} drawings, fitted to {f['base']} in {f['fit_s']:.1f} s\n"
        f"{'':<42}{'before':>9}{'after':>9}\n"
        f"{'your drawings (cross-validated, ' + str(f['folds']) + ' folds)':<42}"
        f"{f['own_before']:>9.1%}{f['own_after']:>9.1%}\n"
        f"{'MNIST test (10,000 images)':<42}{f['mnist_before']:>9.2%}{f['mnist_after']:>9.2%}\n"
        f"saved {checkpoint_path(fitted.saved_as, args.weights_dir)}"
    )
    return 0
