"""Writing styles MNIST lacks, made by editing real pen strokes (pen/styles.py)."""

import numpy as np
import pytest

from mnist_app.core.paths import pendigits_file
from mnist_app.pen.replay import parse, render
from mnist_app.pen.styles import (
    MEASURED_ONLY,
    PROPORTIONS,
    STYLES,
    crossed_seven,
    in_style,
    training_styles,
)


@pytest.fixture(scope="module")
def test_writers():
    return parse(pendigits_file("test"))


@pytest.mark.parametrize("style", list(STYLES))
def test_each_style_is_built_from_at_least_100_test_writer_digits(style, test_writers):
    styled = in_style(test_writers, style)
    assert len(styled) >= 100
    labels = {d.label for d in styled}
    assert len(labels) == (9 if style == "wide hand" else 10 if style in PROPORTIONS else 1)
    assert [d.strokes for d in in_style(test_writers, style)] == [d.strokes for d in styled]


def test_a_slashed_zero_is_its_zero_plus_a_slash_across_the_oval(test_writers):
    zero = next(d for d in test_writers if d.label == 0)
    (slashed,) = in_style([zero], "slashed zero")
    assert slashed.strokes[:-1] == zero.strokes
    oval = np.concatenate([np.asarray(s) for s in zero.strokes])
    slash = np.asarray(slashed.strokes[-1])
    (x0, y0), (x1, y1) = slash[0], slash[-1]
    lo, hi = oval.min(axis=0), oval.max(axis=0)
    assert y0 <= lo[1] and y1 >= hi[1]  # from below the oval to above it
    assert x1 - x0 > 0.5 * (hi[0] - lo[0])  # leaning right, as Ø does
    plain = render(zero.fit(280, 150, (140, 140)), brush_radius=6)
    drawn = render(slashed.fit(280, 150, (140, 140)), brush_radius=6)
    assert (drawn[..., 0] < 128).sum() > (plain[..., 0] < 128).sum()


def test_a_seven_is_crossed_once(test_writers):
    sevens = [d for d in test_writers if d.label == 7]
    rng = np.random.default_rng(0)
    crossed = [c for c in (crossed_seven(d, rng) for d in sevens) if c is not None]
    assert crossed and all(crossed_seven(c, rng) is None for c in crossed)


def test_a_flagged_one_starts_with_its_flag_and_stands_on_a_foot(test_writers):
    (one,) = in_style(
        [next(d for d in test_writers if d.label == 1 and len(d.strokes) == 1)],
        "flagged one with a foot",
    )
    body, foot = (np.asarray(s) for s in one.strokes)
    top = body[np.argmax(body[:, 1])]
    assert body[0, 0] < top[0] and body[0, 1] < top[1]  # the pen starts down-left of the top
    assert (
        np.ptp(foot[:, 1]) == 0 and foot[:, 1].max() <= body[:, 1].min() + 1
    )  # flat, at the bottom


def test_a_long_flagged_one_is_one_stroke_whose_flag_reaches_down_to_the_left(test_writers):
    flags = []
    for one in in_style(test_writers, "one with a long flag"):
        (stroke,) = (np.asarray(s) for s in one.strokes)  # no foot
        start, top = stroke[0], stroke[11]  # the flag: 11 points up to where the one began
        assert start[0] < top[0] and start[1] < top[1]
        flags.append(np.linalg.norm(top - start) / (top[1] - stroke[-1, 1]))
    assert min(flags) >= 0.3 and 0.5 < max(flags) <= 0.55  # up to half as long as the one


def test_a_closed_four_runs_its_arm_from_the_top_of_its_stem(test_writers):
    closed = in_style(test_writers, "closed four")
    for four in closed[:20]:
        arm, stem = (np.asarray(s) for s in four.strokes)
        top = stem[np.argmax(stem[:, 1])]
        height = np.ptp(stem[:, 1])
        assert np.linalg.norm(arm[0] - top) < 0.05 * height  # the pen starts at the stem's top
        assert arm[:, 0].min() < top[0] - 0.15 * height  # and runs down to a corner left of it


def test_a_straight_nine_ends_in_a_straight_stem_down_to_its_bottom(test_writers):
    for nine in in_style(test_writers, "nine with a straight stem")[:20]:
        stroke = np.asarray(nine.strokes[0])
        tail = stroke[-12:]  # the stem, sampled as a straight line
        assert np.allclose(np.diff(tail, 2, axis=0), 0, atol=1e-9)
        assert tail[-1, 1] == stroke[:, 1].min() and tail[0, 1] > tail[-1, 1]


def test_training_styles_give_each_proportion_a_third_of_the_hand(test_writers):
    styled = training_styles(test_writers, seed=0)
    trained = [s for s in STYLES if s not in PROPORTIONS + MEASURED_ONLY]
    singles = sum(len(in_style(test_writers, s)) for s in trained)
    assert len(test_writers) * 0.9 < len(styled) - singles <= len(test_writers)
    assert [d.strokes for d in training_styles(test_writers, seed=0)] == [d.strokes for d in styled]
