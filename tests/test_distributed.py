"""Data-parallel training over several processes (torchrun, gloo on CPU): the same steps as
one process with the same global batch, batch norm over the global batch, and one report
and one checkpoint from rank 0."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from mnist_app.core.checkpoint import checkpoint_path, load_checkpoint
from mnist_app.core.paths import PROJECT_ROOT
from mnist_app.training.distributed import data_parallel

BATCH = 64


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10)
    )


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(BATCH, 1, 28, 28, generator=generator), torch.randint(
        0, 10, (BATCH,), generator=generator
    )


def _step(model: nn.Module, images, labels) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    nn.functional.cross_entropy(model(images), labels).backward()
    optimizer.step()


def _one_step_on_half_a_batch(rank: int, port: int, results) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        model = _model()
        wrapped = data_parallel(model, torch.device("cpu"))
        images, labels = _batch()
        half = slice(rank * BATCH // 2, (rank + 1) * BATCH // 2)
        # The loss is each process's mean: DDP averages the gradients over the processes.
        _step(wrapped, images[half], labels[half])
        results[rank] = {k: v.clone() for k, v in wrapped.module.state_dict().items()}
    finally:
        dist.destroy_process_group()


def test_two_processes_take_the_step_one_takes_on_the_whole_batch():
    alone = _model()
    _step(alone, *_batch())
    with socket.socket() as s:  # a free port for the two processes to meet on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_one_step_on_half_a_batch, args=(port, results), nprocs=2)
        results = dict(results)
    for rank in (0, 1):
        for key, value in alone.state_dict().items():
            # Batch norm saw the global batch: the same statistics, the same gradients.
            assert torch.allclose(results[rank][key].float(), value.float(), atol=1e-5), key


def train_command(*args: str, processes: int = 1) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    launcher += [f"--nproc_per_node={processes}"]
    return subprocess.run(
        [*launcher, "-m", "mnist_app", "train", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


@pytest.mark.slow
def test_torchrun_trains_on_two_processes_as_on_one(tmp_path):
    common = ["--recipe", "t5_mlp_bn", "--epochs", "2", "--weights-dir", str(tmp_path)]
    one = train_command(*common, "--name", "one")
    two = train_command(*common, "--name", "two", processes=2)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert "x 2 processes" in two.stdout
    assert len(re.findall("test accuracy", two.stdout)) == 1, "rank 0 alone reports"
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["one.pt", "two.pt"]
    accuracy = {n: load_checkpoint(checkpoint_path(n, tmp_path)).metrics for n in ("one", "two")}
    assert accuracy["two"]["steps"] == accuracy["one"]["steps"]
    assert abs(accuracy["two"]["test_accuracy"] - accuracy["one"]["test_accuracy"]) < 0.005


def test_a_batch_that_does_not_divide_among_the_processes_is_refused(tmp_path):
    args = ["--recipe", "t5_mlp_bn", "--batch-size", "129", "--weights-dir", str(tmp_path)]
    result = train_command(*args, processes=2)
    assert result.returncode != 0
    assert "the batch size 129 must divide evenly among the 2 processes" in result.stderr
