"""People's own drawings, kept on the server under a name, for fitting a model to them.

A set is a folder `<root>/<name>/` holding one folder per digit, and in it each drawing
twice: its ink as drawn (`<id>.ink.png`, to preprocess again if the preprocessing ever
changes) and the 28x28 image the model saw (`<id>.png`); an empty `<id>.refused` beside
them marks a drawing kept although the model read it as "not a digit". `owners.json`
holds hashes of the keys of whoever started the set (model_files.owner_key): only they
may see, add to, fit on or delete it. Every file is written whole or not at all
(atomic.write_atomically).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.atomic import write_atomically
from ..core.paths import personal_dir
from .model_files import owner_key

OWNERS = "owners.json"
REFUSED = ".refused"
MAX_NAME = 40
_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_NAME - 1}}}$")
_SAMPLE_ID = re.compile(r"^[0-9a-f]{1,32}-[0-9a-f]{6}$")
# Ink is kept at most this large (its longer side): preprocessing brings it to 20x20 anyway.
INK_SIDE = 560
# Who may start how many sets, so that one client cannot take the server's room: a person
# needs one; a class behind one school address, about 30.
SETS_PER_OWNER = 3
SETS_PER_ADDRESS = 40
# When the server is full, idle sets make room: one too small to fit a model on (under 30
# drawings) after a day untouched, any set after 90 days.
SMALL_SET = 30
SMALL_IDLE_S = 24 * 3600
ANY_IDLE_S = 90 * 24 * 3600
NAME_FIRST = "Enter your name first: your drawings are kept under it."


def check_set_name(name: str | None) -> str:
    """The name of a set, or ValueError saying what a name may be."""
    name = (name or "").strip()
    if not name:
        raise ValueError(NAME_FIRST)
    if "/" in name or "\\" in name:
        raise ValueError(f"A name may not contain {'/' if '/' in name else chr(92)}: {name!r}.")
    if not _NAME.match(name):
        raise ValueError(
            f"Use 1-{MAX_NAME} letters, digits, '_', '-' or '.' for your name, starting with "
            f"a letter or digit (not {name!r})."
        )
    return name


@dataclass(frozen=True)
class Sample:
    id: str
    label: int
    image: Path  # the 28x28 PNG, MNIST-style (light ink on black)
    refused: bool = False  # kept although the model read it as "not a digit"

    def pixels(self) -> np.ndarray:
        """The 28x28 image, uint8."""
        with Image.open(self.image) as image:
            return np.asarray(image.convert("L"))


class PersonalStore:
    """Every person's set, in one folder."""

    def __init__(self, root: str | Path | None = None, max_samples: int = 300, max_sets: int = 500):
        self.root = Path(root) if root else personal_dir()
        self.max_samples = max_samples
        self.max_sets = max_sets
        self._lock = threading.Lock()

    def add(
        self,
        name: str,
        owner_secrets: list[str],
        image: np.ndarray,
        ink: np.ndarray,
        label: int,
        address: str = "",
        refused: bool = False,
    ) -> Sample:
        """Keep one drawing of `label`: its 28x28 `image` and its `ink`, both float 0-1;
        `refused`: the model read it as "not a digit" (kept all the same, and marked).
        Starts the set, owned by `owner_secrets[0]`, if there is none of that name (within
        SETS_PER_OWNER, SETS_PER_ADDRESS from the client `address`, and the server's room)."""
        if not (isinstance(label, int) and 0 <= label <= 9):
            raise ValueError(f"a digit is 0 to 9, not {label!r}")
        with self._lock:
            folder = self._claim(name, owner_secrets, address)
            if len(self.samples(name, owner_secrets)) >= self.max_samples:
                raise ValueError(
                    f"Your set is full ({self.max_samples} drawings): delete some to add more."
                )
            sample_id = f"{time.time_ns():x}-{secrets.token_hex(3)}"
            target = folder / str(label) / f"{sample_id}.png"
            # The ink and the mark first: a drawing is listed once its 28x28 image is there.
            _write_png(folder / str(label) / f"{sample_id}.ink.png", _smaller(ink))
            if refused:
                target.with_suffix(REFUSED).touch()  # empty: whole as soon as it exists
            _write_png(target, image)
        return Sample(sample_id, label, target, refused)

    def samples(self, name: str, owner_secrets: list[str]) -> list[Sample]:
        """The set's drawings by digit, oldest first in each; none for a set not started."""
        folder = self._folder(name, owner_secrets)
        if folder is None:
            return []
        found = []
        for digit in range(10):
            for image in (folder / str(digit)).glob("*.png"):
                if not image.name.endswith(".ink.png"):
                    refused = image.with_suffix(REFUSED).exists()
                    found.append(Sample(image.stem, digit, image, refused))
        return sorted(found, key=lambda s: (s.label, s.id))

    def images(self, name: str, owner_secrets: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(N, 28, 28) uint8 images and their (N,) labels, for a fit."""
        samples = self.samples(name, owner_secrets)
        images = [s.pixels() for s in samples]
        labels = np.array([s.label for s in samples], dtype=np.int64)
        return (np.stack(images) if images else np.zeros((0, 28, 28), np.uint8)), labels

    def delete_sample(self, name: str, owner_secrets: list[str], sample_id: str) -> None:
        with self._lock:
            folder = self._folder(name, owner_secrets)
            if folder is None or not _SAMPLE_ID.match(sample_id or ""):
                raise ValueError("That drawing is not in your set.")
            paths = [p for d in range(10) for p in (folder / str(d)).glob(f"{sample_id}.*")]
            if not paths:
                raise ValueError("That drawing is not in your set (deleted already?).")
            # The 28x28 first: a drawing is listed by it, so what is left alone is invisible.
            for path in sorted(paths, key=lambda p: p.name != f"{sample_id}.png"):
                path.unlink(missing_ok=True)

    def delete_set(self, name: str, owner_secrets: list[str]) -> int:
        """Every drawing of the set, and the set: the number of drawings deleted."""
        with self._lock:
            folder = self._folder(name, owner_secrets)
            if folder is None:
                return 0
            count = len(self.samples(name, owner_secrets))
            _remove_set(folder)
        return count

    def _folder(self, name: str, owner_secrets: list[str]) -> Path | None:
        """The set's folder if the caller owns it, None if there is no such set;
        PermissionError if it is someone else's."""
        folder = self.root / check_set_name(name)
        try:
            owners = set(json.loads((folder / OWNERS).read_text())["owners"])
        except FileNotFoundError:
            return None
        if not {owner_key(s) for s in owner_secrets if s} & owners:
            raise PermissionError(
                f"The name {name!r} is taken by someone else: choose another name."
            )
        return folder

    def _claim(self, name: str, owner_secrets: list[str], address: str) -> Path:
        folder = self._folder(name, owner_secrets)
        if folder is not None:
            return folder
        main = next((s for s in owner_secrets if s), None)
        if main is None:
            raise PermissionError("Cannot tell who you are: reload the page and try again.")
        owner, place = owner_key(main), owner_key(f"address:{address}")
        sets = self._sets()
        if sum(owner in record.get("owners", []) for record in sets.values()) >= SETS_PER_OWNER:
            raise ValueError(
                f"You keep {SETS_PER_OWNER} sets already: add to one of them, or delete one."
            )
        if address and sum(r.get("from") == place for r in sets.values()) >= SETS_PER_ADDRESS:
            raise ValueError(
                f"{SETS_PER_ADDRESS} sets were started from your network already: add to one "
                "of them."
            )
        if len(sets) >= self.max_sets and not self._expire_idle(sets):
            raise ValueError("The server keeps no more personal sets: ask its operator.")
        folder = self.root / name
        payload = json.dumps({"owners": [owner], "from": place if address else None})
        write_atomically(folder / OWNERS, lambda tmp: tmp.write_text(payload))
        return folder

    def _sets(self) -> dict[Path, dict]:
        """Every set's folder and its owners record."""
        sets = {}
        for folder in self.root.iterdir() if self.root.is_dir() else []:
            if not folder.name.startswith("."):
                try:
                    sets[folder] = json.loads((folder / OWNERS).read_text())
                except (OSError, ValueError):
                    sets[folder] = {}  # being started or removed: it still takes room
        return sets

    def _expire_idle(self, sets: dict[Path, dict]) -> bool:
        """Remove the longest-idle set that has been idle too long; whether one went."""
        now = time.time()
        idle = []
        for folder in sets:
            drawings = list(folder.glob("[0-9]/*.ink.png"))
            touched = max(
                (p.stat().st_mtime for p in [folder / OWNERS, *drawings] if p.exists()), default=0.0
            )
            limit = SMALL_IDLE_S if len(drawings) < SMALL_SET else ANY_IDLE_S
            if now - touched > limit:
                idle.append((touched, folder))
        if not idle:
            return False
        _remove_set(min(idle)[1])
        return True


def _remove_set(folder: Path) -> None:
    """Renamed away first (atomic): the set is gone at once even if removal is slow."""
    doomed = folder.parent / f".deleted-{folder.name}-{secrets.token_hex(4)}"
    folder.rename(doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def _smaller(ink: np.ndarray) -> np.ndarray:
    height, width = ink.shape
    if max(height, width) <= INK_SIDE:
        return ink
    scale = INK_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = Image.fromarray(np.asarray(ink, np.float32))
    return np.asarray(image.resize(size, Image.Resampling.BOX))


def _write_png(path: Path, values: np.ndarray) -> None:
    pixels = np.clip(np.round(np.asarray(values, np.float32) * 255), 0, 255).astype(np.uint8)
    write_atomically(path, lambda tmp: Image.fromarray(pixels).save(tmp, format="PNG"))
