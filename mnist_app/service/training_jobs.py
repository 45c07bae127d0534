"""Training in the background, one run at a time per server, watched by polling snapshots.

A web request must not block for minutes, and two people training at once on one machine
would each get half of it and a confusing result, so a server owns one ``TrainingJobs``:
``start`` refuses a second run with a clear message, the run trains and saves in a child
process (``child``) while a thread here records its every event, and any number of
viewers read consistent ``Snapshot`` copies of it.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..core.data import MnistFormatError, MnistNotFoundError
from ..core.device import describe_device, pick_device
from ..core.settings import TrainConfig
from ..core.timeline import Watched, save_watched
from ..training.estimate import Calibration, Estimate, calibrate_job, calibration_key, estimate
from ..training.loop import EpochEvent, Evaluating, StepEvent, TrainingDiverged
from ..training.timeline_recorder import WatchEvent
from ..training.to_checkpoint import Finished, RunOrder
from .child_process import TrainingProcessDied, run_in_process, train_in_process
from .library import ModelLibrary
from .model_files import owner_key

log = logging.getLogger(__name__)


# A run's loss curve keeps at most this many points (a long run thins its history), so that
# memory and each viewer's copy stay bounded however many steps a run takes.
MAX_LOSS_POINTS = 20_000
STOPPING = "Stopping after the current step"  # what a stop that was taken says first
MAX_CALIBRATIONS = 64  # settings whose calibration is kept


class TrainingBusy(RuntimeError):
    """Another training run is in progress on this server."""


class TrainingElsewhere(RuntimeError):
    """This server does not train: another one does (several replicas, one trainer)."""


@dataclass(frozen=True)
class LossPoint:
    step: int
    loss: float


@dataclass(frozen=True)
class Snapshot:
    """Everything a viewer shows about one run, copied so it never changes under them."""

    name: str
    recipe: str
    device: str
    # starting, loading data, running, stopping, evaluating, then done, cancelled or failed
    state: str = "starting"
    step: int = 0
    total_steps: int = 0
    epoch: float = 0.0
    images_per_s: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float = 0.0
    losses: tuple[LossPoint, ...] = ()
    epochs: tuple[EpochEvent, ...] = ()
    # The drawings its owner watches, and how the model read them so far.
    watched: Watched | None = None
    watch: tuple[WatchEvent, ...] = ()
    test_accuracy: float | None = None
    saved_as: str | None = None
    stopped_early: bool = False
    stop_reason: str | None = None  # why it stopped early, when not its owner's Stop
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "cancelled", "failed")

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


@dataclass
class Job:
    order: RunOrder
    owner: str
    snapshot: Snapshot  # all but the losses, which are copied only when a viewer asks
    losses: list[LossPoint] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    finished_event: threading.Event = field(default_factory=threading.Event)
    # Whoever holds it may stop the run, and later rename or delete its model: the caller
    # gets it in /train's updates, so that a REST client with no session can manage what
    # it started.
    stop_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))


# What a Stop of someone else's run gets (the API's answer adds how to name one's own).
NOT_YOURS = "The training in progress was started by someone else; only they can stop it."


class TrainingJobs:
    """Runs `to_checkpoint.train_and_save` in a child process, one run at a time; a run
    is stopped (and what it learnt saved) `max_run_s` seconds after its first step."""

    def __init__(self, library: ModelLibrary, max_run_s: float | None = None, trains_at: str = ""):
        self.library = library
        self.max_run_s = max_run_s
        # The address of the server that trains, when this one does not (docs/scale-out.md, "Serving
        # many users"): its runs are refused here with a pointer there.
        self.trains_at = trains_at
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._calibrating = threading.Lock()
        self._calibrations: dict[str, Calibration] = {}

    def start(
        self,
        recipe: str,
        config: TrainConfig,
        name: str,
        owner: str = "",
        watched: Watched | None = None,
    ) -> Job:
        """Start a run (reading `watched` drawings as it learns), or raise TrainingBusy /
        TrainingElsewhere / ValueError (with a message for the user)."""
        self._check_trains_here()
        stop_token = secrets.token_urlsafe(16)
        # The page's owner (its browser id) and an API caller (its stop token) may later
        # rename or delete the model (model_files).
        owners = tuple(owner_key(key) for key in (owner, stop_token) if key)
        # Where drawings its owner picks during the run reach it (watch_now).
        watch_file = Path(tempfile.gettempdir()) / f"mnist-app-watch-{secrets.token_hex(8)}.pt"
        order = RunOrder(
            config,
            recipe,
            name,
            self.library.weights_dir,
            owners=owners,
            watched=watched,
            watch_file=str(watch_file),
        )
        order.check()
        device = describe_device(pick_device(config.device))
        with self._lock:
            running = self._running()
            if running is not None:
                raise TrainingBusy(busy_message(running.snapshot))
            snapshot = Snapshot(name=name, recipe=recipe, device=device, watched=watched)
            job = Job(order, owner, snapshot, stop_token=stop_token)
            self._job = job
        threading.Thread(target=self._run, args=(job,), name=f"train-{name}", daemon=True).start()
        return job

    def _check_trains_here(self) -> None:
        if self.trains_at:
            raise TrainingElsewhere(trains_elsewhere(self.trains_at))

    def current(self) -> Job | None:
        return self._job

    def training(self) -> bool:
        """Whether a run is under way on this server."""
        return self._running() is not None

    def watch_now(self, owner: str, watched: Watched) -> bool:
        """Whether the run under way is `owner`'s: then it reads `watched` (the drawings
        they picked, all of them) from its next watch point on."""
        job = self._running()
        if job is None or not owner or job.owner != owner:
            return False
        save_watched(watched, job.order.watch_file)
        return True

    def _running(self) -> Job | None:
        """The run under way, if any. A run is over once its result is out (saved and
        reported), though its process may take a moment more to exit: a user told "done"
        who presses Train again must not hear that the server is busy."""
        job = self._job
        return None if job is None or job.snapshot.finished else job

    def estimate(self, config: TrainConfig) -> Estimate:
        """How long a run of `config` will take here (`estimate.py`): calibrated in the
        training process, once per settings other than the run's length. TrainingBusy
        while a run trains (a calibration would slow it and be slowed by it)."""
        self._check_trains_here()
        key = calibration_key(config)
        with self._calibrating:  # one calibration at a time; the others wait for theirs
            calibration = self._calibrations.get(key)
            if calibration is None:
                if self._running() is not None:
                    raise TrainingBusy(
                        "The time a run takes is estimated when no other run trains."
                    )
                data = self.library.data()
                with self.library.training():
                    (calibration,) = run_in_process(calibrate_job, config, data, threading.Event())
                self._calibrations[key] = calibration
                while len(self._calibrations) > MAX_CALIBRATIONS:  # the oldest go first
                    self._calibrations.pop(next(iter(self._calibrations)))
        return estimate(config, calibration, len(self.library.data().train_labels))

    def stop(self, owner: str = "", token: str = "") -> str:
        """Ask the caller's run (by its owner or its stop token) to stop after its current
        step; say what happened."""
        job = self._running()
        if job is None:
            return "No training is running."
        mine = (owner and job.owner == owner) or (
            isinstance(token, str)
            and secrets.compare_digest(token.encode(), job.stop_token.encode())
        )
        if not mine:
            return NOT_YOURS
        return self._stop(job)

    def stop_any(self, reason: str = "") -> str:
        """Stop whatever run is going, whoever started it: for the server's operator."""
        job = self._running()
        if job is None:
            return "No training is running."
        return self._stop(job, reason)

    def _stop(self, job: Job, reason: str = "") -> str:
        if reason:
            self._update(job, stop_reason=reason)
        with self._lock:
            if job.snapshot.state == "evaluating":
                return "Training is over; the model is being evaluated and will then be saved."
            job.stop_event.set()
            if not job.snapshot.finished:
                job.snapshot = replace(job.snapshot, state="stopping")
        return f"{STOPPING}; the model trained so far will be saved."

    def wait(self, job: Job, timeout: float) -> Snapshot:
        """The job's snapshot after at most `timeout` seconds (sooner when it finishes)."""
        job.finished_event.wait(timeout)
        return self.snapshot(job)

    def snapshot(self, job: Job) -> Snapshot:
        with self._lock:
            return replace(job.snapshot, losses=tuple(job.losses))

    def _update(self, job: Job, **changes) -> None:
        with self._lock:
            job.snapshot = replace(job.snapshot, **changes)

    def _run(self, job: Job) -> None:
        try:
            self._update(job, state="loading data")
            data = self.library.data()
            self._update(job, state="stopping" if job.stop_event.is_set() else "running")
            with self.library.training():
                self._train(job, data)
        except (TrainingDiverged, TrainingProcessDied) as err:
            self._update(job, state="failed", error=f"{err} Nothing was saved.")
        except (ValueError, MnistNotFoundError, MnistFormatError) as err:  # bad settings, data
            self._update(job, state="failed", error=str(err))
        except Exception as err:  # the thread must always end with a state the user can read
            log.exception("training %s failed", job.snapshot.name)
            self._update(job, state="failed", error=f"training failed: {type(err).__name__}: {err}")
        finally:
            Path(job.order.watch_file).unlink(missing_ok=True)
            job.finished_event.set()

    def _train(self, job: Job, data) -> None:
        epochs: list[EpochEvent] = []
        start = time.perf_counter()
        time_limit = None  # counts from the first step: what loading takes is not training
        try:
            for event in train_in_process(job.order, data, job.stop_event):
                if time_limit is None and isinstance(event, StepEvent) and self.max_run_s:
                    time_limit = self._time_limit(job)
                self._record(job, event, epochs, start)
        finally:
            if time_limit:
                time_limit.cancel()

    def _time_limit(self, job: Job) -> threading.Timer:
        reason = f"it reached the server's time limit of {self.max_run_s / 60:g} min"
        timer = threading.Timer(self.max_run_s, self._stop, [job, reason])
        timer.daemon = True
        timer.start()
        return timer

    def _record(self, job: Job, event, epochs: list[EpochEvent], start: float) -> None:
        """One event of the run, into what its viewers see."""
        match event:
            case StepEvent():
                with self._lock:
                    job.losses.append(LossPoint(event.step, event.loss))
                    if len(job.losses) > MAX_LOSS_POINTS:  # every other one, evenly
                        job.losses = job.losses[::2]
                self._update(
                    job,
                    step=event.step,
                    total_steps=event.total_steps,
                    epoch=event.epoch,
                    images_per_s=event.images_per_s,
                    elapsed_s=event.elapsed_s,
                    eta_s=event.eta_s,
                )
            case EpochEvent():
                epochs.append(event)
                self._update(job, epochs=tuple(epochs))
            case WatchEvent():
                self._update(job, watch=(*job.snapshot.watch, event), watched=event.watched)
            case Evaluating():
                self._update(job, state="evaluating")
            case Finished(saved_as=None):
                self._update(job, state="cancelled", error="Stopped before the first step.")
            case Finished():
                self._update(
                    job,
                    state="done",
                    elapsed_s=time.perf_counter() - start,
                    eta_s=0.0,
                    test_accuracy=event.test_accuracy,
                    saved_as=event.saved_as,
                    stopped_early=event.stopped,
                )


def trains_elsewhere(where: str) -> str:
    """What a server that does not train says: `where` is the training server's address
    (or a link to it)."""
    return (
        f"This server does not train models: training runs at {where}. The models trained "
        "there are served here too."
    )


def busy_message(snapshot: Snapshot) -> str:
    progress = f", {snapshot.fraction:.0%} done" if snapshot.total_steps else ""
    return (
        f"The server is busy training {snapshot.name!r} ({snapshot.recipe}{progress}). "
        "One training runs at a time per server: please try again when it finishes."
    )
