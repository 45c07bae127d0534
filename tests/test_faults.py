"""Faults a careless user or a crash can cause: runs stopped at awkward moments, settings
that would exhaust memory, checkpoints written while something else writes or dies."""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from gradio_client import Client

from mnist_app.core.checkpoint import (
    free_name,
    list_checkpoints,
    load_checkpoint,
    make_checkpoint,
    save_checkpoint,
    save_under_name,
)
from mnist_app.core.models import build_model
from mnist_app.core.paths import PROJECT_ROOT
from mnist_app.service import training_jobs as jobs_module
from mnist_app.service.library import ModelLibrary
from mnist_app.service.training_jobs import TrainingJobs
from mnist_app.training import loop, run
from mnist_app.training.recipes import make_config
from mnist_app.training.to_checkpoint import Finished
from tests.conftest import MNIST_DIR
from tests.harness.server import launched_app, train_args, weights_with_quick_model


class SlowLibrary(ModelLibrary):
    """A real library whose MNIST arrives only when `arrive` is set (a slow disk)."""

    def __init__(self, weights_dir, mnist):
        super().__init__(weights_dir)
        self.mnist, self.arrive = mnist, threading.Event()

    def data(self):
        self.arrive.wait(30)
        return self.mnist


def finished(jobs: TrainingJobs, job, timeout: float = 120):
    snapshot = jobs.wait(job, timeout)
    assert snapshot.finished, snapshot
    return snapshot


def test_stop_before_the_first_step_saves_nothing_and_says_so(tmp_path, small_mnist):
    library = SlowLibrary(tmp_path, small_mnist)
    jobs = TrainingJobs(library)
    job = jobs.start("speedrun", make_config("speedrun", steps=50), "early", owner="me")
    assert "Stopping" in jobs.stop(owner="me")
    library.arrive.set()
    snapshot = finished(jobs, job)
    assert snapshot.state == "cancelled" and "before the first step" in snapshot.error
    assert library.names() == []


def test_stop_during_the_final_evaluation_still_saves_the_whole_run(tmp_path, mnist, small_mnist):
    # A short run on few images, judged on all 10,000 test images: the evaluation lasts
    # long enough (~0.5 s) to be caught in the act.
    data = dataclasses.replace(
        small_mnist, test_images=mnist.test_images, test_labels=mnist.test_labels
    )
    library = SlowLibrary(tmp_path, data)
    library.arrive.set()
    jobs = TrainingJobs(library)
    job = jobs.start("speedrun", make_config("speedrun", steps=40), "late", owner="me")
    deadline = time.monotonic() + 120
    try:
        while jobs.snapshot(job).state != "evaluating":
            assert not jobs.snapshot(job).finished, "never saw the evaluation"
            assert time.monotonic() < deadline, f"no evaluation in 120 s: {jobs.snapshot(job)}"
            time.sleep(0.002)
    except AssertionError:
        jobs.stop_any()  # no run left behind to trouble the next test
        jobs.wait(job, 120)
        raise
    assert "being evaluated" in jobs.stop(owner="me")
    snapshot = finished(jobs, job)
    assert snapshot.state == "done" and not snapshot.stopped_early
    assert load_checkpoint(library.path("late")).metrics["steps"] == 40


def test_a_run_whose_result_is_out_no_longer_holds_the_server(tmp_path, small_mnist, monkeypatch):
    # The training process reports its saved model, then takes its time to exit (a loaded
    # machine): the person told "done" may train again at once.
    exiting = threading.Event()

    def reported_then_slow_to_exit(order, data, stop):
        yield Finished(
            saved_as=order.name, test_accuracy=0.9, steps=5, stopped=False, train_time_s=1
        )
        exiting.wait(30)

    monkeypatch.setattr(jobs_module, "train_in_process", reported_then_slow_to_exit)
    library = SlowLibrary(tmp_path, small_mnist)
    library.arrive.set()
    jobs = TrainingJobs(library)
    first = jobs.start("speedrun", make_config("speedrun", steps=5), "first", owner="me")
    deadline = time.monotonic() + 30
    while not jobs.snapshot(first).finished:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert jobs.snapshot(first).state == "done" and not first.finished_event.is_set()
    assert jobs.stop(owner="me") == "No training is running."
    second = jobs.start("speedrun", make_config("speedrun", steps=5), "second", owner="me")
    assert jobs.current() is second
    exiting.set()
    assert finished(jobs, second).saved_as == "second"


def test_diverging_run_in_the_app_engine_saves_no_model(tmp_path, small_mnist):
    library = SlowLibrary(tmp_path, small_mnist)
    library.arrive.set()
    jobs = TrainingJobs(library)
    job = jobs.start("t1_mlp_mse", make_config("t1_mlp_mse", lr=1000, steps=50), "boom")
    snapshot = finished(jobs, job)
    assert snapshot.state == "failed" and "lower learning rate" in snapshot.error
    assert "Nothing was saved" in snapshot.error and library.names() == []


def test_a_training_process_that_dies_fails_the_run_and_the_next_run_still_trains(
    tmp_path, small_mnist
):
    library = SlowLibrary(tmp_path, small_mnist)
    library.arrive.set()
    jobs = TrainingJobs(library)
    job = jobs.start("speedrun", make_config("speedrun", steps=100_000), "doomed")
    deadline = time.monotonic() + 60
    while jobs.snapshot(job).step == 0:  # the run is under way in its own process
        assert time.monotonic() < deadline and not jobs.snapshot(job).finished
        time.sleep(0.01)
    (training,) = [p for p in multiprocessing.active_children() if p.name == "training"]
    os.kill(training.pid, signal.SIGKILL)  # what the kernel does when memory runs out
    snapshot = finished(jobs, job, timeout=30)
    assert snapshot.state == "failed"
    assert "training process was killed" in snapshot.error and "Nothing was saved" in snapshot.error
    assert library.names() == []
    job = jobs.start("speedrun", make_config("speedrun", steps=5), "after")
    assert finished(jobs, job).state == "done" and library.names() == ["after"]


def children(pid: int) -> set[int]:
    """The processes `pid` started, from the kernel's table of each thread's children."""
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
            found.update(map(int, f.read().split()))
    return found


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def test_a_killed_server_leaves_no_training_process_behind(tmp_path, mnist):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    before = children(os.getpid())
    with launched_app(weights, MNIST_DIR, tmp_path / "app.log") as url:
        (server,) = children(os.getpid()) - before
        Client(url, verbose=False).submit(
            **train_args(recipe="speedrun", steps=100_000, lr=0.1, name="orphan"),
            api_name="/train",
        )
        deadline = time.monotonic() + 60
        # The server's children: the fork server (and multiprocessing's resource tracker);
        # the fork server's child: the training run.
        while not (runs := {run for child in children(server) for run in children(child)}):
            assert time.monotonic() < deadline, "the training process never started"
            time.sleep(0.1)
        left = runs | children(server)
        os.kill(server, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while any(running(pid) for pid in left):
            assert time.monotonic() < deadline, "the training process outlived the server"
            time.sleep(0.1)
    assert not (weights / "orphan.pt").exists()


def test_full_batch_conv_net_runs_in_chunks_with_the_same_gradient(small_mnist, monkeypatch):
    """Full batch through a CNN would need tens of GB at once on full MNIST; chunked
    forward/backward passes must add up to the same step (LeNet-5: no batch norm)."""
    config = make_config("t4_lenet5", batch_size=0, steps=2, val_size=500, augment=False)
    monkeypatch.setattr(loop, "CONV_CHUNK", 100_000)
    whole = run(config, small_mnist).model.state_dict()
    monkeypatch.setattr(loop, "CONV_CHUNK", 700)
    chunked = run(config, small_mnist).model.state_dict()
    for key in whole:
        # The same sums in another order: float32 rounding (up to 5e-5 seen in CI).
        torch.testing.assert_close(chunked[key], whole[key], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"epochs": -3}, re.escape("epochs must be in [0, 10,000], got -3")),
        ({"epochs": 10**9}, re.escape("epochs must be in [0, 10,000], got 1,000,000,000")),
        ({"steps": -1}, re.escape("steps must be in [0, 10,000,000], got -1")),
        ({"steps": 10**12}, re.escape("steps must be in [0, 10,000,000]")),
    ],
)
def test_negative_or_absurd_run_lengths_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_config("speedrun", **overrides)


def small_checkpoint(name: str, seed: int):
    torch.manual_seed(seed)
    config = make_config("t4_lenet5")
    return make_checkpoint(name, build_model("lenet5"), config, "t4_lenet5", {"seed": seed})


def test_an_existing_checkpoint_is_never_replaced_unless_asked(tmp_path):
    path = save_checkpoint(small_checkpoint("m", 0), tmp_path / "m.pt")
    with pytest.raises(FileExistsError):
        save_checkpoint(small_checkpoint("m", 1), path)
    assert load_checkpoint(path).metrics == {"seed": 0}
    save_checkpoint(small_checkpoint("m", 2), path, overwrite=True)
    assert load_checkpoint(path).metrics == {"seed": 2}
    assert free_name("m", tmp_path) == "m-2" and free_name("x" * 64, tmp_path) == "x" * 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


KILLED_WRITER = """
import os, time
from pathlib import Path
import torch
from mnist_app.core.checkpoint import make_checkpoint, save_checkpoint
from mnist_app.core.models import build_model
from mnist_app.training.recipes import make_config

real_fsync = os.fsync
def fsync_then_hang(fd):
    real_fsync(fd)
    print("new checkpoint written, not yet in place", flush=True)
    time.sleep(120)
os.fsync = fsync_then_hang
model = build_model("lenet5")
checkpoint = make_checkpoint("m", model, make_config("t4_lenet5"), "t4_lenet5", {{"seed": 9}})
save_checkpoint(checkpoint, Path({path!r}), overwrite=True)
"""


def test_killed_in_the_middle_of_saving_the_previous_checkpoint_stays_valid(tmp_path):
    path = save_checkpoint(small_checkpoint("m", 0), tmp_path / "m.pt")
    before = load_checkpoint(path).state_dict
    script = KILLED_WRITER.format(path=str(path))
    writer = subprocess.Popen(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert "not yet in place" in writer.stdout.readline()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    after = load_checkpoint(path)
    assert after.metrics == {"seed": 0}
    assert all(torch.equal(after.state_dict[k], v) for k, v in before.items())
    assert list_checkpoints(tmp_path) == ["m"]  # the orphaned temporary file is not a model


def test_a_name_taken_during_the_save_moves_the_new_model_to_the_next_free_name(tmp_path):
    def make_while_someone_else_saves(name: str):
        if name == "m":  # another run saves "m" just before this one can
            save_checkpoint(small_checkpoint("m", 0), tmp_path / "m.pt")
        return small_checkpoint(name, 1)

    assert save_under_name(make_while_someone_else_saves, "m", tmp_path) == "m-2"
    assert load_checkpoint(tmp_path / "m.pt").metrics == {"seed": 0}
    assert load_checkpoint(tmp_path / "m-2.pt").metrics == {"seed": 1}
