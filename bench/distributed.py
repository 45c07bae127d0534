"""Data-parallel training: one process against several, the same recipe and global batch.

Each run is `torchrun --standalone --nproc_per_node N -m mnist_app train`; the figures are
the checkpoint's own (training time, steps, test accuracy) and the launch's wall time.
On CPUs torchrun gives each process one thread unless OMP_NUM_THREADS says otherwise; on
CUDA each process takes one GPU.

    python -m bench.distributed                                   # t5_mlp_bn and speedrun, 1 and 2
    python -m bench.distributed --recipes resnet_mini --processes 1 2 4 8 --set device=cuda
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import run_script
from mnist_app.core.checkpoint import checkpoint_path, load_checkpoint
from mnist_app.core.paths import PROJECT_ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="*", default=["t5_mlp_bn", "speedrun"])
    parser.add_argument("--processes", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--set", nargs="*", default=[], help="settings, e.g. epochs=2")
    args = parser.parse_args()
    settings = [f"--{k.replace('_', '-')}={v}" for k, _, v in (p.partition("=") for p in args.set)]
    folder = Path(tempfile.mkdtemp())
    print("| recipe | processes | training time | wall time | steps | test accuracy |")
    print("|---|---|---|---|---|---|")
    for recipe in args.recipes:
        for processes in args.processes:
            name = f"{recipe}-{processes}"
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
            command += [f"--nproc_per_node={processes}", "-m", "mnist_app", "train"]
            command += ["--recipe", recipe, "--name", name, "--weights-dir", str(folder)]
            start = time.perf_counter()
            done = subprocess.run(
                [*command, "--overwrite", *settings],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - start
            if done.returncode:
                print(f"| {recipe} | {processes} | failed: {done.stderr.strip()[-300:]} |")
                continue
            metrics = load_checkpoint(checkpoint_path(name, folder)).metrics
            print(
                f"| {recipe} | {processes} | {metrics['train_time_s']:.1f} s | {wall:.1f} s "
                f"| {metrics['steps']} | {metrics['test_accuracy']:.2%} |",
                flush=True,
            )


if __name__ == "__main__":
    run_script(main)
