"""The training loop: tensor-first, stoppable, reporting progress as a stream of events.

The whole dataset sits on the training device as uint8; each step takes a ``randperm``
slice, converts, augments and normalises it there. ``train`` is a generator of events
(``StepEvent`` per step, ``EpochEvent`` per epoch or evaluation period, ``Evaluating``
when the steps are over, ``DoneEvent`` at the end) so that a UI, a progress bar or a test
can consume the same run.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..core.data import Mnist, Split, normalize
from ..core.device import cpu_has_native_bf16, describe_device, pick_device
from ..core.digit_detector import DigitDetector
from ..core.evaluation import evaluate
from ..core.models import count_parameters, is_convolutional
from ..core.settings import TrainConfig
from ..core.timeline import Timeline, Watched
from ..nondigit.detector_training import fit_model_detector
from . import distributed
from .augment import random_affine, random_thickness
from .cuda_graph import GraphedStep, eager_step
from .material import NOT_A_DIGIT, training_split
from .start import starting_model
from .timeline_recorder import TimelineRecorder, WatchEvent


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class StepEvent:
    step: int  # 1-based
    total_steps: int
    epoch: float  # fractional epochs done
    loss: float
    lr: float
    images_per_s: float
    elapsed_s: float  # wall clock, including per-epoch validation
    eta_s: float


@dataclass(frozen=True)
class EpochEvent:
    epoch: float
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float  # NaN when there is no validation set
    val_accuracy: float


@dataclass(frozen=True)
class Evaluating:
    """The steps are over (or stopped); the test set is being evaluated."""

    steps: int


@dataclass(frozen=True)
class DoneEvent:
    model: nn.Module
    config: TrainConfig
    test_accuracy: float
    train_time_s: float  # training steps only, excluding data loading and evaluation
    steps: int
    stopped: bool  # True when stopped early from outside
    train_images: int = 0  # size of the training set (MNIST minus validation, plus drawn)
    history: list[EpochEvent] = field(default_factory=list)
    device: str = ""  # where it trained, as describe_device says it
    processes: int = 1  # data-parallel processes (torchrun), each on such a device
    detector: DigitDetector | None = None  # fitted after training (config.detector_refuse)
    timeline: Timeline | None = None  # what it saw while learning (rank 0 only)

    def metrics(self) -> dict:
        return {
            "test_accuracy": self.test_accuracy,
            "train_time_s": round(self.train_time_s, 3),
            "steps": self.steps,
            "stopped_early": self.stopped,
            "train_images": self.train_images,
            "parameters": count_parameters(self.model),
            "history": [vars(e) for e in self.history],
            "device": self.device,
            "processes": self.processes,
        }


Event = StepEvent | EpochEvent | WatchEvent | Evaluating | DoneEvent


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params, wd = model.parameters(), config.weight_decay
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=wd,
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=wd)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=wd)


def _scheduler(optimizer, config: TrainConfig, total_steps: int, steps_per_epoch: int):
    """A per-step LR schedule (StepLR's period is converted from epochs to steps)."""
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=total_steps, pct_start=0.25
        )
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=config.step_size * steps_per_epoch, gamma=config.gamma
        )
    return None


def _autocast(device: torch.device, conv: bool):
    """bf16 where it is measured to help: always on CUDA; on CPUs with native bf16
    (AVX512-BF16/AMX) for conv nets, ~1.35x faster training; never for CPU MLPs."""
    if device.type == "cuda":
        # No cache of bf16 weight copies: a CUDA graph must not capture one (cuda_graph.py),
        # and each weight is cast once per step anyway.
        return torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False)
    if device.type == "cpu" and conv and cpu_has_native_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


# Most images one forward/backward pass of a conv net takes at once: a bigger batch (full
# batch is 55,000 images, ~50 GB of activations for resnet_mini) is run in chunks whose
# gradients add up to the batch's. MLPs take the full batch at once (~0.5 GB).
CONV_CHUNK = 1024


def _forward_backward(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    config: TrainConfig,
    autocast,
    chunk: int | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and mean loss of the batch, its gradients accumulated in the parameters, in
    chunks of at most `chunk` images (None: all at once). Batch-norm layers see each
    chunk's statistics, not the whole batch's."""
    if chunk is None or len(labels) <= chunk:
        with autocast:
            logits = model(images)
        loss = _loss(logits, labels, config)
        loss.backward()
        return logits.detach(), loss.detach()
    parts, total = [], torch.zeros((), device=labels.device)
    chunks = list(zip(images.split(chunk), labels.split(chunk), strict=True))
    for k, (x, y) in enumerate(chunks):
        with autocast:
            logits = model(x)
        loss = _loss(logits, y, config) * (len(y) / len(labels))
        with _accumulating(model, last=k == len(chunks) - 1):
            loss.backward()
        parts.append(logits.detach())
        total += loss.detach()
    return torch.cat(parts), total


def _accumulating(model: nn.Module, last: bool):
    """Across processes, gradients are added up once per batch, at its last chunk."""
    if last or not hasattr(model, "no_sync"):
        return contextlib.nullcontext()
    return model.no_sync()


def _loss(logits: torch.Tensor, labels: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    if config.loss == "mse":
        return F.mse_loss(logits.float(), F.one_hot(labels, 10).float())
    if not config.negatives:
        return F.cross_entropy(logits.float(), labels, label_smoothing=config.label_smoothing)
    # Outlier exposure: a non-digit's target is the uniform answer (all ten at 10%), so the
    # top probability tells digits from the rest; digits keep their smoothed one-hot.
    smoothing = config.label_smoothing
    digit = labels < NOT_A_DIGIT
    targets = F.one_hot(labels.clamp(max=9), 10).float() * (1 - smoothing) + smoothing / 10
    targets = torch.where(digit[:, None], targets, torch.full_like(targets, 0.1))
    return -(targets * logits.float().log_softmax(dim=1)).sum(dim=1).mean()


class _Batches:
    """Serves training batches from tensors already on the device."""

    def __init__(
        self, split: Split, config: TrainConfig, device: torch.device, batch_size: int, seed: int
    ):
        self.config = config
        self.labels = split.labels.to(device)
        self.n = len(self.labels)
        if batch_size > self.n:
            raise ValueError(
                f"batch size {batch_size} is larger than the {self.n} training images; "
                "use 0 for full-batch training"
            )
        self.batch_size = batch_size or self.n
        self.generator = torch.Generator(device=device).manual_seed(seed)
        images = split.images.to(device)
        # Without augmentation, normalise once; with it, warp the raw [0, 1] images first.
        self.images = images if config.augment else normalize(images, config.mean, config.std)
        self.full_batch = self.batch_size == self.n

    def forever(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            yield from self.epoch()

    def epoch(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.full_batch and not self.config.augment:
            yield self.images, self.labels  # no copy: every step sees the same full batch
            return
        order = torch.randperm(self.n, device=self.labels.device, generator=self.generator)
        for start in range(0, self.n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self._prepare(self.images[idx]), self.labels[idx]

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        if not self.config.augment:
            return images
        c = self.config
        x = random_affine(
            images.float().div_(255).unsqueeze(1),
            self.generator,
            rotate=c.rotate,
            shift=c.shift,
            scale=c.scale,
            shear=c.shear,
            elastic=c.elastic,
        )
        x = random_thickness(x, self.generator, c.thickness)
        return normalize(x, c.mean, c.std)


# Reports (validation, a point on the accuracy curve) in a run of an epoch or two: a single
# point draws no curve, and `speedrun` (1.6 epochs) showed none until its end.
MIN_REPORTS = 4


def schedule(config: TrainConfig, images: int, batch_size: int) -> tuple[int, int, int]:
    """Steps per epoch, steps in all, and steps between reports (validation), for
    `images` training images taken `batch_size` at a time (per process)."""
    steps_per_epoch = math.ceil(images / batch_size)
    total_steps = config.steps or config.epochs * steps_per_epoch
    if steps_per_epoch > 1:  # each epoch, and at least MIN_REPORTS times in a short run
        report_every = max(1, min(steps_per_epoch, math.ceil(total_steps / MIN_REPORTS)))
    else:  # full-batch runs have one step per epoch: every ~2% of the run instead
        report_every = max(1, total_steps // 50)
    return steps_per_epoch, total_steps, report_every


@dataclass(frozen=True)
class Probe:
    """A look at the model every `every` steps and after the last, off the training clock
    (time-to-accuracy curves): `call(model, step, train_seconds)`, on rank 0 only."""

    every: int
    call: Callable[[nn.Module, int, float], None]


@dataclass(frozen=True)
class _Setup:
    """What a run has in hand before its first step."""

    device: torch.device
    place: distributed.World
    train_split: Split
    val_split: Split
    batches: _Batches
    model: nn.Module  # the model itself, under any data-parallel wrapper
    channels_last: bool  # the batches go in channels_last like the model
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    step_gradients: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    steps_per_epoch: int
    total_steps: int
    report_every: int


def _set_up(config: TrainConfig, data: Mnist) -> _Setup:
    """The device (joining the other processes under torchrun), the data on it, the model,
    the optimizer and its schedule, and the step that computes the gradients."""
    config.validate()
    device = pick_device(config.device)
    place = distributed.world()
    batch_size = config.batch_size
    if place.size > 1:  # launched by torchrun: one of several processes
        batch_size = distributed.local_batch_size(config.batch_size, place)
        device = distributed.join(place, device)
    torch.manual_seed(config.seed)
    train_split, val_split = training_split(config, data)
    if place.size > 1:
        train_split = distributed.shard(train_split, place, config.seed)
    batches = _Batches(train_split, config, device, batch_size, config.seed + place.rank)
    model, stepped, conv = _placed_model(config, device, place)
    steps_per_epoch, total_steps, report_every = schedule(config, batches.n, batches.batch_size)
    optimizer = _optimizer(model, config)
    scheduler = _scheduler(optimizer, config, total_steps, steps_per_epoch)
    step_gradients = _gradient_step(stepped, optimizer, config, device, place, conv, batches)
    return _Setup(
        device=device,
        place=place,
        train_split=train_split,
        val_split=val_split,
        batches=batches,
        model=model,
        channels_last=_channels_last(conv, device),
        optimizer=optimizer,
        scheduler=scheduler,
        step_gradients=step_gradients,
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
        report_every=report_every,
    )


def _channels_last(conv: bool, device: torch.device) -> bool:
    # channels_last speeds convolutions up on CPU (oneDNN) and on CUDA tensor cores alike.
    return conv and device.type in ("cpu", "cuda")


def _placed_model(
    config: TrainConfig, device: torch.device, place: distributed.World
) -> tuple[nn.Module, nn.Module, bool]:
    """The starting model on `device`, what takes the steps (the model, or its
    data-parallel wrapper), and whether it is a conv net."""
    model = starting_model(config).to(device)
    conv = is_convolutional(model)
    if _channels_last(conv, device):
        model = model.to(memory_format=torch.channels_last)
    stepped = model
    if place.size > 1:
        stepped = distributed.data_parallel(model, device)
        model = stepped.module
    return model, stepped, conv


def _gradient_step(
    stepped: nn.Module,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    device: torch.device,
    place: distributed.World,
    conv: bool,
    batches: _Batches,
) -> Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """`(images, labels) -> (logits, loss)`, the gradients left in the parameters: a CUDA
    graph replayed on one GPU (unless MNIST_APP_CUDA_GRAPHS=0), else eager."""
    autocast = _autocast(device, conv)
    chunk = CONV_CHUNK if conv else None

    def forward_backward(images: torch.Tensor, labels: torch.Tensor):
        return _forward_backward(stepped, images, labels, config, autocast, chunk)

    graphs = os.environ.get("MNIST_APP_CUDA_GRAPHS", "1") != "0" and place.size == 1
    if device.type == "cuda" and graphs:
        return GraphedStep(forward_backward, optimizer, batches.batch_size)
    return eager_step(forward_backward, optimizer)


def train(
    config: TrainConfig,
    data: Mnist,
    stop: threading.Event | None = None,
    probe: Probe | None = None,
    watched: Watched | None = None,
    watch_file: str = "",
) -> Iterator[Event]:
    """Train per `config`, yielding events; the last one is a DoneEvent.

    Setting `stop` ends the run after the current step; the model trained so far is
    still evaluated and returned. Raises TrainingDiverged on a NaN/inf loss. The test set
    is read at each evaluation and `watched` drawings at each and every 5% of the steps
    (WatchEvent), for the DoneEvent's timeline; drawings written to `watch_file` during the
    run join them (timeline_recorder).
    """
    setup = _set_up(config, data)
    # Plain locals for the hot loop below.
    device, place, batches, model = setup.device, setup.place, setup.batches, setup.model
    optimizer, scheduler, step_gradients = setup.optimizer, setup.scheduler, setup.step_gradients
    steps_per_epoch, total_steps = setup.steps_per_epoch, setup.total_steps
    report_every, channels_last = setup.report_every, setup.channels_last

    history: list[EpochEvent] = []
    step, train_time, stopped = 0, 0.0, False
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    digits_seen = torch.zeros((), device=device, dtype=torch.long)  # for accuracy
    seen = 0
    recorder = (
        TimelineRecorder(config, data, watched, total_steps, watch_file) if place.main else None
    )
    if recorder and recorder.watch_due(0, evaluated=True):
        yield recorder.read_watched(model, 0, 0.0)  # the untrained model's guesses
    model.train()
    wall_start = tick = time.perf_counter()
    # train_time counts batch preparation and the step, not validation or the consumer.
    for images, labels in itertools.islice(batches.forever(), total_steps):
        stopping = stop is not None and stop.is_set()
        if place.size > 1:
            stopping = distributed.any_process(stopping, device)
        if stopping:
            stopped = True
            break
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        logits, loss = step_gradients(images, labels)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        loss_value = loss.item()  # also syncs the device so the timing is real
        step += 1
        train_time += time.perf_counter() - tick
        if not math.isfinite(loss_value):
            raise TrainingDiverged(
                f"training diverged at step {step}: the loss became {loss_value}. "
                f"Try a lower learning rate (now {config.lr:g})."
            )
        loss_sum += loss * len(labels)
        correct += (logits.argmax(1) == labels).sum()
        digits_seen += (labels < NOT_A_DIGIT).sum()
        seen += len(labels)
        wall = time.perf_counter() - wall_start
        yield StepEvent(
            step=step,
            total_steps=total_steps,
            epoch=step / steps_per_epoch,
            loss=loss_value,
            lr=optimizer.param_groups[0]["lr"],
            images_per_s=step * batches.batch_size * place.size / max(train_time, 1e-9),
            elapsed_s=wall,
            eta_s=(total_steps - step) * wall / step,
        )
        evaluated = step % report_every == 0 or step == total_steps
        if evaluated:
            history.append(
                _period_report(setup, config, step, (loss_sum, correct, seen, digits_seen))
            )
            if recorder:
                recorder.evaluated(model, step, history[-1].epoch)
            yield history[-1]
            loss_sum.zero_(), correct.zero_(), digits_seen.zero_()
            seen = 0
        if recorder and recorder.watch_due(step, evaluated):
            yield recorder.read_watched(model, step, step / steps_per_epoch)
        if probe and place.main and (step % probe.every == 0 or step == total_steps):
            probe.call(model, step, train_time)
        tick = time.perf_counter()

    yield Evaluating(steps=step)
    yield _finish(setup, config, data, (step, train_time, stopped), history, recorder)


def _period_report(
    setup: _Setup,
    config: TrainConfig,
    step: int,
    sums: tuple[torch.Tensor, torch.Tensor, int, torch.Tensor],
) -> EpochEvent:
    """The report at `step`: the training loss and accuracy since the last one, from
    `sums` (loss sum, right answers, images seen, digits among them), added up over the
    processes; and the validation set's, measured by rank 0 alone."""
    loss_sum, correct, seen, digits_seen = sums
    totals = loss_sum, correct, torch.tensor(seen, device=setup.device), digits_seen
    if setup.place.size > 1:
        totals = distributed.sum_over_processes(*totals)
    train_loss = (totals[0] / totals[2]).item()
    train_acc = (totals[1] / totals[3].clamp(min=1)).item()
    # Rank 0 reports; the others measure nothing.
    val_split = setup.val_split
    validation = (
        val_split if setup.place.main else Split(val_split.images[:0], val_split.labels[:0])
    )
    epoch = step / setup.steps_per_epoch
    return _report(setup.model, config, epoch, step, validation, train_loss, train_acc)


def _finish(
    setup: _Setup,
    config: TrainConfig,
    data: Mnist,
    run: tuple[int, float, bool],
    history: list[EpochEvent],
    recorder: TimelineRecorder | None,
) -> DoneEvent:
    """The run's end, after `run`'s (steps, training seconds, stopped early): the test
    set evaluated, the timeline closed, the detector fitted (config.detector_refuse), all
    on rank 0 alone."""
    steps, train_time, stopped = run
    model, place = setup.model, setup.place
    test_accuracy = float("nan")  # other processes than rank 0 leave it to rank 0
    detector = timeline = None
    if place.main:
        test = evaluate(model, data.test_images, data.test_labels, config.mean, config.std)
        test_accuracy = test.accuracy
        timeline = recorder.finish(test, steps, steps / setup.steps_per_epoch)
        if config.detector_refuse and steps:
            split = setup.train_split
            digits = split.images[split.labels < NOT_A_DIGIT]
            detector = fit_model_detector(model.eval(), config, digits)
    return DoneEvent(
        model=model.eval(),
        config=config,
        test_accuracy=test_accuracy,
        train_time_s=train_time,
        steps=steps,
        stopped=stopped,
        train_images=setup.batches.n * place.size,
        history=history,
        device=describe_device(setup.device),
        processes=place.size,
        detector=detector,
        timeline=timeline,
    )


def _report(model, config, epoch, step, val_split, train_loss, train_acc) -> EpochEvent:
    val_loss = val_acc = float("nan")
    if len(val_split):
        val = evaluate(model, val_split.images, val_split.labels, config.mean, config.std)
        val_loss, val_acc = _loss(val.logits, val.labels, config).item(), val.accuracy
    return EpochEvent(
        epoch=epoch,
        step=step,
        train_loss=train_loss,
        train_accuracy=train_acc,
        val_loss=val_loss,
        val_accuracy=val_acc,
    )


def run(
    config: TrainConfig,
    data: Mnist,
    stop: threading.Event | None = None,
    probe: Probe | None = None,
    watched: Watched | None = None,
) -> DoneEvent:
    """Train to the end and return the final event (for scripts and tests)."""
    done = None
    for event in train(config, data, stop, probe, watched):
        if isinstance(event, DoneEvent):
            done = event
    assert done is not None
    return done
