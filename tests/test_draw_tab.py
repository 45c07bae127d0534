"""The Draw tab's wiring, in-process: one preprocessing per stroke for label and strip, a
clear notice for a model trained with other preprocessing, the default model warm before
the first request, and the page's first event described by its own parameters."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from mnist_app.core.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from mnist_app.core.predict import Predictor
from mnist_app.preprocess import PREPROCESSING
from mnist_app.service import library as library_module
from mnist_app.service.library import ModelLibrary
from mnist_app.service.training_jobs import TrainingJobs
from mnist_app.training.recipes import make_config
from mnist_app.ui import build_app, pen_answers
from tests.harness.server import MODEL, weights_with_quick_model
from tests.harness.sketches import pen_sketchpad_values


@pytest.fixture(scope="module")
def weights(mnist, tmp_path_factory):
    folder = weights_with_quick_model(mnist, tmp_path_factory.mktemp("draw") / "weights")
    old = load_checkpoint(checkpoint_path(MODEL, folder))
    for name, version in (("old-style", "mnist_style/0"), ("unversioned", "")):
        renamed = dataclasses.replace(old, name=name, preprocessing=version)
        save_checkpoint(renamed, checkpoint_path(name, folder))
    # A model that refuses whatever it is not 99.9% sure of: it says "not a digit" often.
    picky = dataclasses.replace(old, name="picky", config={**old.config, "reject_below": 0.999})
    save_checkpoint(picky, checkpoint_path("picky", folder))
    return folder


@pytest.fixture(scope="module")
def demo(weights):
    return build_app(ModelLibrary(weights))


def page_handlers(demo, name: str) -> list:
    return [f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name]


def block(demo, elem_id: str):
    (found,) = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id]
    return found


def test_a_stroke_is_preprocessed_once_for_both_the_answer_and_the_strip(demo, monkeypatch):
    read_pen = block(demo, "pen").read_pen  # what the page's canvas calls
    calls = []
    real = pen_answers.preprocess_ink
    monkeypatch.setattr(pen_answers, "preprocess_ink", lambda ink: calls.append(1) or real(ink))
    alpha = 255 - pen_sketchpad_values(1)[0]["composite"][..., 0]
    drawing = np.zeros((280, 280, 4), np.uint8)
    drawing[..., 3] = alpha  # black strokes on a transparent canvas, as the page sends them
    answer = read_pen(
        {"image": pen_answers.png_data_url(drawing), "kind": "canvas", "model": MODEL}
    )
    assert len(calls) == 1
    assert answer["state"] == "digit" and 'class="digit"' in answer["html"]
    assert answer["stages"].startswith("data:image/png;base64,")


def canvas_request(model: str) -> dict:
    alpha = 255 - pen_sketchpad_values(1)[0]["composite"][..., 0]
    drawing = np.zeros((280, 280, 4), np.uint8)
    drawing[..., 3] = alpha
    return {"image": pen_answers.png_data_url(drawing), "kind": "canvas", "model": model}


def test_while_the_pen_is_down_the_answer_comes_alone_and_at_pen_up_in_full(demo):
    """A live frame gets the same answer, without the strip or the explanation (half the
    work); the pen-up frame is answered exactly as before."""
    read_pen = block(demo, "pen").read_pen
    final = read_pen({**canvas_request(MODEL), "why": True})
    live = read_pen({**canvas_request(MODEL), "why": True, "live": True})
    expected = {"html": final["html"], "state": final["state"], "stages": ""}
    assert live == {**expected, "live": True, "pace_ms": 60}
    assert final["stages"].startswith("data:image/png;base64,") and "live" not in final
    assert "why" in final


def test_while_a_model_trains_here_the_page_asks_4_times_a_second_not_16(weights, tmp_path):
    """Beside a class of 30 drawing, a run took 1.6x its quiet time with 16 live answers a
    second, 1.3x with 4 (bench/classroom.py): each reply says how often to ask."""
    library = ModelLibrary(shutil.copytree(weights, tmp_path / "weights"))
    jobs = TrainingJobs(library)
    read_pen = block(build_app(library, jobs=jobs), "pen").read_pen
    assert read_pen({**canvas_request(MODEL), "live": True})["pace_ms"] == 60
    job = jobs.start("speedrun", make_config("speedrun", steps=5000), "beside")
    try:
        assert read_pen({**canvas_request(MODEL), "live": True})["pace_ms"] == 250
        assert read_pen(canvas_request(MODEL))["pace_ms"] == 250  # the next stroke's pace
    finally:
        jobs.stop_any()
        assert jobs.wait(job, 120).finished
    assert read_pen({**canvas_request(MODEL), "live": True})["pace_ms"] == 60


def test_a_model_that_reads_no_digit_says_so_and_shows_its_best_guess_small(demo):
    answer = block(demo, "pen").read_pen(canvas_request("picky"))
    assert answer["state"] == "not-digit"
    assert "This doesn&#x27;t look like a digit" in answer["html"] or (
        "This doesn't look like a digit" in answer["html"]
    )
    assert "best guess: <b>" in answer["html"] and 'class="digit"' not in answer["html"]
    assert answer["html"].count('class="num"') == 10  # all ten probabilities, muted
    assert answer["stages"].startswith("data:image/png;base64,")  # what the model saw
    assert "why" not in answer  # no explanation of a digit that was not given


def test_the_predict_endpoint_labels_a_refusal_not_a_digit_with_the_ten_kept(demo):
    (predict,) = page_handlers(demo, "predict")
    sketch = pen_sketchpad_values(1)[0]
    refused = predict.fn(sketch, "picky")
    assert refused["label"] == "not a digit"
    assert sorted(c["label"] for c in refused["confidences"]) == [str(d) for d in range(10)]
    assert abs(sum(c["confidence"] for c in refused["confidences"]) - 1) < 1e-4
    # A digit answer is what Gradio's Label would make of the ten probabilities.
    (label,) = [b for b in demo.blocks.values() if b._id == predict.outputs[0]._id]
    answered = predict.fn(sketch, MODEL)
    probabilities = {c["label"]: c["confidence"] for c in answered["confidences"]}
    assert answered == label.postprocess(probabilities).model_dump()


def test_what_the_page_sends_that_is_not_a_drawing_gets_a_message(demo):
    read_pen = block(demo, "pen").read_pen
    for image, message in [
        (None, "the page sent no image"),
        ("data:image/png;base64,!!!", "damaged"),
        ("data:image/png;base64," + "A" * 16_000_000, "larger than 10 MB"),
        ("data:image/png;base64,aGVsbG8=", "not an image"),
    ]:
        answer = read_pen({"image": image, "kind": "upload", "model": MODEL})
        assert answer["state"] == "error" and message in answer["html"], answer
    # A canvas is 280x280; a small PNG that would unpack to a huge one is refused unread.
    bomb = pen_answers.png_data_url(np.zeros((4000, 4000), np.uint8))
    answer = read_pen({"image": bomb, "kind": "canvas", "model": MODEL})
    assert answer["state"] == "error" and "too many pixels" in answer["html"]
    assert read_pen("not a request")["state"] == "error"
    assert read_pen({"image": None, "model": ["not", "a", "name"]})["state"] == "error"


def test_the_named_endpoints_answer_with_the_probabilities_alone(demo):
    info = demo.get_api_info()["named_endpoints"]
    for endpoint in ("/predict", "/predict_image"):
        assert [r["component"] for r in info[endpoint]["returns"]] == ["Label"]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("old-style", "was trained with preprocessing `mnist_style/0`"),
        ("unversioned", "records no preprocessing version"),
    ],
)
def test_a_model_trained_with_other_preprocessing_says_so(demo, model, expected):
    (show_notice,) = page_handlers(demo, "show_notice")
    update = show_notice.fn(model)
    assert update["visible"] and expected in update["value"] and PREPROCESSING in update["value"]
    assert show_notice.fn("picky")["visible"] is False  # it can refuse, and reads as the app


def test_new_checkpoints_record_the_preprocessing(weights):
    assert load_checkpoint(checkpoint_path(MODEL, weights)).preprocessing == PREPROCESSING


def test_a_fresh_app_has_answered_with_its_default_model_before_its_first_request(
    weights, monkeypatch
):
    answered = []
    real_answer = Predictor.answer
    monkeypatch.setattr(
        Predictor,
        "answer",
        lambda self, images: answered.append(self.name) or real_answer(self, images),
    )
    library = ModelLibrary(weights)
    demo = build_app(library)
    assert answered == [library.best_name()]  # before any request: no cold first answer

    loaded = []
    real_load = library_module.load_checkpoint
    monkeypatch.setattr(
        library_module, "load_checkpoint", lambda path: loaded.append(path) or real_load(path)
    )
    first = block(demo, "pen").read_pen(canvas_request(library.best_name()))
    assert first["stages"] and loaded == []  # answered, with nothing left to load


def test_the_pages_first_event_is_predict_which_gradios_client_describes_it_as(demo):
    """The page's Gradio client takes /predict's parameters for the app's first event: any
    other event there (it was "✓ Right", with four inputs) warned "Too many arguments
    provided for the endpoint." in the browser's console at each click."""
    first = demo.fns[0]
    assert first.api_name == "predict"
    assert len(first.inputs) == len(
        demo.get_api_info()["named_endpoints"]["/predict"]["parameters"]
    )
