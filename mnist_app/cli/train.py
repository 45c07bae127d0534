"""Command line: train a recipe and save the checkpoint.

python -m mnist_app train --recipe t1_mlp_mse
python -m mnist_app train --recipe resnet_mini --epochs 3 --lr 0.002 --name my_model
python -m mnist_app train --list
torchrun --nproc_per_node 2 -m mnist_app train --recipe t5_mlp_bn --name t5_ddp  # data-parallel
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
from pathlib import Path

import torch
from tqdm import tqdm

from ..core.checkpoint import checkpoint_path, locate
from ..core.data import MnistFormatError, MnistNotFoundError, load_mnist
from ..core.device import describe_device, pick_device
from ..core.paths import PEN_DATA_ENV
from ..core.settings import SETTINGS, Setting, describe_range, parse_bool
from ..training import EpochEvent, Evaluating, Finished, RunOrder, StepEvent, TrainingDiverged
from ..training.distributed import local_batch_size, world
from ..training.material import find_pen_data
from ..training.recipes import DEFAULT_RECIPE, RECIPES, make_config
from ..training.to_checkpoint import train_and_save


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_app train",
        description="Train an MNIST classifier from a recipe and save it to weights/<name>.pt. "
        "Every setting left out keeps the recipe's value (see --list).",
    )
    parser.add_argument(
        "--recipe", default=DEFAULT_RECIPE, help=f"recipe name (default: {DEFAULT_RECIPE})"
    )
    parser.add_argument("--list", action="store_true", help="list recipes and exit")
    parser.add_argument("--name", help="checkpoint name (default: the recipe name)")
    parser.add_argument("--weights-dir", type=Path, help="where to save (default: weights/)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")
    parser.add_argument("--data-dir", help="folder with the four MNIST IDX files (or MNIST_DIR)")
    parser.add_argument(
        "--pendigits-dir",
        type=Path,
        metavar="FOLDER",
        help="folder with pendigits-orig.tra, for --drawn-data pendigits (or PENDIGITS_DIR; "
        "default: ../shared/handwriting/pendigits, else data/handwriting/pendigits, else "
        "downloaded there)",
    )
    parser.add_argument(
        "--unipen-dir",
        type=Path,
        metavar="FOLDER",
        help="UNIPEN train_r01_v07 folder (data/ and include/), for --drawn-data unipen and "
        "--pen-letters (or UNIPEN_DIR; default: ../shared/handwriting/unipen, else "
        "data/handwriting/unipen, else downloaded there)",
    )
    settings = parser.add_argument_group("training settings (default: the recipe's)")
    for spec in SETTINGS:
        settings.add_argument(spec.flag, dest=spec.name, help=_help(spec), **_value_kind(spec))
    return parser


def _help(spec: Setting) -> str:
    bounds = describe_range(spec)
    return spec.help + ("" if bounds == "any value" or spec.choices else f"; {bounds}")


def _value_kind(spec: Setting) -> dict:
    if spec.choices:
        return {"choices": spec.choices}
    if spec.type is bool:
        return {"type": _on_off, "metavar": "on|off"}
    return {"type": spec.type, "metavar": spec.metavar or spec.type.__name__.upper()}


def _on_off(text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def list_recipes() -> str:
    rows = [f"{name:<18} tutorial {r.tutorial:<7} {r.description}" for name, r in RECIPES.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        print(list_recipes())
        return 0
    for name, folder in (("pendigits", args.pendigits_dir), ("unipen", args.unipen_dir)):
        if folder:  # the environment: the training code and torchrun's ranks see it
            os.environ[PEN_DATA_ENV[name]] = str(folder)
    try:
        config = make_config(args.recipe, **{s.name: getattr(args, s.name) for s in SETTINGS})
        find_pen_data(config, download=True)  # found, or downloaded into the cache
        if config.start_from and args.weights_dir:  # a name is looked up where this run saves
            start = locate(config.start_from, args.weights_dir)
            config = dataclasses.replace(config, start_from=str(start))
        order = RunOrder(
            config, args.recipe, args.name or args.recipe, args.weights_dir, args.overwrite
        )
        order.check()
        local_batch_size(config.batch_size, world())  # several processes share each batch
        device = pick_device(config.device)
        data = load_mnist(args.data_dir)
    except (ValueError, MnistNotFoundError, MnistFormatError) as err:
        hint = " (or pass --overwrite)" if "already exists" in str(err) else ""
        print(f"error: {err}{hint}", file=sys.stderr)
        return 2

    place = world()
    processes = f" x {place.size} processes (rank 0 reports)" if place.size > 1 else ""
    if place.main:
        where = f"{describe_device(device)}{processes}"
        print(f"recipe {args.recipe} on {where}; MNIST from {data.source}")
    try:
        return _train(order, data, place.main)
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _train(order: RunOrder, data, show: bool) -> int:
    """Train and save, showing progress if `show` (only rank 0 does, of several)."""
    stop = threading.Event()

    def request_stop(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        if show:
            tqdm.write("stopping after this step and saving (Ctrl-C again to quit without saving)")

    signal.signal(signal.SIGINT, request_stop)
    bar = None
    try:
        for event in train_and_save(order, data, stop):
            if not show and not isinstance(event, Finished):
                continue
            match event:
                case StepEvent():
                    if bar is None:
                        bar = tqdm(total=event.total_steps, unit="step", dynamic_ncols=True)
                    bar.update(1)
                    bar.set_postfix(
                        loss=f"{event.loss:.4f}", img_s=f"{event.images_per_s:.0f}", refresh=False
                    )
                case EpochEvent():
                    tqdm.write(
                        f"epoch {event.epoch:6.2f}  train loss {event.train_loss:.4f} "
                        f"acc {event.train_accuracy:.2%}  val loss {event.val_loss:.4f} "
                        f"acc {event.val_accuracy:.2%}"
                    )
                case Evaluating():
                    if bar is not None:
                        bar.close()
                    print("evaluating on the MNIST test set...", flush=True)
                case Finished():
                    finished = event
    except TrainingDiverged as err:
        print(f"\nerror: {err} Nothing was saved.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved.", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()

    if not show:
        return 0
    if finished.saved_as is None:
        print("stopped before the first step: nothing was saved.", file=sys.stderr)
        return 130
    if finished.saved_as != order.name:
        print(f"{order.name} was created during training; saved as {finished.saved_as} instead")
    print(
        ("stopped early: " if finished.stopped else "")
        + f"test accuracy {finished.test_accuracy:.2%} after {finished.steps} steps, "
        f"{finished.train_time_s:.1f} s of training; saved "
        f"{checkpoint_path(finished.saved_as, order.weights_dir)}"
    )
    return 0
