"""The digit detector (core/digit_detector.py): a head on a model's features that refuses what
its top probability lets through; fitted after training, kept in the checkpoint, and
obeyed by every answer."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from mnist_app.analysis.neighbours import penultimate_features
from mnist_app.cli import main as cli
from mnist_app.core.checkpoint import save_checkpoint
from mnist_app.core.digit_detector import DigitDetector, fit_detector
from mnist_app.core.predict import REFUSAL, load_predictor
from mnist_app.nondigit.negatives import negative_images, sketches
from mnist_app.nondigit.refusal import NonDigits
from mnist_app.training import run
from mnist_app.training.recipes import make_config
from mnist_app.training.to_checkpoint import RunOrder, train_and_save


@pytest.fixture(scope="module")
def reader():
    return load_predictor("resnet_drawn")


def features(predictor, images) -> torch.Tensor:
    checkpoint = predictor.checkpoint
    return penultimate_features(
        predictor.model, torch.as_tensor(images), checkpoint.mean, checkpoint.std, unit=False
    )


def test_a_detector_refuses_its_share_of_digits_and_most_unseen_non_digits(reader, mnist):
    digits = features(reader, mnist.train_images[:3000])
    non_digits = features(reader, negative_images(600, "train", seed=3))
    detector = fit_detector(digits, non_digits, refuse=0.01, epochs=30)
    assert detector.is_digit(digits).float().mean().item() == pytest.approx(0.99, abs=0.001)
    unseen_digits = features(reader, mnist.test_images[:1000])
    assert detector.is_digit(unseen_digits).float().mean() >= 0.96  # 0.975: a few more
    letters = NonDigits("letters", sketches("letters", 100, "val", seed=4))
    assert detector.is_digit(features(reader, letters.inputs)).float().mean() <= 0.2


@pytest.mark.parametrize(
    "refuse, non_digits, message",
    [(0.0, 5, "between 0 and 1"), (1.0, 5, "between 0 and 1"), (0.01, 0, "both digits and")],
)
def test_fitting_needs_a_share_and_both_kinds(refuse, non_digits, message):
    with pytest.raises(ValueError, match=message):
        fit_detector(torch.randn(20, 8), torch.randn(non_digits, 8), refuse)


def test_a_checkpoint_keeps_its_detector_and_every_answer_obeys_it(reader, mnist, tmp_path):
    width = reader.model.head[-1].in_features
    refuses_all = DigitDetector(width)
    refuses_all.threshold.fill_(math.inf)
    state = {k: v.clone() for k, v in refuses_all.state_dict().items()}
    strict = dataclasses.replace(reader.checkpoint, name="strict", detector=state)
    predictor = load_predictor(save_checkpoint(strict, tmp_path / "strict.pt"))
    images = mnist.test_images[:20]
    probabilities, answered = predictor.answer(images)
    assert not answered.any() and predictor.label(images) == [REFUSAL] * 20
    assert reader.answer(images)[1].all()  # the same model without it answers them all
    np.testing.assert_allclose(probabilities, reader.probabilities(images), atol=1e-6)
    assert predictor.answer(images[0])[1] is False


@pytest.mark.usefixtures("stroke_fonts_fetched")
def test_training_fits_a_detector_that_its_saved_model_obeys(small_mnist, tmp_path):
    config = make_config("speedrun", steps=30, val_size=500, negatives=300, detector_refuse=0.02)
    order = RunOrder(config, "speedrun", "detected", weights_dir=tmp_path)
    events = list(train_and_save(order, small_mnist))
    predictor = load_predictor(events[-1].saved_as, weights_dir=tmp_path)
    assert predictor.detector is not None
    _, answered = predictor.answer(small_mnist.train_images[500:])  # what it trained on
    assert 1 - answered.mean() == pytest.approx(0.02, abs=0.003)


def test_without_a_detector_setting_no_detector_is_fitted(small_mnist):
    done = run(make_config("speedrun", steps=5, val_size=500, negatives=100), small_mnist)
    assert done.detector is None


@pytest.mark.usefixtures("stroke_fonts_fetched")
def test_a_model_trained_with_non_digits_gets_a_detector_from_the_command_line(
    mnist, tmp_path, capsys
):
    config = make_config("speedrun", steps=30, negatives=300)
    order = RunOrder(config, "speedrun", "later", weights_dir=tmp_path)
    list(train_and_save(order, mnist))
    args = ["later", "--refuse", "0.01", "--weights-dir", str(tmp_path)]
    assert cli(["fit-detector", *args, "--data-dir", str(mnist.source)]) == 0
    assert "refusing 1.00% of the digits it trained on" in capsys.readouterr().out
    predictor = load_predictor("later", weights_dir=tmp_path)
    assert predictor.checkpoint.config["detector_refuse"] == 0.01
    trained_on = mnist.split(config.val_size, seed=config.seed)[0].images
    assert 1 - predictor.answer(trained_on)[1].mean() == pytest.approx(0.01, abs=0.002)


@pytest.mark.parametrize(
    "model, message",
    [
        ("resnet_mini", "resnet_mini was trained without non-digits"),
        ("nowhere", "checkpoint not found"),
    ],
)
def test_fit_detector_says_why_it_cannot(model, message, capsys):
    assert cli(["fit-detector", model, "--refuse", "0.01"]) == 2
    assert message in capsys.readouterr().err
