"""The UNIPEN benchmarks (bench/drawn_accuracy.py --unipen, bench/reject.py --unipen) and the
label-noise research (research/unipen_labels.py): the sample draw per institution, the
letters kept out of the main figure, the IBM fragment rule, and each report on a handful
of real samples (skipped without UNIPEN)."""

from __future__ import annotations

import os
import string
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import drawn_accuracy, reject
from mnist_app.core.paths import WEIGHTS_DIR, shared_dir
from mnist_app.core.predict import load_predictor
from mnist_app.nondigit import stroke_fonts
from mnist_app.pen.unipen import UnipenReader, UnipenSample, pen_digits, per_institution
from mnist_app.pen.unipen_labels import fragment

UNIPEN = Path(os.environ.get("UNIPEN_DIR") or shared_dir() / "handwriting" / "unipen")
real_data = pytest.mark.skipif(
    not any((folder / "data").is_dir() for folder in (UNIPEN, UNIPEN / "train_r01_v07")),
    reason=f"no UNIPEN train_r01_v07 in {UNIPEN} (set UNIPEN_DIR)",
)


def sample(institution: str, n: int = 0, label: str = "1", strokes=None) -> UnipenSample:
    strokes = strokes or [[(0.0, 0.0), (1.0, float(n + 1))]]
    return UnipenSample(label, f"w{n}", institution, f"data/1a/{institution}/x.dat", "?", strokes)


def test_per_institution_caps_each_institution_seeded_in_reading_order():
    samples = [sample(place, n) for n in range(20) for place in ("aga", "ibm", "val")]
    samples += [sample("pri", n) for n in range(3)]
    capped = per_institution(samples, cap=5, seed=1)
    counts = {p: sum(s.institution == p for s in capped) for p in ("aga", "ibm", "val", "pri")}
    assert counts == {"aga": 5, "ibm": 5, "val": 5, "pri": 3}
    assert [samples.index(s) for s in capped] == sorted(samples.index(s) for s in capped)
    assert per_institution(samples, cap=5, seed=1) == capped
    assert per_institution(samples, cap=5, seed=2) != capped
    # One institution's draw does not depend on which others are asked for.
    alone = per_institution(samples, cap=5, institutions=["ibm"], seed=1)
    assert alone == [s for s in capped if s.institution == "ibm"]
    assert per_institution(samples) == samples
    with pytest.raises(ValueError, match="kai"):
        per_institution(samples, institutions=["kai"])


def test_the_digit_like_letters_are_those_the_projects_non_digits_leave_out():
    taught = set(stroke_fonts._LETTERS)
    assert set(reject.DIGIT_LIKE) == set(string.ascii_letters) - taught
    assert {"O", "o", "l", "I", "S", "s", "Z", "z", "b", "G", "g", "q", "B"} <= set(
        reject.DIGIT_LIKE
    )


def test_fragment_finds_ibms_lone_strokes_and_nothing_else():
    stem = [[(0.0, 0.0), (0.1, 5.0), (0.0, 10.0)]]
    foot = [[(0.0, 0.0), (5.0, 0.2), (10.0, 0.0)]]
    oval = [[(np.cos(t) * 4, np.sin(t) * 6) for t in np.linspace(0, 2 * np.pi, 30)]]
    assert fragment(sample("ibm", label="4", strokes=stem))
    assert fragment(sample("ibm", label="0", strokes=stem))  # a slashed zero's slash
    assert fragment(sample("ibm", label="1", strokes=foot))
    assert not fragment(sample("ibm", label="1", strokes=stem))
    assert not fragment(sample("ibm", label="0", strokes=oval))
    assert not fragment(sample("ibm", label="4", strokes=stem + foot))  # both strokes
    assert not fragment(sample("apb", label="4", strokes=stem))


@real_data
def test_drawn_accuracy_reads_unipen_digits_per_institution(monkeypatch, capsys):
    argv = ["drawn_accuracy", "--unipen", "--unipen-dir", str(UNIPEN), "--models"]
    argv += ["speedrun_drawn", "--brushes", "12", "--per-institution", "5"]
    monkeypatch.setattr(sys, "argv", [*argv, "--institutions", "pri", "cea"])
    drawn_accuracy.main()
    out = capsys.readouterr().out
    assert "10 UNIPEN 1a digits of" in out and "2 institutions" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["pri"], ["cea"])]
    assert [(row[0], row[2]) for row in rows] == [("cea", "5"), ("pri", "5")]
    assert "per digit, all brushes" in out and "refused" in out


@real_data
def test_reject_counts_unipen_letters_answered_apart_from_digit_like_ones(capsys):
    reader = UnipenReader(UNIPEN)
    letters = reader.read_files(sorted(reader.section_files("1b"))[:1]).samples[:40]
    digits = reader.read_files(sorted(reader.section_files("1a"))[:1]).samples[:10]
    drawn = (reject.PenSamples.drawn(digits, 0), reject.PenSamples.drawn(letters, 1))
    assert len(drawn[1].inputs) == drawn[1].kept.sum() and len(drawn[1].kept) == len(letters)
    reject.unipen_report(load_predictor(WEIGHTS_DIR / "speedrun_drawn.pt"), drawn)
    out = capsys.readouterr().out
    like = sum(s.label in reject.DIGIT_LIKE for s in letters)
    main = next(line for line in out.splitlines() if "not digit-like (main)" in line)
    assert main.split()[-3] == str(len(letters) - like)
    # speedrun_drawn never refuses: every letter the preprocessing lets through is answered.
    fair = np.array([s.label not in reject.DIGIT_LIKE for s in letters])
    assert main.split()[-1] == f"{drawn[1].kept[fair].mean():.1%}"


def test_an_institutions_sketches_do_not_depend_on_which_others_are_drawn():
    digits = pen_digits([sample(place, n) for n in range(4) for place in ("aga", "ibm")])
    places = np.array(["aga", "ibm"] * 4)
    both = drawn_accuracy.unipen_inputs(digits, places, 12, seed=0)
    ibm = [d for d, p in zip(digits, places, strict=True) if p == "ibm"]
    alone = drawn_accuracy.unipen_inputs(ibm, np.array(["ibm"] * 4), 12, seed=0)
    np.testing.assert_array_equal(both[places == "ibm"], alone)
    assert not np.array_equal(both[places == "aga"], alone)


@real_data
def test_each_sample_keeps_its_delineation_to_name_it_by():
    reader = UnipenReader(UNIPEN)
    (path,) = [p for p in reader.section_files("1a") if p.name == "r0304.dat"]
    samples = reader.read_files([path]).samples
    assert [s.delineation for s in samples[:3]] == ["344", "349-350", "353-354"]
    assert [s.label for s in samples[:3]] == ["7", "0", "0"]
