"""What the app says to people, in one place (the engine's messages are for any caller)."""

from __future__ import annotations

import os

from ..preprocess import PREPROCESSING, NotADigit

DRAW_A_DIGIT = "draw a digit"
NO_MODEL = "no model yet: train one first"
FILLED = "the ink fills the canvas: clear it and draw one digit"
DOT = "that is a dot, not a digit: draw the whole digit"
# A model's refusal, above its best guess (shown small).
NOT_A_DIGIT_ANSWER = "This doesn't look like a digit"


def not_a_digit(err: NotADigit) -> str:
    """The Draw tab's answer for ink that cannot be a digit."""
    return {"filled": FILLED, "dot": DOT}.get(err.reason, str(err))


def no_models_help(weights_dir: str | os.PathLike) -> str:
    return (
        f"No trained model yet in `{weights_dir}`. Train one in the **Train** tab (the "
        "`speedrun` recipe takes about a minute on a CPU), or run "
        "`python -m mnist_app train --recipe speedrun`."
    )


def preprocessing_notice(name: str, trained_with: str) -> str:
    """Why a model may read drawings worse than it should, or "" when it matches."""
    if trained_with == PREPROCESSING:
        return ""
    if not trained_with:
        when = "records no preprocessing version (it predates them)"
    else:
        when = f"was trained with preprocessing `{trained_with}`"
    return (
        f"**{name}** {when}; this app now turns drawings into 28x28 with `{PREPROCESSING}`. "
        "It may read drawings differently from how it was trained and measured: retrain it "
        "for the best results."
    )
