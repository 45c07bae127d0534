"""The engine behind the Models tab and the Mistakes details: comparing two models,
nearest training images, drawn-digit accuracy, and managing checkpoint files safely."""

from __future__ import annotations

import json
import os
import time

import pytest
import torch

from mnist_app.analysis.compare import confusion_difference, disagreements
from mnist_app.analysis.neighbours import FeatureIndex
from mnist_app.core.checkpoint import load_checkpoint, save_checkpoint
from mnist_app.core.evaluation import Evaluation
from mnist_app.pen.drawn_accuracy import drawn_accuracy, drawn_set
from mnist_app.service.library import ModelLibrary
from mnist_app.service.model_files import SHIPPED_MANIFEST, owner_key
from tests.harness.server import MODEL, weights_with_quick_model


@pytest.fixture
def library(mnist, tmp_path):
    """The quick model, shipped; `mine` (owned by key "me") and `theirs` (by "them")."""
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    quick = load_checkpoint(weights / f"{MODEL}.pt")
    for name, owner in (("mine", "me"), ("theirs", "them")):
        quick.name, quick.owners = name, [owner_key(owner)]
        save_checkpoint(quick, weights / f"{name}.pt")
    (weights / SHIPPED_MANIFEST).write_text(json.dumps({"models": [MODEL]}))
    return ModelLibrary(weights, mnist.source)


def evaluation(labels: list[int], predictions: list[int], confidence: float = 0.9) -> Evaluation:
    logits = torch.full((len(labels), 10), 0.0)
    for row, digit in enumerate(predictions):
        logits[row, digit] = torch.logit(torch.tensor(confidence)) + 2.2
    return Evaluation(logits=logits, labels=torch.tensor(labels))


def test_disagreements_list_where_one_model_is_right_first():
    labels = [1, 2, 3, 4]
    first = evaluation(labels, [1, 5, 3, 6])  # right, wrong, right, wrong
    second = evaluation(labels, [7, 2, 3, 8])  # wrong, right, right, wrong (not as first)
    found = disagreements(first, second)
    assert {d.index for d in found} == {0, 1, 3}  # image 2: both read 3
    assert [d.right for d in found][-1] == "neither"
    assert {d.right for d in found[:2]} == {"first", "second"}
    difference = confusion_difference(first, second)
    assert difference[1, 7] == 1 and difference[1, 1] == -1 and difference[2, 2] == 1


def test_the_nearest_training_image_to_a_training_image_is_itself(library, mnist):
    predictor = library.predictor(MODEL)
    images, labels = mnist.train_images[:3000], mnist.train_labels[:3000]
    checkpoint = predictor.checkpoint
    index = FeatureIndex(predictor.model, checkpoint.mean, checkpoint.std, images, labels)
    alike = 0
    for i in range(20):
        nearest = index.nearest(images[i], k=6)
        assert nearest[0].index == i and nearest[0].similarity == pytest.approx(1, abs=1e-2)
        assert len(nearest) == 6
        alike += sum(n.label == int(labels[i]) for n in nearest[1:])
    assert alike >= 0.8 * 20 * 5  # the others: mostly its own digit (by chance, 10%)


def test_features_are_cached_per_model_and_not_confused_by_other_threads(library, mnist):
    first = library.features(MODEL)
    assert library.features(MODEL) is first and len(first) == 60_000
    test_seven = mnist.test_images[0]
    assert [n.label for n in first.nearest(test_seven)].count(7) >= 5


def test_drawn_accuracy_per_brush(library):
    small = drawn_set("test", brushes=(6.0, 20.0), limit=200)
    assert small.inputs[6.0].shape == (200, 28, 28) and len(small.labels) == 200
    scores = drawn_accuracy(library.predictor(MODEL), small)
    assert set(scores) == {6.0, 20.0} and all(0.5 < s <= 1 for s in scores.values())


def test_drawn_accuracy_is_measured_in_the_background_and_kept(library):
    while library.drawn_accuracy(MODEL) is None:  # one model: about half a minute
        library._drawn[library._key(MODEL)].result(timeout=600)
    scores = library.drawn_accuracy(MODEL)
    assert set(scores) == {6.0, 12.0, 20.0} and all(0.5 < s <= 1 for s in scores.values())
    cached = json.loads((library.weights_dir / ".cache" / "drawn_accuracy.json").read_text())
    assert any(key.startswith(f"{MODEL}@") for key in cached)
    again = ModelLibrary(library.weights_dir, library.data_dir)  # a restarted server
    again._drawn_worker.submit(lambda: None).result()
    assert again._score_drawn(MODEL, again._key(MODEL)) == scores  # read, not recomputed


def test_drawn_accuracy_waits_while_a_model_trains(library):
    library._drawn_set = drawn_set("test", brushes=(6.0,), limit=50)  # measured in ~1 s
    with library.training():
        assert library.drawn_accuracy(MODEL) is None
        measuring = library._drawn[library._key(MODEL)]
        time.sleep(3)
        assert not measuring.done()  # it would take the training's core
    assert set(measuring.result(timeout=120)) == {6.0}


def test_facts_say_what_shipped(library):
    assert library.facts(MODEL).shipped
    assert not library.facts("mine").shipped
    assert library.facts(MODEL).device is not None  # recorded since this version


def test_an_owner_renames_a_model_whole_and_keeps_its_date(library):
    path = library.path("mine")
    before = path.stat().st_mtime_ns
    library.rename("mine", "renamed", ["someone", "me"])
    assert not path.exists()
    renamed = library.path("renamed")
    assert renamed.stat().st_mtime_ns == before
    checkpoint = load_checkpoint(renamed)
    assert checkpoint.name == "renamed" and checkpoint.owners == [owner_key("me")]
    assert library.predictor("renamed").probabilities(torch.zeros(28, 28)).shape == (10,)
    assert not list(library.weights_dir.glob(".*.tmp"))


def test_renaming_never_replaces_another_model(library):
    with pytest.raises(ValueError, match="already exists"):
        library.rename("mine", "theirs", ["me"])
    with pytest.raises(ValueError, match="invalid model name"):
        library.rename("mine", "../escape", ["me"])
    assert library.path("mine").exists() and load_checkpoint(library.path("theirs")).owners == [
        owner_key("them")
    ]


def test_an_owner_deletes_a_model_and_nobody_else_can(library):
    with pytest.raises(PermissionError, match="someone else"):
        library.delete("theirs", ["me"])
    with pytest.raises(PermissionError, match="shipped"):
        library.delete(MODEL, ["me"])
    with pytest.raises(PermissionError, match="someone else"):
        library.rename("theirs", "stolen", [""])
    library.delete("mine", ["me"])
    assert "mine" not in library.names() and library.path("theirs").exists()
    assert os.listdir(library.weights_dir).count("mine.pt") == 0


def test_history_is_kept_and_old_checkpoints_have_none(library):
    assert library.history(MODEL)  # speedrun's 150 steps: one report at the end
    old = load_checkpoint(library.path("mine"))
    old.metrics = {k: v for k, v in old.metrics.items() if k != "history"}
    old.name = "old"
    save_checkpoint(old, library.weights_dir / "old.pt")
    assert library.history("old") == []


def test_a_shipped_list_edited_on_disk_is_read_again(library):
    assert library.facts(MODEL).shipped and not library.facts("mine").shipped
    manifest = library.weights_dir / SHIPPED_MANIFEST
    manifest.write_text(json.dumps({"models": [MODEL, "mine"]}))
    os.utime(manifest, ns=(0, manifest.stat().st_mtime_ns + 10**9))
    assert library.facts("mine").shipped


def test_an_export_keeps_only_the_latest_version_and_a_deleted_model_leaves_nothing(library):
    first = library.onnx_file("mine")
    path = library.path("mine")
    save_checkpoint(load_checkpoint(path), path, overwrite=True)  # a new version
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 10**9))
    second = library.onnx_file("mine")
    assert second != first and second.is_file() and not first.exists()
    library.delete("mine", ["me"])
    assert not second.exists()
    with pytest.raises(ValueError, match="no model named 'mine'"):
        library.predictor("mine")


def dated_copies_of_quick(weights, names_oldest_first: list[str]) -> None:
    """The quick model under each of `names` (itself too), each file a minute newer than
    the one before."""
    quick = load_checkpoint(weights / f"{MODEL}.pt")
    start = time.time() - 3600
    for age, name in enumerate(names_oldest_first):
        quick.name = name
        save_checkpoint(quick, weights / f"{name}.pt", overwrite=True)
        os.utime(weights / f"{name}.pt", (start + 60 * age, start + 60 * age))


def test_model_lists_put_the_default_first_then_the_shipped_models_then_the_newest(mnist, tmp_path):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    # File dates alone would put the default last and the shipped models between others.
    dated_copies_of_quick(weights, [MODEL, "old_run", "shipped_b", "shipped_a", "new_run"])
    manifest = {"models": ["shipped_a", MODEL, "shipped_b"], "default": MODEL}
    (weights / SHIPPED_MANIFEST).write_text(json.dumps(manifest))
    library = ModelLibrary(weights, mnist.source)
    expected = [MODEL, "shipped_a", "shipped_b", "new_run", "old_run"]
    assert library.names() == expected
    assert [name for _, name in library.choices()] == expected
    assert library.best_name() == MODEL


def test_without_a_shipped_default_the_best_model_comes_first(library):
    path = library.path("theirs")
    checkpoint = load_checkpoint(path)
    checkpoint.metrics["test_accuracy"] = 1.0
    save_checkpoint(checkpoint, path, overwrite=True)
    os.utime(path, (time.time() - 3600, time.time() - 3600))  # the oldest file
    assert library.best_name() == "theirs"
    assert library.names()[:2] == ["theirs", MODEL]  # then the shipped one


def test_the_newest_model_someone_trained_is_theirs_to_manage(library):
    assert library.newest_owned(["me"]) == "mine"
    assert library.newest_owned(["them", "me"]) in {"mine", "theirs"}
    assert library.newest_owned(["nobody", ""]) is None  # and never a shipped model
