"""A run's timeline: the test set read at each evaluation, watched drawings read as it
learns, both kept in the checkpoint and readable from Python."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from mnist_app import load_checkpoint
from mnist_app.core.checkpoint import checkpoint_path, save_checkpoint
from mnist_app.core.evaluation import evaluate
from mnist_app.core.predict import Predictor
from mnist_app.core.timeline import MAX_WATCHED, NO_LABEL, Timeline, Watched, save_watched
from mnist_app.service.watch_lists import WatchLists
from mnist_app.training import Finished, RunOrder, train_and_save
from mnist_app.training.loop import EpochEvent
from mnist_app.training.recipes import make_config
from mnist_app.training.timeline_recorder import WatchEvent


def _watched(data) -> Watched:
    """Four test digits, two given their digit, two not."""
    labels = data.test_labels[:4].tolist()
    return Watched(data.test_images[:4].clone(), (labels[0], NO_LABEL, labels[2], NO_LABEL))


def _train(data, weights, name: str, stop: threading.Event | None = None, **settings):
    order = RunOrder(
        make_config("t5_mlp_bn", val_size=500, **settings),
        "t5_mlp_bn",
        name,
        weights,
        watched=_watched(data),
    )
    events = list(train_and_save(order, data, stop))
    assert isinstance(events[-1], Finished)
    return events, load_checkpoint(checkpoint_path(events[-1].saved_as, weights))


@pytest.fixture(scope="module")
def trained(small_mnist, tmp_path_factory):
    weights = tmp_path_factory.mktemp("timeline")
    return _train(small_mnist, weights, "watched", steps=120)


def test_the_watched_drawings_last_reading_is_the_saved_models_answer(trained, small_mnist):
    events, checkpoint = trained
    timeline = checkpoint.timeline
    predictor = Predictor(checkpoint)
    answers = [
        predictor.probabilities(image.float() / 255) for image in _watched(small_mnist).images
    ]
    last = timeline.watch_probabilities[-1]
    for p, answer in enumerate(answers):
        assert torch.allclose(last[p], torch.as_tensor(answer, dtype=torch.float32), atol=1e-4)
    # The series starts with the untrained model, and every 5% of the steps has a point.
    assert timeline.watch_steps[0] == 0 and timeline.watch_steps[-1] == 120
    assert len(timeline.watch_steps) >= 21
    assert timeline.watch_probabilities.shape == (len(timeline.watch_steps), 4, 10)
    # The run sent the same readings as it went.
    sent = [e for e in events if isinstance(e, WatchEvent)]
    assert [e.step for e in sent] == timeline.watch_steps
    # A drawing with its digit follows that digit; one without, the digit read at the end.
    assert timeline.followed_digit(0) == int(small_mnist.test_labels[0])
    assert timeline.followed_digit(1) == int(last[1].argmax())
    assert timeline.series(1)[-1] == pytest.approx(float(last[1].max()))


def test_the_last_evaluations_predictions_are_the_test_evaluation(trained, small_mnist):
    events, checkpoint = trained
    timeline = checkpoint.timeline
    model = checkpoint.build()
    test = evaluate(
        model, small_mnist.test_images, small_mnist.test_labels, checkpoint.mean, checkpoint.std
    )
    assert timeline.test_predictions.dtype == torch.uint8
    assert timeline.test_predictions.shape == (timeline.evaluations, 1000)
    assert torch.equal(timeline.test_predictions[-1].long(), test.predictions)
    reports = [e for e in events if isinstance(e, EpochEvent)]
    assert timeline.eval_steps == [e.step for e in reports]
    labels = small_mnist.test_labels
    assert timeline.mistakes_at(-1, labels) == int((test.predictions != labels).sum())
    assert int(timeline.confusion_at(-1, labels).sum()) == 1000


def test_a_stopped_run_keeps_its_last_point(small_mnist, tmp_path):
    stop = threading.Event()
    order = RunOrder(
        make_config("t5_mlp_bn", val_size=500, steps=5000),
        "t5_mlp_bn",
        "stopped",
        tmp_path,
        watched=_watched(small_mnist),
    )
    events = []
    for event in train_and_save(order, small_mnist, stop):
        events.append(event)
        if getattr(event, "step", 0) == 30:
            stop.set()
    timeline = load_checkpoint(checkpoint_path(events[-1].saved_as, tmp_path)).timeline
    assert events[-1].steps == 30
    assert timeline.eval_steps == [30]
    assert timeline.evaluations == 1  # no report came before the stop


def test_learnt_and_forgotten_images_between_two_evaluations():
    labels = torch.tensor([1, 2, 3, 4])
    timeline = Timeline(
        eval_steps=[10, 20],
        eval_epochs=[0.5, 1.0],
        test_predictions=torch.tensor([[1, 0, 3, 0], [1, 2, 0, 0]], dtype=torch.uint8),
    )
    assert timeline.learnt(0, 1, labels).tolist() == [1]
    assert timeline.forgotten(0, 1, labels).tolist() == [2]
    assert [timeline.mistakes_at(k, labels) for k in range(2)] == [2, 2]


def test_a_checkpoint_from_before_timelines_loads_without_one(trained, tmp_path):
    _, checkpoint = trained
    checkpoint.timeline = None
    path = save_checkpoint(checkpoint, tmp_path / "old.pt")
    assert load_checkpoint(path).timeline is None


def test_a_watch_list_holds_ten_drawings_and_says_so_when_full(small_mnist):
    lists = WatchLists()
    images = list(small_mnist.test_images[:12].numpy())
    assert lists.add("me", images, [NO_LABEL] * 12) == MAX_WATCHED
    with pytest.raises(ValueError, match="You watch 10 drawings already"):
        lists.add("me", images[:1], [3])
    assert lists.watched("someone else") is None
    watched = lists.watched("me")
    assert watched.images.shape == (10, 28, 28) and watched.labels == (NO_LABEL,) * 10
    lists.clear("me")
    assert lists.drawings("me") == []


def test_a_drawing_picked_during_the_run_joins_it_at_the_next_point(small_mnist, tmp_path):
    first, later = _watched(small_mnist), small_mnist.test_images[10:11].clone()
    inbox = tmp_path / "watch.pt"
    order = RunOrder(
        make_config("t5_mlp_bn", val_size=500, steps=120),
        "t5_mlp_bn",
        "joined",
        tmp_path,
        watched=first,
        watch_file=str(inbox),
    )
    for event in train_and_save(order, small_mnist):
        if getattr(event, "step", 0) == 30 and not inbox.exists():
            # The server writes the whole list; drawings the run has already are not added.
            images = torch.cat([first.images, later])
            save_watched(Watched(images, (*first.labels, NO_LABEL)), inbox)
    timeline = load_checkpoint(checkpoint_path("joined", tmp_path)).timeline
    assert len(timeline.watch_labels) == 5 and torch.equal(timeline.watch_images[4], later[0])
    joined = timeline.read_from(4)
    # Picked as step 30 was reported: step 30's point, which comes after the report, reads it.
    assert timeline.watch_steps[joined] == 30
    assert all(math.isnan(value) for value in timeline.series(4)[:joined])
    assert timeline.read_from(0) == 0
    answer = Predictor(load_checkpoint(checkpoint_path("joined", tmp_path))).probabilities(
        later[0].float() / 255
    )
    assert torch.allclose(timeline.watch_probabilities[-1, 4], torch.as_tensor(answer), atol=1e-4)
