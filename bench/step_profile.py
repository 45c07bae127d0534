"""Where a training step's CPU time goes: data, forward, backward, optimizer, the rest.

For each recipe, the trainer's own setup (`training.loop._set_up`: the same batches,
model, layout, autocast and optimizer) takes `--steps` steps phase by phase, each phase
timed on its own (on a CPU every op has finished when it returns). Against that, the same
number of steps through the real loop (`training.run`): what the loop adds beyond the four
phases (its events, the loss read back, the bookkeeping) is "the rest".

    python -m bench.step_profile                       # speedrun
    python -m bench.step_profile --recipes speedrun t4_lenet5 --steps 200
"""

from __future__ import annotations

import argparse
import time

import torch

from bench import run_script
from mnist_app.core.data import load_mnist
from mnist_app.training import run
from mnist_app.training.loop import _autocast, _loss, _set_up
from mnist_app.training.recipes import make_config

PHASES = ("data", "forward", "backward", "optimizer")


def phases(recipe: str, steps: int, data) -> dict[str, float]:
    """Seconds per step in each phase, after 10 steps of warm-up."""
    config = make_config(recipe, steps=steps + 10, val_size=0)
    setup = _set_up(config, data)
    model, optimizer, scheduler = setup.model, setup.optimizer, setup.scheduler
    autocast = _autocast(setup.device, conv=setup.channels_last)
    batches = setup.batches.forever()
    spent = dict.fromkeys(PHASES, 0.0)
    model.train()
    for k in range(steps + 10):
        t0 = time.perf_counter()
        images, labels = next(batches)
        if setup.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        t1 = time.perf_counter()
        with autocast:
            logits = model(images)
        loss = _loss(logits, labels, config)
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if scheduler is not None:
            scheduler.step()
        t4 = time.perf_counter()
        if k >= 10:
            for phase, seconds in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                spent[phase] += seconds
    return {phase: seconds / steps for phase, seconds in spent.items()}


def whole_step(recipe: str, steps: int, data) -> float:
    """Seconds per step through the real loop (its training clock)."""
    done = run(make_config(recipe, steps=steps, val_size=0), data)
    return done.train_time_s / steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["speedrun"])
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args(argv)
    data = load_mnist()
    print(f"{torch.get_num_threads()} CPU threads; ms per step (share of the loop's step)\n")
    print("| recipe | batch | " + " | ".join(PHASES) + " | the rest | the loop's step |")
    print("|---|---|" + "---|" * (len(PHASES) + 2))
    for recipe in args.recipes:
        per_phase = phases(recipe, args.steps, data)
        step = min(whole_step(recipe, args.steps, data) for _ in range(2))
        rest = max(0.0, step - sum(per_phase.values()))
        cells = [f"{1000 * s:.2f} ({s / step:.0%})" for s in [*per_phase.values(), rest]]
        batch = make_config(recipe).batch_size
        print(f"| {recipe} | {batch} | " + " | ".join(cells) + f" | {1000 * step:.2f} |")
    return 0


if __name__ == "__main__":
    run_script(main)
