"""Non-digits made by hand, only ever measured: each shape's strokes were typed out point
by point for this project, with the slants, gaps and overshoots of handwriting, not made
by a program or taken from a font, and no model trains or is tuned on them. They are things
the generator (negatives.py) does not draw: other letters and words, currency and maths
signs, marks, faces and objects.

No recordings of people drawing with a mouse exist in this project's data; these shapes are
the nearest stand-in, a source apart from the generator, the system fonts and the stroke
fonts. `hand_made_sketches` draws the shapes in turn on the canvas, each time at a random
size, place and pen (`bench/reject.py` measures them).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..pen.replay import Stroke
from .negatives import on_canvas, pen_brush

# name: strokes ("|" between them), each a pen path of "x,y" points, x right and y up, in
# hundredths of the shape's box (on_canvas fits it to the canvas). Left out, as from the
# generator's letters: shapes a person could read as a digit (o, l, s, z, b, g, q, D, G, Q,
# T, a lone ring, a slashed ring).
_SHAPES = {
    "V": "0,100 47,0 100,98",
    "h": "12,100 10,0 | 11,42 30,58 55,60 72,45 74,0",
    "n": "5,60 6,0 | 6,40 35,62 70,55 78,0",
    "r": "10,60 12,0 | 12,35 35,58 62,60 80,50",
    "t": "35,100 33,12 45,0 70,6 | 5,66 72,70",
    "f": "80,92 62,100 45,90 40,55 38,0 | 10,55 72,57",
    "v": "0,62 32,0 65,60",
    "y": "0,65 35,25 | 70,66 30,-35 10,-40",
    "x with a tail": "0,60 65,0 85,5 | 62,60 2,0",
    "capital L": "15,100 12,2 90,0",
    "capital P": "10,0 12,100 60,98 82,85 80,62 55,50 12,50",
    "word hi": "5,100 6,0 | 6,40 25,58 42,50 45,0 | 75,58 76,0 | 75,82 77,84",
    "word ok": "25,60 5,50 2,15 20,0 40,10 42,45 25,60 | 60,100 58,0 | 95,62 60,30 98,0",
    "word no": "2,55 3,0 | 3,35 20,55 38,50 40,0 | 75,56 56,45 55,10 75,0 95,15 93,45 75,56",
    "word cat": (
        "30,50 12,55 0,30 10,5 30,8 | 62,45 50,55 38,35 42,5 58,15 62,50 64,0 | 82,85 "
        "80,8 90,0 100,5 | 70,55 98,57"
    ),
    "cursive mm": "0,0 5,50 15,55 22,0 30,50 40,55 46,0 55,52 66,55 72,0 80,50 90,55 96,0 100,5",
    "cursive eee": (
        "0,20 22,35 25,55 12,50 10,15 30,2 45,30 55,55 42,50 42,12 62,2 78,30 88,55 "
        "75,50 75,12 95,0"
    ),
    "signature": (
        "0,30 12,90 18,20 28,75 35,25 45,45 50,20 62,55 70,15 80,50 100,35 | 5,5 55,0 98,8"
    ),
    "dollar": "80,75 55,85 25,78 22,58 72,42 78,20 50,10 18,20 | 50,100 48,0",
    "euro": "90,90 60,100 30,85 20,50 30,12 60,0 92,10 | 0,60 62,60 | 0,42 58,40",
    "pound": "80,82 62,98 40,92 32,60 30,15 10,0 90,0 | 10,50 60,52",
    "section sign": (
        "70,90 45,100 25,88 35,70 68,55 72,38 40,30 30,50 60,65 | 65,32 72,12 50,0 25,10"
    ),
    "pilcrow": "45,55 15,62 10,85 35,100 80,98 | 50,100 48,0 | 75,100 74,0",
    "divide": "0,50 100,52 | 48,85 52,83 | 50,18 53,16",
    "plus-minus": "10,72 90,70 | 50,100 52,40 | 8,5 92,3",
    "not equal": "0,62 100,64 | 0,35 100,37 | 70,100 28,0",
    "approximately": "0,60 20,75 45,60 70,50 100,68 | 0,30 22,45 48,30 72,20 100,38",
    "tick": "0,45 32,0 100,100",
    "box with a tick": "0,0 2,75 75,76 74,2 0,0 | 15,45 35,20 100,100",
    "music note": "42,20 25,30 5,20 8,2 30,0 42,20 44,100 | 44,100 70,85 85,60",
    "two notes": (
        "25,15 10,22 0,10 12,0 25,15 27,90 | 85,30 70,37 60,25 72,15 85,30 87,100 | "
        "27,90 87,100 | 27,75 87,85"
    ),
    "lightning bolt": "60,100 20,45 55,50 30,0 85,60 50,55",
    "umbrella": "0,55 15,85 50,100 85,85 100,55 75,62 50,55 25,62 0,55 | 50,55 50,8 40,0 30,10",
    "envelope": "0,15 0,85 100,86 100,14 0,15 | 0,85 50,40 100,86",
    "key": "30,70 10,62 5,42 20,28 38,35 42,55 30,70 | 42,50 100,52 | 82,51 82,35 | 95,52 96,38",
    "cup": "5,85 10,15 20,0 60,0 70,15 75,85 | 74,70 95,65 98,42 72,35",
    "tree": "45,0 45,35 | 55,0 56,35 | 0,35 50,100 100,36 0,35",
    "car": (
        "0,30 2,55 22,60 35,85 70,86 82,60 100,55 100,30 0,30 | 20,30 12,18 20,5 32,18 "
        "25,30 | 78,30 70,18 78,5 90,18 83,30"
    ),
    "eye": "0,50 30,80 70,80 100,50 70,20 30,20 0,50 | 50,62 40,50 50,38 60,50 50,62",
    "cat face": (
        "10,55 5,100 35,80 65,80 95,100 90,55 75,15 50,5 25,15 10,55 | 32,55 34,52 | "
        "66,55 68,52 | 0,35 35,40 | 100,35 65,40"
    ),
    "sad face": (
        "50,100 15,88 0,50 15,12 50,0 85,12 100,50 85,88 50,100 | 32,68 34,65 | 66,68 "
        "68,65 | 28,20 50,35 72,20"
    ),
    "boat": "0,35 100,35 80,5 20,5 0,35 | 50,35 50,100 85,45 50,45",
    "kite": "50,100 85,60 50,0 15,60 50,100 | 50,100 50,0 | 15,60 85,60",
    "rocket": (
        "40,20 38,75 50,100 62,75 60,20 40,20 | 38,35 20,10 41,20 | 62,35 80,10 59,20 | "
        "45,15 50,0 55,15"
    ),
    "candle": "35,0 35,70 65,70 65,0 35,0 | 50,70 50,78 | 50,80 40,90 50,100 60,90 50,80",
    "fork": "50,0 50,60 | 30,100 30,62 70,60 70,100 | 50,100 50,62",
    "mountains": "0,0 30,80 45,45 65,100 100,0",
    "ladder": "20,0 22,100 | 78,0 80,100 | 20,20 78,20 | 21,45 79,45 | 21,70 79,70 | 22,92 80,92",
    "fence": (
        "0,0 1,90 6,100 | 25,0 26,90 31,100 | 50,0 51,90 56,100 | 75,0 76,90 81,100 | "
        "95,0 96,90 101,100 | 0,30 100,32 | 0,65 100,66"
    ),
    "cube": "0,0 0,65 65,65 65,0 0,0 | 0,65 35,100 100,100 65,65 | 100,100 100,35 65,0",
    "cylinder": "0,85 20,100 80,100 100,85 80,70 20,70 0,85 | 0,85 0,15 20,0 80,0 100,15 100,85",
    "hourglass": "0,100 100,100 0,0 100,0 0,100",
    "bow tie": "0,0 0,100 100,0 100,100 0,0",
    "spade": "50,100 10,50 15,25 40,25 50,40 60,25 85,25 90,50 50,100 | 50,40 35,0 65,0 50,40",
    "alpha": "100,60 70,10 45,0 15,10 12,45 40,60 70,30 100,0",
    "mu": "10,60 8,-40 | 10,15 20,2 35,0 50,5 60,15 | 62,60 62,8 75,0",
    "psi": "0,90 5,45 30,30 50,30 75,45 80,90 | 42,100 40,0",
    "chinese ren": "50,100 45,55 30,20 0,0 | 48,60 70,25 100,5",
    "chinese da": "0,62 100,64 | 50,100 48,60 30,20 0,0 | 50,60 70,25 100,5",
}


def _strokes(text: str) -> list[Stroke]:
    return [
        [(int(x) / 100, int(y) / 100) for x, y in (point.split(",") for point in stroke.split())]
        for stroke in text.split("|")
    ]


HAND_MADE: dict[str, list[Stroke]] = {name: _strokes(text) for name, text in _SHAPES.items()}


def hand_made_sketches(count: int, seed: int = 0) -> Iterator[np.ndarray]:
    """`count` canvases (dark ink on white), the shapes in turn, each drawing at its own
    random size, place and pen."""
    rng = np.random.default_rng([31_337, seed])
    shapes = list(HAND_MADE.values())
    for index in range(count):
        yield on_canvas(shapes[index % len(shapes)], rng, pen_brush(rng))
