"""Training in a child process, watched from the server as the same stream of events.

A training thread inside the server would share its interpreter lock with every prediction
request: each of the run's thousands of small Python steps makes the requests wait (with
50 clients in bench/load.py, moving the run out raised predictions/s from 52 to 66). In its
own process, at the lowest CPU priority, the run takes only the cycles the requests leave,
and a crash of the run (out of memory, say) cannot take the server down with it.

The child gets the data and the run's order through a pipe, trains and saves the checkpoint
itself (`to_checkpoint.train_and_save`, as the CLI does; a personal fit's
`personal.job.fit_and_save` the same way), and sends back pickled events: the model never
crosses the pipe, only the name it was saved under. Plain pickle, rather than
torch's shared-memory tensors, keeps this independent of /dev/shm's size (small in
containers); the ~55 MB of MNIST cross the pipe in about 0.1 s.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import threading
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from ..core.data import Mnist, MnistNotFoundError
from ..training.loop import TrainingDiverged
from ..training.to_checkpoint import RunEvent, RunOrder, train_and_save

_STOP = b"stop"
_DONE = b"done"  # the job's events are all sent
# How often the parent looks for a stop request while no event arrives (one long step).
_POLL_S = 0.05


class TrainingProcessDied(RuntimeError):
    """The child process ended without finishing its run (killed, or out of memory)."""


def start_method() -> multiprocessing.context.BaseContext:
    """A fork server that has imported torch and the trainer once, so that each run starts
    in milliseconds; plain spawn where there is no fork server (Windows, macOS)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def prepare() -> None:
    """Start the fork server now (about 2 s of imports) rather than on the first run."""
    if start_method().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def train_in_process(order: RunOrder, data: Mnist, stop: threading.Event) -> Iterator[RunEvent]:
    """`to_checkpoint.train_and_save` run in a child process: the same events, the same
    exceptions (see `run_in_process`)."""
    return run_in_process(train_and_save, order, data, stop)


# A job: (its order, MNIST, a stop event) -> events; a module-level function, so that it
# can be sent to the child by name.
Job = Callable[[Any, Mnist, threading.Event], Iterator[Any]]


def run_in_process(job: Job, order: Any, data: Mnist, stop: threading.Event) -> Iterator[Any]:
    """`job(order, data, stop)` run in a child process: the same events, the same exceptions.

    Setting `stop` asks the job to end (a training run, after its current step), as
    in-process. Raises TrainingProcessDied if the child disappears before its last event.
    As with any multiprocessing, a script calling this needs the ``if __name__ ==
    "__main__":`` guard: the child imports the script's module.
    """
    context = start_method()
    events, events_sender = context.Pipe(duplex=False)
    orders_receiver, orders = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(events_sender, orders_receiver), name="training", daemon=True
    )
    child.start()
    # Only the child holds these ends now: its death reads as end-of-file here, and ours
    # (closing `orders`) reads as end-of-file there.
    events_sender.close()
    orders_receiver.close()
    try:
        stop_sent = stop.is_set()  # pressed while the data loaded: not even one step
        orders.send_bytes(pickle.dumps((job, order, data, stop_sent), pickle.HIGHEST_PROTOCOL))
        while True:
            if stop.is_set() and not stop_sent:
                orders.send_bytes(_STOP)
                stop_sent = True
            if not events.poll(_POLL_S):
                continue
            try:
                payload = events.recv_bytes()
            except EOFError:
                child.join(5)
                raise TrainingProcessDied(_how_it_ended(child.exitcode)) from None
            if payload == _DONE:
                return
            event = pickle.loads(payload)
            if isinstance(event, BaseException):
                raise event
            yield event
    finally:
        orders.close()  # the child, if still running, ends at once
        events.close()
        child.join(5)
        if child.is_alive():
            child.kill()


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        how = f"was killed (signal {-exitcode}; out of memory, perhaps)"
    else:
        how = f"ended unexpectedly (exit code {exitcode})"
    return f"The training process {how} before the run finished."


def _child(events: Connection, orders: Connection) -> None:
    _run_only_when_idle()
    job, order, data, stopped = pickle.loads(orders.recv_bytes())
    stop = threading.Event()
    if stopped:
        stop.set()
    threading.Thread(target=_listen, args=(orders, stop), daemon=True).start()
    try:
        for event in job(order, data, stop):
            events.send_bytes(pickle.dumps(event, pickle.HIGHEST_PROTOCOL))
        events.send_bytes(_DONE)
    except Exception as err:
        if not isinstance(err, TrainingDiverged | ValueError | MnistNotFoundError):
            traceback.print_exc()  # to the server's log: a bug, not a user's mistake
        events.send_bytes(_picklable(err))


def _run_only_when_idle() -> None:
    """Linux's idle scheduling class: the run gets a core only when nothing else wants
    it. The threads it starts later, torch's included, inherit the class."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux: the lowest niceness instead
        with contextlib.suppress(AttributeError, OSError):
            os.nice(19)


def _listen(orders: Connection, stop: threading.Event) -> None:
    try:
        while True:
            if orders.recv_bytes() == _STOP:
                stop.set()
    except (EOFError, OSError):
        # The server is gone (or done with us): nobody is left to save this run.
        os._exit(0)


def _picklable(err: Exception) -> bytes:
    """The exception as the parent can re-raise it, or its text if it cannot travel."""
    try:
        payload = pickle.dumps(err)
        pickle.loads(payload)
        return payload
    except Exception:
        return pickle.dumps(RuntimeError(f"{type(err).__name__}: {err}"))
