"""What a run trains on: MNIST less its validation images, plus pen-drawn digits and
non-digits as its settings say.

Drawn digits (`drawn_data`) come from named sources, joined with "+": pendigits (its train
writers), unipen (the UNIPEN writers outside `pen.writers.HELD_OUT`), or a file in the
pendigits format. Non-digits are generated (`nondigit.negatives`), drawn in stroke fonts,
or real pen letters (`pen_letters`). Replayed drawings of a named source are rendered once
and kept (`pen.rendered`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..core.data import Mnist, Split
from ..core.paths import PENDIGITS_TRAIN, drawn_data_file
from ..core.settings import TrainConfig
from ..nondigit.negatives import negative_images
from ..nondigit.stroke_fonts import stroke_font_images
from ..pen import rendered
from ..pen.replay import PenDigit, parse, render_training_images
from ..pen.sources import pendigits_path, unipen_dir
from ..pen.styles import training_styles
from ..pen.unipen import pen_digits
from ..pen.unipen_labels import JUDGED_WRONG
from ..pen.writers import HELD_OUT, letter_pens, unipen_digits, unipen_letters

# The label of a non-digit in the training set: no digit is its answer.
NOT_A_DIGIT = 10
UNIPEN = "unipen"
# Each source's renderings get their own seed; the first keeps the run's, so a recipe that
# trains on one source renders what it rendered before sources could be joined.
_SOURCE_SEED_STEP = 7919


def training_split(config: TrainConfig, data: Mnist) -> tuple[Split, Split]:
    """What a run of `config` trains on (MNIST less the validation images, plus drawn
    digits and non-digits as configured) and validates on (pure MNIST)."""
    train_split, val_split = data.split(config.val_size, seed=config.seed)
    if config.mnist_repeats > 1:
        repeats = config.mnist_repeats
        train_split = Split(
            train_split.images.repeat(repeats, 1, 1), train_split.labels.repeat(repeats)
        )
    if config.drawn_data:
        train_split = _joined(train_split, *drawn_renderings(config), config.drawn_repeats)
    if config.negatives:
        train_split = _joined(train_split, *_non_digits(config))
    return train_split, val_split


def find_pen_data(config: TrainConfig, download: bool) -> None:
    """Find the pen data `config` trains on, else download it (`download`) or stop with a
    `PenDataNotFoundError` that says what to download and where to put it."""
    sources = drawn_sources(config.drawn_data)
    if PENDIGITS_TRAIN in sources:
        pendigits_path("train", download=download)
    if UNIPEN in sources or config.pen_letters:
        unipen_dir(download=download)


def drawn_sources(setting: str) -> list[str]:
    """The sources a `drawn_data` setting names: "pendigits+unipen" -> both."""
    return [part.strip() for part in setting.split("+") if part.strip()]


def drawn_digits(config: TrainConfig) -> list[PenDigit]:
    """Every pen-drawn digit `config.drawn_data` names, or a ValueError that says why not."""
    return [digit for source in drawn_sources(config.drawn_data) for digit in _digits(source)]


def drawn_renderings(config: TrainConfig) -> rendered.Renderings:
    """The drawn digits rendered for training: `drawn_copies` renderings of each, plus
    `drawn_styles` of each edited into a writing style MNIST lacks."""
    return _made(_drawn_pieces(config))


def kept(config: TrainConfig) -> tuple[bool, bool]:
    """Whether the drawn digits, and the non-digits, of a run of `config` are kept
    rendered already (the run then spends no time making them)."""
    drawn = _drawn_pieces(config) if config.drawn_data else []
    non_digits = _non_digit_pieces(config) if config.negatives else []
    return tuple(all(p.what and rendered.is_kept(p.what) for p in ps) for ps in (drawn, non_digits))


@dataclass(frozen=True)
class _Piece:
    """Renderings of one kind: `render()` makes them; `what` decides them, to keep them
    by (None: a file of someone's own, rendered each time)."""

    what: dict | None
    render: Callable[[], rendered.Renderings]


def _made(pieces: list[_Piece]) -> rendered.Renderings:
    made = [rendered.cached(p.what, p.render) if p.what else p.render() for p in pieces]
    return torch.cat([m[0] for m in made]), torch.cat([m[1] for m in made])


def _drawn_pieces(config: TrainConfig) -> list[_Piece]:
    sources = drawn_sources(config.drawn_data)
    return [_source_piece(config, k, source) for k, source in enumerate(sources)]


def _source_piece(config: TrainConfig, index: int, source: str) -> _Piece:
    seed = config.seed + index * _SOURCE_SEED_STEP
    jitter, copies, styles = config.drawn_jitter, config.drawn_copies, config.drawn_styles

    def render() -> rendered.Renderings:
        digits = _digits(source)
        images, labels = render_training_images(digits, copies, seed, jitter)
        if styles:
            styled = training_styles(digits, seed)
            more = render_training_images(styled, styles, seed + 1, jitter)
            images, labels = torch.cat([images, more[0]]), torch.cat([labels, more[1]])
        return images, labels

    stamp = _stamp(source)  # "" for a file of someone's own, or missing: render() says so
    what = {"digits": stamp, "copies": copies, "styles": styles, "seed": seed, "jitter": jitter}
    return _Piece(what if stamp else None, render)


def _non_digits(config: TrainConfig) -> rendered.Renderings:
    """Generated non-digits, stroke-font letters and symbols, and pen letters, labelled
    NOT_A_DIGIT."""
    images = _made(_non_digit_pieces(config))[0]
    return images, torch.full((len(images),), NOT_A_DIGIT, dtype=torch.long)


def _non_digit_pieces(config: TrainConfig) -> list[_Piece]:
    generated = (
        config.negatives - config.script_negatives - config.symbol_negatives - config.pen_letters
    )
    pieces = [_generated("generated", generated, config.seed)]
    for kind, count in (
        ("script letters", config.script_negatives),
        ("symbols", config.symbol_negatives),
    ):
        if count:
            pieces.append(_generated(kind, count, config.seed))
    if config.pen_letters:
        pieces.append(_pen_letters(config.pen_letters, config.seed, config.drawn_jitter))
    return pieces


def _generated(kind: str, count: int, seed: int) -> _Piece:
    """`count` generated non-digits ("generated": nondigit.negatives) or stroke-font ones
    of `kind`."""

    def render() -> rendered.Renderings:
        if kind == "generated":
            images = negative_images(count, "train", seed)
        else:
            images = stroke_font_images(kind, count, "train", seed)
        return torch.from_numpy(images), torch.zeros(len(images), dtype=torch.long)

    return _Piece({"non-digits": kind, "count": count, "seed": seed}, render)


def _pen_letters(count: int, seed: int, jitter: float) -> _Piece:
    """`count` renderings of the training writers' UNIPEN letters, each letter drawn
    about as often as the others (a letter is drawn again only when count asks for more
    than there are)."""

    def render() -> rendered.Renderings:
        letters = letter_pens(unipen_letters("train"), NOT_A_DIGIT)
        rng = np.random.default_rng([seed, 2])
        rounds = -(-count // len(letters))
        order = np.concatenate([rng.permutation(len(letters)) for _ in range(rounds)])[:count]
        return render_training_images([letters[i] for i in order], 1, seed + 2, jitter)

    stamp = _unipen_stamp("1b", "1c")  # "" where UNIPEN is missing: render() says so
    what = {"letters": stamp, "count": count, "seed": seed, "jitter": jitter}
    return _Piece(what if stamp else None, render)


def _digits(source: str) -> list[PenDigit]:
    if source == UNIPEN:
        return pen_digits(unipen_digits("train"))
    path = drawn_data_file(source)
    try:
        return parse(path)
    except OSError as err:
        if source == PENDIGITS_TRAIN:
            message = (
                f"this recipe also trains on pen-drawn digits (pendigits), which are not at "
                f"{path}: name their folder with --pendigits-dir or PENDIGITS_DIR, "
                "or pick a recipe that trains on MNIST alone"
            )
        else:
            message = f"cannot read drawn digits from {source}: {err.strerror or err}"
        raise ValueError(message) from err


def _stamp(source: str) -> str:
    """What a named source's renderings are kept by; "" for a file of someone's own, or
    data that is not there."""
    if source == UNIPEN:
        return _unipen_stamp("1a")
    if source == PENDIGITS_TRAIN:
        try:
            return rendered.data_stamp(drawn_data_file(source))
        except OSError:
            pass
    return ""


def _unipen_stamp(*sections: str) -> str:
    """The UNIPEN sections' place and date, and who is held out and left out as
    mislabelled; "" where UNIPEN is not at hand."""
    try:
        data = unipen_dir(download=False) / "data"
        stamps = [rendered.data_stamp(data / section) for section in sections]
    except (OSError, ValueError):
        return ""
    return f"{stamps} held out {HELD_OUT}, {len(JUDGED_WRONG)} judged wrong"


def _joined(split: Split, images: torch.Tensor, labels: torch.Tensor, repeats: int = 1) -> Split:
    return Split(
        torch.cat([split.images, images.repeat(repeats, 1, 1)]),
        torch.cat([split.labels, labels.repeat(repeats)]),
    )
