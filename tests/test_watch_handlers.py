"""Watching a run learn, without the page: the drawings picked to watch (Draw tab's 👁,
one's own handwriting set), the Mistakes tab's epoch by epoch, and the Models tab's replay
of a run's watched drawings."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
import torch

from mnist_app.core.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from mnist_app.core.timeline import NO_LABEL, Timeline
from mnist_app.service.library import ModelLibrary
from mnist_app.service.personal_store import PersonalStore
from mnist_app.service.training_jobs import TrainingJobs
from mnist_app.service.watch_lists import WatchLists
from mnist_app.ui.epochs_section import EpochsHandlers
from mnist_app.ui.watch_panel import WatchHandlers, watch_replay
from tests.conftest import MNIST_DIR
from tests.harness.server import MODEL, weights_with_quick_model

ME = SimpleNamespace(session_hash="me", username=None)


@pytest.fixture
def watching(tmp_path) -> WatchHandlers:
    jobs = TrainingJobs(ModelLibrary(tmp_path / "weights", MNIST_DIR))
    return WatchHandlers(WatchLists(), PersonalStore(tmp_path / "personal"), jobs, 1 << 20)


def test_the_watch_button_with_nothing_drawn_says_what_to_do(watching):
    assert "Draw a digit first" in watching.watch_drawing(None, "me", ME)
    assert watching.picked("me", ME) == []


def test_drawings_from_ones_handwriting_come_newest_of_each_digit_first(watching, mnist):
    with pytest.raises(gr.Error, match="no handwriting set yet"):
        watching.add_yours(None, "me", ME)
    owner_keys = ["me"]
    for index in range(14):  # 1.4 drawings of each digit, oldest first
        digit = index % 10
        image = mnist.test_images[mnist.test_labels == digit][index // 10].numpy() / 255
        watching.personal.add("amy", owner_keys, image, image, digit)
    gallery, message = watching.add_yours("amy", "me", ME)
    assert message == (
        "Added 10 of your drawings: the next run you start reads them as it learns (10 of 10 "
        "picked)."
    )
    assert [caption for _, caption in gallery] == [str(d) for d in range(10)]
    with pytest.raises(gr.Error, match="You watch 10 drawings already"):
        watching.add_yours("amy", "me", ME)
    assert watching.clear("me", ME) == ([], "Cleared: the next run reads no drawings of yours.")


@pytest.fixture(scope="module")
def library(mnist, tmp_path_factory) -> ModelLibrary:
    """The quick model (its run kept a timeline) and a copy without one, as if older."""
    weights = weights_with_quick_model(mnist, tmp_path_factory.mktemp("epochs") / "weights")
    old = load_checkpoint(checkpoint_path(MODEL, weights))
    old.timeline = None
    save_checkpoint(old, checkpoint_path("old", weights))
    return ModelLibrary(weights, MNIST_DIR)


def test_epoch_by_epoch_shows_the_mistakes_then_and_what_was_learnt_since(library, mnist):
    epochs = EpochsHandlers(library)
    status, start, at = epochs.show(MODEL)
    timeline = library.predictor(MODEL).checkpoint.timeline
    count = timeline.evaluations
    assert count >= 4 and f"evaluated on the 10,000 test images {count} times" in status
    assert (start["value"], at["value"], at["maximum"]) == (1, count, count)
    summary, confusion, learnt, forgotten = epochs.compare(MODEL, 1, count)
    labels = mnist.test_labels
    wrong_now = int((timeline.test_predictions[-1].long() != labels).sum())
    assert (
        f"At evaluation {count} of {count}" in summary and f"**{wrong_now:,} mistakes**" in summary
    )
    assert f"**{len(timeline.learnt(0, count - 1, labels)):,} learnt**" in summary
    assert confusion.ndim == 3 and len(learnt) == min(
        100, len(timeline.learnt(0, count - 1, labels))
    )
    index = int(timeline.learnt(0, count - 1, labels)[0])
    assert learnt[0][1] == f"{int(timeline.test_predictions[0, index])}→{int(labels[index])}"
    # The same evaluation twice: nothing learnt, nothing forgotten.
    summary, _, learnt, forgotten = epochs.compare(MODEL, 2, 2)
    assert "**0 learnt**, **0 forgotten**" in summary and learnt == forgotten == []


def test_a_model_from_before_timelines_says_it_has_none(library):
    status, start, at = EpochsHandlers(library).show("old")
    assert "trained before the app kept" in status
    assert start["visible"] is False and at["visible"] is False
    assert EpochsHandlers(library).compare("old", 1, 2) == ("", None, [], [])


def test_a_saved_runs_watched_drawings_are_replayed_to_its_owner_only(small_mnist):
    seven = int(small_mnist.test_labels[0])
    timeline = Timeline(
        watch_images=small_mnist.test_images[:2].clone(),
        watch_labels=[seven, NO_LABEL],
        watch_steps=[0, 50, 100],
        watch_probabilities=_probabilities([0.1, 0.6, 0.9], seven, [0.1, 0.2, 0.7], 3),
    )
    cards = watch_replay(timeline, mine=True)
    assert cards.count('class="watch-card"') == 2 and "at step 100" in cards
    assert f"p({seven}) went from 10% to 90% over 100 steps" in cards
    assert "no digit given; read as 3 now" in cards  # the other follows its answer
    assert "only whoever trained it" in watch_replay(timeline, mine=False)
    assert watch_replay(None, mine=True) == ""


def _probabilities(*series_and_digit) -> torch.Tensor:
    """(T, P, 10) from (series, digit) pairs: drawing p gives its digit the probabilities of
    its series, the other nine share the rest."""
    pairs = list(zip(series_and_digit[::2], series_and_digit[1::2], strict=True))
    points = np.zeros((len(pairs[0][0]), len(pairs), 10), dtype=np.float32)
    for p, (values, digit) in enumerate(pairs):
        for t, value in enumerate(values):
            points[t, p] = (1 - value) / 9
            points[t, p, digit] = value
    return torch.from_numpy(points)
