"""What the model sees of a drawing: the same MNIST-style 28x28 whatever the canvas did."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageDraw

from mnist_app.core.paths import pendigits_file
from mnist_app.core.predict import load_predictor
from mnist_app.pen.replay import parse, random_sketches, render
from mnist_app.preprocess import NotADigit, ink_map, to_mnist
from mnist_app.ui.sketch import read_drawing
from tests.harness.sketches import shadowed_photo_of_a_four
from tests.harness.sketches import sketchpad_value as sketch_value

SEVEN = [(80, 60), (200, 60), (120, 230)]
DARK_THEME = (0x33, 0x33, 0x33)
PEN_TEST = pendigits_file("test")


def drawing(
    points=SEVEN,
    size: int = 280,
    ink=(0, 0, 0),
    background=(255, 255, 255),
    width: int = 20,
    offset=(0, 0),
    scale: float = 1.0,
) -> np.ndarray:
    image = Image.new("RGB", (size, size), background)
    moved = [(x * scale + offset[0], y * scale + offset[1]) for x, y in points]
    ImageDraw.Draw(image).line(moved, fill=ink, width=round(width * scale), joint="curve")
    return np.asarray(image)


def sketch_image(value) -> np.ndarray | None:
    """The model input the Draw tab makes of a Sketchpad value (or of an image)."""
    stages = read_drawing(value)
    return None if stages is None else stages.image


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    total = image.sum()
    ys, xs = np.indices(image.shape)
    return (ys * image).sum() / total, (xs * image).sum() / total


def close(a: np.ndarray, b: np.ndarray, tolerance: float = 0.03) -> bool:
    return float(np.abs(a - b).mean()) < tolerance


@pytest.mark.parametrize(
    "blank",
    [
        None,
        {"background": None, "layers": [], "composite": None},
        {"background": None, "layers": [np.zeros((280, 280, 4), np.uint8)], "composite": None},
        np.full((280, 280, 3), 255, np.uint8),
        np.zeros((280, 280), np.uint8),
        np.full((280, 280, 3), DARK_THEME, np.uint8),
        np.zeros((0, 0), np.uint8),
    ],
    ids=["none", "cleared", "empty-layer", "white", "black", "dark-theme", "zero-size"],
)
def test_an_empty_canvas_gives_no_image(blank):
    assert sketch_image(blank) is None


def test_a_photo_of_an_empty_page_gives_no_image():
    noise = np.random.default_rng(0).integers(-8, 9, size=(300, 400))
    assert to_mnist((230 + noise).astype(np.uint8)) is None


def test_output_is_mnist_style_20x20_ink_centred_in_28x28():
    image = to_mnist(drawing())
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0 and image.max() <= 1 and image.max() > 0.8
    assert max(ink_box(image)) in (20, 21)  # the longer side fills the 20-pixel box
    y, x = center_of_mass(image)
    assert abs(y - 13.5) <= 1 and abs(x - 13.5) <= 1
    assert image[0].sum() == image[-1].sum() == image[:, 0].sum() == image[:, -1].sum() == 0


def test_ink_is_light_on_dark_like_mnist():
    image = to_mnist(drawing())
    assert image[:3, :3].max() == 0  # background corner is dark
    assert image.max() > 0.8  # strokes are bright


def test_dark_or_light_background_and_ink_colour_do_not_matter():
    reference = to_mnist(drawing())
    assert close(to_mnist(drawing(ink=(255, 255, 255), background=(0, 0, 0))), reference)
    assert close(to_mnist(drawing(ink=(255, 255, 255), background=DARK_THEME)), reference)
    assert close(to_mnist(drawing(ink=(20, 40, 160), background=(250, 245, 230))), reference)


def test_sketch_strokes_are_read_from_the_layer_alpha_even_on_a_dark_canvas():
    alpha = 255 - drawing()[..., 0]
    reference = to_mnist(drawing())
    assert close(sketch_image(sketch_value(alpha)), reference)
    # Dark theme: black strokes on a 0x333333 composite are barely visible in it.
    assert close(sketch_image(sketch_value(alpha, background=DARK_THEME)), reference)


def test_a_drawing_sent_as_composite_only_is_read():
    composite = np.dstack([drawing(), np.full((280, 280), 255, np.uint8)])
    value = {"background": None, "layers": [], "composite": composite}
    assert close(sketch_image(value), to_mnist(drawing()))


def test_transparent_png_uses_alpha_as_ink(tmp_path):
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255 - drawing()[..., 0]  # black ink, transparent paper
    path = tmp_path / "digit.png"
    Image.fromarray(rgba).save(path)
    assert close(to_mnist(path), to_mnist(drawing()))
    assert close(to_mnist(Image.open(path)), to_mnist(drawing()))


def test_size_and_position_on_the_canvas_do_not_matter():
    reference = to_mnist(drawing())
    assert close(to_mnist(drawing(size=600, scale=2)), reference, 0.04)
    assert close(to_mnist(drawing(size=400, offset=(110, 90))), reference)
    assert close(to_mnist(drawing(scale=0.5, offset=(10, 100))), reference, 0.05)


def test_a_tall_thin_one_keeps_its_aspect_ratio():
    one = to_mnist(drawing(points=[(140, 30), (140, 250)], width=16))
    height, width = ink_box(one)
    assert height >= 19 and width <= 4


def test_float_and_uint8_inputs_agree():
    image = drawing()
    assert close(to_mnist(image.astype(np.float32) / 255), to_mnist(image), 1e-3)


def test_non_finite_values_are_refused_with_a_message():
    image = np.zeros((50, 50), np.float32)
    image[10, 10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        to_mnist(image)


def test_mnist_digits_come_through_almost_unchanged(mnist):
    originals = mnist.test_images[:200].numpy()
    processed = np.stack([to_mnist(image) for image in originals])
    assert float(np.abs(processed - originals / 255).mean()) < 0.08


def valid_or_clear_error(source) -> None:
    """What every input must give: None (no ink), a valid 28x28, or a ValueError saying why."""
    try:
        image = to_mnist(source)
    except ValueError as err:
        assert len(str(err)) > 10
        return
    if image is not None:
        assert image.shape == (28, 28) and image.dtype == np.float32
        assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1
        assert max(ink_box(image)) <= 21


DTYPES = [np.uint8, np.uint16, np.int8, np.int16, np.int32, np.int64]
DTYPES += [np.float16, np.float32, np.float64, np.bool_]


def image_shapes(size: tuple[int, int]) -> st.SearchStrategy:
    return st.sampled_from([size, *((*size, channels) for channels in (1, 2, 3, 4))])


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(DTYPES).flatmap(
        lambda dtype: arrays(
            dtype, st.tuples(st.integers(0, 70), st.integers(0, 70)).flatmap(image_shapes)
        )
    )
)
@example(np.array([[-5e-324, 0.0]]))  # two values a denormal apart: halved, they are equal
def test_any_image_array_gives_none_a_valid_28x28_or_a_clear_error(pixels):
    valid_or_clear_error(pixels)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.lists(st.integers(0, 6), max_size=5).map(tuple)))
def test_any_array_shape_gives_none_a_valid_28x28_or_a_clear_error(pixels):
    valid_or_clear_error(pixels)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((28, 28, 5), np.uint8), "channels"),
        (np.zeros((2, 28, 28, 1), np.uint8), "shape"),
        (np.zeros((28, 28), np.complex64), "real-valued"),
        (np.array([["a"] * 28] * 28), "real-valued"),
    ],
    ids=["5-channels", "4-d", "complex", "strings"],
)
def test_arrays_that_are_not_images_get_a_message(bad, message):
    with pytest.raises(ValueError, match=message):
        to_mnist(bad)


def test_sixteen_bit_and_signed_arrays_are_read_by_their_own_range():
    image = drawing()[..., 0]
    expected = to_mnist(image)
    assert close(to_mnist(image.astype(np.uint16) * 257), expected, 1e-3)
    assert close(to_mnist(image.astype(np.int16) - 128), expected, 1e-3)


@pytest.mark.parametrize("radius", [3, 6, 12, 20])
def test_a_dot_is_not_read_as_a_digit(radius):
    with pytest.raises(NotADigit) as refused:
        to_mnist(render([[(100, 120)]], brush_radius=radius))
    assert refused.value.reason == "dot"


def test_an_all_ink_canvas_is_not_read_as_a_digit():
    alpha = np.full((280, 280), 255, np.uint8)
    with pytest.raises(NotADigit) as refused:
        sketch_image(sketch_value(alpha))
    assert refused.value.reason == "filled"
    alpha[:30] = 0  # nearly all: a scribble over the whole canvas
    with pytest.raises(NotADigit) as refused:
        sketch_image(sketch_value(alpha))
    assert refused.value.reason == "filled"


def test_small_fat_and_large_fat_pen_digits_still_count_as_digits():
    """The dot and fill checks must not refuse real digits, thin or fat, small or large."""
    digits = parse(PEN_TEST)[:200]
    for radius, sizes in ((6, (0.35, 0.4)), (28, (0.35, 0.4)), (28, (0.7, 0.75))):
        for sketch, _ in random_sketches(digits, radius, size_range=sizes):
            assert to_mnist(sketch) is not None


def test_a_huge_image_is_shrunk_first_and_reads_like_a_small_one():
    small = drawing(size=280)
    huge = np.asarray(Image.fromarray(small).resize((8000, 8000), Image.Resampling.NEAREST))
    assert close(to_mnist(huge), to_mnist(small), 0.02)


def test_thin_and_thick_brushes_give_mnist_like_stroke_widths():
    """Brushes from 6 to 40 px give strokes near MNIST's width (untreated, a 40 px brush
    on this 7 comes out ~4 px wide and a 6 px one ~0.7 px)."""
    from mnist_app.preprocess.mnist_style import MNIST_STROKE_WIDTH
    from mnist_app.preprocess.strokes import stroke_width

    def width_28(brush: int) -> float:
        image = to_mnist(drawing(width=brush))
        big = Image.fromarray((image * 255).astype(np.uint8)).resize((112, 112))
        return stroke_width(np.asarray(big) > 127) / 4

    widths = [width_28(brush) for brush in (6, 12, 20, 40)]
    assert widths == pytest.approx([MNIST_STROKE_WIDTH] * 4, rel=0.45)
    assert max(widths) / min(widths) < 1.7


def test_preprocess_returns_every_stage_for_the_draw_tab():
    from mnist_app.preprocess import preprocess

    stages = preprocess(drawing())
    assert stages.ink.shape == (280, 280)
    assert stages.crop.shape[0] < 280 and max(stages.box.shape) == 20
    assert np.array_equal(stages.image, to_mnist(drawing()))
    assert preprocess(np.full((280, 280, 3), 255, np.uint8)) is None


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
def test_an_image_file_of_any_jpeg_mode_and_size_is_read(tmp_path, mode):
    expected = to_mnist(drawing())
    big = Image.fromarray(drawing()).resize((4000, 4000), Image.Resampling.NEAREST)
    big.convert(mode).save(tmp_path / "digit.jpg", quality=90)
    assert close(to_mnist(tmp_path / "digit.jpg"), expected, 0.03)


def test_unreadable_files_say_what_is_wrong(tmp_path):
    from mnist_app.preprocess import UnreadableImage

    (tmp_path / "text.png").write_text("hello\n" * 100)
    Image.fromarray(drawing()).save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    for name, message in [
        ("text.png", "not an image"),
        ("cut.png", "damaged or truncated"),
        ("missing.png", "no such file"),
    ]:
        with pytest.raises(UnreadableImage, match=message):
            to_mnist(tmp_path / name)


def test_an_uneven_background_is_flattened_before_ink_is_found():
    photo = shadowed_photo_of_a_four()
    ink = ink_map(photo)
    assert ink[:, : int(0.2 * photo.shape[1])].max() == 0  # the shadow is not ink
    assert ink[:, int(0.3 * photo.shape[1]) :].max() == 1  # the digit is
    assert load_predictor("resnet_mini").predict(to_mnist(photo)) == 4
