"""Things people draw that are not digits, made to teach and measure "not a digit".

Six kinds, each as a 280x280 canvas sketch (dark ink on white, as the Draw tab sees it):

- ``letters``: a pen-stroke alphabet of letters and symbols that no digit looks like
  (A, E, H, K, M, W, +, #, ?, &, ...), written with a wobbling pen;
- ``shapes``: doodles: stars, hearts, smileys, arrows, spirals, houses, zigzags, grids;
- ``scribbles``: random pen paths that wander and cross themselves;
- ``blobs``: short scribbles with a marker far thicker than a digit's pen;
- ``glyphs``: letters and symbols typeset in the system's fonts (none where none are
  installed);
- ``noise``: random pixels, specks and rectangles, as an upload might be.

Every kind is seeded, and the split decides the seeds and the fonts: "train" for training
material, "val" for choosing thresholds, "test" for reporting (`bench/reject.py`). Glyphs
never share a font family across splits, so the test fonts are ones the model never saw.
Letters that are read as digits by people too (O, I, l, S, Z, B, b, g, q, ...) are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..pen.replay import PenDigit, Stroke, render

KINDS = ("letters", "shapes", "scribbles", "blobs", "glyphs", "noise")
UPLOADED = ("glyphs", "noise")  # images a person would upload; the rest are drawn
SPLITS = ("train", "val", "test")
CANVAS = 280


def _circle(cx: float, cy: float, r: float, start: float = 0, end: float = 360) -> Stroke:
    """An arc from `start` to `end` degrees (anticlockwise, y up), a point every 15°."""
    turn = np.radians(np.linspace(start, end, max(4, int(abs(end - start) / 15))))
    return [(cx + r * math.cos(t), cy + r * math.sin(t)) for t in turn]


# The pen alphabet, in a unit box (y up). Each is a list of strokes; a stroke a polyline.
LETTERS: dict[str, list[Stroke]] = {
    "A": [[(0, 0), (0.5, 1), (1, 0)], [(0.22, 0.42), (0.78, 0.42)]],
    "E": [[(1, 1), (0, 1), (0, 0), (1, 0)], [(0, 0.5), (0.7, 0.5)]],
    "F": [[(1, 1), (0, 1), (0, 0)], [(0, 0.52), (0.7, 0.52)]],
    "H": [[(0, 1), (0, 0)], [(1, 1), (1, 0)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 1), (0, 0)], [(0.9, 1), (0.05, 0.45), (1, 0)]],
    "M": [[(0, 0), (0.05, 1), (0.5, 0.35), (0.95, 1), (1, 0)]],
    "N": [[(0, 0), (0, 1), (1, 0), (1, 1)]],
    "R": [
        [(0, 0), (0, 1), (0.7, 1), (0.95, 0.88), (0.95, 0.64), (0.7, 0.52), (0, 0.52)],
        [(0.45, 0.52), (1, 0)],
    ],
    "W": [[(0, 1), (0.25, 0), (0.5, 0.65), (0.75, 0), (1, 1)]],
    "X": [[(0, 1), (1, 0)], [(1, 1), (0, 0)]],
    "Y": [[(0, 1), (0.5, 0.5), (1, 1)], [(0.5, 0.5), (0.5, 0)]],
    "C": [_circle(0.5, 0.5, 0.5, 45, 315)],
    "U": [[(0, 1), (0, 0.35), *_circle(0.5, 0.35, 0.5, 180, 360)[1:-1], (1, 0.35), (1, 1)]],
    "e": [[(0.05, 0.5), (0.95, 0.5), *_circle(0.5, 0.5, 0.45, 0, 310)]],
    "m": [
        [(0, 0), (0, 0.6), *_circle(0.25, 0.45, 0.25, 180, 0), (0.5, 0)],
        [(0.5, 0.45), *_circle(0.75, 0.45, 0.25, 180, 0), (1, 0)],
    ],
    "k": [[(0, 1), (0, 0)], [(0.8, 0.65), (0.05, 0.3), (0.85, 0)]],
    "w": [[(0, 0.6), (0.2, 0), (0.5, 0.45), (0.8, 0), (1, 0.6)]],
    "x": [[(0, 0.6), (0.8, 0)], [(0.8, 0.6), (0, 0)]],
    "+": [[(0.5, 0.9), (0.5, 0.1)], [(0.1, 0.5), (0.9, 0.5)]],
    "=": [[(0, 0.65), (1, 0.65)], [(0, 0.35), (1, 0.35)]],
    "#": [
        [(0.3, 1), (0.25, 0)],
        [(0.75, 1), (0.7, 0)],
        [(0, 0.68), (1, 0.68)],
        [(0, 0.32), (1, 0.32)],
    ],
    "*": [[(0.5, 1), (0.5, 0)], [(0.07, 0.75), (0.93, 0.25)], [(0.93, 0.75), (0.07, 0.25)]],
    "?": [[*_circle(0.5, 0.72, 0.28, 160, -60), (0.5, 0.3)], [(0.5, 0.05), (0.51, 0.02)]],
    "!": [[(0.5, 1), (0.5, 0.3)], [(0.5, 0.05), (0.51, 0.02)]],
    "&": [
        [
            (1, 0),
            (0.2, 0.65),
            *_circle(0.38, 0.8, 0.2, 200, -20),
            (0.55, 0.65),
            (0.05, 0.25),
            *_circle(0.35, 0.22, 0.22, 180, 300),
            (0.9, 0.35),
        ]
    ],
    "%": [[(0.9, 1), (0.1, 0)], _circle(0.2, 0.8, 0.16), _circle(0.8, 0.2, 0.16)],
    "<": [[(0.9, 1), (0.1, 0.5), (0.9, 0)]],
    ">": [[(0.1, 1), (0.9, 0.5), (0.1, 0)]],
    "π": [[(0, 0.85), (1, 0.9)], [(0.3, 0.87), (0.25, 0)], [(0.7, 0.88), (0.8, 0)]],
    "Σ": [[(1, 1), (0, 1), (0.55, 0.5), (0, 0), (1, 0)]],
    "Δ": [[(0.5, 1), (1, 0), (0, 0), (0.5, 1)]],
    "@": [
        [*_circle(0.5, 0.5, 0.2, 0, 359), (0.7, 0.3), *_circle(0.5, 0.5, 0.5, -30, 320)],
    ],
    "√": [[(0, 0.45), (0.15, 0.55), (0.35, 0), (0.55, 1), (1, 1)]],
}


def _star(points: int) -> list[Stroke]:
    turn = np.radians(90 + np.arange(2 * points + 1) * 180 / points)
    radius = np.where(np.arange(2 * points + 1) % 2 == 0, 1.0, 0.42)
    return [
        [
            (0.5 + 0.5 * r * math.cos(t), 0.5 + 0.5 * r * math.sin(t))
            for r, t in zip(radius, turn, strict=True)
        ]
    ]


def _heart() -> list[Stroke]:
    t = np.linspace(0, 2 * math.pi, 40)
    x, y = (
        16 * np.sin(t) ** 3,
        13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t),
    )
    return [list(zip((x + 17) / 34, (y + 17) / 30, strict=True))]


SHAPES: dict[str, Callable[[np.random.Generator], list[Stroke]]] = {
    "star": lambda rng: _star(int(rng.integers(5, 8))),
    "star of lines": lambda rng: LETTERS["*"] + [[(0, 0.5), (1, 0.5)]],
    "heart": lambda rng: _heart(),
    "smiley": lambda rng: [
        _circle(0.5, 0.5, 0.5),
        [(0.33, 0.66), (0.34, 0.64)],
        [(0.67, 0.66), (0.68, 0.64)],
        _circle(0.5, 0.5, 0.28, 200, 340),
    ],
    "sun": lambda rng: (
        [_circle(0.5, 0.5, 0.22)]
        + [
            [
                (0.5 + 0.3 * math.cos(a), 0.5 + 0.3 * math.sin(a)),
                (0.5 + 0.5 * math.cos(a), 0.5 + 0.5 * math.sin(a)),
            ]
            for a in np.radians(np.arange(0, 360, 360 / int(rng.integers(6, 11))))
        ]
    ),
    "arrow": lambda rng: [[(0, 0.5), (1, 0.5)], [(0.7, 0.75), (1, 0.5), (0.7, 0.25)]],
    "spiral": lambda rng: [
        [
            (0.5 + r * math.cos(t), 0.5 + r * math.sin(t))
            for t, r in zip(
                np.linspace(0, float(rng.uniform(2.5, 4)) * 2 * math.pi, 80),
                np.linspace(0.03, 0.5, 80),
                strict=True,
            )
        ]
    ],
    "house": lambda rng: [
        [(0, 0), (0, 0.6), (0.5, 1), (1, 0.6), (1, 0), (0, 0)],
        [(0, 0.6), (1, 0.6)],
    ],
    "square with diagonals": lambda rng: [
        [(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)],
        [(0, 0), (1, 1)],
        [(0, 1), (1, 0)],
    ],
    "triangle": lambda rng: LETTERS["Δ"],
    "square": lambda rng: [[(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)]],
    "zigzag": lambda rng: [
        [(i / 6, float(i % 2)) for i in range(7)]
        if rng.random() < 0.5
        else [(float(i % 2), i / 6) for i in range(7)]
    ],
    "wave": lambda rng: [
        [
            (x, 0.5 + 0.3 * math.sin(x * float(rng.uniform(3, 5)) * math.pi))
            for x in np.linspace(0, 1, 40)
        ]
    ],
    "grid": lambda rng: (
        [[(i / 3, 0), (i / 3, 1)] for i in range(4)] + [[(0, i / 3), (1, i / 3)] for i in range(4)]
    ),
    "stick figure": lambda rng: [
        _circle(0.5, 0.85, 0.15),
        [(0.5, 0.7), (0.5, 0.3)],
        [(0.15, 0.55), (0.85, 0.55)],
        [(0.2, 0), (0.5, 0.3), (0.8, 0)],
    ],
    "flower": lambda rng: (
        [_circle(0.5, 0.5, 0.12)]
        + [
            _circle(0.5 + 0.3 * math.cos(a), 0.5 + 0.3 * math.sin(a), 0.17)
            for a in np.radians(np.arange(0, 360, 60))
        ]
    ),
    "cloud": lambda rng: [
        [
            *_circle(0.2, 0.4, 0.2, 90, 270),
            *_circle(0.5, 0.3, 0.2, 200, 340),
            *_circle(0.8, 0.4, 0.2, -90, 90),
            *_circle(0.55, 0.62, 0.22, 10, 170),
            *_circle(0.25, 0.58, 0.15, 20, 160),
        ]
    ],
    "fish": lambda rng: [[*_circle(0.45, 0.5, 0.35, 35, 325), (1, 0.75), (1, 0.25), (0.74, 0.7)]],
}


def wobble(strokes: list[Stroke], rng: np.random.Generator) -> list[Stroke]:
    """A hand's version of clean strokes: resampled densely, warped (rotation, shear,
    aspect), every point nudged by smooth noise, as a pen would wander."""
    angle = math.radians(rng.uniform(-15, 15))
    shear = math.tan(math.radians(rng.uniform(-12, 12)))
    aspect = math.exp(rng.uniform(-0.25, 0.25))
    warp = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    warp = warp @ np.array([[aspect, shear], [0, 1 / aspect]])
    wobbled = []
    for stroke in strokes:
        p = _resample(np.asarray(stroke, dtype=float), 0.02)
        drift = np.cumsum(rng.normal(0, 0.006, size=p.shape), axis=0)
        drift -= np.linspace(0, 1, len(p))[:, None] * drift[-1]  # ends stay near their place
        p = (p + drift + rng.normal(0, 0.003, size=p.shape)) @ warp.T
        wobbled.append([(float(x), float(y)) for x, y in p])
    return wobbled


def _resample(points: np.ndarray, step: float) -> np.ndarray:
    """Points along the polyline every `step` (a pen samples as it moves)."""
    if len(points) < 2:
        return points
    lengths = np.r_[0, np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))]
    if lengths[-1] == 0:
        return points[:1]
    at = np.linspace(0, lengths[-1], max(2, int(lengths[-1] / step) + 1))
    return np.stack([np.interp(at, lengths, points[:, k]) for k in range(2)], axis=1)


def _wander(rng: np.random.Generator, points: int) -> Stroke:
    """A pen path of smooth random turns."""
    turn = np.cumsum(rng.normal(0, 0.35, points)) + rng.uniform(0, 2 * math.pi)
    speed = rng.uniform(0.5, 1.5, points)
    p = np.cumsum(np.stack([np.cos(turn), np.sin(turn)], axis=1) * speed[:, None], axis=0)
    return [(float(x), float(y)) for x, y in p]


def _scribble(rng: np.random.Generator, strokes: int) -> list[Stroke]:
    """A pen sweeping smoothly through 6-12 random places in the box: a tangle that
    crosses itself. (A short wandering path is often a fair digit, a 1, a 3, an 8 that
    people would read so, not a scribble.)"""
    result = []
    for _ in range(strokes):
        places = rng.uniform(0, 1, size=(int(rng.integers(6, 13)), 2))
        mids = (places[:-1] + places[1:]) / 2
        t = np.linspace(0, 1, 10)[:, None]
        # Quadratic curves from midpoint to midpoint, each bent by the place between them.
        path = np.concatenate(
            [
                (1 - t) ** 2 * a + 2 * (1 - t) * t * via + t**2 * b
                for a, via, b in zip(mids[:-1], places[1:-1], mids[1:], strict=True)
            ]
        )
        result.append([(float(x), float(y)) for x, y in path])
    return result


def on_canvas(
    strokes: list[Stroke], rng: np.random.Generator, brush: float, size: float = 0.0
) -> np.ndarray:
    """Strokes drawn on the canvas at a random size (or `size` px) and place, as a digit
    would be."""
    size = size or rng.uniform(0.35, 0.8) * CANVAS
    margin = size / 2 + brush
    center = (
        rng.uniform(margin, CANVAS - margin, size=2) if margin < CANVAS / 2 else (CANVAS / 2,) * 2
    )
    fitted = PenDigit(-1, -1, strokes).fit(CANVAS, size, tuple(center))
    return render(fitted, CANVAS, brush)


def pen_brush(rng: np.random.Generator) -> float:
    return float(rng.uniform(4, 28))


def letter(rng: np.random.Generator) -> np.ndarray:
    name = sorted(LETTERS)[int(rng.integers(len(LETTERS)))]
    return on_canvas(wobble(LETTERS[name], rng), rng, pen_brush(rng))


def shape(rng: np.random.Generator) -> np.ndarray:
    name = sorted(SHAPES)[int(rng.integers(len(SHAPES)))]
    return on_canvas(wobble(SHAPES[name](rng), rng), rng, pen_brush(rng))


def scribble(rng: np.random.Generator) -> np.ndarray:
    return on_canvas(_scribble(rng, int(rng.integers(1, 4))), rng, pen_brush(rng))


def blob(rng: np.random.Generator) -> np.ndarray:
    """A dab of a marker far thicker than a pen: its path no longer than the marker is
    wide, so that the ink is a lump, not a thick stroke (which may be a fair 1)."""
    brush = float(rng.uniform(35, 70))
    path = _wander(rng, int(rng.integers(4, 30)))
    return on_canvas([path], rng, brush, size=float(rng.uniform(0.3, 1.0)) * 2 * brush)


def noise(rng: np.random.Generator) -> np.ndarray:
    """Random pixels at a random grain, specks, or rectangles: dark on a light ground."""
    kind = int(rng.integers(3))
    if kind == 0:
        grain = int(rng.choice([1, 2, 4, 7, 10, 14, 20, 28]))
        small = rng.random((CANVAS // grain + 1,) * 2) < rng.uniform(0.1, 0.6)
        pixels = np.kron(small, np.ones((grain, grain)))[:CANVAS, :CANVAS]
    else:
        image = Image.new("L", (CANVAS, CANVAS), 0)
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(3, 40))):
            x, y = rng.uniform(0, CANVAS, 2)
            w, h = rng.uniform(4, 60 if kind == 1 else 140, 2)
            box = (x, y, x + w, y + h)
            draw.ellipse(box, fill=255) if kind == 1 else draw.rectangle(box, fill=255)
        pixels = np.asarray(image) > 0
    gray = np.where(pixels, 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


# Which system fonts each split may use: glyphs of a family are in one split only.
_FONT_SPLITS = {
    "train": ("DejaVuSans", "DejaVuSerif"),
    "val": ("DejaVuSansMono",),
    "test": ("Liberation",),
}
# Typeset letters and symbols no digit looks like (see the module's docstring).
_GLYPHS = "AaCcDEeFfHhKkMmNnPRrTtUuVvWwXxYy+=#*?!&%<>@€¥πΣΩΔλ√"


@cache
def fonts(split: str) -> tuple[Path, ...]:
    """The installed TrueType fonts that `split` may use (none where none are installed)."""
    found = sorted(Path("/usr/share/fonts").glob("**/*.ttf"))
    families = _FONT_SPLITS[split]

    # DejaVuSansMono must not count as DejaVuSans: the longest matching family decides.
    def family(path: Path) -> str:
        matches = [f for s in _FONT_SPLITS.values() for f in s if path.name.startswith(f)]
        return max(matches, key=len) if matches else ""

    return tuple(p for p in found if family(p) in families)


def glyph(rng: np.random.Generator, split: str) -> np.ndarray | None:
    paths = fonts(split)
    if not paths:
        return None
    font = ImageFont.truetype(str(paths[int(rng.integers(len(paths)))]), int(rng.integers(90, 220)))
    char = _GLYPHS[int(rng.integers(len(_GLYPHS)))]
    image = Image.new("L", (CANVAS, CANVAS), 255)
    ImageDraw.Draw(image).text((CANVAS / 2, CANVAS / 2), char, font=font, fill=0, anchor="mm")
    image = image.rotate(
        float(rng.uniform(-12, 12)), fillcolor=255, resample=Image.Resampling.BILINEAR
    )
    return np.repeat(np.asarray(image)[..., None], 3, axis=2)


_SPLIT_SEED = {"train": 0, "val": 7_919, "test": 104_729}


def sketches(kind: str, count: int, split: str, seed: int = 0) -> Iterator[np.ndarray]:
    """Up to `count` canvases of one kind (fewer for glyphs where no fonts are installed)."""
    if kind not in KINDS or split not in SPLITS:
        raise ValueError(f"unknown kind {kind!r} or split {split!r}")
    rng = np.random.default_rng([_SPLIT_SEED[split], KINDS.index(kind), seed])
    makers: dict[str, Callable[[np.random.Generator], np.ndarray | None]] = {
        "letters": letter,
        "shapes": shape,
        "scribbles": scribble,
        "blobs": blob,
        "glyphs": lambda g: glyph(g, split),
        "noise": noise,
    }
    for _ in range(count):
        sketch = makers[kind](rng)
        if sketch is None:
            return
        yield sketch


# The training mix: mostly pen-drawn kinds, as the Draw tab meets them.
MIX = {"letters": 0.25, "shapes": 0.2, "scribbles": 0.2, "blobs": 0.1, "glyphs": 0.15, "noise": 0.1}


def model_input(kind: str, sketch: np.ndarray) -> np.ndarray | None:
    """What a model gets from a sketch of this kind, as the app prepares it: drawn kinds
    as the canvas sends them (the ink is the alpha), the rest as uploaded images. None
    where the app refuses it before any model (a fill, a dot, no ink)."""
    from ..preprocess.ink import ink_from_alpha  # these import nothing from here; keep them lazy
    from ..preprocess.mnist_style import NotADigit, preprocess, preprocess_ink

    try:
        if kind in UPLOADED:
            stages = preprocess(sketch)
        else:
            stages = preprocess_ink(ink_from_alpha(255 - sketch[..., 0]))
    except NotADigit:
        return None
    return None if stages is None else stages.image


def training_inputs(kind: str, canvases: Iterable[np.ndarray]) -> list[np.ndarray]:
    """Sketches of one kind as uint8 28x28 model inputs, for training. Those the app
    already refuses (a fill, a dot) are left out: they never reach a model."""
    inputs = (model_input(kind, sketch) for sketch in canvases)
    return [np.round(image * 255).astype(np.uint8) for image in inputs if image is not None]


def stacked(images: list[np.ndarray]) -> np.ndarray:
    """(N, 28, 28) uint8, also for none."""
    return np.stack(images) if images else np.zeros((0, 28, 28), np.uint8)


def negative_images(count: int, split: str = "train", seed: int = 0) -> np.ndarray:
    """About `count` non-digits of every kind (MIX) as model inputs: uint8 (N, 28, 28)."""
    return stacked(
        [
            image
            for kind, share in MIX.items()
            for image in training_inputs(kind, sketches(kind, round(count * share), split, seed))
        ]
    )
