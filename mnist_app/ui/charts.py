"""Pictures and tables the tabs show, drawn from engine results (no Gradio here)."""

from __future__ import annotations

import functools

import matplotlib

matplotlib.use("Agg")  # a server has no display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..jobs import Snapshot


def enlarge(image: np.ndarray, zoom: int) -> np.ndarray:
    """A [0, 1] or uint8 image scaled up by whole pixels, as uint8 (crisp, not blurred)."""
    pixels = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype(np.uint8)
    return pixels.repeat(zoom, axis=0).repeat(zoom, axis=1)


# Gradio's line plot fixes its colours from the first data it draws and then never draws a
# series it has not met: so no frame is sent before there are points, and every frame
# carries every series (NaN where a value is missing, which draws as a gap).


def loss_frame(snapshot: Snapshot | None) -> pd.DataFrame | None:
    """Per-step loss and its moving average, in long form for a coloured line plot."""
    points = snapshot.loss_curve() if snapshot else ()
    if not points:
        return None
    steps = [p.step for p in points]
    return pd.DataFrame(
        {
            "step": steps * 2,
            "loss": [p.loss for p in points] + [p.smoothed for p in points],
            "series": ["per step"] * len(points) + ["smoothed"] * len(points),
        }
    )


def accuracy_frame(snapshot: Snapshot | None) -> pd.DataFrame | None:
    """Train and validation accuracy (%) per epoch or evaluation period."""
    epochs = snapshot.epochs if snapshot else ()
    if not epochs:
        return None
    x = [round(e.epoch, 2) for e in epochs]
    return pd.DataFrame(
        {
            "epoch": x * 2,
            "accuracy": [100 * e.train_accuracy for e in epochs]
            + [100 * e.val_accuracy for e in epochs],
            "series": ["train"] * len(epochs) + ["validation"] * len(epochs),
        }
    )


def per_class_table(per_class_accuracy: list[float], confusion: np.ndarray) -> pd.DataFrame:
    totals = confusion.sum(axis=1)
    return pd.DataFrame(
        {
            "digit": [str(d) for d in range(10)],
            "accuracy": [f"{a:.2%}" for a in per_class_accuracy],
            "mistakes": [int(t - confusion[d, d]) for d, t in enumerate(totals)],
            "test images": [int(t) for t in totals],
        }
    )


def confusion_image(confusion: np.ndarray) -> np.ndarray:
    """The confusion matrix as an RGB picture (rows: true digit, columns: predicted)."""
    return _confusion_image(tuple(map(tuple, confusion.tolist())))


@functools.lru_cache(maxsize=32)
def _confusion_image(counts: tuple[tuple[int, ...], ...]) -> np.ndarray:
    matrix = np.array(counts)
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)
    # Colour the mistakes only: the diagonal's ~1,000s would wash every error out.
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=110)
    ax.imshow(np.log1p(errors), cmap="Reds")
    for (row, col), value in np.ndenumerate(matrix):
        if value:
            diagonal = row == col
            ax.text(
                col,
                row,
                str(value),
                ha="center",
                va="center",
                fontsize=7 if diagonal else 8,
                color="#166534" if diagonal else ("white" if errors[row, col] > 20 else "black"),
                fontweight="bold" if not diagonal else "normal",
            )
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title("Confusion matrix (MNIST test set)")
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    image.setflags(write=False)
    return image
