"""Non-digits from stroke fonts (nondigit/stroke_fonts.py): Hershey's script letters and
symbols (other alphabets, signs), split by font, and Chinese characters, written on the
canvas like the generator's letters."""

import numpy as np
import pytest

from mnist_app.nondigit import stroke_fonts
from mnist_app.nondigit.stroke_fonts import (
    LETTER_FONTS,
    SYMBOL_FONTS,
    StrokeFontsMissing,
    chinese_files,
    chinese_strokes,
    hershey_strokes,
    letters,
    stroke_font_images,
    stroke_font_sketches,
    symbols,
)
from mnist_app.training.recipes import make_config

needs_fonts = pytest.mark.usefixtures("stroke_fonts_fetched")


def test_a_hershey_path_becomes_pen_strokes_with_y_up():
    strokes = hershey_strokes("M1,2 L3,4 5,6 M-7,8 L9,-10.5")
    assert strokes == [[(1, -2), (3, -4), (5, -6)], [(-7, -8), (9, 10.5)]]


def test_no_font_is_in_two_splits_or_two_kinds():
    fonts = [font for split in LETTER_FONTS.values() for font in split]
    fonts += [font for split in SYMBOL_FONTS.values() for font in split]
    assert len(fonts) == len(set(fonts))


def test_symbols_have_no_test_split_and_unknown_kinds_are_named():
    assert "symbols" not in stroke_fonts.kinds("test")
    assert stroke_fonts.kinds("val") == ("script letters", "chinese", "symbols")
    with pytest.raises(ValueError, match="'symbols' for split 'test'"):
        next(stroke_font_sketches("symbols", 1, "test"))


def test_missing_fonts_say_how_to_fetch_them(tmp_path):
    with pytest.raises(StrokeFontsMissing, match=r"scripts/fetch_stroke_fonts\.sh"):
        letters("train", tmp_path)


def test_script_letters_and_symbols_must_be_counted_among_the_non_digits():
    with pytest.raises(ValueError, match="counted in the non-digits"):
        make_config("resnet_drawn", negatives=100, script_negatives=200)
    with pytest.raises(ValueError, match="counted in the non-digits"):
        make_config("resnet_drawn", negatives=100, script_negatives=60, symbol_negatives=60)


@needs_fonts
def test_each_split_has_every_letter_of_its_fonts_and_they_differ():
    for split, fonts in LETTER_FONTS.items():
        shapes = letters(split)
        assert len(shapes) == 32 * len(fonts)
        assert all(len(points) > 1 for strokes in shapes for points in strokes[:1])
    train = {str(s) for s in letters("train")}
    assert not train & {str(s) for s in letters("test")}


@needs_fonts
def test_each_split_of_symbols_has_its_screened_glyphs_and_no_digit():
    for split, fonts in SYMBOL_FONTS.items():
        shapes = symbols(split)
        assert len(shapes) == sum(len(chars) for chars in fonts.values())
        assert all(strokes for strokes in shapes)
        assert not any(set("0123456789") & set(chars) for chars in fonts.values())
    assert not {str(s) for s in symbols("train")} & {str(s) for s in symbols("val")}


@needs_fonts
def test_chinese_characters_of_few_strokes_are_left_out():
    kept = [chinese_strokes(path) for path in chinese_files()[:200]]
    assert any(k is None for k in kept)
    assert all(len(k) >= 5 for k in kept if k is not None)


@needs_fonts
def test_stroke_font_sketches_are_seeded_canvases_with_ink():
    for kind in stroke_fonts.kinds("val"):
        first = list(stroke_font_sketches(kind, 3, "val", seed=4))
        again = list(stroke_font_sketches(kind, 3, "val", seed=4))
        assert len(first) == 3
        assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
        assert all(s.shape == (280, 280, 3) and (s < 128).mean() > 0.005 for s in first)


@needs_fonts
def test_script_letters_become_model_inputs_like_other_non_digits():
    for kind in ("script letters", "symbols"):
        images = stroke_font_images(kind, 12, "train", seed=0)
        assert images.shape == (12, 28, 28) and images.dtype == np.uint8
        assert (images.reshape(12, -1).max(1) > 200).all()  # ink in every one


def test_training_with_script_letters_before_the_fonts_are_fetched_says_what_to_run(
    monkeypatch, tmp_path
):
    from mnist_app.training.to_checkpoint import RunOrder

    monkeypatch.setattr(stroke_fonts, "FOLDER", tmp_path)
    for setting in ("script_negatives", "symbol_negatives"):
        config = make_config("resnet_drawn", **{setting: 100})
        with pytest.raises(ValueError, match=r"run scripts/fetch_stroke_fonts\.sh first"):
            RunOrder(config, "resnet_drawn", "mine", tmp_path, False).check()
