"""Device choice: CUDA, then Apple MPS, then CPU, unless the user forces one."""

from __future__ import annotations

import torch

from .messages import counted


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or mps") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but no CUDA GPU is available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for, but MPS is not available")
    return device


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX). oneDNN also runs
    bf16 on plain AVX-512 by converting, which made a conv net's step 1.6x slower."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def available_devices() -> list[str]:
    """The device choices that can work here: auto and cpu, then cuda and mps if present."""
    choices = ["auto", "cpu"]
    if torch.cuda.is_available():
        choices.append("cuda")
    if torch.backends.mps.is_available():
        choices.append("mps")
    return choices


# A run's threads: a training process starts with torch's default. Read at import, not per
# call: the calling thread's own count may be 1 while the server answers a drawing
# (predict.intra_op_threads), which labelled runs "CPU (1 threads)".
_CPU_THREADS = torch.get_num_threads()


def describe_device(device: torch.device) -> str:
    """A human label such as 'NVIDIA H100 (cuda)' or 'CPU (2 threads)'."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (cuda)"
    if device.type == "mps":
        return "Apple GPU (mps)"
    return f"CPU ({counted(_CPU_THREADS, 'thread')})"
