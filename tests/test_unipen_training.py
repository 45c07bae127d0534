"""UNIPEN's writers as training material: who teaches and who judges, what a run trains
on, the renderings kept, and what a run without the data says."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest
import torch

from mnist_app.core.paths import shared_dir
from mnist_app.pen import rendered
from mnist_app.pen.sources import PenDataNotFoundError
from mnist_app.pen.unipen_labels import mislabelled
from mnist_app.pen.writers import DIGIT_LIKE, HELD_OUT, unipen_digits, unipen_letters
from mnist_app.training.material import NOT_A_DIGIT, drawn_sources, find_pen_data, training_split
from mnist_app.training.recipes import make_config

UNIPEN = Path(os.environ.get("UNIPEN_DIR") or shared_dir() / "handwriting" / "unipen")
real_data = pytest.mark.skipif(
    not any((folder / "data").is_dir() for folder in (UNIPEN, UNIPEN / "train_r01_v07")),
    reason=f"no UNIPEN train_r01_v07 in {UNIPEN} (set UNIPEN_DIR)",
)


@real_data
def test_held_out_institutions_never_teach_and_mislabelled_digits_do_neither():
    train, held_out = unipen_digits("train"), unipen_digits("held_out")
    assert {s.institution for s in held_out} == {"apa", "ced"}  # mot wrote no digits
    assert not {s.institution for s in train} & set(HELD_OUT)
    assert len(train) == 6504 and len(held_out) == 2056  # 8,676 read, 116 mislabelled
    assert not any(mislabelled(s) for s in train + held_out)
    assert len({(s.institution, s.writer) for s in train}) == 98
    with pytest.raises(ValueError, match="train or held_out"):
        unipen_digits("test")


@real_data
@pytest.mark.slow
def test_letters_that_look_like_digits_are_neither_taught_nor_judged():
    held_out = unipen_letters("held_out")
    assert {s.institution for s in held_out} == set(HELD_OUT)
    assert len(held_out) == 10734
    labels = {s.label for s in held_out}
    assert not labels & set(DIGIT_LIKE) and {"A", "e", "x", "M"} <= labels


def test_a_drawn_data_setting_names_sources_joined_by_plus():
    assert drawn_sources("pendigits+unipen") == ["pendigits", "unipen"]
    assert drawn_sources(" unipen ") == ["unipen"] and drawn_sources("") == []


@real_data
@pytest.mark.slow
def test_a_run_trains_on_unipen_digits_and_letters_rendered_once(
    small_mnist, tmp_path, monkeypatch
):
    monkeypatch.setattr(rendered, "CACHE", tmp_path)
    config = make_config(
        "speedrun", val_size=500, drawn_data="unipen", negatives=300, pen_letters=200
    )
    began = time.perf_counter()
    train, val = training_split(config, small_mnist)
    first_s = time.perf_counter() - began
    drawn = train.labels[5500:]
    assert len(val.labels) == 500 and (val.labels < 10).all()  # validation stays MNIST
    assert (drawn < 10).sum() >= 6400  # each training digit once (a few too small to see)
    assert 290 <= (drawn == NOT_A_DIGIT).sum() <= 300  # 100 generated and 200 pen letters
    assert len(list(tmp_path.glob("*.pt"))) == 3  # digits, generated, letters: kept
    began = time.perf_counter()
    again = training_split(config, small_mnist)[0]
    assert torch.equal(again.images, train.images) and torch.equal(again.labels, train.labels)
    assert time.perf_counter() - began < first_s / 3
    # Another seed is other renderings, kept beside the first.
    training_split(dataclasses.replace(config, seed=1), small_mnist)
    assert len(list(tmp_path.glob("*.pt"))) == 6


def test_a_kept_rendering_that_cannot_be_read_is_rendered_anew(tmp_path):
    made = []

    def render():
        made.append(1)
        return torch.ones(2, 28, 28, dtype=torch.uint8), torch.tensor([3, 4])

    first = rendered.cached({"what": "two"}, render, tmp_path)
    assert rendered.cached({"what": "two"}, render, tmp_path)[1].tolist() == [3, 4]
    assert len(made) == 1
    (kept,) = tmp_path.glob("*.pt")
    kept.write_bytes(b"half a file")
    again = rendered.cached({"what": "two"}, render, tmp_path)
    assert len(made) == 2 and torch.equal(again[0], first[0])
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_run_without_unipen_says_what_to_download_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("UNIPEN_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("MNIST_APP_SHARED", str(tmp_path / "no-shared"))
    monkeypatch.setattr("mnist_app.pen.sources.pen_data_places", _places(tmp_path))
    config = make_config("speedrun", drawn_data="unipen")
    with pytest.raises(PenDataNotFoundError, match=r"zenodo\.org/records/1195803"):
        find_pen_data(config, download=False)
    with pytest.raises(PenDataNotFoundError, match="UNIPEN"):
        find_pen_data(make_config("speedrun", negatives=10, pen_letters=10), download=False)
    find_pen_data(make_config("speedrun"), download=False)  # needs none: no error


def _places(tmp_path: Path):
    def places(name, folder=None):
        return [("UNIPEN_DIR", tmp_path / "nowhere"), ("the cache", tmp_path / "cache" / name)]

    return places
