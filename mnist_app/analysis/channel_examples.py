"""The training images that excite each channel most: for every feature map and every
unit the inside view shows (analysis.layers), the 9 of MNIST's 60,000 training images
with the strongest response, computed once per model in the background.

A feature map's response to an image is its largest value anywhere in the map: a channel
that detects a stroke ending fires where the ending is, and its mean would favour images
with many weak responses over one clear one."""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..core.data import normalize
from ..core.predict import Predictor, intra_op_threads
from .layers import LayerPlan, captured, layer_plan

TOP = 9
BATCH = 500  # images per forward pass: 50 MB of ResNet's first maps, reduced at once


@dataclass(frozen=True)
class ChannelExamples:
    """Per channel layer (the inside view's rows with channels, in order: each spec, then
    the penultimate features when they are a row of their own), (channels, TOP) training
    image indices and their responses, strongest first."""

    indices: list[np.ndarray]
    responses: list[np.ndarray]

    def top(self, layer: int, channel: int) -> list[tuple[int, float]]:
        """(training image index, response) of the images that excite one channel most."""
        if not (0 <= layer < len(self.indices) and 0 <= channel < len(self.indices[layer])):
            raise IndexError(f"no channel {channel} in layer {layer}")
        pairs = zip(self.indices[layer][channel], self.responses[layer][channel], strict=True)
        return [(int(i), float(r)) for i, r in pairs]


def _response(output: torch.Tensor) -> torch.Tensor:
    """(N, C): each channel's response per image (a map's strongest value)."""
    return output.amax(dim=(2, 3)) if output.dim() == 4 else output.flatten(1)


@torch.inference_mode()
def channel_examples(
    model: nn.Module,
    mean: float,
    std: float,
    images: torch.Tensor,
    progress: Callable[[float], None] = lambda _done: None,
    top: int = TOP,
    batch_size: int = BATCH,
) -> ChannelExamples:
    """The `top` images of `images` (uint8 or 0-1, (N, 28, 28)) that excite each channel of
    `model` most; `progress(fraction)` after each batch. Runs on a copy of the model (hooks
    on the shared one would catch other threads' predictions) with the predictor's thread
    count for a batch."""
    model = copy.deepcopy(model).eval()
    plan = layer_plan(model)
    device = next(model.parameters()).device
    best: list[tuple[torch.Tensor, torch.Tensor]] | None = None
    with intra_op_threads(torch.get_num_threads()):
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            with captured(model, plan.specs, _response) as (outputs, penultimate):
                model(normalize(batch.to(device), mean, std))
            scores = _channel_rows(plan, [o[0] for o in outputs], penultimate[0])
            best = _merge(best, scores, start, top)
            progress(min(1.0, (start + len(batch)) / len(images)))
    best = best or []
    return ChannelExamples(
        indices=[i.T.contiguous().numpy() for _, i in best],
        responses=[v.T.contiguous().numpy() for v, _ in best],
    )


def _channel_rows(plan: LayerPlan, outputs: list[torch.Tensor], penultimate: torch.Tensor):
    """(N, C) per channel layer, in the inside view's order."""
    return outputs + ([penultimate] if plan.penultimate_is is None else [])


def _merge(best, scores: list[torch.Tensor], start: int, top: int):
    """The running top images per channel, with this batch's (whose first image is number
    `start`) taken in: (values, indices), each (top, C)."""
    merged = []
    for layer, score in enumerate(scores):
        indices = torch.arange(start, start + len(score))[:, None].expand_as(score)
        if best is not None:
            score = torch.cat([best[layer][0], score.cpu()])
            indices = torch.cat([best[layer][1], indices])
        values, rows = score.cpu().topk(min(top, len(score)), dim=0)
        merged.append((values, indices.gather(0, rows)))
    return merged


class ChannelExampleJobs:
    """Channel examples of each loaded model, computed once in a background thread of
    their own (one model at a time). Kept while the library keeps the model loaded: it
    replaces the Predictor when the checkpoint file changes, and this forgets it too."""

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="channel-examples")
        self._lock = threading.Lock()
        self._jobs: weakref.WeakKeyDictionary[Predictor, Future[ChannelExamples]] = (
            weakref.WeakKeyDictionary()
        )
        self._progress: weakref.WeakKeyDictionary[Predictor, float] = weakref.WeakKeyDictionary()

    def status(self, predictor: Predictor, images: torch.Tensor) -> ChannelExamples | float:
        """The model's channel examples over `images`, or while they are being computed
        (started here on first ask) the fraction done."""
        with self._lock:
            job = self._jobs.get(predictor)
            if job is None or job.cancelled():
                self._drop_waiting()
                job = self._jobs[predictor] = self._submit(predictor, images)
        if job.done():
            return job.result()  # raises what the job raised
        return self._progress.get(predictor, 0.0)

    def _submit(self, predictor: Predictor, images: torch.Tensor) -> Future[ChannelExamples]:
        self._progress[predictor] = 0.0
        owner = weakref.ref(predictor)  # the job must not keep a forgotten model alive

        def note(done: float) -> None:
            kept = owner()
            if kept is not None:
                self._progress[kept] = done

        checkpoint = predictor.checkpoint
        return self._worker.submit(
            channel_examples, predictor.model, checkpoint.mean, checkpoint.std, images, note
        )

    def _drop_waiting(self) -> None:
        """Another model is asked for: a job that has not started yet is not wanted now."""
        for job in list(self._jobs.values()):
            if not job.running() and not job.done():
                job.cancel()
