"""The launched app, driven through its API with gradio_client, as a script user would."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from tests.harness.server import MODEL, label_of, train_args
from tests.harness.sketches import composite_value as sketch
from tests.harness.sketches import pen_drawing

CAPTION = re.compile(r"^true (\d) -> predicted (\d) \((\d+)%\)$")


def as_drawing(mnist_image: np.ndarray, path: Path, size: int = 280) -> Path:
    """An MNIST digit as someone would draw it on the canvas: big, dark ink on white."""
    big = Image.fromarray(mnist_image).resize((size, size), Image.Resampling.BILINEAR)
    Image.fromarray(255 - np.asarray(big)).save(path)
    return path


def test_predict_reads_drawn_digits(client, mnist, tmp_path):
    labels = []
    for i in range(12):
        png = as_drawing(mnist.test_images[i].numpy(), tmp_path / f"{i}.png")
        result = client.predict(sketch(png), MODEL, api_name="/predict")
        confidences = result["confidences"]
        assert len(confidences) == 10
        assert sum(c["confidence"] for c in confidences) == pytest.approx(1, abs=1e-3)
        labels.append(int(label_of(result)))
    truth = mnist.test_labels[:12].tolist()
    assert sum(a == b for a, b in zip(labels, truth, strict=True)) >= 11, (labels, truth)


def test_predict_reads_most_pen_drawn_digits(client, tmp_path):
    right = 0
    for i in range(20):
        png, label = pen_drawing(i, tmp_path / f"pen{i}.png")
        right += label_of(client.predict(sketch(png), MODEL, api_name="/predict")) == str(label)
    assert right >= 14, f"only {right} of 20 pen-drawn digits read correctly"


def test_empty_canvas_asks_for_a_digit(client, tmp_path):
    cleared = {"background": None, "layers": [], "composite": None}
    result = client.predict(cleared, MODEL, api_name="/predict")
    assert label_of(result) == "draw a digit"
    blank = tmp_path / "blank.png"
    Image.new("RGB", (280, 280), "white").save(blank)
    assert label_of(client.predict(sketch(blank), MODEL, api_name="/predict")) == "draw a digit"


@pytest.mark.parametrize("background", ["light", "dark"])
def test_uploaded_photo_of_a_digit_is_read(client, mnist, tmp_path, background):
    digit = mnist.test_images[0].numpy()  # a 7
    big = np.asarray(Image.fromarray(digit).resize((400, 300), Image.Resampling.BICUBIC))
    pixels = 255 - big if background == "light" else big
    jpeg = tmp_path / "digit.jpg"
    Image.fromarray(pixels).convert("RGB").save(jpeg, quality=80)
    result = client.predict(handle_file(str(jpeg)), MODEL, api_name="/predict_image")
    assert label_of(result) == "7"


def test_a_corrupt_checkpoint_gets_a_clear_message(client, tmp_path):
    png, _ = pen_drawing(0, tmp_path / "pen.png")
    with pytest.raises(AppError, match="not a readable mnist_app checkpoint"):
        client.predict(sketch(png), "broken", api_name="/predict")
    with pytest.raises(AppError, match="no model named 'missing'"):
        client.predict(sketch(png), "missing", api_name="/predict")


def test_mistakes_lists_captioned_images_most_confident_first(client):
    gallery, summary, confusion, per_class = client.predict(
        MODEL, "any", "any", api_name="/mistakes"
    )
    assert len(gallery) > 10
    confidences = []
    for item in gallery:
        match = CAPTION.match(item["caption"])
        assert match, item["caption"]
        true, predicted, percent = map(int, match.groups())
        assert true != predicted
        confidences.append(percent)
        assert Path(item["image"]).is_file()
    assert confidences == sorted(confidences, reverse=True)
    assert "test accuracy" in summary
    assert Path(confusion).is_file()
    assert [row[0] for row in per_class["data"]] == [str(d) for d in range(10)]


def test_mistakes_filter_by_true_and_predicted_digit(client):
    gallery = client.predict(MODEL, "4", "any", api_name="/mistakes")[0]
    assert gallery and all(item["caption"].startswith("true 4 ->") for item in gallery)
    gallery = client.predict(MODEL, "any", "9", api_name="/mistakes")[0]
    assert gallery and all("-> predicted 9 " in item["caption"] for item in gallery)


def test_the_same_true_and_predicted_digit_lists_those_read_right_least_confident_first(client):
    gallery, summary, _, _ = client.predict(MODEL, "3", "3", api_name="/mistakes")
    confidences = []
    for item in gallery:
        true, predicted, percent = map(int, CAPTION.match(item["caption"]).groups())
        assert true == predicted == 3
        confidences.append(percent)
    assert len(gallery) == 200 and confidences == sorted(confidences)  # a page of them
    assert "read right" in summary and "least confident first" in summary


@pytest.mark.slow
def test_training_streams_progress_and_serves_the_new_model(client, app_url, tmp_path):
    job = client.submit(**train_args(), api_name="/train")
    updates = list(job)
    assert len(updates) >= 2, "progress should stream, not arrive only at the end"
    assert updates[0]["state"] != "done"
    final = updates[-1]
    assert final["state"] == "done" and final["step"] == final["total_steps"] == 60
    assert final["saved_as"] == "tiny" and 0.5 < final["test_accuracy"] <= 1
    assert "Test accuracy" in final["message"] and "tiny" in final["message"]
    drawn, _ = pen_drawing(0, tmp_path / "pen.png")
    probabilities = client.predict(sketch(drawn), "tiny", api_name="/predict")
    assert len(probabilities["confidences"]) == 10
    assert client.predict("tiny", "any", "any", api_name="/mistakes")[0]


def test_existing_model_name_is_never_overwritten(client):
    with pytest.raises(AppError, match="already exists"):
        client.predict(**train_args(name=MODEL), api_name="/train")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(name="../evil"), "invalid model name"),
        (dict(name="my model"), "invalid model name"),
        (dict(lr=0), "learning rate must be positive"),
        (dict(lr="fast"), "learning rate must be a number"),
        (dict(epochs=0, steps=0), "at least one epoch"),
        (dict(batch_size=-5), "batch size"),
        (dict(optimizer="rmsprop"), "optimizer must be one of sgd, adam, adamw"),
        (dict(recipe="nope"), "Unknown recipe 'nope'"),
    ],
)
def test_bad_training_settings_get_a_clear_message(client, changes, message):
    with pytest.raises(AppError, match=re.escape(message)):
        client.predict(**train_args(**changes), api_name="/train")


@pytest.mark.slow
def test_a_second_training_gets_a_busy_message_and_stop_saves_the_first(app_url):
    first, second = Client(app_url, verbose=False), Client(app_url, verbose=False)
    job = first.submit(**train_args(steps=100_000, name="long"), api_name="/train")
    for update in job:  # wait until the run is really under way
        if update["step"] >= 1:
            break
    with pytest.raises(AppError, match="busy training 'long'"):
        second.predict(**train_args(name="other"), api_name="/train")
    assert "someone else" in second.predict(api_name="/stop")
    assert "Stopping" in first.predict(api_name="/stop")
    final = job.result(timeout=300)
    assert final["state"] == "done" and final["saved_as"] == "long"
    assert "Stopped early" in final["message"]
