"""Strokes in numpy: dilation with a round pen (preprocessing brings strokes to MNIST's
width with it) and stroke width as ink area over skeleton length (how that width, 2.55 px,
was measured on MNIST, and how the tests check the result)."""

from __future__ import annotations

import itertools

import numpy as np


def _neighbours(img: np.ndarray) -> list[np.ndarray]:
    """P2..P9 of Zhang-Suen: N, NE, E, SE, S, SW, W, NW of every pixel (zero-padded)."""
    p = np.pad(img, 1)
    h, w = img.shape
    offsets = [(0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0)]
    return [p[dy : dy + h, dx : dx + w] for dy, dx in offsets]


def skeletonize(mask: np.ndarray, max_iterations: int = 200) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to a connected 1-pixel-wide skeleton."""
    img = mask.astype(np.uint8)
    for _ in range(max_iterations):
        changed = False
        for first in (True, False):
            n = _neighbours(img)
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            count = sum(n)
            transitions = sum((a == 0) & (b == 1) for a, b in itertools.pairwise([*n, p2]))
            if first:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (img == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if remove.any():
                img[remove] = 0
                changed = True
        if not changed:
            break
    return img.astype(bool)


def disk(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    return x * x + y * y <= radius * radius + 1e-9


def dilate(mask: np.ndarray, radius: float) -> np.ndarray:
    """Binary dilation with a disk (a union of shifted copies: fine for radii of a few px)."""
    kernel = disk(radius)
    r = kernel.shape[0] // 2
    padded = np.pad(mask, r)
    h, w = mask.shape
    out = np.zeros_like(mask, dtype=bool)
    for dy, dx in zip(*np.nonzero(kernel), strict=True):
        out |= padded[dy : dy + h, dx : dx + w]
    return out


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area over skeleton length."""
    length = skeletonize(mask).sum()
    return float(mask.sum() / length) if length else 0.0
