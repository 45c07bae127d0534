"""Inside the network: every layer of every architecture for one image, the training images
that excite a channel most, and /inspect_layers for programs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from torch import nn

from mnist_app.analysis.channel_examples import ChannelExampleJobs, channel_examples
from mnist_app.analysis.layers import LayerInspector, inspector
from mnist_app.core.models import build_model, last_linear
from mnist_app.core.personal_head import PersonalHead, install_personal_head
from mnist_app.core.predict import load_predictor
from mnist_app.preprocess import preprocess
from mnist_app.service.library import ModelLibrary
from mnist_app.training.recipes import RECIPES
from mnist_app.ui.inside_view import InsideHandlers
from mnist_app.ui.pen_answers import png_data_url
from tests.harness.server import MODEL, label_of
from tests.harness.sketches import pen_drawing

MAPS, UNITS = "conv", "dense"
# Per architecture (default arguments): each row's kind and shape, input to output.
EXPECTED = {
    "mlp": [("input", (1, 28, 28)), (UNITS, (256,)), ("features", (64,)), ("output", (10,))],
    "tutorial_cnn": [
        ("input", (1, 28, 28)),
        (MAPS, (32, 28, 28)),
        (MAPS, (64, 14, 14)),
        (MAPS, (128, 7, 7)),
        ("features", (768,)),
        ("output", (10,)),
    ],
    "cnnnet": [
        ("input", (1, 28, 28)),
        (MAPS, (16, 28, 28)),
        (MAPS, (32, 14, 14)),
        ("features", (1568,)),
        ("output", (10,)),
    ],
    "lenet5": [
        ("input", (1, 28, 28)),
        (MAPS, (6, 28, 28)),
        (MAPS, (16, 10, 10)),
        (UNITS, (120,)),
        ("features", (84,)),
        ("output", (10,)),
    ],
    "speednet": [
        ("input", (1, 28, 28)),
        (MAPS, (32, 14, 14)),
        (MAPS, (64, 7, 7)),
        ("features", (576,)),
        ("output", (10,)),
    ],
    "resnet_mini": [
        ("input", (1, 28, 28)),
        (MAPS, (32, 28, 28)),
        (MAPS, (32, 28, 28)),
        (MAPS, (64, 14, 14)),
        (MAPS, (64, 14, 14)),
        (MAPS, (128, 7, 7)),
        (MAPS, (128, 7, 7)),
        ("features", (128,)),
        ("output", (10,)),
    ],
}


@pytest.fixture(scope="module")
def drawn_seven(tmp_path_factory):
    path, label = pen_drawing(7, tmp_path_factory.mktemp("inside") / "seven.png")
    assert label == 7
    return path, preprocess(Image.open(path)).image


def rows(model: nn.Module, image) -> list[tuple[str, tuple[int, ...]]]:
    layers = LayerInspector(model, 0.1307, 0.3081).inspect(image)
    return [(layer.kind, layer.values.shape) for layer in layers]


@pytest.mark.parametrize("arch", sorted(EXPECTED))
def test_each_architecture_shows_its_layers_with_their_shapes(arch, drawn_seven):
    torch.manual_seed(0)
    assert rows(build_model(arch), drawn_seven[1]) == EXPECTED[arch]


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_every_recipes_model_shows_every_layer_and_ten_probabilities(recipe, drawn_seven):
    config = RECIPES[recipe].config
    model = build_model(config.arch, **config.model_kwargs())
    layers = LayerInspector(model, 0.1307, 0.3081).inspect(drawn_seven[1])
    weighted = sum(isinstance(m, nn.Conv2d | nn.Linear) for m in model.modules())
    kinds = [layer.kind for layer in layers]
    # Every weighted layer but the last one is a numbered row (the last makes the output).
    assert sum(layer.name.startswith("layer ") for layer in layers) == weighted - 1
    assert kinds[0] == "input" and kinds[-1] == "output" and kinds.count("features") == 1
    assert layers[-1].values.sum() == pytest.approx(1, abs=1e-5)


def test_the_shipped_model_names_its_layers_and_agrees_with_its_own_answer(drawn_seven):
    predictor = load_predictor("resnet_drawn")
    layers = inspector(predictor).inspect(drawn_seven[1])
    assert [layer.name for layer in layers][1:4] == [
        "layer 1 · conv 1→32, 3x3 · 28x28",
        "layer 2 · conv 32→32, 3x3 · 28x28",
        "layer 3 · conv 32→64, 3x3 · 14x14",
    ]
    assert layers[-2].name == "penultimate · 128 features, what the last layer reads"
    assert np.allclose(layers[-1].values, predictor.probabilities(drawn_seven[1]), atol=1e-5)
    assert layers[-1].values.argmax() == 7
    assert inspector(predictor) is inspector(predictor)  # made once per loaded model


def test_a_personal_model_shows_the_same_layers_as_its_base(drawn_seven):
    torch.manual_seed(0)
    model = build_model("lenet5")
    base_rows = rows(model, drawn_seven[1])
    old = last_linear(model)
    width = old.in_features
    head = PersonalHead(
        old, nn.Linear(width, 10), torch.zeros(width), torch.randn(3, width), torch.randn(5, width)
    )
    assert rows(install_personal_head(model, head), drawn_seven[1]) == base_rows


@pytest.fixture(scope="module")
def lenet_and_images(mnist):
    return load_predictor("t4_lenet5").model, mnist.train_images[:300]


def test_the_top_nine_of_a_channel_are_its_nine_strongest_images(lenet_and_images):
    model, images = lenet_and_images
    found = channel_examples(model, 0.1307, 0.3081, images, batch_size=64)  # batches merged
    one_by_one = LayerInspector(model, 0.1307, 0.3081)  # another path: one image, no batch
    per_image = [one_by_one.inspect(image) for image in images]  # brute force
    clickable = [i for i, layer in enumerate(per_image[0]) if layer.channels]
    assert len(found.indices) == len(clickable) == 4  # two conv layers, dense, features
    for layer, row in enumerate(clickable):
        for channel in (0, per_image[0][row].channels - 1):
            responses = np.array([rows[row].values[channel].max() for rows in per_image])
            assert np.ptp(responses) > 0  # not a channel that answers all alike
            indices, said = zip(*found.top(layer, channel), strict=True)
            assert len(set(indices)) == 9
            assert np.allclose(said, responses[list(indices)], atol=1e-4)  # what they are
            # and none of the others is stronger (ties, such as a map's background, may
            # make several nines right)
            assert np.allclose(said, np.sort(responses)[::-1][:9], atol=1e-4)


def test_channel_images_are_computed_once_in_the_background(lenet_and_images):
    _, images = lenet_and_images
    predictor = load_predictor("t4_lenet5")
    jobs = ChannelExampleJobs()
    first = jobs.status(predictor, images)
    while isinstance(first, float):  # the fraction done
        assert 0 <= first <= 1
        first = jobs.status(predictor, images)
    assert jobs.status(predictor, images) is first  # a second click: the same, at once
    assert len(first.top(0, 5)) == 9
    with pytest.raises(IndexError):
        first.top(0, 6)  # LeNet-5's first layer has 6 maps


def test_the_views_server_functions_say_what_is_wrong_with_a_request():
    inside = InsideHandlers(ModelLibrary(), max_upload_bytes=2**20)
    blank = png_data_url(np.zeros((280, 280, 4), np.uint8))
    for request, said in [
        ({"image": None, "kind": "canvas", "model": "resnet_drawn"}, "the page sent no image"),
        ({"image": blank, "kind": "canvas", "model": "resnet_drawn"}, "draw a digit"),
        ("not a request", "the page sent no image"),
    ]:
        reply = inside.inspect_drawing(request)
        assert said in reply["html"] and "model" not in reply, reply
    drawn = np.zeros((280, 280, 4), np.uint8)
    drawn[60:220, 132:148, 3] = 255  # a 1, black on a transparent canvas
    one = {"image": png_data_url(drawn), "kind": "canvas"}
    reply = inside.inspect_drawing({**one, "model": "nope"})
    assert "no model named" in reply["html"]
    for request in [{"model": "resnet_drawn", "layer": "1", "channel": 0}, {"layer": 0}]:
        assert inside.channel_images(request)["state"] == "error"
    missing = inside.channel_images({"model": "nope", "layer": 0, "channel": 0})
    assert missing["state"] == "error" and "no model named" in missing["html"]


def test_inspect_layers_returns_every_layer_as_arrays_and_a_picture(client, drawn_seven):
    path, _ = drawn_seven
    found, picture = client.predict(handle_file(str(path)), MODEL, api_name="/inspect_layers")
    shapes = [(layer["kind"], tuple(layer["shape"])) for layer in found["layers"]]
    # The test app's model is a speedrun (speednet with a hidden layer of 256).
    assert shapes == [
        ("input", (1, 28, 28)),
        (MAPS, (32, 14, 14)),
        (MAPS, (64, 7, 7)),
        ("features", (256,)),
        ("output", (10,)),
    ]
    assert np.asarray(found["layers"][1]["values"]).shape == (32, 14, 14)
    assert found["layers"][1]["name"] == "layer 1 · conv 4→32, 3x3 · 14x14"
    probabilities = np.asarray(found["layers"][-1]["values"])
    assert probabilities.sum() == pytest.approx(1, abs=0.01)
    predicted = client.predict(handle_file(str(path)), MODEL, api_name="/predict_image")
    assert str(probabilities.argmax()) == label_of(predicted)
    width, height = Image.open(picture).size
    assert width > 400 and height > 500  # a row per layer


def test_inspect_layers_says_when_there_is_nothing_to_look_inside(client, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (280, 280), "white").save(blank)
    with pytest.raises(AppError, match="nothing to look inside"):
        client.predict(handle_file(str(blank)), MODEL, api_name="/inspect_layers")
