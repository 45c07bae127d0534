"""The launched app under bad input, as a careless or hostile API user would send it: every
case ends in a clear message, the app keeps working and no checkpoint is lost."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from mnist_app.pen.replay import render
from mnist_app.ui.text import DOT, FILLED
from tests.harness.hostile import RunsCode
from tests.harness.server import MODEL, label_of, train_args
from tests.harness.sketches import composite_value as sketch
from tests.harness.sketches import pen_drawing, sent_as_files, sketchpad_value


def sketch_with_strokes(alpha: np.ndarray, folder: Path) -> dict:
    """A Sketchpad value as the browser sends it: a transparent stroke layer + composite."""
    return sent_as_files(sketchpad_value(alpha), folder)


def predict_image(client: Client, path: Path) -> str:
    return label_of(client.predict(handle_file(str(path)), MODEL, api_name="/predict_image"))


def test_an_all_ink_canvas_gets_a_message_not_a_digit(client, tmp_path):
    value = sketch_with_strokes(np.full((280, 280), 255, np.uint8), tmp_path)
    assert label_of(client.predict(value, MODEL, api_name="/predict")) == FILLED


def test_a_single_dot_gets_a_message_not_a_digit(client, tmp_path):
    dot = render([[(90.0, 200.0)]], brush_radius=6)[..., 0] < 128
    value = sketch_with_strokes(dot.astype(np.uint8) * 255, tmp_path)
    assert label_of(client.predict(value, MODEL, api_name="/predict")) == DOT


@pytest.fixture(scope="module")
def digit_png(client, tmp_path_factory) -> tuple[Path, str]:
    """A pen-drawn digit, and what the app reads in it as a plain RGB PNG."""
    path, _ = pen_drawing(3, tmp_path_factory.mktemp("digit") / "digit.png")
    return path, predict_image(client, path)


@pytest.mark.parametrize(
    "mode, suffix",
    [("P", "png"), ("I;16", "png"), ("LA", "png"), ("CMYK", "jpg"), ("1", "png")],
    ids=["palette", "16-bit", "grey+alpha", "cmyk", "1-bit"],
)
def test_every_image_mode_reads_like_the_plain_png(client, digit_png, tmp_path, mode, suffix):
    plain, expected = digit_png
    image = Image.open(plain)
    if mode == "I;16":  # 16-bit grey: the full 0-65535 range, as a scanner writes it
        image = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
    else:
        image = image.convert(mode)
    path = tmp_path / f"digit.{suffix}"
    image.save(path)
    assert Image.open(path).mode == mode
    assert predict_image(client, path) == expected


def test_a_6000x6000_upload_is_read(client, digit_png, tmp_path):
    plain, expected = digit_png
    big = Image.open(plain).convert("L").resize((6000, 6000), Image.Resampling.NEAREST)
    big.save(tmp_path / "big.png", optimize=True)
    assert predict_image(client, tmp_path / "big.png") == expected


@pytest.mark.parametrize("api", ["/predict_image", "/predict"])
def test_a_text_file_named_png_gets_a_clear_message(client, tmp_path, api):
    fake = tmp_path / "digit.png"
    fake.write_text("this is not an image\n" * 50)
    value = handle_file(str(fake)) if api == "/predict_image" else sketch(fake)
    with pytest.raises(AppError, match="Could not read that image: the file is not an image"):
        client.predict(value, MODEL, api_name=api)


def test_a_truncated_png_gets_a_clear_message(client, digit_png, tmp_path):
    data = digit_png[0].read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(AppError, match="damaged or truncated"):
        predict_image(client, tmp_path / "cut.png")


def test_an_upload_over_the_size_cap_is_refused(client, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (2200, 2200, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    assert (tmp_path / "noise.png").stat().st_size > 10 * 1024 * 1024
    with pytest.raises(Exception, match=r"(?i)size"):
        predict_image(client, tmp_path / "noise.png")
    after, _ = pen_drawing(0, tmp_path / "after.png")
    assert predict_image(client, after) in "0123456789"  # and the app still works


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "quick/../quick"])
def test_model_names_that_are_paths_are_refused(client, digit_png, name):
    with pytest.raises(AppError, match="invalid model name"):
        client.predict(sketch(digit_png[0]), name, api_name="/predict")
    with pytest.raises(AppError, match="invalid model name"):
        client.predict(name, "any", "any", api_name="/mistakes")


def test_foreign_and_code_carrying_checkpoints_get_a_message_and_run_nothing(
    client, app_weights, digit_png, tmp_path
):
    torch.save({"model": torch.nn.Linear(2, 2).state_dict()}, app_weights / "foreign.pt")
    marker = tmp_path / "PWNED"
    code = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')"
    torch.save({"format": "mnist_app.checkpoint/1", "x": RunsCode(code)}, app_weights / "evil.pt")
    with pytest.raises(AppError, match="not an mnist_app checkpoint"):
        client.predict(sketch(digit_png[0]), "foreign", api_name="/predict")
    with pytest.raises(AppError, match="not a readable mnist_app checkpoint"):
        client.predict(sketch(digit_png[0]), "evil", api_name="/predict")
    with pytest.raises(AppError, match="not a readable mnist_app checkpoint"):
        client.predict("evil", "any", "any", api_name="/mistakes")
    assert not marker.exists()


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "{weights}/quick.pt", "{root}/app.py", "../../../../etc/passwd"],
)
def test_no_file_outside_gradios_own_is_served(app_url, app_weights, path):
    root = Path(__file__).resolve().parent.parent
    url = app_url + "gradio_api/file=" + path.format(weights=app_weights, root=root)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code in (403, 404)


TRAIN_FAILURES = [
    (dict(lr=1000.0, recipe="t1_mlp_mse"), "Training failed.*lower learning rate.*Nothing"),
    (dict(batch_size=60_000), "Training failed.*larger than the .* training images"),
]


@pytest.mark.parametrize("changes, message", TRAIN_FAILURES, ids=["lr-1000", "batch-huge"])
def test_runs_that_fail_say_why_and_save_nothing(client, app_weights, changes, message):
    name = f"fail-{changes.get('batch_size', 0)}"
    result = client.predict(**train_args(name=name, **changes), api_name="/train")
    assert result["state"] == "failed" and re.search(message, result["message"]), result
    assert not (app_weights / f"{name}.pt").exists()
    with pytest.raises(AppError, match=f"no model named '{name}'"):
        client.predict(name, "any", "any", api_name="/mistakes")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(epochs=-1, steps=0), "epochs must be in [0, 10,000], got -1"),
        (dict(epochs=10**9, steps=0), "epochs must be in [0, 10,000]"),
        (dict(batch_size=10**6), "batch size must be in [0, 60,000], got 1,000,000"),
        (dict(recipe="nope"), "Unknown recipe 'nope'; choose one of: resnet_mini"),
        (dict(name="../../x"), "invalid model name"),
        (dict(name="my model"), "invalid model name"),
        (dict(name="modèle"), "invalid model name"),
        (dict(name=MODEL), "already exists"),
    ],
)
def test_bad_training_requests_are_refused_with_a_message(client, app_weights, changes, message):
    before = (app_weights / f"{MODEL}.pt").read_bytes()
    with pytest.raises(AppError, match=re.escape(message)):
        client.predict(**train_args(**changes), api_name="/train")
    assert (app_weights / f"{MODEL}.pt").read_bytes() == before


@pytest.mark.slow
def test_two_train_clicks_at_once_start_exactly_one_run(app_url):
    outcomes: list[str] = []

    def click(name: str) -> None:
        try:
            Client(app_url, verbose=False).predict(**train_args(name=name), api_name="/train")
            outcomes.append("trained")
        except AppError as err:
            outcomes.append(str(err))

    threads = [threading.Thread(target=click, args=(f"race-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert sorted(outcomes)[0].startswith("The server is busy training 'race-")
    assert sorted(outcomes)[1] == "trained"


def test_a_users_mistakes_are_one_line_each_in_the_server_log(client, app_weights):
    log = app_weights.parent / "app.log"
    before = log.stat().st_size
    for bad in [dict(lr=0), dict(name="../x"), dict(recipe="nope")]:
        with pytest.raises(AppError):
            client.predict(**train_args(**bad), api_name="/train")
    with pytest.raises(AppError):
        client.predict("not/a model", "any", "any", api_name="/mistakes")
    time.sleep(0.5)
    with open(log) as f:
        f.seek(before)
        written = f.read()
    assert "Traceback" not in written
    assert written.count("refused a request:") == 4, written
