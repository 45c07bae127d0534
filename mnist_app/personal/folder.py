"""A folder of someone's digit images, one subfolder per digit (`0/` ... `9/`), read as the
Draw tab reads uploads: any size, dark ink on light or ink on a transparent background."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..preprocess import NotADigit, preprocess, read_image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class FolderSamples:
    images: np.ndarray  # (N, 28, 28) float 0-1, MNIST-style
    labels: np.ndarray  # (N,)
    skipped: list[str]  # "3/blank.png: no ink", one per file that could not be used


def read_samples_folder(folder: str | os.PathLike) -> FolderSamples:
    """Every image in `folder`/0 ... `folder`/9, preprocessed like a drawing; ValueError
    when there is no such folder or no digit subfolder in it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"no folder {folder}")
    digit_folders = [folder / str(d) for d in range(10) if (folder / str(d)).is_dir()]
    if not digit_folders:
        raise ValueError(f"{folder} has no digit subfolders: put each digit's images in 0/ ... 9/")
    images, labels, skipped = [], [], []
    for digit_folder in digit_folders:
        for path in sorted(digit_folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            where = f"{digit_folder.name}/{path.name}"
            try:
                stages = preprocess(read_image(path))
            except NotADigit as err:
                skipped.append(f"{where}: {err}")
                continue
            except (ValueError, OSError) as err:
                skipped.append(f"{where}: cannot read it ({err})")
                continue
            if stages is None:
                skipped.append(f"{where}: no ink")
                continue
            images.append(stages.image)
            labels.append(int(digit_folder.name))
    stacked = np.stack(images) if images else np.zeros((0, 28, 28), np.float32)
    return FolderSamples(stacked, np.array(labels, dtype=np.int64), skipped)
