"""The shipped reader (`resnet_drawn`): it reads people's pen-drawn digits, and says "not a
digit" for letters, doodles and scribbles, through the app's own preprocessing."""

import numpy as np
import pytest

from mnist_app.core.paths import WEIGHTS_DIR, pendigits_file
from mnist_app.core.predict import REFUSAL, load_predictor
from mnist_app.nondigit.hand_made import HAND_MADE
from mnist_app.nondigit.negatives import sketches
from mnist_app.nondigit.refusal import NonDigits, hand_made_set
from mnist_app.pen.drawn_accuracy import model_input
from mnist_app.pen.replay import parse, random_sketches
from mnist_app.service.library import ModelLibrary

READER = "resnet_drawn"


@pytest.fixture(scope="module")
def reader():
    return load_predictor(READER)


def test_the_reader_is_what_a_visitor_meets_first():
    assert ModelLibrary(WEIGHTS_DIR).best_name() == READER


def test_the_reader_reads_pen_drawn_digits_of_writers_it_never_saw(reader):
    digits = parse(pendigits_file("test"))[::10]  # 350 digits of the 14 test writers
    sketched = random_sketches(digits, brush_radius=12, seed=3)
    labels = reader.label(np.stack([model_input(sketch) for sketch, _ in sketched]))
    right = np.mean([label == str(d.label) for label, d in zip(labels, digits, strict=True)])
    assert right >= 0.97, right


@pytest.mark.parametrize("kind", ["letters", "shapes", "scribbles", "glyphs"])
def test_the_reader_says_not_a_digit_to_held_out_non_digits(reader, kind):
    held_out = NonDigits(kind, sketches(kind, 60, "test", seed=5))
    if not held_out.sketches:
        pytest.fail("glyph non-digits need TrueType fonts (Debian: fonts-dejavu, fonts-liberation)")
    labels = reader.label(held_out.inputs)
    refused = labels.count(REFUSAL) + held_out.refused_by_preprocessing
    assert refused >= 0.8 * held_out.sketches, (kind, refused, held_out.sketches)


def test_the_reader_refuses_most_shapes_made_by_hand(reader):
    made = hand_made_set(len(HAND_MADE), seed=5)  # each shape once: never trained or tuned on
    refused = reader.label(made.inputs).count(REFUSAL)
    assert refused >= 0.7 * made.sketches, refused  # 85%; bench/reject.py: see docs/not-a-digit.md


def test_a_refusal_keeps_the_ten_probabilities(reader):
    letter = model_input(next(sketches("letters", 1, "test", seed=1)))
    probabilities, is_digit = reader.answer(letter)
    assert probabilities.shape == (10,) and abs(probabilities.sum() - 1) < 1e-5
    assert is_digit == (reader.label(letter) != REFUSAL)
