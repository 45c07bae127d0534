"""The Train tab's time estimate against the time a run really takes, for every recipe.

For each recipe: the calibration (as the Train tab does it, timed too), the estimate, then
the run itself as the app runs it (in the training process, saved when done), timed from
the start to the saved model.

    python -m bench.time_estimate                       # every recipe, as it is
    python -m bench.time_estimate --recipes t1_mlp_mse t5_mlp_bn --set epochs=2
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time

from bench import run_script
from mnist_app.core.data import load_mnist
from mnist_app.core.settings import SETTINGS
from mnist_app.service.child_process import prepare, run_in_process, train_in_process
from mnist_app.training.estimate import calibrate_job, estimate
from mnist_app.training.recipes import RECIPES, make_config
from mnist_app.training.to_checkpoint import Finished, RunOrder


def settings_from(pairs: list[str]) -> dict:
    kinds = {spec.name: spec.type for spec in SETTINGS}
    return {key: kinds[key](value) for key, _, value in (p.partition("=") for p in pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES))
    parser.add_argument("--set", nargs="*", default=[], help="settings for all, e.g. epochs=2")
    args = parser.parse_args()
    changes = settings_from(args.set)
    prepare()  # the app starts its fork server at launch
    data = load_mnist()
    folder = tempfile.mkdtemp()
    print("| recipe | calibration | estimate | actual | estimate / actual |")
    print("|---|---|---|---|---|")
    try:
        for recipe in args.recipes:
            config = make_config(recipe, **changes)
            start = time.perf_counter()
            (calibration,) = run_in_process(calibrate_job, config, data, threading.Event())
            calibrating = time.perf_counter() - start
            guess = estimate(config, calibration, len(data.train_labels))
            print(f"<!-- {recipe}: {guess.describe()} -->", flush=True)
            order = RunOrder(config, recipe, recipe, folder, overwrite=True)
            start = time.perf_counter()
            *_, finished = train_in_process(order, data, threading.Event())
            actual = time.perf_counter() - start
            assert isinstance(finished, Finished) and finished.saved_as
            print(
                f"| {recipe} | {calibrating:.1f} s | {guess.seconds:.1f} s | {actual:.1f} s "
                f"| {guess.seconds / actual:.2f} |",
                flush=True,
            )
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    run_script(main)
