"""Pen-drawn digits: parsing UNIPEN, replaying as sketches, and using them for training."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_app.core import paths
from mnist_app.core.evaluation import predict_logits
from mnist_app.core.paths import pendigits_file
from mnist_app.nondigit.negatives import negative_images
from mnist_app.pen.replay import (
    jittered,
    parse,
    random_sketches,
    render,
    render_training_images,
)
from mnist_app.pen.styles import training_styles
from mnist_app.training import run
from mnist_app.training.recipes import make_config

TINY = """.SEGMENT DIGIT    0 ? "1"
.COMMENT 1 7 1
.PEN_DOWN
 250 400
 250 100
.PEN_UP
.SEGMENT DIGIT    1 ? "7"
.COMMENT 7 7 2
.PEN_DOWN
 100 400
 400 400
 200 100
.PEN_UP
.PEN_DOWN
 150 250
 300 250
.PEN_UP
"""


@pytest.fixture
def tiny_file(tmp_path) -> Path:
    path = tmp_path / "tiny.tra"
    path.write_text(TINY)
    return path


def test_parse_reads_labels_writers_and_strokes(tiny_file):
    one, seven = parse(tiny_file)
    assert (one.label, one.writer, len(one.strokes)) == (1, 7, 1)
    assert (seven.label, len(seven.strokes)) == (7, 2)
    assert seven.strokes[0][1] == (400.0, 400.0)


def test_real_test_writers_cover_every_digit():
    digits = parse(pendigits_file("test"))
    assert len(digits) == 3498
    assert sorted({d.label for d in digits}) == list(range(10))


def test_replayed_digit_is_upright_and_placed_where_asked(tiny_file):
    seven = parse(tiny_file)[1]
    strokes = seven.fit(canvas=280, size=140, center=(140, 140))
    top_bar_y = strokes[0][0][1]
    assert top_bar_y == pytest.approx(70)  # tablet y points up: the 7's bar ends on top
    sketch = render(strokes, brush_radius=6)
    ink = sketch[..., 0] < 128
    rows, _ = np.nonzero(ink)
    assert rows.min() == pytest.approx(64, abs=2) and rows.max() == pytest.approx(216, abs=2)
    assert sketch.shape == (280, 280, 3)


def test_random_sketches_vary_size_and_position(tiny_file):
    digits = parse(tiny_file) * 3
    boxes = set()
    for sketch, _ in random_sketches(digits, brush_radius=8, seed=1):
        rows, cols = np.nonzero(sketch[..., 0] < 128)
        boxes.add((rows.min() // 10, cols.min() // 10, rows.max() // 10))
    assert len(boxes) == 6


def test_drawn_training_set_goes_through_the_app_preprocessing(tiny_file):
    images, labels = render_training_images(parse(tiny_file), copies=3)
    assert images.shape == (6, 28, 28) and images.dtype == torch.uint8
    assert labels.tolist() == [1, 7, 1, 7, 1, 7]
    assert images[:, 0].sum() == 0 and images.max() > 200  # MNIST-style: framed, bright ink


def test_jitter_redraws_each_digit_a_little_differently_and_none_keeps_the_old(tiny_file):
    seven = parse(tiny_file)[1]  # 300 tablet units wide and tall
    rng = np.random.default_rng(0)
    again = [jittered(seven, rng, 0.08) for _ in range(20)]
    moved = [np.abs(np.asarray(j.strokes[0]) - np.asarray(seven.strokes[0])).max() for j in again]
    assert min(moved) > 1 and max(moved) <= 2 * 0.08 * 300  # a stroke's move plus the warp
    assert len({j.strokes[0][0] for j in again}) == 20 and all(j.label == 7 for j in again)
    plain = render_training_images(parse(tiny_file), copies=2)[0]
    assert torch.equal(plain, render_training_images(parse(tiny_file), 2, 0, jitter=0.0)[0])
    assert not torch.equal(plain, render_training_images(parse(tiny_file), 2, 0, jitter=0.08)[0])


def test_training_with_drawn_digits_adds_them_to_the_training_set(tiny_file, small_mnist):
    config = make_config(
        "t5_mlp_bn", steps=3, val_size=500, batch_size=0, drawn_data=str(tiny_file), drawn_copies=2
    )
    done = run(config, small_mnist)
    assert done.train_images == 5500 + 4  # MNIST minus validation, plus 2 x 2 drawn digits
    repeated = run(dataclasses.replace(config, drawn_repeats=3), small_mnist)
    assert repeated.train_images == 5500 + 3 * 4  # each rendering seen three times an epoch
    weighted = run(dataclasses.replace(config, mnist_repeats=2), small_mnist)
    assert weighted.train_images == 2 * 5500 + 4  # MNIST's share kept up: seen twice an epoch
    assert run(make_config("t5_mlp_bn", steps=1, val_size=500), small_mnist).train_images == 5500
    with pytest.raises(ValueError, match="cannot read drawn digits"):
        run(make_config("t5_mlp_bn", steps=1, drawn_data="/no/such/file"), small_mnist)


def test_styles_and_non_digits_join_the_training_set(tiny_file, small_mnist):
    config = make_config("speedrun", steps=3, val_size=500, drawn_data=str(tiny_file))
    drawn = run(dataclasses.replace(config, drawn_copies=1), small_mnist).train_images
    assert drawn == 5500 + 2
    # The one (a bare stroke) gets a flag and a foot, and both digits a hand's proportions.
    styled = run(dataclasses.replace(config, drawn_copies=1, drawn_styles=2), small_mnist)
    assert styled.train_images == drawn + 2 * len(training_styles(parse(tiny_file)))
    negatives = run(dataclasses.replace(config, drawn_data="", negatives=100), small_mnist)
    assert 5500 + 90 <= negatives.train_images <= 5500 + 100


def test_a_model_taught_non_digits_is_unsure_of_them_and_sure_of_digits(small_mnist):
    config = make_config("speedrun", steps=150, val_size=500, negatives=600)
    model = run(config, small_mnist).model
    held_out = torch.from_numpy(negative_images(200, "val", seed=0))
    top = {
        name: torch.softmax(predict_logits(model, images, config.mean, config.std), 1).amax(1)
        for name, images in (("digits", small_mnist.test_images), ("non-digits", held_out))
    }
    assert top["digits"].median() > 0.8 > 0.4 > top["non-digits"].median()


def test_a_recipe_on_the_shared_pen_drawn_digits_says_where_they_are_missing(
    small_mnist, tmp_path, monkeypatch
):
    monkeypatch.setenv("MNIST_APP_SHARED", str(tmp_path))
    monkeypatch.setenv("PENDIGITS_DIR", "")  # nor in the other places they are looked for
    monkeypatch.setattr(paths, "PEN_CACHE", tmp_path / "cache")
    config = make_config("speedrun_drawn", steps=1)
    assert config.drawn_data == "pendigits"
    with pytest.raises(ValueError, match=r"pen-drawn digits .*--pendigits-dir or PENDIGITS_DIR"):
        run(config, small_mnist)
