"""Scaling an image into a square box, aspect ratio kept."""

from __future__ import annotations

from PIL import Image, ImageOps


def fit_within(image: Image.Image, box: int, resample: Image.Resampling) -> Image.Image:
    """`image` scaled, aspect kept, so that its longer side is `box` pixels."""
    if min(image.size) * box < max(image.size) / 2:
        # ImageOps.contain would round a sliver's short side down to zero pixels.
        size = (box, 1) if image.width > image.height else (1, box)
        return image.resize(size, resample)
    return ImageOps.contain(image, (box, box), resample)
