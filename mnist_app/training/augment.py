"""Batched, on-device augmentation: a random affine warp per image (with an optional smooth
elastic wobble) in one ``grid_sample`` call, and a random stroke-thickness change, for the
whole batch (no per-sample PIL work)."""

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
    elastic: float = 0.0,
) -> torch.Tensor:
    """Warp a (N, 1, H, W) batch of ink-on-zero images.

    rotate and shear are maximum angles in degrees, shift a fraction of the image size,
    scale a relative zoom range; each image draws its own values uniformly. elastic is the
    largest displacement, in pixels, of a smooth random field added to the warp: strokes
    bend and bulge locally, as one hand's digits differ from another's (Simard et al.,
    2003).
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
    if elastic > 0:
        grid = grid + _smooth_field(images, generator, elastic)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


# The elastic field is random at this many control points a side, bicubically interpolated
# between them: on 28x28, bends about 9 pixels long, a stroke's curve rather than its edge.
_FIELD_POINTS = 4


def _smooth_field(images: torch.Tensor, generator: torch.Generator, pixels: float) -> torch.Tensor:
    """A (N, H, W, 2) displacement in grid_sample's [-1, 1] units, each component at most
    about `pixels` pixels."""
    n, _, height, width = images.shape
    coarse = torch.rand(
        n, 2, _FIELD_POINTS, _FIELD_POINTS, device=images.device, generator=generator
    ).to(images.dtype)
    field = F.interpolate(2 * coarse - 1, size=(height, width), mode="bicubic", align_corners=True)
    units = torch.tensor([2 / width, 2 / height], device=images.device, dtype=images.dtype)
    return field.permute(0, 2, 3, 1) * pixels * units


def random_thickness(
    images: torch.Tensor, generator: torch.Generator, amount: float = 1.0
) -> torch.Tensor:
    """Thicken or thin each (N, 1, H, W) ink-on-zero image by a random fraction of one
    pixel (a blend towards its 3x3 dilation or erosion), as different pens would.
    Thinning goes half as far: a full 3x3 erosion wipes out MNIST's thinnest strokes."""
    if amount <= 0:
        return images
    t = 2 * torch.rand(len(images), 1, 1, 1, device=images.device, generator=generator) - 1
    t = t.to(images.dtype) * amount
    t = torch.where(t < 0, t / 2, t)
    dilated = _max_3x3(images)
    eroded = -_max_3x3(-images)
    target = torch.where(t > 0, dilated, eroded)
    return images + t.abs() * (target - images)


def _max_3x3(images: torch.Tensor) -> torch.Tensor:
    """``F.max_pool2d(images, 3, stride=1, padding=1)`` as two 1-D passes of shifted maxima:
    the same values, 14x faster on a CPU for a batch of 28x28 images (0.12 against 1.75 ms
    for 128)."""
    padded = F.pad(images, (1, 1, 1, 1), value=float("-inf"))
    rows = torch.maximum(torch.maximum(padded[..., :-2], padded[..., 1:-1]), padded[..., 2:])
    return torch.maximum(torch.maximum(rows[..., :-2, :], rows[..., 1:-1, :]), rows[..., 2:, :])
