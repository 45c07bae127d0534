"""Batched, on-device augmentation: one random affine warp per image, in a single
``grid_sample`` call for the whole batch (no per-sample PIL work)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(
    images: torch.Tensor,
    generator: torch.Generator,
    rotate: float = 10.0,
    shift: float = 0.1,
    scale: float = 0.1,
    shear: float = 0.0,
) -> torch.Tensor:
    """Warp a (N, 1, H, W) batch of ink-on-zero images.

    rotate and shear are maximum angles in degrees, shift a fraction of the image size,
    scale a relative zoom range; each image draws its own values uniformly.
    """
    n = images.shape[0]
    device, dtype = images.device, images.dtype

    def uniform(limit: float) -> torch.Tensor:
        u = torch.rand(n, device=device, generator=generator, dtype=dtype)
        return (2 * u - 1) * limit

    angle = uniform(math.radians(rotate))
    shear_angle = uniform(math.radians(shear))
    zoom = 1 + uniform(scale)
    # affine_grid maps output coordinates to input ones, so the inverse zoom goes here.
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    tan = torch.tan(shear_angle)
    theta = torch.stack(
        [
            torch.stack([cos, -sin + cos * tan, uniform(2 * shift)], dim=1),
            torch.stack([sin, cos + sin * tan, uniform(2 * shift)], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
