import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_app.preprocess.strokes import dilate, skeletonize, stroke_width


def drawn(width: int) -> np.ndarray:
    """A '7'-like polyline drawn with a pen `width` pixels wide on a 120x120 canvas."""
    image = Image.new("L", (120, 120))
    ImageDraw.Draw(image).line([(20, 20), (95, 20), (45, 105)], fill=255, width=width)
    return np.asarray(image) > 0


@pytest.mark.parametrize("width", [3, 8, 15])
def test_stroke_width_is_measured(width):
    assert stroke_width(drawn(width)) == pytest.approx(width, rel=0.25)


def test_skeleton_is_thin_and_keeps_the_shape_connected():
    skeleton = skeletonize(drawn(15))
    assert stroke_width(drawn(15)) > 10
    assert skeleton.sum() < drawn(1).sum() * 1.3
    # still spans the whole figure: top bar and the bottom of the diagonal
    ys, xs = np.nonzero(skeleton)
    assert ys.min() < 30 and ys.max() > 95 and xs.max() > 85


def test_dilation_widens_a_stroke_by_the_pen_diameter():
    assert stroke_width(dilate(drawn(3), radius=3)) == pytest.approx(3 + 6, rel=0.25)
