"""The UNIPEN reader: real train_r01_v07 files from ../shared/handwriting/unipen (or
UNIPEN_DIR), and small made-up distributions for each form of the format."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mnist_app import load_predictor
from mnist_app.core.paths import WEIGHTS_DIR, shared_dir
from mnist_app.pen.replay import PenDigit, render
from mnist_app.pen.unipen import UnipenReader, UnipenSample, pen_digits
from mnist_app.preprocess import to_mnist

UNIPEN = Path(os.environ.get("UNIPEN_DIR") or shared_dir() / "handwriting" / "unipen")
real_data = pytest.mark.skipif(
    not any((folder / "data").is_dir() for folder in (UNIPEN, UNIPEN / "train_r01_v07")),
    reason=f"no UNIPEN train_r01_v07 in {UNIPEN} (set UNIPEN_DIR)",
)


def read(folder: Path, *relative: str, y_up: dict[str, bool] | None = None):
    reader = UnipenReader(folder)
    return reader.read_files([reader.folder / r for r in relative], y_up)


# --- real files ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_1a():  # only for `real_data` tests: their skip comes first
    return UnipenReader(UNIPEN).read_section("1a")


@real_data
def test_a_lifted_pen_path_is_a_component_but_no_ink():
    # CEDAR records the pen's path while lifted; its 7 "292-294" is pen-down 292, the
    # lifted pen 293 and pen-down 294 (the bar): two strokes.
    (seven,) = read(UNIPEN, "data/1a/cea/Asundi.dat").samples
    assert (seven.label, seven.quality, seven.writer) == ("7", "?", "ra3198")
    assert (seven.institution, seven.source) == ("cea", "data/1a/cea/Asundi.dat")
    assert len(seven.strokes) == 2


@real_data
def test_point_ranges_count_pen_up_blocks_as_components():
    # Letters cut from cursive words. Only with the non-empty .PEN_UP blocks counted is
    # every point range in range (CEDAR's "t" is "67:130-67:155", the last of component
    # 67's 156 points), and the "i" "67:106-67:129,69" a body and a 5-point dot.
    reading = read(UNIPEN, "data/1c/cea/Asundi.dat")
    assert not reading.skipped
    i = next(s for s in reading.samples if s.label == "i")
    assert [len(stroke) for stroke in i.strokes] == [129 - 106 + 1, 5]


@real_data
def test_nested_includes_are_read_in_place():
    # data/1a/pri/... includes pri/data/... which includes pri/pri.doc (the units).
    reading = read(UNIPEN, "data/1a/pri/pri0/159.3.dat")
    assert [s.label for s in reading.samples] == ["0", "1", "3", "4", "8", "9"]
    assert {s.writer for s in reading.samples} == {"159"}
    assert not reading.skipped


@real_data
def test_section_1a_reads_every_digit(digits_1a):
    # README: 8,679 digit segments. Three of IBM's point at place-holder blocks (0 0).
    assert len(digits_1a.samples) + digits_1a.skipped.total() == 8679
    assert digits_1a.skipped == Counter({"all points at one place": 3})
    assert {s.label for s in digits_1a.samples} == set("0123456789")
    assert set(digits_1a.upright) == {s.institution for s in digits_1a.samples}
    assert min(digits_1a.upright.values()) > 0.85


@real_data
def test_real_digits_replayed_on_the_canvas_read_as_their_labels(digits_1a):
    """The y direction, the units and the component numbering at once: 50 digits from all
    over 1a (five of each of its ten institutions), drawn on the canvas and put through
    the app's preprocessing, are read right by a model trained on MNIST alone; the same
    upside down are not."""
    samples = []
    for institution in sorted(digits_1a.upright):
        theirs = [s for s in digits_1a.samples if s.institution == institution]
        samples += theirs[:: len(theirs) // 5][:5]
    assert len(samples) == 50
    predictor = load_predictor(WEIGHTS_DIR / "speedrun.pt")
    labels = np.array([int(s.label) for s in samples])

    def accuracy(digits: list[PenDigit]) -> float:
        images = [to_mnist(render(d.fit(280, 180, (140, 140)), brush_radius=8)) for d in digits]
        return float((predictor.predict(np.stack(images)) == labels).mean())

    upright = pen_digits(samples)
    flipped = [
        PenDigit(d.label, d.writer, [[(x, -y) for x, y in s] for s in d.strokes]) for d in upright
    ]
    assert accuracy(upright) >= 0.85  # measured 0.96
    assert accuracy(flipped) <= 0.6  # measured 0.40


# --- made-up distributions ----------------------------------------------------------


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def pen(*blocks: tuple[str, int]) -> str:
    """Pen blocks ("D" down, "U" up, "E" an empty .PEN_UP) whose points say where they
    are: point k of the block numbered c (counting only non-empty ones) is (100c + k, k)."""
    text, component = "", 0
    for kind, count in blocks:
        if kind == "E":
            text += ".PEN_UP\n"
            continue
        text += ".PEN_DOWN\n" if kind == "D" else ".PEN_UP\n"
        text += "".join(f" {100 * component + k} {k}\n" for k in range(count))
        component += 1
    return text


def points(component: int, start: int = 0, stop: int = 4) -> list[tuple[float, float]]:
    return [(100.0 * component + k, float(k)) for k in range(start, stop)]


# Components: 0 down, 1 down, 2 up (the lifted pen's path), 3 down, 4 down; four points
# each. The empty .PEN_UPs end a .PEN_DOWN without being components.
STREAM = pen(("D", 4), ("E", 0), ("D", 4), ("U", 4), ("D", 4), ("E", 0), ("D", 4), ("E", 0))


@pytest.mark.parametrize(
    ("delineation", "strokes"),
    [
        ("3", [points(3)]),
        ("0-1", [points(0), points(1)]),
        ("1-3", [points(1), points(3)]),  # the pen-up block 2 is no ink
        ("3,0", [points(3), points(0)]),
        ("3:1-3:2", [points(3, 1, 3)]),
        ("0:2-1", [points(0, 2), points(1)]),
        ("0-1:1", [points(0), points(1, 0, 2)]),
        ("0:3-4:0", [points(0, 3), points(1), points(3), points(4, 0, 1)]),
        ("4:1-4:3,0:0", [points(4, 1), points(0, 0, 1)]),
    ],
)
def test_each_form_of_delineation(tmp_path, delineation, strokes):
    folder = write(
        tmp_path,
        {
            "include/syn/pen.dat": STREAM,
            "data/1c/syn/w.dat": f'.INCLUDE syn/pen.dat\n.SEGMENT CHARACTER {delineation} ? "a"\n',
        },
    )
    (sample,) = read(folder, "data/1c/syn/w.dat", y_up={"syn": True}).samples
    assert sample.strokes == strokes


def test_includes_nest_and_are_read_in_order(tmp_path):
    # w.dat includes a.doc (units, writer) then b.dat; b.dat includes c.dat between its
    # own blocks: the stream is b's first block, c's, then b's second.
    folder = write(
        tmp_path,
        {
            "include/syn/a.doc": ".X_POINTS_PER_MM 10\n.Y_POINTS_PER_MM 20\n.WRITER_ID ann\n",
            "include/syn/b.dat": ".PEN_DOWN\n 0 0\n 0 40\n.PEN_UP\n.INCLUDE syn/c.dat\n"
            ".PEN_DOWN\n 2 0\n 2 40\n.PEN_UP\n",
            "include/syn/c.dat": ".PEN_DOWN\n 1 0\n 1 40\n.PEN_UP\n",
            "data/1c/syn/w.dat": ".INCLUDE syn/a.doc\n.INCLUDE syn/b.dat\n"
            '.SEGMENT CHARACTER 0-2 ? "a"\n.SEGMENT CHARACTER 1 OK "b"\n',
        },
    )
    a, b = read(folder, "data/1c/syn/w.dat", y_up={"syn": True}).samples
    # y counted 20 points per mm, x 10: y in x's unit is halved.
    assert a.strokes == [[(0, 0), (0, 20)], [(1, 0), (1, 20)], [(2, 0), (2, 20)]]
    assert (a.writer, b.writer, b.label, b.quality) == ("ann", "ann", "b", "OK")
    assert b.strokes == [[(1, 0), (1, 20)]]


def test_extra_columns_are_dropped_and_coord_says_where_x_and_y_are(tmp_path):
    folder = write(
        tmp_path,
        {
            "include/syn/t.dat": ".COORD T X Y\n.PEN_DOWN\n 10 1 2\n 20 3 4\n.PEN_UP\n",
            "include/syn/p.dat": ".COORD X Y\n.PEN_DOWN\n 5 6 0.7\n 7 8 0.9\n.PEN_UP\n",
            "data/1c/syn/w.dat": ".INCLUDE syn/t.dat\n.INCLUDE syn/p.dat\n"
            '.SEGMENT CHARACTER 0 ? "a"\n.SEGMENT CHARACTER 1 ? "a"\n',
        },
    )
    time_first, pressure_last = read(folder, "data/1c/syn/w.dat", y_up={"syn": True}).samples
    assert time_first.strokes == [[(1, 2), (3, 4)]]
    assert pressure_last.strokes == [[(5, 6), (7, 8)]]


def test_what_cannot_be_read_is_counted_not_raised(tmp_path):
    segments = [
        '.SEGMENT CHARACTER 0 ? "a"',  # the one good sample
        '.SEGMENT CHARACTER 0-x ? "a"',
        ".SEGMENT CHARACTER 0 ? a-without-quotes",
        '.SEGMENT CHARACTER 9 ? "a"',
        '.SEGMENT CHARACTER 0:7 ? "a"',
        '.SEGMENT CHARACTER 2 ? "a"',  # the lifted pen only
        '.SEGMENT CHARACTER 3 ? "a"',  # "x y" lines that are not numbers
        '.SEGMENT CHARACTER 4 ? "a"',  # a line of one column
        '.SEGMENT CHARACTER 5 ? "a"',  # one place, many times
        '.SEGMENT WORD 0-1 ? "ab"',
    ]
    folder = write(
        tmp_path,
        {
            "include/syn/pen.dat": ".X_POINTS_PER_INCH many\n"
            + pen(("D", 3), ("D", 3), ("U", 3))
            + ".PEN_DOWN\n 1 a\n 2 b\n.PEN_DOWN\n 1 2\n 3\n.PEN_DOWN\n 0 0\n 0 0\n",
            "data/1c/syn/good.dat": ".INCLUDE syn/pen.dat\n" + "\n".join(segments) + "\n",
            "data/1c/syn/lost.dat": '.INCLUDE syn/gone.dat\n.SEGMENT CHARACTER 0 ? "a"\n',
            "include/syn/loop.dat": ".INCLUDE syn/loop.dat\n",
            "data/1c/syn/loop.dat": '.INCLUDE syn/loop.dat\n.SEGMENT CHARACTER 0 ? "a"\n',
        },
    )
    reading = read(folder, "data/1c/syn/good.dat", "data/1c/syn/lost.dat", "data/1c/syn/loop.dat")
    assert [s.strokes for s in reading.samples] == [[points(0, 0, 3)]]
    assert reading.skipped == Counter(
        {
            "unparseable delineation": 1,
            "unparseable .SEGMENT line": 1,
            "component number out of range": 1,
            "point number out of range": 1,
            "no pen-down points": 1,
            "pen data not numbers": 1,
            "pen data lines of unequal or too few columns": 1,
            "all points at one place": 1,
            "a WORD segment, not a CHARACTER": 1,
            "include not found": 1,
            "include cycle": 1,
        }
    )
    assert reading.bad_headers == Counter({".X_POINTS_PER_INCH": 1})


def test_labels_keep_their_escapes(tmp_path):
    folder = write(
        tmp_path,
        {
            "include/syn/pen.dat": pen(("D", 2)),
            "data/1c/syn/w.dat": '.INCLUDE syn/pen.dat\n.SEGMENT CHARACTER 0 ? "\\""\n',
        },
    )
    (sample,) = read(folder, "data/1c/syn/w.dat", y_up={"syn": True}).samples
    assert sample.label == '"'


def sevens(y_down: bool) -> str:
    """A tablet's 7s: the bar on top, then the long stroke down to the bottom left."""
    top, bottom = (0, 100) if y_down else (100, 0)
    seven = f".PEN_DOWN\n 0 {top}\n 60 {top}\n 20 {bottom}\n.PEN_UP\n"
    return seven * 5 + "".join(f'.SEGMENT CHARACTER {c} ? "7"\n' for c in range(5))


def test_an_institution_whose_y_grows_downwards_is_turned_upright(tmp_path):
    folder = write(
        tmp_path,
        {
            "data/1a/down/w.dat": sevens(y_down=True),
            "data/1a/up/w.dat": sevens(y_down=False),
        },
    )
    reading = read(folder, "data/1a/down/w.dat", "data/1a/up/w.dat")
    assert reading.upright == {"down": 0.0, "up": 1.0}
    for sample in reading.samples:  # PenDigit's convention: y up, so the bar is highest
        bar, bottom = sample.strokes[0][0][1], sample.strokes[0][2][1]
        assert bar > bottom, sample.institution
        image = render(PenDigit(7, 0, sample.strokes).fit(280, 200, (140, 140)))
        rows = np.nonzero(image[..., 0] < 128)[0]
        assert rows.min() < 60  # the bar is drawn at the top of the canvas
    told = read(folder, "data/1a/down/w.dat", y_up={"down": True})
    assert told.samples[0].strokes[0][0][1] < told.samples[0].strokes[0][2][1]


def test_pen_digits_number_the_writers_and_refuse_letters():
    def sample(label: str, institution: str, writer: str) -> UnipenSample:
        return UnipenSample(label, writer, institution, "x.dat", "?", [[(0, 0), (1, 1)]])

    digits = pen_digits(
        [sample("3", "aga", "ann"), sample("4", "val", "ann"), sample("5", "aga", "ann")]
    )
    assert [(d.label, d.writer) for d in digits] == [(3, 0), (4, 1), (5, 0)]
    with pytest.raises(ValueError, match="not a digit"):
        pen_digits([sample("a", "aga", "ann")])
