"""Why a model answered as it did: which pixels pushed it towards its answer, and which
towards the runner-up.

Integrated Gradients (Sundararajan et al., 2017) of the answer's lead, the logit of the
predicted digit minus that of the runner-up, from a blank page (all zeros: no ink) to the
drawing. Each pixel's share is its ink times the lead's mean gradient along that path, and
the shares add up to the lead itself (less the blank page's lead): a map that accounts for
the whole answer, pixel by pixel. Sixteen points on the path go through the model as one
batch, with one backward pass: a few milliseconds for the shipped models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core.data import normalize
from ..core.predict import Predictor, intra_op_threads

STEPS = 16


@dataclass(frozen=True)
class Explanation:
    top: int  # the predicted digit
    runner_up: int  # the second most likely
    # (28, 28) float32: > 0 pushed towards `top`, < 0 towards `runner_up`
    attribution: np.ndarray
    lead: float  # logit(top) - logit(runner_up) for the drawing
    blank_lead: float  # the same for a blank page; attribution.sum() == lead - blank_lead


def explain(predictor: Predictor, image: np.ndarray, steps: int = STEPS) -> Explanation:
    """Integrated Gradients of `predictor`'s lead for one 28x28 image (float 0-1, light
    ink on dark, as `preprocess.preprocess` makes it)."""
    pixels = torch.as_tensor(np.asarray(image, np.float32))
    if pixels.shape != (28, 28):
        raise ValueError(f"expected one 28x28 image, got {tuple(pixels.shape)}")
    checkpoint, model = predictor.checkpoint, predictor.model
    # Midpoints of `steps` equal slices from blank (0) to the image (1), and both ends.
    alphas = torch.cat([(torch.arange(steps) + 0.5) / steps, torch.tensor([0.0, 1.0])])
    path = (alphas[:, None, None] * pixels).unsqueeze(1).requires_grad_(True)
    with intra_op_threads(1), torch.enable_grad():
        logits = model(normalize(path, checkpoint.mean, checkpoint.std)).float()
        top, runner_up = logits[-1].topk(2).indices.tolist()
        lead = logits[:, top] - logits[:, runner_up]
        (gradients,) = torch.autograd.grad(lead[:steps].sum(), path)
    attribution = (pixels * gradients[:steps, 0].mean(0)).detach().numpy()
    return Explanation(
        top=top,
        runner_up=runner_up,
        attribution=attribution.astype(np.float32),
        lead=float(lead[-1].detach()),
        blank_lead=float(lead[-2].detach()),
    )
