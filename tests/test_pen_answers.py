"""The pen canvas's answers for 50 real pen digits (pendigits test writers): at pen-up
exactly torch's, as before frames sent while drawing were read through ONNX Runtime; while
drawing, the same digit."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mnist_app.core import onnx_answer
from mnist_app.core.paths import pendigits_file
from mnist_app.pen.replay import parse
from mnist_app.service.library import ModelLibrary
from mnist_app.ui.draw_tab import DrawHandlers
from mnist_app.ui.pen_answers import NonDigit, answer_html, png_data_url, read_page_drawing
from mnist_app.ui.pen_canvas import pen_reader
from mnist_app.ui.stage_strip import stage_strip
from tests.harness.server import MODEL, weights_with_quick_model
from tests.harness.sketches import canvas_data_url

DIGITS = 50


@pytest.fixture(scope="module")
def library(mnist, tmp_path_factory):
    folder = weights_with_quick_model(mnist, tmp_path_factory.mktemp("pen") / "weights")
    library = ModelLibrary(folder)
    deadline = time.monotonic() + 120
    while library.live_answer(MODEL) is None:  # the first ask exports it in the background
        assert time.monotonic() < deadline, "the model's ONNX export did not get ready"
        time.sleep(0.2)
    return library


@pytest.fixture(scope="module")
def drawings() -> list[str]:
    """Each digit's strokes on the canvas, the whole digit (pen-up after its last stroke)."""
    return [
        canvas_data_url(d.fit(280, 180, (140, 140))) for d in parse(pendigits_file("test"))[:DIGITS]
    ]


def torch_reply(library: ModelLibrary, url: str) -> dict:
    """What the canvas answered at pen-up before live frames went through ONNX Runtime:
    the predictor's answer, its panel and the stage strip."""
    stages = read_page_drawing({"image": url, "kind": "canvas"}, 2**20)
    probabilities, is_digit = library.predictor(MODEL).answer(stages.image)
    answer = {str(d): float(p) for d, p in enumerate(probabilities)}
    answer = answer if is_digit else NonDigit(answer)
    state = "digit" if is_digit else "not-digit"
    return {
        "html": answer_html(answer),
        "state": state,
        "stages": png_data_url(stage_strip(stages)),
        "pace_ms": 60,  # how often to ask while drawing: no model trains
    }


def test_pen_up_answers_are_torchs_to_the_bit_on_50_pen_digits(library, drawings, monkeypatch):
    asked_onnx = []
    real = onnx_answer.OnnxAnswer.answer
    monkeypatch.setattr(
        onnx_answer.OnnxAnswer,
        "answer",
        lambda self, image: asked_onnx.append(1) or real(self, image),
    )
    read_pen = pen_reader(DrawHandlers(library).probabilities, 2**20)
    for url in drawings:
        reply = read_pen({"image": url, "kind": "canvas", "model": MODEL})
        assert reply == torch_reply(library, url)
    assert asked_onnx == []


def test_frames_sent_while_drawing_name_the_digit_the_pen_up_will(library, drawings):
    read_pen = pen_reader(DrawHandlers(library).probabilities, 2**20)
    fast = library.live_answer(MODEL)
    for url in drawings:
        live = read_pen({"image": url, "kind": "canvas", "model": MODEL, "live": True})
        final = read_pen({"image": url, "kind": "canvas", "model": MODEL})
        assert live["live"] is True and live["state"] == final["state"]
        stages = read_page_drawing({"image": url, "kind": "canvas"}, 2**20)
        torch_probabilities, _ = library.predictor(MODEL).answer(stages.image)
        onnx_probabilities, _ = fast.answer(stages.image)
        np.testing.assert_allclose(onnx_probabilities, torch_probabilities, atol=1e-5)
        assert onnx_probabilities.argmax() == torch_probabilities.argmax()
