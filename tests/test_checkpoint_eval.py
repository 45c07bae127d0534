import numpy as np
import pytest
import torch
from torch import nn

from mnist_app.core.checkpoint import (
    CheckpointError,
    check_name,
    load_checkpoint,
    make_checkpoint,
    save_checkpoint,
)
from mnist_app.core.evaluation import Evaluation, evaluate, format_report
from mnist_app.core.predict import Predictor, load_predictor
from mnist_app.training import run
from mnist_app.training.recipes import make_config
from tests.harness.hostile import RunsCode


@pytest.fixture(scope="module")
def trained(small_mnist):
    config = make_config("t4_lenet5", steps=60, val_size=500)
    return config, run(config, small_mnist)


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path, trained, small_mnist):
    config, done = trained
    path = save_checkpoint(
        make_checkpoint("lenet", done.model, config, "t4_lenet5", done.metrics()),
        tmp_path / "lenet.pt",
    )
    loaded = load_checkpoint(path)
    assert (loaded.arch, loaded.recipe, loaded.mean) == ("lenet5", "t4_lenet5", config.mean)
    assert loaded.metrics["test_accuracy"] == done.test_accuracy
    assert loaded.config["lr"] == config.lr and loaded.created
    images = small_mnist.test_images[:50]
    expected = torch.softmax(done.model(((images.float() / 255 - 0.1307) / 0.3081)[:, None]), 1)
    got = load_predictor(path).probabilities(images.numpy())
    np.testing.assert_allclose(got, expected.detach().numpy(), atol=1e-5)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    assert path.stat().st_mode & 0o044 == 0o044  # readable by the server and other users


def test_predictor_takes_one_image_or_a_batch(tmp_path, trained, small_mnist):
    config, done = trained
    checkpoint = make_checkpoint("p", done.model, config, "t4_lenet5", {})
    predictor = Predictor(checkpoint)
    one = predictor.probabilities(small_mnist.test_images[0])
    assert one.shape == (10,) and one.sum() == pytest.approx(1, abs=1e-5)
    many = predictor.probabilities(small_mnist.test_images[:4].float() / 255)
    assert many.shape == (4, 10)
    np.testing.assert_allclose(many[0], one, atol=1e-5)
    assert predictor.predict(small_mnist.test_images[0]) == int(one.argmax())
    with pytest.raises(ValueError, match="28x28"):
        predictor.probabilities(np.zeros((32, 32)))


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable mnist_app checkpoint"):
        load_checkpoint(path)


def test_foreign_checkpoint_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"model": nn.Linear(2, 2).state_dict()}, path)
    with pytest.raises(CheckpointError, match="not an mnist_app checkpoint"):
        load_checkpoint(path)


def test_a_pickle_with_code_is_refused_and_never_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    code = RunsCode("import pathlib; pathlib.Path('PWNED').write_text('x')")
    torch.save({"format": "mnist_app.checkpoint/1", "payload": code}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not (tmp_path / "PWNED").exists()
    assert b"exec" in path.read_bytes()  # the file really does carry the code


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


@pytest.mark.parametrize("bad", ["../../x", "", "my model", "modèle", "a/b", ".hidden"])
def test_unsafe_checkpoint_names_are_refused(bad):
    with pytest.raises(ValueError, match="invalid model name"):
        check_name(bad)


class _FixedLogits(nn.Module):
    """Predicts the digit written in pixel (0, 0) of each image, as a fake classifier."""

    def __init__(self):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        digit = (x[:, 0, 0, 0] * 0.5 + 0.5).mul(255).round().long()  # undo Normalize(0.5, 0.5)
        return nn.functional.one_hot(digit, 10).float() * 4.0


def test_evaluation_on_a_hand_made_case():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2])
    predicted = torch.tensor([0, 1, 1, 1, 2, 0, 0])
    images = torch.zeros(7, 28, 28, dtype=torch.uint8)
    images[:, 0, 0] = predicted.to(torch.uint8)
    result = evaluate(_FixedLogits(), images, labels, mean=0.5, std=0.5)
    expected = torch.zeros(10, 10, dtype=torch.long)
    for t, p in zip(labels.tolist(), predicted.tolist(), strict=True):
        expected[t, p] += 1
    assert torch.equal(result.confusion, expected)
    assert result.accuracy == pytest.approx(4 / 7)
    assert result.per_class_accuracy[:3] == pytest.approx([0.5, 1.0, 1 / 3])
    mistakes = result.mistakes()
    assert [(m.index, m.true, m.predicted) for m in mistakes] == [(1, 0, 1), (5, 2, 0), (6, 2, 0)]
    assert [m.index for m in result.mistakes(true=2)] == [5, 6]
    assert [m.index for m in result.mistakes(predicted=1)] == [1]
    report = format_report(result)
    assert "57.14%" in report and "confusion matrix" in report


def test_mistakes_are_sorted_by_confidence():
    logits = torch.tensor([[0.0, 1.0], [0.0, 5.0], [0.0, 3.0]])
    logits = torch.cat([logits, torch.full((3, 8), -10.0)], dim=1)
    result = Evaluation(logits=logits, labels=torch.tensor([0, 0, 0]))
    assert [m.index for m in result.mistakes()] == [1, 2, 0]
    assert result.mistakes()[0].confidence > 0.9


def test_a_digit_read_right_lists_its_least_confident_images_first():
    logits = torch.tensor([[1.0, 0.0], [5.0, 0.0], [0.5, 0.0], [0.0, 3.0]])
    logits = torch.cat([logits, torch.full((4, 8), -10.0)], dim=1)
    result = Evaluation(logits=logits, labels=torch.tensor([0, 0, 0, 0]))
    assert [m.index for m in result.correct(0)] == [2, 0, 1]  # image 3, read as 1, is not
    assert result.correct(0)[0].confidence < result.correct(0)[-1].confidence
