"""Training speed: the tutorials' pipeline against mnist_app's tensor-first trainer.

The tutorial side is what the tutorials do: torchvision's MNIST dataset with per-sample
ToTensor + Normalize, a DataLoader, the same model, optimizer, loss and epochs. Both
sides train on all 60,000 training images; times count training only (not the final
test evaluation).

    python bench/train_speed.py                      # recipes 1 and 5, then time-to-99%
    python bench/train_speed.py --recipes t1_mlp_mse --seeds 5
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from mnist_app.data import FILES, load_mnist
from mnist_app.evaluation import evaluate
from mnist_app.models import build_model
from mnist_app.recipes import make_config
from mnist_app.training import run


def torchvision_root(source: Path, root: Path) -> Path:
    """Lay the IDX files out as torchvision's MNIST expects: root/MNIST/raw/<name>."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        gz, plain = source / f"{name}.gz", source / name
        if gz.exists():
            with gzip.open(gz) as src, open(raw / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            shutil.copyfile(plain, raw / name)
    return root


def tutorial_pipeline(recipe: str, root: Path, data) -> tuple[float, float]:
    """Train the recipe the tutorial way; return (seconds, test accuracy)."""
    config = make_config(recipe, val_size=0)
    torch.manual_seed(config.seed)
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((config.mean,), (config.std,))]
    )
    train_set = datasets.MNIST(root, train=True, transform=transform)
    batch = config.batch_size or len(train_set)
    loader = DataLoader(train_set, batch_size=batch, shuffle=True)
    model = build_model(config.arch, **config.arch_kwargs)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
    )
    model.train()
    start = time.perf_counter()
    for _ in range(config.epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            out = model(images)
            if config.loss == "mse":
                loss = F.mse_loss(out, F.one_hot(labels, 10).float())
            else:
                loss = F.cross_entropy(out, labels)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, data.test_images, data.test_labels, config.mean, config.std)
    return seconds, accuracy.accuracy


def compare(recipe: str, root: Path, data) -> None:
    config = make_config(recipe, val_size=0)
    if config.schedule != "none" or config.optimizer != "sgd" or config.augment:
        raise SystemExit(f"{recipe}: only plain-SGD recipes have a tutorial pipeline here")
    tut_s, tut_acc = tutorial_pipeline(recipe, root, data)
    done = run(config, data)
    ours_s, ours_acc = done.train_time_s, done.test_accuracy
    print(
        f"{recipe:<14} tutorial pipeline {tut_s:7.2f} s  {tut_acc:.2%}   "
        f"mnist_app {ours_s:6.2f} s  {ours_acc:.2%}   "
        f"speed-up {tut_s / ours_s:5.1f}x   accuracy diff {100 * (ours_acc - tut_acc):+.2f} pt",
        flush=True,
    )


def time_to_99(recipe: str, seeds: int, data) -> None:
    times, accs = [], []
    for seed in range(seeds):
        done = run(make_config(recipe, seed=seed, val_size=0), data)
        times.append(done.train_time_s)
        accs.append(done.test_accuracy)
        print(
            f"  {recipe} seed {seed}: {done.test_accuracy:.2%} in {done.train_time_s:.2f} s",
            flush=True,
        )
    print(
        f"{recipe}: median {statistics.median(times):.2f} s of training, median test accuracy "
        f"{statistics.median(accs):.2%} (min {min(accs):.2%}) over {seeds} seeds "
        f"on {torch.get_num_threads()} CPU threads"
        if not torch.cuda.is_available()
        else f"{recipe}: median {statistics.median(times):.2f} s, median accuracy "
        f"{statistics.median(accs):.2%} (min {min(accs):.2%}) over {seeds} seeds on "
        f"{torch.cuda.get_device_name()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: MNIST_DIR)")
    parser.add_argument("--recipes", nargs="*", default=["t1_mlp_mse", "t5_mlp_bn"])
    parser.add_argument("--fast-recipe", default="speedrun")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    data = load_mnist(args.data_dir)
    source = Path(data.source)
    with tempfile.TemporaryDirectory() as tmp:
        root = torchvision_root(source, Path(tmp))
        for recipe in args.recipes:
            compare(recipe, root, data)
    if args.fast_recipe:
        time_to_99(args.fast_recipe, args.seeds, data)


if __name__ == "__main__":
    main()
