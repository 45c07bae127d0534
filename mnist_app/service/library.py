"""The models a server offers: checkpoints in one folder, each loaded and evaluated once.

Predictors, test-set evaluations, training-set features and drawn-digit accuracies are
cached per checkpoint file version (name and modification time), so the app answers
clicks from memory and still notices a checkpoint that was replaced on disk. The slow ones
(features: seconds to a minute; drawn-digit accuracy: half a minute for the first model)
are computed in background threads, one at a time, on one core each; a drawn-digit
measurement does not start while a model trains here (`training()`): it would slow the run
and skew its time estimate.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..analysis.neighbours import FeatureIndex
from ..analysis.onnx_export import FORMAT as ONNX_FORMAT
from ..analysis.onnx_export import export_onnx
from ..core import onnx_answer
from ..core.atomic import write_atomically
from ..core.checkpoint import checkpoint_path, free_name, list_checkpoints, load_checkpoint
from ..core.data import Mnist, load_mnist
from ..core.evaluation import Evaluation, evaluate
from ..core.messages import quoted
from ..core.paths import WEIGHTS_DIR
from ..core.predict import Predictor, intra_op_threads
from ..pen.drawn_accuracy import DrawnSet, drawn_accuracy, drawn_set
from .child_process import run_in_process
from .model_files import (
    SHIPPED_MANIFEST,
    check_may_change,
    delete_checkpoint,
    rename_checkpoint,
    shipped_default,
    shipped_in_order,
)
from .personal_jobs import prepare_fits, reference_cache

log = logging.getLogger(__name__)

# Training-set features of this many models stay in memory (up to 90 MB each).
FEATURE_MODELS = 3
FEATURE_RETRIES = 5  # a request whose job others' requests dropped asks again this often
# Loaded models kept in memory, least recently used dropped first: a server with hundreds
# of personal models must not hold them all (10 fits added 1 GB that stayed).
MODEL_MEMORY_BYTES = 512 * 2**20
EVALUATIONS_KEPT = 32  # ~0.5 MB each
# ONNX Runtime sessions kept for the pen canvas's frames sent while the pen is down: a
# class draws with one or two models; each session holds about its model's size.
LIVE_MODELS = 8


@dataclass(frozen=True)
class ModelFacts:
    """What a model is and how good: for lists, tables and agents."""

    name: str
    recipe: str
    architecture: str
    parameters: int
    file_bytes: int
    test_accuracy: float | None  # on the 10,000 MNIST test images, as recorded when saved
    training_s: float | None
    created: str
    device: str | None  # where it trained; None for checkpoints from before it was recorded
    shipped: bool

    def label(self) -> str:
        """Short, for a dropdown: `resnet_mini · 99.63% · 288k`."""
        accuracy = f"{self.test_accuracy:.2%}" if self.test_accuracy is not None else "?"
        millions = self.parameters >= 10**6
        size = f"{self.parameters / 10**6:.1f}M" if millions else f"{self.parameters / 1000:.0f}k"
        return f"{self.name} · {accuracy} · {size}"


class ModelLibrary:
    """Checkpoints of one weights folder, plus the MNIST data they are trained and judged on."""

    def __init__(
        self,
        weights_dir: str | os.PathLike | None = None,
        data_dir: str | os.PathLike | None = None,
    ):
        self.weights_dir = Path(weights_dir or WEIGHTS_DIR)
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._data_lock = threading.Lock()
        self._data: Mnist | None = None
        self._predictors: OrderedDict[tuple[str, float], Predictor] = OrderedDict()
        self._evaluations: OrderedDict[tuple[str, float], Evaluation] = OrderedDict()
        self._features: OrderedDict[tuple[str, float], Future[FeatureIndex]] = OrderedDict()
        self._drawn: dict[tuple[str, float], Future[dict[float, float]]] = {}
        self._drawn_set: DrawnSet | None = None
        self._feature_worker = ThreadPoolExecutor(1, thread_name_prefix="features")
        self._drawn_worker = ThreadPoolExecutor(1, thread_name_prefix="drawn-accuracy")
        self._live: OrderedDict[tuple[str, float], Future[onnx_answer.OnnxAnswer]] = OrderedDict()
        self._live_worker = ThreadPoolExecutor(1, thread_name_prefix="onnx-live")
        self._trainings = 0  # runs and time estimates training now
        self._no_training = threading.Condition()
        self._shipped_read: tuple[int | None, tuple[str, ...]] = (None, ())

    def names(self) -> list[str]:
        """Checkpoint names in the order every model list shows them: the one a visitor
        meets first (`best_name`), the other shipped models in the manifest's order, then
        the rest newest first."""
        newest_first = self._newest_first()
        best = self.best_name()
        shipped = [name for name in self._shipped_in_order() if name in newest_first]
        ordered = ([best] if best else []) + shipped + newest_first
        return list(dict.fromkeys(ordered))  # each once, where it first appears

    def _newest_first(self) -> list[str]:
        if not self.weights_dir.is_dir():
            return []
        return list_checkpoints(self.weights_dir)

    def best_name(self) -> str | None:
        """What a visitor should meet first: the shipped default (the model that reads
        drawings and says "not a digit") when it is here and readable, else the checkpoint
        with the highest recorded test accuracy (newest on ties)."""
        newest_first = self._newest_first()
        default = shipped_default(self.weights_dir)
        if default in newest_first:
            try:
                self.predictor(default)
                return default
            except ValueError:  # unreadable: the best of the others instead
                pass
        scored = []
        for name in newest_first:
            try:
                accuracy = self.predictor(name).checkpoint.metrics.get("test_accuracy") or 0.0
            except ValueError:  # unreadable checkpoint: the selectors still list it
                accuracy = -1.0
            scored.append((accuracy, name))
        return max(scored, key=lambda item: item[0])[1] if scored else None

    def path(self, name: str) -> Path:
        """The checkpoint file of `name`: names only, never paths (they come from the web)."""
        return checkpoint_path(name, self.weights_dir)

    def free_name(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`... whichever names no checkpoint yet."""
        return free_name(base, self.weights_dir)

    def data(self) -> Mnist:
        """MNIST, loaded on first use (raises MnistNotFoundError with instructions)."""
        with self._data_lock:
            if self._data is None:
                self._data = load_mnist(self.data_dir)
            return self._data

    def predictor(self, name: str) -> Predictor:
        """The model behind checkpoint `name` (raises ValueError / CheckpointError)."""
        key = self._key(name)
        with self._lock:
            if key not in self._predictors:
                self._predictors[key] = Predictor(load_checkpoint(self.path(name)))
                self._evict_models()
            self._predictors.move_to_end(key)
            return self._predictors[key]

    def live_answer(self, name: str) -> onnx_answer.OnnxAnswer | None:
        """The model's fast answer for frames sent while the pen is down, once ready. The
        first call exports the model to ONNX in the background (seconds, once per
        checkpoint version) and returns None, as does every call where ONNX Runtime is not
        installed or the export failed: the caller then asks `predictor(name)`."""
        if not onnx_answer.available():
            return None
        key = self._key(name)
        with self._lock:
            job = self._live.get(key)
            if job is None:
                job = self._live[key] = self._live_worker.submit(self._make_live, name)
                _drop_oldest_idle(self._live, LIVE_MODELS)
            self._live.move_to_end(key)
        if not job.done() or job.cancelled() or job.exception() is not None:
            return None
        return job.result()

    def _make_live(self, name: str) -> onnx_answer.OnnxAnswer:
        try:
            return onnx_answer.OnnxAnswer(self.onnx_file(name))
        except Exception:
            log.exception("no ONNX Runtime answer for %s: its live frames go through torch", name)
            raise

    def _evict_models(self) -> None:
        """Drop the least recently used models over the memory budget (the newest stays)."""
        sizes = {key: _memory_bytes(p) for key, p in self._predictors.items()}
        while len(self._predictors) > 1 and sum(sizes.values()) > MODEL_MEMORY_BYTES:
            key, _ = self._predictors.popitem(last=False)
            del sizes[key]

    def facts(self, name: str) -> ModelFacts:
        """Recipe, architecture, size, accuracy and training time of checkpoint `name`
        (raises ValueError / CheckpointError)."""
        checkpoint = self.predictor(name).checkpoint
        metrics = checkpoint.metrics
        parameters = metrics.get("parameters") or sum(
            tensor.numel() for tensor in checkpoint.state_dict.values()
        )
        return ModelFacts(
            name=name,
            recipe=checkpoint.recipe,
            architecture=checkpoint.arch,
            parameters=int(parameters),
            file_bytes=self.path(name).stat().st_size,
            test_accuracy=metrics.get("test_accuracy"),
            training_s=metrics.get("train_time_s"),
            created=checkpoint.created,
            device=metrics.get("device") or None,
            shipped=name in self._shipped(),
        )

    def history(self, name: str) -> list[dict]:
        """The run's per-epoch record (epoch, step, train_loss, train_accuracy, val_loss,
        val_accuracy); empty for checkpoints saved before curves were kept."""
        return list(self.predictor(name).checkpoint.metrics.get("history") or [])

    def rename(self, name: str, new_name: str, owner_secrets: list[str]) -> None:
        """Rename a model its caller trained (PermissionError, ValueError otherwise)."""
        check_may_change(self.predictor(name).checkpoint, self.weights_dir, owner_secrets)
        rename_checkpoint(name, new_name, self.weights_dir)
        self._forget(name)

    def delete(self, name: str, owner_secrets: list[str]) -> None:
        """Delete a model its caller trained (PermissionError, ValueError otherwise)."""
        check_may_change(self.predictor(name).checkpoint, self.weights_dir, owner_secrets)
        delete_checkpoint(name, self.weights_dir)
        self._forget(name)

    def prepare_personal_fits(self, name: str) -> None:
        """Cache the MNIST features a personal fit of `name` needs, in a child process at
        the lowest priority (personal.job.prepare_fits)."""
        path = checkpoint_path(name, self.weights_dir)
        for _ in run_in_process(prepare_fits, path, self.data(), threading.Event()):
            pass

    def _forget(self, name: str) -> None:
        """Drop what was kept in memory of a model that is gone (renamed or deleted)."""
        with self._lock:
            for cache in (self._predictors, self._evaluations, self._features, self._drawn):
                for key in [key for key in cache if key[0] == name]:
                    del cache[key]
        shutil.rmtree(self._cache_dir / "onnx" / name, ignore_errors=True)
        reference_cache(checkpoint_path(name, self.weights_dir)).unlink(missing_ok=True)

    @property
    def _cache_dir(self) -> Path:
        """What is computed from the checkpoints and kept beside them (git-ignored)."""
        return self.weights_dir / ".cache"

    def _shipped_in_order(self) -> tuple[str, ...]:
        """The shipped models' names in the manifest's order, read again only when the
        manifest changes."""
        try:
            stamp = (self.weights_dir / SHIPPED_MANIFEST).stat().st_mtime_ns
        except FileNotFoundError:
            return ()
        if self._shipped_read[0] != stamp:
            self._shipped_read = (stamp, shipped_in_order(self.weights_dir))
        return self._shipped_read[1]

    def _shipped(self) -> frozenset[str]:
        return frozenset(self._shipped_in_order())

    def newest_owned(self, owner_secrets: list[str]) -> str | None:
        """The newest model the holder of one of `owner_secrets` trained (and so may rename
        or delete), if any: what "Manage a model" offers first."""
        for name in self._newest_first():
            if name in self._shipped():
                continue
            try:
                check_may_change(self.predictor(name).checkpoint, self.weights_dir, owner_secrets)
            except (PermissionError, ValueError):  # not theirs, or unreadable
                continue
            return name
        return None

    def choices(self) -> list[tuple[str, str]]:
        """(label, name) for each model, for a dropdown: `resnet_mini · 99.63% · 288k`, in
        the order of `names`."""
        choices = []
        for name in self.names():
            try:
                choices.append((self.facts(name).label(), name))
            except ValueError:  # unreadable: choosing it says what is wrong
                choices.append((f"{name} · unreadable", name))
        return choices

    def evaluation(self, name: str) -> Evaluation:
        """The model's results on the 10,000 MNIST test images, computed once per version."""
        key = self._key(name)
        predictor = self.predictor(name)
        data = self.data()
        with self._lock:
            if key in self._evaluations:
                self._evaluations.move_to_end(key)
                return self._evaluations[key]
        # Seconds of work, done outside the lock: predictions must not wait for it.
        checkpoint = predictor.checkpoint
        result = evaluate(
            predictor.model, data.test_images, data.test_labels, checkpoint.mean, checkpoint.std
        )
        with self._lock:
            kept = self._evaluations.setdefault(key, result)
            while len(self._evaluations) > EVALUATIONS_KEPT:
                self._evaluations.popitem(last=False)
            return kept

    def onnx_file(self, name: str) -> Path:
        """The model exported to ONNX (`export`), made once per checkpoint version and
        export format in `.cache/onnx/<name>/` beside the weights (older files are removed)."""
        key = self._key(name)
        folder = self._cache_dir / "onnx" / name
        path = folder / f"{key[1]:.0f}-{ONNX_FORMAT}" / f"{name}.onnx"
        if not path.is_file():
            export_onnx(self.predictor(name).checkpoint, path, overwrite=True)
            for older in folder.iterdir():
                if older != path.parent:
                    shutil.rmtree(older, ignore_errors=True)
        return path

    def features(self, name: str) -> FeatureIndex:
        """The 60,000 training images in the model's feature space (computed once, in the
        background if `prefetch_features` asked for it earlier)."""
        for _ in range(FEATURE_RETRIES):
            try:
                return self.prefetch_features(name).result()
            except CancelledError:  # dropped by other models' requests: asked for again
                continue
        raise RuntimeError("The server is busy with other models' images: try again soon.")

    def prefetch_features(self, name: str) -> Future[FeatureIndex]:
        key = self._key(name)
        predictor, data = self.predictor(name), self.data()
        with self._lock:
            if key not in self._features:
                checkpoint = predictor.checkpoint
                self._features[key] = self._feature_worker.submit(
                    FeatureIndex,
                    predictor.model,
                    checkpoint.mean,
                    checkpoint.std,
                    data.train_images,
                    data.train_labels,
                )
                # Over the cache, the oldest job not running goes; unstarted, it never runs
                # (a running one is kept: its minute of work is nearly done).
                _drop_oldest_idle(self._features, FEATURE_MODELS)
            self._features.move_to_end(key)
            return self._features[key]

    @contextmanager
    def training(self) -> Iterator[None]:
        """While a model trains here (a run, a time estimate's trial steps): background
        measurements do not start."""
        with self._no_training:
            self._trainings += 1
        try:
            yield
        finally:
            with self._no_training:
                self._trainings -= 1
                self._no_training.notify_all()

    @property
    def training_now(self) -> bool:
        with self._no_training:
            return self._trainings > 0

    def _wait_for_no_training(self) -> None:
        """Until no model trains here; given up when the server is shutting down (the
        interpreter joins this worker at exit, and a run's thread may never say it ended)."""
        with self._no_training:
            while self._trainings:
                if not threading.main_thread().is_alive():
                    raise RuntimeError("the server is shutting down")
                self._no_training.wait(timeout=1)

    def drawn_accuracy(self, name: str) -> dict[float, float] | None:
        """Accuracy on the pendigits test writers' digits drawn at brushes 6, 12 and 20 px
        (see `drawn`); None while it is being computed in the background. Kept in
        `.cache/` beside the weights, so it is computed once per checkpoint version.
        FileNotFoundError without the pendigits files."""
        key = self._key(name)
        with self._lock:
            if key not in self._drawn:
                self._drawn[key] = self._drawn_worker.submit(self._score_drawn, name, key)
            future = self._drawn[key]
        return future.result() if future.done() else None

    def _score_drawn(self, name: str, key: tuple[str, float]) -> dict[float, float]:
        cache = self._cache_dir / "drawn_accuracy.json"
        entry = f"{name}@{key[1]}"
        try:
            known = json.loads(cache.read_text())
        except (OSError, ValueError):
            known = {}
        if entry in known:
            return {float(brush): acc for brush, acc in known[entry].items()}
        self._wait_for_no_training()
        with intra_op_threads(1):  # a background job: the other core serves the page
            if self._drawn_set is None:
                self._drawn_set = drawn_set("test")
            scores = drawn_accuracy(self.predictor(name), self._drawn_set)
        known = {k: v for k, v in known.items() if not k.startswith(f"{name}@")}
        known[entry] = scores
        try:
            write_atomically(cache, lambda tmp: tmp.write_text(json.dumps(known)), overwrite=True)
        except OSError as err:  # a read-only weights folder: it stays in memory
            log.warning("cannot cache drawn-digit accuracy in %s: %s", cache, err)
        return scores

    def _key(self, name: str) -> tuple[str, float]:
        path = self.path(name)
        try:
            return name, path.stat().st_mtime
        except FileNotFoundError:
            raise ValueError(f"no model named {quoted(name)} in {self.weights_dir}") from None


def _drop_oldest_idle(jobs: OrderedDict[tuple[str, float], Future], keep: int) -> None:
    """Cancels and forgets the oldest jobs not running, down to `keep` jobs if it can."""
    idle = [key for key, job in jobs.items() if not job.running()]
    for key in idle[: max(0, len(jobs) - keep)]:
        jobs.pop(key).cancel()


def _memory_bytes(predictor: Predictor) -> int:
    """A loaded model's weights, twice: the checkpoint's tensors and the model's own."""
    tensors = predictor.checkpoint.state_dict.values()
    return 2 * sum(tensor.numel() * tensor.element_size() for tensor in tensors)
