"""Pictures and tables the tabs show, drawn from engine results (no Gradio here)."""

from __future__ import annotations

import functools
import itertools
import math

import matplotlib

matplotlib.use("Agg")  # a server has no display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..service.training_jobs import Snapshot

# Weight of the past in the loss curve's exponential moving average: enough to read the
# trend through batch-to-batch noise, little enough that the curve still reacts.
LOSS_SMOOTHING = 0.9
# More points than this cost the browser without showing more.
MAX_CURVE_POINTS = 600


def enlarge(image: np.ndarray, zoom: int) -> np.ndarray:
    """A [0, 1] or uint8 image scaled up by whole pixels, as uint8 (crisp, not blurred)."""
    pixels = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype(np.uint8)
    return pixels.repeat(zoom, axis=0).repeat(zoom, axis=1)


# Gradio's line plot fixes its colours from the first data it draws and then never draws a
# series it has not met: so no frame is sent before there are points, and every frame
# carries every series (NaN where a value is missing, which draws as a gap).


def loss_frame(snapshot: Snapshot | None) -> pd.DataFrame | None:
    """Per-step loss and its moving average, in long form for a coloured line plot."""
    points = snapshot.losses if snapshot else ()
    if not points:
        return None
    smoothed = _smoothed([p.loss for p in points])
    shown = _thinned(range(len(points)))
    steps = [points[i].step for i in shown]
    return pd.DataFrame(
        {
            "step": steps * 2,
            "loss": [points[i].loss for i in shown] + [smoothed[i] for i in shown],
            "series": ["per step"] * len(shown) + ["smoothed"] * len(shown),
        }
    )


def _smoothed(losses: list[float]) -> list[float]:
    """The exponential moving average, with the zero start divided out so that the first
    points do not hug zero."""
    beta = LOSS_SMOOTHING
    averages = itertools.accumulate(
        losses, lambda avg, loss: beta * avg + (1 - beta) * loss, initial=0.0
    )
    return [average / (1 - beta**step) for step, average in enumerate(averages) if step]


def _thinned(indices: range, max_points: int = MAX_CURVE_POINTS) -> list[int]:
    """At most about `max_points` evenly spaced indices, always keeping the latest."""
    stride = -(-len(indices) // max_points)
    kept = list(indices[::stride])
    return kept if kept[-1] == indices[-1] else [*kept, indices[-1]]


def accuracy_frame(snapshot: Snapshot | None) -> pd.DataFrame | None:
    """Train and validation accuracy (%) per epoch or evaluation period; no validation
    series for a run without a validation set, and no frame until there is a line to
    draw (a single point draws an empty plot)."""
    epochs = snapshot.epochs if snapshot else ()
    if len(epochs) < 2:
        return None
    x = [round(e.epoch, 2) for e in epochs]
    series = {"train": [100 * e.train_accuracy for e in epochs]}
    if not all(math.isnan(e.val_accuracy) for e in epochs):
        series["validation"] = [100 * e.val_accuracy for e in epochs]
    return pd.DataFrame(
        {
            "epoch": x * len(series),
            "accuracy": [value for values in series.values() for value in values],
            "series": [name for name in series for _ in epochs],
        }
    )


def per_class_table(per_class_accuracy: list[float], confusion: np.ndarray) -> pd.DataFrame:
    totals = confusion.sum(axis=1)
    return pd.DataFrame(
        {
            "digit": [str(d) for d in range(10)],
            "accuracy (%)": [round(100 * a, 2) for a in per_class_accuracy],
            "mistakes": [int(t - confusion[d, d]) for d, t in enumerate(totals)],
            "test images": [int(t) for t in totals],
        }
    )


CLICK_A_CELL = "Confusion matrix: click a cell for its images"


def confusion_image(confusion: np.ndarray, title: str = CLICK_A_CELL) -> np.ndarray:
    """The confusion matrix as an RGB picture (rows: true digit, columns: predicted)."""
    return _confusion_chart(_key(confusion), title)[0]


def confusion_cell(confusion: np.ndarray, x: float, y: float) -> tuple[int, int] | None:
    """(true, predicted) of the cell at pixel (x, y) of `confusion_image(confusion)`, or
    None for a click beside the matrix (its labels, its title)."""
    (col0, row0), (col_step, row_step) = _confusion_chart(_key(confusion))[1]
    col, row = round((x - col0) / col_step), round((y - row0) / row_step)
    return (row, col) if 0 <= row < 10 and 0 <= col < 10 else None


def _key(confusion: np.ndarray) -> tuple[tuple[int, ...], ...]:
    return tuple(map(tuple, np.asarray(confusion).tolist()))


@functools.lru_cache(maxsize=32)
def _confusion_chart(counts: tuple[tuple[int, ...], ...], title: str = CLICK_A_CELL):
    """The picture, and where its cells are: the pixel centre of cell (0, 0) and the step
    from one cell to the next, (x, y)."""
    matrix = np.array(counts)
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)
    # Colour the mistakes only: the diagonal's ~1,000s would wash every error out.
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=110)
    shade = np.log1p(errors)
    ax.imshow(shade, cmap="Reds")
    # White on the darker half of the scale, which the counts' own size does not tell:
    # a model's worst cell may hold 7 mistakes or 87.
    dark = shade > 0.55 * max(shade.max(), 1e-9)
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
                color="#166534" if diagonal else ("white" if dark[row, col] else "black"),
                fontweight="bold" if not diagonal else "normal",
            )
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    # Display coordinates count from the bottom; the picture's rows from the top.
    (x0, y0), (x1, y1) = ax.transData.transform([(0, 0), (1, 1)])
    height = image.shape[0]
    geometry = ((x0, height - y0), (x1 - x0, y0 - y1))
    plt.close(fig)
    image.setflags(write=False)
    return image, geometry


def curves_image(histories: dict[str, list[dict]]) -> np.ndarray:
    """RGB picture of several runs' loss and accuracy per epoch, side by side: each run's
    validation curve, or its training curve (dashed) when it kept no validation set.
    (A picture rather than Gradio's line plot, which never draws a series that was not in
    its first data: a run added to the comparison would not show.)"""
    fig, (loss_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    for name, history in histories.items():
        validated = any(math.isfinite(e.get("val_loss", math.nan)) for e in history)
        prefix, style = ("val_", "-") if validated else ("train_", "--")
        label = name if validated else f"{name} (train)"
        epochs = [e["epoch"] for e in history]
        marker = "o" if len(epochs) < 30 else None
        loss_ax.plot(
            epochs,
            [e[prefix + "loss"] for e in history],
            style,
            marker=marker,
            markersize=3,
            label=label,
        )
        accuracy_ax.plot(
            epochs,
            [100 * e[prefix + "accuracy"] for e in history],
            style,
            marker=marker,
            markersize=3,
            label=label,
        )
    loss_ax.set_title("Loss (validation; dashed: training)", fontsize=10)
    accuracy_ax.set_title("Accuracy (%)", fontsize=10)
    for ax in (loss_ax, accuracy_ax):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    loss_ax.set_yscale("log")
    accuracy_ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def difference_image(difference: np.ndarray, first: str, second: str) -> np.ndarray:
    """RGB picture of a confusion-matrix difference (second minus first): red where the
    second model makes more of an error (or fewer right on the diagonal), blue fewer."""
    worse = np.asarray(difference, dtype=np.int64).copy()
    np.fill_diagonal(worse, -np.diag(worse))  # on the diagonal, fewer right is worse
    scale = max(1, int(np.abs(worse).max()))
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=110)
    ax.imshow(worse, cmap="coolwarm", vmin=-scale, vmax=scale)
    for (row, col), value in np.ndenumerate(np.asarray(difference)):
        if value:
            ax.text(col, row, f"{value:+d}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"{first[:24]} → {second[:24]}: red worse, blue better", fontsize=9)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image
