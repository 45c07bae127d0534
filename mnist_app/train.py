"""Command line: train a recipe and save the checkpoint.

python -m mnist_app.train --recipe t1_mlp_mse
python -m mnist_app.train --recipe resnet_mini --epochs 3 --lr 0.002 --name my_model
python -m mnist_app.train --list
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path

from tqdm import tqdm

from .checkpoint import (
    Checkpoint,
    check_name,
    checkpoint_path,
    make_checkpoint,
    save_checkpoint,
    save_under_free_name,
)
from .data import MnistFormatError, MnistNotFoundError, load_mnist
from .device import describe_device, pick_device
from .recipes import (
    ARCH_OPTIONS,
    DEFAULT_RECIPE,
    LOSSES,
    OPTIMIZERS,
    RECIPES,
    SCHEDULES,
    TrainConfig,
    make_config,
)
from .trainer import DoneEvent, EpochEvent, Evaluating, StepEvent, TrainingDiverged, train

CONFIG_FIELDS = [f.name for f in dataclasses.fields(TrainConfig)]


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected on/off, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_app.train",
        description="Train an MNIST classifier from a recipe and save it to weights/<name>.pt. "
        "Every option left out keeps the recipe's default (see --list).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe name (see --list)")
    parser.add_argument("--list", action="store_true", help="list recipes and exit")
    parser.add_argument("--name", help="checkpoint name (default: the recipe name)")
    parser.add_argument("--weights-dir", type=Path, help="where to save (default: weights/)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")
    parser.add_argument("--data-dir", help="folder with the four MNIST IDX files (or MNIST_DIR)")
    knobs = parser.add_argument_group("training knobs (default: the recipe's)")
    knobs.add_argument("--epochs", type=int)
    knobs.add_argument("--steps", type=int, help="train this many steps instead of epochs")
    knobs.add_argument("--batch-size", type=int, help="0 = full batch")
    knobs.add_argument("--lr", type=float, help="learning rate (peak LR for one-cycle)")
    knobs.add_argument("--optimizer", choices=OPTIMIZERS)
    knobs.add_argument("--momentum", type=float)
    knobs.add_argument("--nesterov", type=_bool, metavar="on|off")
    knobs.add_argument("--weight-decay", type=float)
    knobs.add_argument("--loss", choices=LOSSES)
    knobs.add_argument("--label-smoothing", type=float)
    knobs.add_argument("--schedule", choices=SCHEDULES)
    knobs.add_argument("--step-size", type=int, help="StepLR period in epochs")
    knobs.add_argument("--gamma", type=float, help="StepLR factor")
    knobs.add_argument("--augment", type=_bool, metavar="on|off")
    knobs.add_argument("--rotate", type=float, help="max rotation, degrees")
    knobs.add_argument("--shift", type=float, help="max shift, fraction of the image")
    knobs.add_argument("--scale", type=float, help="max relative zoom")
    knobs.add_argument("--shear", type=float, help="max shear, degrees")
    knobs.add_argument("--thickness", type=float, help="stroke-thickness augmentation, 0-1")
    knobs.add_argument("--dropout", type=float)
    knobs.add_argument("--val-size", type=int, help="validation images carved from training")
    knobs.add_argument(
        "--drawn-data",
        help="also train on pen-drawn digits replayed as sketches: a pendigits UNIPEN file, "
        "e.g. ../shared/handwriting/pendigits/pendigits-orig.tra (train writers)",
    )
    knobs.add_argument("--drawn-copies", type=int, help="renderings of each drawn digit")
    knobs.add_argument("--seed", type=int)
    knobs.add_argument("--device", help="auto, cpu, cuda or mps")
    return parser


def list_recipes() -> str:
    rows = [f"{name:<18} tutorial {r.tutorial:<7} {r.description}" for name, r in RECIPES.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        print(list_recipes())
        return 0
    try:
        knobs = {k: getattr(args, k) for k in (*CONFIG_FIELDS, *ARCH_OPTIONS) if hasattr(args, k)}
        config = make_config(args.recipe, **knobs)
        name = check_name(args.name or args.recipe)
        path = checkpoint_path(name, args.weights_dir)
        if path.exists() and not args.overwrite:
            raise ValueError(f"{path} exists; choose another --name or pass --overwrite")
        device = pick_device(config.device)
        data = load_mnist(args.data_dir)
    except (ValueError, MnistNotFoundError, MnistFormatError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    print(f"recipe {args.recipe} on {describe_device(device)}; MNIST from {data.source}")
    stop = threading.Event()

    def request_stop(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        tqdm.write("stopping after this step and saving (Ctrl-C again to quit without saving)")

    signal.signal(signal.SIGINT, request_stop)
    bar = None
    try:
        for event in train(config, data, stop):
            if isinstance(event, StepEvent):
                if bar is None:
                    bar = tqdm(total=event.total_steps, unit="step", dynamic_ncols=True)
                bar.update(1)
                bar.set_postfix(
                    loss=f"{event.loss:.4f}", img_s=f"{event.images_per_s:.0f}", refresh=False
                )
            elif isinstance(event, EpochEvent):
                tqdm.write(
                    f"epoch {event.epoch:6.2f}  train loss {event.train_loss:.4f} "
                    f"acc {event.train_accuracy:.2%}  val loss {event.val_loss:.4f} "
                    f"acc {event.val_accuracy:.2%}"
                )
            elif isinstance(event, Evaluating):
                if bar is not None:
                    bar.close()
                print("evaluating on the MNIST test set...", flush=True)
            elif isinstance(event, DoneEvent):
                done = event
    except TrainingDiverged as err:
        print(f"\nerror: {err} Nothing was saved.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved.", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()

    def make(name: str) -> Checkpoint:
        return make_checkpoint(name, done.model, config, args.recipe, done.metrics())

    if args.overwrite:
        save_checkpoint(make(name), path, overwrite=True)
    else:  # a file created meanwhile (by the app, another run) is kept: save beside it
        saved = save_under_free_name(make, name, args.weights_dir)
        if saved != name:
            print(f"{name} was created during training; saving as {saved} instead")
            name, path = saved, checkpoint_path(saved, args.weights_dir)
    print(
        ("stopped early: " if done.stopped else "")
        + f"test accuracy {done.test_accuracy:.2%} after {done.steps} steps, "
        f"{done.train_time_s:.1f} s of training; saved {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
