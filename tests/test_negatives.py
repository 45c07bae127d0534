"""Non-digits for teaching and measuring "not a digit" (nondigit/negatives.py, refusal.py)."""

import numpy as np
import pytest

from mnist_app.nondigit.hand_made import HAND_MADE
from mnist_app.nondigit.negatives import (
    KINDS,
    LETTERS,
    fonts,
    model_input,
    negative_images,
    sketches,
)
from mnist_app.nondigit.refusal import auroc, hand_made_set, threshold_refusing


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_seeded_and_each_split_draws_its_own(kind):
    first = list(sketches(kind, 3, "train", seed=1))
    if kind == "glyphs" and not fonts("train"):
        pytest.fail("glyph non-digits need TrueType fonts (Debian: fonts-dejavu, fonts-liberation)")
    assert len(first) == 3 and first[0].shape == (280, 280, 3)
    again = sketches(kind, 3, "train", seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = next(sketches(kind, 1, "test", seed=1))
    assert not np.array_equal(first[0], other)


def test_no_font_family_is_in_two_splits():
    names = {split: {p.name for p in fonts(split)} for split in ("train", "val", "test")}
    assert not names["train"] & names["test"] and not names["train"] & names["val"]
    assert not names["val"] & names["test"]


def test_letters_that_people_read_as_digits_are_not_taught_as_non_digits():
    assert not set(LETTERS) & set("OoDQIlij|SsZzBbGgqT")


def test_non_digits_reach_the_model_as_the_app_prepares_drawings():
    images = negative_images(60, "train", seed=0)
    assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
    assert 50 <= len(images) <= 60  # a few fills or dots are refused before any model
    assert (images[:, 0] == 0).all() and (images.reshape(len(images), -1).max(axis=1) > 200).all()
    # A drawn kind is read from the canvas's alpha, as the Draw tab reads it.
    letter = next(sketches("letters", 1, "train"))
    assert model_input("letters", letter).shape == (28, 28)


def test_every_hand_made_shape_reaches_the_model_as_a_drawing():
    shapes = len(HAND_MADE)
    made = hand_made_set(shapes, seed=1)
    assert made.sketches == shapes and made.refused_by_preprocessing == 0  # no dot, no fill
    assert made.inputs.shape == (shapes, 28, 28) and (made.inputs.max(axis=(1, 2)) > 0.8).all()
    assert np.array_equal(hand_made_set(3, seed=1).inputs, made.inputs[:3])
    assert not np.array_equal(hand_made_set(3, seed=2).inputs, made.inputs[:3])


def test_a_marker_blob_is_a_lump_not_a_long_stroke():
    for blob in sketches("blobs", 10, "val"):
        rows, cols = np.nonzero(blob[..., 0] < 128)
        height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
        assert max(height, width) < 3.2 * min(height, width)


def test_auroc_is_the_chance_a_digit_outscores_a_non_digit():
    assert auroc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert auroc(np.array([0.1]), np.array([0.9])) == 0.0
    assert auroc(np.array([0.9, 0.8, 0.5, 0.5]), np.array([0.5, 0.1, 0.2])) == pytest.approx(
        11 / 12
    )


def test_the_threshold_refuses_the_asked_share_of_digits():
    scores = np.linspace(0.5, 1.0, 1001)
    threshold = threshold_refusing(scores, 0.01)
    assert (scores < threshold).mean() == pytest.approx(0.01, abs=0.002)
