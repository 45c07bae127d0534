"""The Models tab and the Mistakes details through the API, as a script would use them:
facts, drawn-digit accuracy, curves and disagreements, one test image explained, models
renamed and deleted by their owner only, and ONNX export."""

from __future__ import annotations

import time

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from mnist_app.core.predict import load_predictor
from tests.harness.server import MODEL, train_args


@pytest.fixture(scope="module")
def own_model(client):
    """A model trained through the API: its name and the token that owns it."""
    final = client.submit(**train_args(name="api-own"), api_name="/train").result(timeout=600)
    assert final["state"] == "done", final
    return final["saved_as"], final["stop_token"]


def record(client, name: str) -> dict:
    return next(r for r in client.predict(api_name="/models") if r["name"] == name)


def test_models_say_what_shipped_and_measure_drawn_digits(client, own_model):
    shipped, own = record(client, MODEL), record(client, own_model[0])
    assert shipped["shipped"] and not own["shipped"]
    assert own["device"].startswith("CPU") and own["created"]
    deadline = time.monotonic() + 600  # measured in the background: a bound for a hang
    while record(client, MODEL)["drawn_accuracy"] is None and time.monotonic() < deadline:
        time.sleep(2)
    drawn = record(client, MODEL)["drawn_accuracy"]
    assert set(drawn) == {"6", "12", "20"} and all(0.5 < a <= 1 for a in drawn.values())


def test_two_models_compared(client, own_model):
    note, curves, summary, gallery, difference = client.predict(
        [MODEL, own_model[0]], api_name="/compare"
    )
    assert note == "" and curves  # both kept their curves
    assert f"**{MODEL}** and **{own_model[0]}** read" in summary
    shown = int(summary.split("Shown: ")[1].split(",")[0])
    assert len(gallery) == shown > 0
    assert all(item["caption"].startswith("a ") for item in gallery)
    assert difference


def test_one_model_has_curves_but_no_disagreements(client):
    note, curves, summary, gallery, _ = client.predict([MODEL], api_name="/compare")
    assert "two or more" in note and curves and summary == "" and gallery == []


def test_a_test_image_explained_with_its_nearest_training_images(client):
    title, probabilities, why, legend, neighbours = client.predict(MODEL, 0, api_name="/inspect")
    assert title.startswith("**Test image #0**: a 7")
    assert len(probabilities["confidences"]) == 10
    assert why and "Integrated Gradients" in legend
    assert len(neighbours) == 6
    assert sum(n["caption"].startswith("a 7 ") for n in neighbours) >= 5
    with pytest.raises(AppError, match="test_index must be 0 to 9999"):
        client.predict(MODEL, 10_000, api_name="/inspect")


def test_only_the_owner_renames_and_deletes(client, app_url, own_model):
    """The session that trained a model, or anyone with its /train call's token."""
    name, token = own_model
    with pytest.raises(AppError, match="shipped with the app"):
        client.predict(MODEL, "mine-now", token, api_name="/rename_model")
    stranger = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="someone else"):
        stranger.predict(name, "stolen", "a-guess", api_name="/rename_model")
    with pytest.raises(AppError, match="already exists"):
        client.predict(name, MODEL, token, api_name="/rename_model")
    assert "Renamed" in client.predict(name, "api-renamed", token, api_name="/rename_model")
    names = {r["name"] for r in client.predict(api_name="/models")}
    assert "api-renamed" in names and name not in names
    with pytest.raises(AppError, match="someone else"):
        stranger.predict("api-renamed", "", api_name="/delete_model")
    assert "Deleted" in stranger.predict("api-renamed", token, api_name="/delete_model")
    assert "api-renamed" not in {r["name"] for r in client.predict(api_name="/models")}


def test_export_to_onnx_gives_the_same_probabilities(client, app_weights, mnist):
    onnxruntime = pytest.importorskip("onnxruntime")
    path = client.predict(MODEL, api_name="/export_onnx")
    session = onnxruntime.InferenceSession(path)
    images = mnist.test_images[:100].numpy().astype(np.float32)[:, None] / 255
    onnx, is_digit = session.run(None, {"image": images})
    torch_probabilities = load_predictor(MODEL, weights_dir=app_weights).probabilities(images)
    assert np.abs(onnx - torch_probabilities).max() < 1e-4
    assert is_digit.all()  # it always names a digit
