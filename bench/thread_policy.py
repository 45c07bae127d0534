"""OpenMP's wait policy, per situation: a run alone, and a run beside people drawing.

OMP_WAIT_POLICY decides what torch's idle OpenMP threads do between parallel regions:
ACTIVE spins, PASSIVE sleeps, unset (libgomp's default) spins a while, then sleeps.
1. alone: `python -m mnist_app train --recipe speedrun` as the command line runs it, the
   policies alternated, `--runs` runs each; its training time (steps only) and accuracy.
   Then two such runs started at once, as when two trainers share the cores.
2. beside a class: the app launched under each policy (the server, and the training child
   that inherits it), `--people` drawing at the page's cadence (bench/classroom.py) while
   a speedrun run trains through /train: the run's time against quiet, and pen-up ->
   answer.

    python -m bench.thread_policy
    python -m bench.thread_policy --alone-only --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import run_script
from bench.classroom import HEADER, beside_training, drawn_strokes, page_at
from mnist_app.core.checkpoint import load_checkpoint
from mnist_app.core.paths import PROJECT_ROOT, WEIGHTS_DIR, pendigits_file, shared_mnist_dir
from mnist_app.pen.replay import parse
from tests.harness.server import launched_app

POLICIES = ("ACTIVE", "PASSIVE", "")  # "" = unset: libgomp's default


def environment(policy: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    return {**env, "OMP_WAIT_POLICY": policy} if policy else env


def train_command(name: str, folder: Path) -> list[str]:
    command = ["train", "--recipe", "speedrun", "--name", name, "--overwrite"]
    return [sys.executable, "-m", "mnist_app", *command, "--weights-dir", str(folder)]


def train_seconds(folder: Path, name: str) -> tuple[float, float]:
    metrics = load_checkpoint(folder / f"{name}.pt").metrics
    return metrics["train_time_s"], metrics["test_accuracy"]


def two_at_once(folder: Path) -> None:
    """Two command-line runs started together: the cores shared by two trainers."""
    print("\n| OMP_WAIT_POLICY | two speedrun runs at once: training time of each |")
    print("|---|---|")
    for policy in POLICIES:
        names = [f"pair{k}{policy or 'unset'}" for k in range(2)]
        runs = [
            subprocess.Popen(
                train_command(n, folder),
                cwd=PROJECT_ROOT,
                env=environment(policy),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for n in names
        ]
        for process in runs:
            process.wait()
        times = ", ".join(f"{train_seconds(folder, n)[0]:.1f} s" for n in names)
        print(f"| {policy or 'unset'} | {times} |", flush=True)


def alone(runs: int, folder: Path) -> None:
    times: dict[str, list[float]] = {p: [] for p in POLICIES}
    accuracy: dict[str, list[float]] = {p: [] for p in POLICIES}
    for k in range(runs):
        for policy in POLICIES:
            name = f"run{k}{policy or 'unset'}"
            subprocess.run(
                train_command(name, folder),
                cwd=PROJECT_ROOT,
                env=environment(policy),
                check=True,
                capture_output=True,
            )
            seconds, found = train_seconds(folder, name)
            times[policy].append(seconds)
            accuracy[policy].append(found)
    print("| OMP_WAIT_POLICY | speedrun alone: training time, each run | median | accuracy |")
    print("|---|---|---|---|")
    for policy in POLICIES:
        runs_s = ", ".join(f"{t:.1f} s" for t in times[policy])
        print(
            f"| {policy or 'unset'} | {runs_s} | {statistics.median(times[policy]):.1f} s | "
            f"{statistics.median(accuracy[policy]):.2%} |",
            flush=True,
        )


def beside_a_class(people: int, seconds: float, folder: Path) -> None:
    digits = [drawn_strokes(d) for d in parse(pendigits_file("test"))[:60]]
    print(f"\n{HEADER}\n|---|---|---|---|---|---|---|---|---|")
    for policy in POLICIES:
        weights = folder / f"weights-{policy or 'unset'}"
        shutil.copytree(WEIGHTS_DIR, weights, ignore=shutil.ignore_patterns(".*"))
        chosen = environment(policy)
        os.environ.clear()  # the app, and its training child, inherit this environment
        os.environ.update(chosen)
        with launched_app(weights, shared_mnist_dir(), folder / f"{weights.name}.log") as url:
            print(f"server and training child: {policy or 'unset'}", flush=True)
            beside_training(page_at(url), digits, [people], seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per policy, alone")
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--alone-only", action="store_true")
    parser.add_argument("--class-only", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.class_only:
            alone(args.runs, Path(tmp))
            two_at_once(Path(tmp))
        if not args.alone_only:
            beside_a_class(args.people, args.seconds, Path(tmp))
    return 0


if __name__ == "__main__":
    run_script(main)
