"""Checkpoints: one self-describing ``.pt`` file per model, written atomically and read
with ``weights_only=True`` so that loading never runs code from the file.

Also the one naming policy: which names are valid (`check_name`), which are free
(`free_name`), when a file may be replaced (`save_checkpoint`'s `overwrite`), and how a
name or a path becomes a file (`checkpoint_path` for names, `locate` for either).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..preprocess.mnist_style import PREPROCESSING
from .atomic import write_atomically
from .digit_detector import DigitDetector, detector_from_state
from .messages import first_line, quoted
from .models import build_model
from .paths import WEIGHTS_DIR
from .personal_head import empty_personal_head, install_personal_head
from .settings import TrainConfig
from .timeline import Timeline

FORMAT = "mnist_app.checkpoint/1"
MAX_NAME = 64
_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_NAME - 1}}}$")


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, or not one of ours."""


@dataclass
class Checkpoint:
    name: str
    arch: str
    arch_kwargs: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    mean: float
    std: float
    recipe: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    # How drawings were turned into 28x28 inputs when this model was trained and measured
    # (preprocess.mnist_style.PREPROCESSING); "" for checkpoints from before it was recorded.
    preprocessing: str = ""
    # Who may rename or delete it from the app: hashes of its trainer's keys (model_files.
    # owner_key); empty for shipped models and those trained from the command line.
    owners: list[str] = field(default_factory=list)
    # A personal model (personal.fit): its last layer is a personal.head.PersonalHead.
    personal_head: bool = False
    # A digit detector's weights (digit_detector.DigitDetector), fitted on this model's
    # features after training; empty when the top probability alone decides.
    detector: dict[str, torch.Tensor] = field(default_factory=dict)
    # What the run saw while it learnt (timeline.Timeline); None for checkpoints from
    # before it was kept, and for models not trained here (personal fits, imports).
    timeline: Timeline | None = None

    @property
    def reject_below(self) -> float:
        """The top probability under which this model answers that the ink is not a digit:
        chosen on held-out data when it was trained to tell non-digits (0: it always names
        a digit)."""
        return float(self.config.get("reject_below") or 0.0)

    @property
    def preprocessing_matches(self) -> bool:
        """Whether the app reads drawings as this model was trained to see them."""
        return self.preprocessing == PREPROCESSING

    def build(self, device: str | torch.device = "cpu") -> nn.Module:
        """The model with its weights, in eval mode, on `device`."""
        try:
            model = build_model(self.arch, **self.arch_kwargs)
            if self.personal_head:
                install_personal_head(model, empty_personal_head(model, self.state_dict))
            model.load_state_dict(self.state_dict)
        except (RuntimeError, TypeError, KeyError) as err:  # other weights, or arguments
            raise CheckpointError(
                f"checkpoint {self.name!r}: weights do not fit architecture {self.arch!r}"
            ) from err
        except ValueError as err:  # an unknown or oversized architecture
            raise CheckpointError(f"checkpoint {self.name!r}: {first_line(err)}") from err
        return model.to(device).eval()

    def build_detector(self) -> DigitDetector | None:
        """The digit detector fitted on this model's features, if it has one (on the CPU:
        it reads features the predictor brings there)."""
        if not self.detector:
            return None
        try:
            return detector_from_state(self.detector)
        except (RuntimeError, KeyError) as err:
            raise CheckpointError(f"checkpoint {self.name!r}: unreadable digit detector") from err


def check_name(name: str) -> str:
    """A checkpoint name must be a plain file stem: no paths, spaces or odd characters."""
    if not _NAME.match(name or ""):
        raise ValueError(
            f"invalid model name {quoted(name)}: use 1-{MAX_NAME} letters, digits, '_', '-' "
            "or '.', starting with a letter or digit"
        )
    return name


def make_checkpoint(
    name: str,
    model: nn.Module,
    config: TrainConfig,
    recipe: str,
    metrics: dict[str, Any],
    owners: list[str] | None = None,
    detector: DigitDetector | None = None,
    timeline: Timeline | None = None,
) -> Checkpoint:
    state = cpu_state(model)
    return Checkpoint(
        name=check_name(name),
        arch=config.arch,
        arch_kwargs=config.model_kwargs(),
        state_dict=state,
        mean=config.mean,
        std=config.std,
        recipe=recipe,
        config=dataclasses.asdict(config),
        metrics=metrics,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        preprocessing=PREPROCESSING,
        owners=list(owners or []),
        detector=cpu_state(detector) if detector is not None else {},
        timeline=timeline,
    )


def cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A module's weights as a checkpoint keeps them: detached copies on the CPU."""
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def save_checkpoint(
    checkpoint: Checkpoint, path: str | os.PathLike, overwrite: bool = False
) -> Path:
    """Written atomically (`atomic.write_atomically`): a crash leaves the old file or the
    new one. Unless `overwrite`, an existing file is never replaced (FileExistsError)."""
    payload = {"format": FORMAT, **dataclasses.asdict(checkpoint)}
    return write_atomically(path, lambda tmp: torch.save(payload, tmp), overwrite)


def free_name(base: str, weights_dir: str | os.PathLike | None = None) -> str:
    """`base`, or `base-2`, `base-3`... whichever names no checkpoint yet."""
    name, n = base, 1
    while os.path.lexists(checkpoint_path(name, weights_dir)):  # dangling links count too
        n += 1
        suffix = f"-{n}"
        name = base[: MAX_NAME - len(suffix)] + suffix
    return name


def check_free(name: str, weights_dir: str | os.PathLike | None = None) -> str:
    """`name` if no checkpoint has it yet; else ValueError suggesting a free one."""
    if os.path.lexists(checkpoint_path(name, weights_dir)):
        raise ValueError(
            f"a model named {name!r} already exists; choose another name "
            f"(for example {free_name(name, weights_dir)!r})"
        )
    return name


def save_under_name(
    make: Callable[[str], Checkpoint],
    name: str,
    weights_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> str:
    """Save `make(name)`, replacing a file of that name only if `overwrite`; otherwise as
    `name`, or `name-2`, `name-3`... whichever is free, even if a file takes the name
    between a check and the save. Returns the name used."""
    if overwrite:
        save_checkpoint(make(name), checkpoint_path(name, weights_dir), overwrite=True)
        return name
    while True:
        free = free_name(name, weights_dir)
        try:
            save_checkpoint(make(free), checkpoint_path(free, weights_dir))
            return free
        except FileExistsError:
            continue


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt zip, truncated file, or a pickle with code in it
        raise CheckpointError(
            f"{path.name} is not a readable mnist_app checkpoint (corrupt, truncated, or "
            f"holding objects other than tensors): {first_line(err)}"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is not an mnist_app checkpoint (no {FORMAT} tag)")
    fields = {f.name for f in dataclasses.fields(Checkpoint)}
    try:
        checkpoint = Checkpoint(**{k: v for k, v in payload.items() if k in fields})
        if isinstance(checkpoint.timeline, dict):  # saved as a plain dict (asdict)
            checkpoint.timeline = Timeline(**checkpoint.timeline)
    except TypeError as err:
        raise CheckpointError(f"{path.name}: checkpoint is missing fields ({err})") from err
    return checkpoint


def checkpoint_path(name: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """The file of the checkpoint called `name` (never a path: web input goes through here)."""
    return Path(weights_dir or WEIGHTS_DIR) / f"{check_name(name)}.pt"


def locate(name_or_path: str | os.PathLike, weights_dir: str | os.PathLike | None = None) -> Path:
    """A path to a .pt file (from the command line or Python), or a checkpoint's name."""
    path = Path(name_or_path)
    if path.suffix == ".pt" or path.is_file():
        return path
    return checkpoint_path(str(name_or_path), weights_dir)


def list_checkpoints(weights_dir: str | os.PathLike | None = None) -> list[str]:
    """Names of the checkpoints in the weights folder, newest first."""
    folder = Path(weights_dir or WEIGHTS_DIR)
    dated = []
    for path in folder.glob("*.pt"):
        try:
            dated.append((path.stat().st_mtime, path.stem))
        except OSError:  # a dangling link, a file removed meanwhile: not a checkpoint
            continue
    return [name for _, name in sorted(dated, reverse=True)]
