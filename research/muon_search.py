"""Muon (momentum orthogonalised by a Newton-Schulz iteration; Keller Jordan, 2024) for
`speedrun_drawn`'s network, against its SGD-Nesterov: trained and measured as
drawing_recipe_search.py does (MNIST less 5,000 plus writers 1-15; held-out MNIST and
writers 16-30 at each brush), so the lines compare with its `recipe_3400` line.

The trainer has no Muon: for these runs only, this benchmark swaps the trainer's optimizer
and schedule. The conv and hidden linear weights get Muon's orthogonalised step; biases,
batch norm and the output layer keep SGD-Nesterov at the recipe's rate; one-cycle drives
both peak rates.

    python -m bench.muon_search                     # Muon peak rates 0.05 and 0.1
    python -m bench.muon_search --muon-lr 0.02 --candidate recipe_3400
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn

import mnist_app.training.loop as loop
import research.drawing_recipe_search as search
from bench import run_script
from mnist_app.core.data import load_mnist
from mnist_app.core.settings import TrainConfig
from mnist_app.pen.drawn_accuracy import drawn_set


def orthogonalised(g: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """The nearest semi-orthogonal matrix to `g`, roughly: Muon's quintic Newton-Schulz."""
    a, b, c = 3.4445, -4.7750, 2.0315
    x = g / (g.norm() + 1e-7)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    for _ in range(steps):
        s = x @ x.T
        x = a * x + (b * s + c * s @ s) @ x
    return x.T if tall else x


class MuonWithSGD(torch.optim.Optimizer):
    """Nesterov momentum for every group; groups marked `orthogonal` step along the
    orthogonalised update (weight decay decoupled), the others along the plain one."""

    def __init__(self, groups: list[dict], lr: float, momentum: float, weight_decay: float):
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, orthogonal=False)
        super().__init__(groups, defaults)

    @torch.no_grad()
    def step(self, closure=None) -> None:
        for group in self.param_groups:
            momentum, lr, decay = group["momentum"], group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if group["orthogonal"] else p.grad.add(p, alpha=decay)
                buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                buf.mul_(momentum).add_(grad)
                update = grad.add(buf, alpha=momentum)
                if group["orthogonal"]:
                    rows = update.reshape(len(p), -1)
                    scale = max(1.0, rows.shape[0] / rows.shape[1]) ** 0.5
                    update = orthogonalised(rows).view_as(p) * scale
                    p.mul_(1 - lr * decay)
                p.add_(update, alpha=-lr)


def use_muon(muon_lr: float) -> None:
    """Make the trainer's next runs use MuonWithSGD under a one-cycle schedule."""

    def optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
        layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        weights = [m.weight for m in layers[:-1]]
        chosen = {id(w) for w in weights}
        rest = [p for p in model.parameters() if id(p) not in chosen]
        groups = [dict(params=weights, orthogonal=True, lr=muon_lr), dict(params=rest)]
        return MuonWithSGD(groups, config.lr, config.momentum, config.weight_decay)

    def schedule(optimizer, config: TrainConfig, total_steps: int, steps_per_epoch: int):
        peaks = [group["lr"] for group in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=peaks, total_steps=total_steps, pct_start=0.25
        )

    loop._optimizer, loop._scheduler = optimizer, schedule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--muon-lr", type=float, nargs="*", default=[0.05, 0.1])
    parser.add_argument("--candidate", default="recipe_3400", choices=list(search.CANDIDATES))
    args = parser.parse_args()
    if not search.FIT.exists():
        raise SystemExit("make the writer files first: drawing_recipe_search.py --split-writers")
    data = load_mnist()
    check = drawn_set(source=Path(search.CHECK))
    for muon_lr in args.muon_lr:
        use_muon(muon_lr)
        print(f"Muon, peak rate {muon_lr:g}:", end=" ")
        search.measure(args.candidate, data, check)


if __name__ == "__main__":
    run_script(main)
