"""A person's own handwriting through the API of the launched app, as a script would use
it: drawings collected with their digits, refused when they are not digits or the name is
bad, kept from strangers, fitted into a model of their own, and deleted."""

from __future__ import annotations

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from tests.harness.server import MODEL
from tests.test_personal import writer_sketches

TOKEN = "ada's secret"


def png(pixels: np.ndarray, path) -> str:
    Image.fromarray(pixels).save(path)
    return handle_file(str(path))


def collect(client, image, digit: str, name: str = "ada", token: str = TOKEN) -> str:
    return client.predict(image, digit, name, MODEL, token, api_name="/collect")


@pytest.fixture(scope="module")
def collected(client, tmp_path_factory):
    """Ada's set: 3 drawings of each digit, the first of each marked "right" when the
    model reads it right."""
    folder = tmp_path_factory.mktemp("ada")
    answers = []
    for k, (sketch, label) in enumerate(writer_sketches(3)):
        answers.append(collect(client, png(sketch, folder / f"{k}.png"), str(label)))
    return answers


def test_drawings_are_collected_with_their_digits(client, collected):
    assert collected[0] == "Kept as a 0 in ada's set."
    kept = client.predict("ada", TOKEN, api_name="/personal_set")
    assert kept["counts"] == {str(d): 3 for d in range(10)} and kept["needed"] == {}
    assert [d["digit"] for d in kept["drawings"]] == [d for d in range(10) for _ in range(3)]


def test_right_keeps_what_the_model_reads(client, tmp_path):
    one = np.full((280, 280, 3), 255, np.uint8)
    one[60:220, 130:146] = 0
    answer = collect(client, png(one, tmp_path / "one.png"), "right", name="bo", token="bo")
    assert answer == "Kept as a 1 in bo's set."
    assert client.predict("bo", "bo", api_name="/personal_set")["counts"]["1"] == 1


@pytest.mark.parametrize(
    ("draw", "digit", "name", "message"),
    [
        ("blank", "3", "ada", "Draw a digit first"),
        ("blank", "right", "", "Draw a digit first"),  # not "enter your name": nothing to keep
        ("dot", "3", "ada", "Not kept: that is a dot, not a digit"),
        ("one", "12", "ada", 'The digit must be "0" to "9", or "right"'),
        ("one", "3", "ada/../x", "A name may not contain /"),
        ("one", "3", "", "Enter your name first"),
    ],
)
def test_bad_input_gets_a_clear_message(client, tmp_path, draw, digit, name, message):
    pixels = np.full((280, 280, 3), 255, np.uint8)
    if draw == "dot":
        pixels[135:145, 135:145] = 0
    elif draw == "one":
        pixels[60:220, 130:146] = 0
    with pytest.raises(AppError, match=message.replace("(", r"\(")):
        collect(client, png(pixels, tmp_path / "x.png"), digit, name=name)


def test_a_set_is_its_owners_alone(client, collected, tmp_path):
    with pytest.raises(AppError, match="taken by someone else"):
        client.predict("ada", "a stranger", api_name="/personal_set")
    with pytest.raises(AppError, match="taken by someone else"):
        client.predict("ada", MODEL, "a stranger", api_name="/fit_personal")
    with pytest.raises(AppError, match="taken by someone else"):
        client.predict("ada", "a stranger", api_name="/delete_personal_set")


def test_a_fit_saves_a_model_of_her_own_with_before_and_after(client, collected):
    result = client.predict("ada", MODEL, TOKEN, api_name="/fit_personal")
    assert result["saved_as"] == f"{MODEL}-ada" and result["base"] == MODEL
    assert (result["samples"], result["folds"]) == (30, 3)
    for key in ("own_before", "own_after", "mnist_before", "mnist_after"):
        assert 0 <= result[key] <= 1
    assert abs(result["mnist_after"] - result["mnist_before"]) < 0.01
    models = {m["name"]: m for m in client.predict(api_name="/models")}
    assert models[f"{MODEL}-ada"]["test_accuracy"] == pytest.approx(result["mnist_after"])
    # Hers to manage, like any model she trained.
    client.predict(f"{MODEL}-ada", f"{MODEL}-ada-v1", TOKEN, api_name="/rename_model")


def test_too_few_drawings_say_how_many_more(client, tmp_path):
    one = np.full((280, 280, 3), 255, np.uint8)
    one[60:220, 130:146] = 0
    collect(client, png(one, tmp_path / "one.png"), "1", name="cy", token="cy")
    with pytest.raises(AppError, match=r"27 more needed|Draw 3 more 0s"):
        client.predict("cy", MODEL, "cy", api_name="/fit_personal")


def test_drawings_deleted_one_by_one_or_all_at_once(client, tmp_path):
    pixels = np.full((280, 280, 3), 255, np.uint8)
    pixels[60:220, 130:146] = 0
    for _ in range(2):
        collect(client, png(pixels, tmp_path / "one.png"), "1", name="di", token="di")
    first, second = client.predict("di", "di", api_name="/personal_set")["drawings"]
    assert client.predict("di", first["id"], "di", api_name="/delete_drawing") == (
        "Deleted that drawing."
    )
    left = client.predict("di", "di", api_name="/personal_set")["drawings"]
    assert left == [second]
    assert client.predict("di", "di", api_name="/delete_personal_set") == (
        "Deleted 1 drawing: di's set is gone from the server."
    )
    assert client.predict("di", "di", api_name="/personal_set")["drawings"] == []
