"""Data-parallel training over processes that torchrun starts:

    torchrun --nproc_per_node 2 -m mnist_app train --recipe t5_mlp_bn --name t5_ddp

Each process holds its own shard of the training set on its device and takes its share
of every batch; DistributedDataParallel adds the gradients up, so a step sees the same
global batch as one process would. Batch norm is synchronised across the processes (the
statistics of the global batch, not of each share), and only rank 0 reports and saves.
CUDA GPUs talk over NCCL, CPUs over gloo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
from torch import nn

from ..core.data import Split


@dataclass(frozen=True)
class World:
    """This process's place among the processes of one run (one process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0  # its index on this machine: which GPU it takes

    @property
    def main(self) -> bool:
        """Whether this process reports and saves."""
        return self.rank == 0


def world() -> World:
    """Where this process stands, from the variables torchrun sets."""
    env = os.environ
    return World(
        int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0))
    )


def join(place: World, device: torch.device) -> torch.device:
    """Join the run's process group (once), and the device this process trains on: its
    own GPU (cuda:<local rank>) when training on CUDA."""
    if device.type == "cuda":
        device = torch.device("cuda", place.local_rank)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise ValueError(f"training over several processes runs on CUDA or CPU, not {device.type}")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def local_batch_size(batch_size: int, place: World) -> int:
    """Each process's share of a global batch (0, full batch, stays 0: each its shard)."""
    if batch_size % place.size:
        raise ValueError(
            f"the batch size {batch_size} must divide evenly among the {place.size} processes"
        )
    return batch_size // place.size


def shard(split: Split, place: World, seed: int) -> Split:
    """This process's share of the training images, drawn in a fixed random order (drawn
    digits come after MNIST's): every process gets as many, up to size - 1 images left
    out, so that all take the same number of steps."""
    per_process = len(split.labels) // place.size
    order = torch.randperm(len(split.labels), generator=torch.Generator().manual_seed(seed))
    mine = order[place.rank * per_process : (place.rank + 1) * per_process]
    return Split(split.images[mine], split.labels[mine])


def data_parallel(model: nn.Module, device: torch.device) -> nn.Module:
    """`model` wrapped for DistributedDataParallel, its batch norm synchronised."""
    model = _synchronise_batch_norm(model)
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def any_process(flag: bool, device: torch.device) -> bool:
    """Whether `flag` is set in any process (a stop asked of one stops all, at the same
    step, or the others would wait for it forever)."""
    value = torch.tensor([float(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def sum_over_processes(*values: torch.Tensor) -> list[torch.Tensor]:
    """Each value summed over the processes."""
    stacked = torch.stack([v.float() for v in values])
    dist.all_reduce(stacked)
    return list(stacked)


class SyncedBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm over the global batch: each process's sums are added up across the
    processes (differentiably), on any device. torch's SyncBatchNorm takes GPUs only."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() not in (2, 3, 4):
            raise ValueError(f"expected 2D, 3D or 4D input (got {x.dim()}D input)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not self.track_running_stats:
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        local = x.float()
        count = torch.tensor([local.numel() / local.shape[1]], device=x.device)
        totals = dist_nn.all_reduce(torch.cat([local.sum(dims), local.square().sum(dims), count]))
        channels = x.shape[1]
        n = totals[-1]
        mean = totals[:channels] / n
        var = (totals[channels : 2 * channels] / n - mean.square()).clamp_min(0)
        with torch.no_grad():
            self.num_batches_tracked += 1
            m = self.momentum if self.momentum is not None else 1 / int(self.num_batches_tracked)
            self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
            self.running_var.mul_(1 - m).add_(var.detach() * (n / (n - 1)), alpha=m)
        shape = [1, channels] + [1] * (x.dim() - 2)
        y = (local - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)


def _synchronise_batch_norm(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        synced = SyncedBatchNorm(
            module.num_features,
            module.eps,
            module.momentum,
            module.affine,
            module.track_running_stats,
        )
        synced.load_state_dict(module.state_dict())
        return synced.to(next(module.buffers()).device)
    for name, child in module.named_children():
        setattr(module, name, _synchronise_batch_norm(child))
    return module
