"""Does torch.compile make a training step of the fast recipes' networks cheaper on a CPU
(issue 38)? One step as the trainer takes it (SGD-Nesterov, label smoothing, channels-last,
batch 128), timed eager and compiled, after a few warm-up steps that include the compile.

    python -m research.compile_step
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from bench import run_script
from mnist_app.core.models import build_model

NETWORKS = {
    "speednet 32-64, FC 256 (speedrun)": {"hidden": 256},
    "speednet 16-32, FC 128": {"widths": (16, 32), "hidden": 128},
}


def step_time(arch_kwargs: dict, compiled: bool, batch: int = 128, steps: int = 150):
    """(warm-up seconds, milliseconds a step) on random images."""
    torch.manual_seed(0)
    model = build_model("speednet", **arch_kwargs).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    forward = torch.compile(model) if compiled else model
    images = torch.randn(batch, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (batch,))

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(forward(images), labels, label_smoothing=0.1).backward()
        optimizer.step()

    started = time.perf_counter()
    for _ in range(3):
        step()
    warm_up = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return warm_up, 1000 * (time.perf_counter() - started) / steps


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    print(f"{torch.get_num_threads()} CPU threads, torch {torch.__version__}\n")
    print("| network | eager | compiled | compile time |\n|---|---|---|---|")
    for name, arch_kwargs in NETWORKS.items():
        _, eager = step_time(arch_kwargs, compiled=False)
        warm_up, compiled = step_time(arch_kwargs, compiled=True)
        print(f"| {name} | {eager:.2f} ms/step | {compiled:.2f} ms/step | {warm_up:.1f} s |")
    return 0


if __name__ == "__main__":
    run_script(main)
