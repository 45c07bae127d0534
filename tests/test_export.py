"""ONNX export: the file answers as the PyTorch model does, by itself, through ONNX Runtime."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
import torch

from mnist_app.analysis.neighbours import penultimate_features
from mnist_app.analysis.onnx_export import export_onnx
from mnist_app.core.checkpoint import cpu_state, list_checkpoints, load_checkpoint, locate
from mnist_app.core.digit_detector import fit_detector
from mnist_app.core.paths import PROJECT_ROOT
from mnist_app.core.predict import Predictor
from mnist_app.nondigit.negatives import negative_images


def onnx_answer(path, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities and whether they name a digit, from uint8 (N, 28, 28) images."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    pixels = (images.astype(np.float32) / 255)[:, None]  # (N, 1, 28, 28), 0 to 1
    probabilities, is_digit = session.run(["probabilities", "is_digit"], {"image": pixels})
    return probabilities, is_digit


def onnx_probabilities(path, images: np.ndarray) -> np.ndarray:
    return onnx_answer(path, images)[0]


def test_onnx_runtime_gives_pytorchs_probabilities_on_100_test_images(mnist, tmp_path):
    checkpoint = load_checkpoint(locate("resnet_mini"))
    path = export_onnx(checkpoint, tmp_path / "resnet_mini.onnx")
    images = mnist.test_images[:100].numpy()
    expected = Predictor(checkpoint).probabilities(images)
    got, is_digit = onnx_answer(path, images)
    assert got.shape == (100, 10) and is_digit.all()  # resnet_mini always names a digit
    assert np.abs(got - expected).max() < 1e-4
    assert (got.argmax(1) == mnist.test_labels[:100].numpy()).mean() >= 0.99
    metadata = onnxruntime.InferenceSession(str(path)).get_modelmeta().custom_metadata_map
    assert metadata["name"] == "resnet_mini" and metadata["recipe"] == "resnet_mini"
    assert "0 to 1" in metadata["input"]


def test_the_file_refuses_what_the_model_refuses(mnist, tmp_path):
    """Its top-probability threshold and its digit detector travel inside the file."""
    shipped = load_checkpoint(locate("resnet_drawn"))
    model = shipped.build()

    def features(images) -> torch.Tensor:
        return penultimate_features(
            model, torch.as_tensor(images), shipped.mean, shipped.std, unit=False
        )

    detector = fit_detector(
        features(mnist.train_images[:3000]),
        features(negative_images(600, "train", seed=3)),
        refuse=0.05,
        epochs=30,
    )
    checkpoint = dataclasses.replace(shipped, name="detected", detector=cpu_state(detector))
    path = export_onnx(checkpoint, tmp_path / "detected.onnx")
    images = np.concatenate([mnist.test_images[:200].numpy(), negative_images(200, "val", seed=5)])
    probabilities, is_digit = onnx_answer(path, images)
    expected_probabilities, expected = Predictor(checkpoint).answer(images)
    assert np.abs(probabilities - expected_probabilities).max() < 1e-4
    assert (is_digit == expected).mean() >= 0.995  # one image may sit on a threshold
    assert 0.85 <= is_digit[:200].mean() < 1 and is_digit[200:].mean() <= 0.05
    assert 0 < onnx_answer(export_onnx(shipped, tmp_path / "shipped.onnx"), images)[1].mean() < 1


@pytest.mark.slow
@pytest.mark.parametrize("name", list_checkpoints())
def test_every_shipped_model_exports_and_agrees(mnist, tmp_path, name):
    checkpoint = load_checkpoint(locate(name))
    path = export_onnx(checkpoint, tmp_path / f"{name}.onnx")
    images = mnist.test_images[:20].numpy()
    expected = Predictor(checkpoint).probabilities(images)
    assert np.abs(onnx_probabilities(path, images) - expected).max() < 1e-4


def export_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mnist_app", "export", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )


def test_the_command_exports_and_never_replaces_a_file_unasked(tmp_path):
    out = tmp_path / "lenet.onnx"
    done = export_command("t4_lenet5", "--out", str(out))
    assert done.returncode == 0 and f"wrote {out}" in done.stdout
    size = out.stat().st_size
    again = export_command("t4_lenet5", "--out", str(out))
    assert (
        again.returncode == 2 and "exists; choose another --out or pass --overwrite" in again.stderr
    )
    assert out.stat().st_size == size
    missing = export_command("no_such_model", "--out", str(tmp_path / "x.onnx"))
    assert missing.returncode == 2 and "checkpoint not found" in missing.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lenet.onnx"]  # no temporary left
