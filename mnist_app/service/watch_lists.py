"""The drawings each visitor picked to watch while a model trains: at most MAX_WATCHED
each, in memory (a restart forgets them; the runs that read them keep theirs in their
checkpoints), and for at most `max_visitors` visitors, the least recently used forgotten
first."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import torch

from ..core.timeline import MAX_WATCHED, NO_LABEL, Watched


def as_uint8(image: np.ndarray) -> np.ndarray:
    """A 28x28 model input (float 0-1, or uint8) as uint8."""
    image = np.asarray(image)
    if image.shape != (28, 28):
        raise ValueError(f"a watched drawing is a 28x28 model input, not {image.shape}")
    if image.dtype == np.uint8:
        return image.copy()
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


class WatchLists:
    def __init__(self, max_visitors: int = 1000):
        self.max_visitors = max_visitors
        self._lists: OrderedDict[str, list[tuple[np.ndarray, int]]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, owner: str, images: list[np.ndarray], labels: list[int]) -> int:
        """Add drawings (28x28, with their digits or NO_LABEL) to `owner`'s list, as many
        as fit; returns how many were added. ValueError when none fits."""
        if not owner:
            raise ValueError("This page has no id yet: reload it, then pick drawings again.")
        with self._lock:
            kept = self._lists.pop(owner, [])
            room = MAX_WATCHED - len(kept)
            if room <= 0 and images:
                self._lists[owner] = kept
                raise ValueError(
                    f"You watch {MAX_WATCHED} drawings already: clear them (Train tab) to "
                    "pick others."
                )
            for image, label in list(zip(images, labels, strict=True))[:room]:
                kept.append((as_uint8(image), int(label) if label is not None else NO_LABEL))
            self._lists[owner] = kept
            while len(self._lists) > self.max_visitors:
                self._lists.popitem(last=False)
            return min(room, len(images))

    def drawings(self, owner: str) -> list[tuple[np.ndarray, int]]:
        """`owner`'s drawings and their digits (NO_LABEL: none given), in the order added."""
        with self._lock:
            return list(self._lists.get(owner, []))

    def clear(self, owner: str) -> None:
        with self._lock:
            self._lists.pop(owner, None)

    def watched(self, owner: str) -> Watched | None:
        """`owner`'s drawings as a run reads them, or None when there are none."""
        drawings = self.drawings(owner)
        if not drawings:
            return None
        images = torch.from_numpy(np.stack([image for image, _ in drawings]))
        return Watched(images, tuple(label for _, label in drawings))
