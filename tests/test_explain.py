"""Why a model answers as it does: Integrated Gradients over the input and the strokes."""

from __future__ import annotations

import numpy as np
import pytest
from gradio_client.exceptions import AppError
from PIL import Image

from mnist_app.analysis.explain import explain
from mnist_app.core.predict import load_predictor
from mnist_app.preprocess import preprocess
from tests.harness.server import MODEL, label_of
from tests.harness.sketches import composite_value as sketch
from tests.harness.sketches import pen_drawing


@pytest.fixture(scope="module")
def drawn_nine(tmp_path_factory):
    path, label = pen_drawing(3, tmp_path_factory.mktemp("why") / "nine.png")
    assert label == 9
    return path, preprocess(Image.open(path))


def test_the_shares_add_up_to_the_answers_lead_and_sit_on_the_ink(drawn_nine):
    _, stages = drawn_nine
    explanation = explain(load_predictor("resnet_mini"), stages.image)
    assert explanation.top == 9 and explanation.runner_up != 9
    whole = explanation.lead - explanation.blank_lead
    assert abs(explanation.attribution.sum() - whole) < 0.05 * abs(whole)  # completeness
    assert not explanation.attribution[stages.image == 0].any()  # only ink has a share
    assert explanation.attribution.sum() > 0  # the ink, taken together, made it a 9


def test_a_map_of_the_input_lands_back_on_the_strokes(drawn_nine):
    _, stages = drawn_nine
    on_canvas = stages.to_canvas(stages.image)
    assert on_canvas.shape == stages.ink.shape
    inked, bare = on_canvas[stages.ink > 0.5], on_canvas[stages.ink == 0]
    assert inked.mean() > 4 * bare.mean()


def test_explain_returns_the_maps_as_images_and_agrees_with_predict(client, drawn_nine):
    path, stages = drawn_nine
    input_png, strokes_png, summary = client.predict(sketch(path), MODEL, api_name="/explain")
    predicted = label_of(client.predict(sketch(path), MODEL, api_name="/predict"))
    assert str(summary["digit"]) == predicted and summary["method"] == "integrated gradients"
    assert Image.open(input_png).size == (280, 280)
    strokes = np.asarray(Image.open(strokes_png).convert("RGBA"))
    assert strokes.shape[:2] == stages.ink.shape
    coloured = strokes[..., 3] > 0
    assert coloured.any() and not coloured[stages.ink == 0].any()  # the strokes only


def test_explain_says_when_there_is_nothing_to_explain(client, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (280, 280), "white").save(blank)
    with pytest.raises(AppError, match="nothing to explain"):
        client.predict(sketch(blank), MODEL, api_name="/explain")
