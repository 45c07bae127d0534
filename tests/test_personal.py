"""A person's own handwriting, in the engine and on the command line: the set kept on the
server (whose it is, what is refused), the fit and its honest before and after, and
`python -m mnist_app personalize`."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from mnist_app.analysis.onnx_export import export_onnx
from mnist_app.core.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from mnist_app.core.paths import pendigits_file
from mnist_app.core.personal_head import last_linear_key
from mnist_app.core.predict import Predictor
from mnist_app.pen.replay import parse, random_sketches
from mnist_app.personal.fit import (
    NotEnoughSamples,
    PersonalFit,
    fit_personal,
    mnist_features,
    needed_message,
    samples_needed,
)
from mnist_app.preprocess import to_mnist
from mnist_app.service.model_files import owner_key
from mnist_app.service.personal_jobs import FitOrder, Fitted, fit_and_save, reference_cache
from mnist_app.service.personal_store import PersonalStore, check_set_name
from tests.harness.server import MODEL, weights_with_quick_model
from tests.test_cli import cli
from tests.test_export import onnx_probabilities

WRITER = 3  # a pendigits train writer


def writer_sketches(per_digit: int, brush: float = 12.0) -> list[tuple[np.ndarray, int]]:
    """`per_digit` drawings of each digit by one real writer, as 280x280 canvas sketches."""
    digits = [d for d in parse(pendigits_file("train")) if d.writer == WRITER]
    chosen = [d for label in range(10) for d in [x for x in digits if x.label == label][:per_digit]]
    return list(random_sketches(chosen, brush, seed=1))


@pytest.fixture(scope="module")
def drawings() -> tuple[torch.Tensor, torch.Tensor]:
    sketches = writer_sketches(3)
    images = np.stack([to_mnist(sketch) for sketch, _ in sketches])
    return torch.from_numpy(images), torch.tensor([label for _, label in sketches])


@pytest.fixture
def weights(mnist, tmp_path):
    return weights_with_quick_model(mnist, tmp_path / "weights")


def test_check_set_name_says_what_a_name_may_be():
    assert check_set_name("  ada ") == "ada"
    with pytest.raises(ValueError, match="Enter your name first"):
        check_set_name("")
    with pytest.raises(ValueError, match="may not contain /"):
        check_set_name("ada/../../etc")
    with pytest.raises(ValueError, match="letters, digits"):
        check_set_name("ada lovelace")


def test_a_set_keeps_each_drawing_whole_and_only_its_owner_sees_it(tmp_path):
    store = PersonalStore(tmp_path, max_samples=3)
    ink = np.zeros((1200, 900), np.float32)
    ink[300:900, 400:500] = 1.0
    image = np.zeros((28, 28), np.float32)
    image[4:24, 13:15] = 1.0
    first = store.add("ada", ["ada-browser"], image, ink, 1)
    store.add("ada", ["ada-browser"], image, ink, 7)

    samples = store.samples("ada", ["ada-browser"])
    assert [(s.label, s.id) for s in samples] == [(1, first.id), (7, samples[1].id)]
    kept_ink = Image.open(first.image.with_name(f"{first.id}.ink.png"))
    assert max(kept_ink.size) == 560  # shrunk for keeping, its shape kept
    images, labels = store.images("ada", ["ada-browser"])
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8 and list(labels) == [1, 7]
    assert images[0, 10, 13] == 255 and images[0, 10, 5] == 0
    assert not list(tmp_path.rglob("*.tmp")), "no half-written file is left behind"
    assert "ada-browser" not in (tmp_path / "ada" / "owners.json").read_text(), "hashed only"

    with pytest.raises(PermissionError, match="taken by someone else"):
        store.samples("ada", ["someone-else"])
    with pytest.raises(PermissionError, match="taken by someone else"):
        store.add("ada", ["someone-else"], image, ink, 3)
    assert store.samples("bob", ["bob"]) == []  # a set not started is empty, not an error

    store.add("ada", ["ada-browser"], image, ink, 2)
    with pytest.raises(ValueError, match="full"):
        store.add("ada", ["ada-browser"], image, ink, 2)

    store.delete_sample("ada", ["ada-browser"], first.id)
    assert [s.label for s in store.samples("ada", ["ada-browser"])] == [2, 7]
    with pytest.raises(ValueError, match="not in your set"):
        store.delete_sample("ada", ["ada-browser"], first.id)
    with pytest.raises(ValueError, match="not in your set"):
        store.delete_sample("ada", ["ada-browser"], "../../etc/passwd")
    with pytest.raises(PermissionError):
        store.delete_set("ada", ["someone-else"])
    assert store.delete_set("ada", ["ada-browser"]) == 2
    assert not any(tmp_path.iterdir()), "the set is gone whole"
    assert store.samples("ada", ["someone-else"]) == []  # and the name is free again


def test_a_drawing_kept_although_the_model_refused_it_stays_marked_until_deleted(tmp_path):
    store = PersonalStore(tmp_path)
    image, ink = np.zeros((28, 28), np.float32), np.ones((50, 50), np.float32)
    plain = store.add("ada", ["ada-browser"], image, ink, 5)
    slip = store.add("ada", ["ada-browser"], image, ink, 5, refused=True)
    listed = store.samples("ada", ["ada-browser"])
    assert [(s.id, s.refused) for s in listed] == [(plain.id, False), (slip.id, True)]
    store.delete_sample("ada", ["ada-browser"], slip.id)
    assert [s.id for s in store.samples("ada", ["ada-browser"])] == [plain.id]
    assert sorted(p.name for p in (tmp_path / "ada" / "5").iterdir()) == [
        f"{plain.id}.ink.png",
        f"{plain.id}.png",
    ], "the mark went with its drawing"


def test_a_fit_needs_three_of_each_digit_and_says_how_many_more():
    labels = [*[d for d in range(10) for _ in range(3)][:-2], 0, 0]  # two 9s short
    assert samples_needed(labels) == {9: 2}
    assert needed_message({4: 1, 9: 2}) == (
        "Draw 1 more 4 and 2 more 9s: a fit needs at least 3 of each digit."
    )


def test_a_fit_reports_an_honest_before_and_after(mnist, weights, drawings):
    base = load_checkpoint(checkpoint_path(MODEL, weights))
    images, labels = drawings
    reference = mnist_features(base, mnist)
    events = list(fit_personal(base, images, labels, reference, "quick-ada", [owner_key("ada")]))
    *progress, result = events
    assert isinstance(result, PersonalFit)
    assert [p.fraction for p in progress] == sorted(p.fraction for p in progress)
    f = result.figures
    assert (f["base"], f["samples"], f["folds"]) == (MODEL, 30, 3)
    truly_before = float((torch.from_numpy(_predict(base, images)) == labels).float().mean())
    assert f["own_before"] == pytest.approx(truly_before)
    assert 0 <= f["own_after"] <= 1 and f["own_after"] * 30 == pytest.approx(
        round(f["own_after"] * 30)
    )
    assert f["mnist_before"] == pytest.approx(base.metrics["test_accuracy"], abs=0.002)
    assert abs(f["mnist_after"] - f["mnist_before"]) < 0.01, "MNIST is not forgotten"

    fitted = result.checkpoint
    assert fitted.name == "quick-ada" and fitted.owners == [owner_key("ada")]
    assert fitted.metrics["personal"] == f and fitted.metrics["test_accuracy"] == f["mnist_after"]
    # Only the last layer changed: the base's is kept beside the fitted one, for inputs
    # unlike the person's drawings.
    head = last_linear_key(base.build())
    kept = {k: v for k, v in fitted.state_dict.items() if not k.startswith(f"{head}.")}
    assert kept.keys() == {k for k in base.state_dict if not k.startswith(f"{head}.")}
    assert all(torch.equal(v, base.state_dict[k]) for k, v in kept.items())
    assert torch.equal(fitted.state_dict[f"{head}.base.weight"], base.state_dict[f"{head}.weight"])
    assert (_predict(fitted, images) == labels.numpy()).mean() >= f["own_before"]
    test = mnist.test_images[:2000]
    assert (_predict(fitted, test) != _predict(base, test)).mean() <= 0.005

    with pytest.raises(NotEnoughSamples, match="Draw 3 more 9s"):
        next(fit_personal(base, images[labels != 9], labels[labels != 9], reference, "x"))
    with pytest.raises(ValueError, match="quick-ada is a personal model"):
        next(fit_personal(fitted, images, labels, reference, "x"))


def test_a_new_fit_replaces_the_persons_earlier_one_and_nothing_else(mnist, weights, drawings):
    images, labels = drawings

    messages = []

    def fit(secret: str) -> str:
        order = FitOrder(MODEL, "ada", images.numpy(), labels.numpy(), weights, owner_secret=secret)
        *progress, done = fit_and_save(order, mnist)
        messages.append([p.message for p in progress])
        return done.saved_as

    assert fit("ada's browser") == "quick-ada"
    assert "Reading 18,000 MNIST images (once for this model)" in messages[0]
    assert reference_cache(checkpoint_path(MODEL, weights)).is_file()
    assert fit("ada's browser") == "quick-ada", "her own earlier fit is replaced"
    assert fit("another ada") == "quick-ada-2", "someone else's is kept"
    assert not any("MNIST images" in m for m in messages[1] + messages[2]), "kept, not redone"
    # A personal model as the base fits its own base again, not itself.
    order = FitOrder(
        "quick-ada", "ada", images.numpy(), labels.numpy(), weights, owner_secret="ada's browser"
    )
    saved = next(e for e in fit_and_save(order, mnist) if isinstance(e, Fitted))
    assert saved.saved_as == "quick-ada" and saved.figures["base"] == MODEL


def personalize(*args: str) -> subprocess.CompletedProcess:
    """`python -m mnist_app personalize ARGS`."""
    return cli("personalize", *args)


def test_the_command_line_fits_a_folder_of_images_and_prints_before_and_after(
    mnist, weights, tmp_path
):
    samples = tmp_path / "ada"
    for k, (sketch, label) in enumerate(writer_sketches(3)):
        folder = samples / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sketch).save(folder / f"{k}.png")  # dark ink on white
    Image.new("RGB", (100, 100), "white").save(samples / "4" / "blank.png")

    args = [
        "--base",
        MODEL,
        "--samples",
        str(samples),
        "--name",
        "ada",
        "--weights-dir",
        str(weights),
    ]
    result = personalize(*args)
    assert result.returncode == 0, result.stderr
    assert "skipped 4/blank.png: no ink" in result.stderr
    assert "30 drawings, fitted to quick" in result.stdout
    assert "your drawings (cross-validated, 3 folds)" in result.stdout
    assert "MNIST test (10,000 images)" in result.stdout
    assert f"saved {weights / 'quick-ada.pt'}" in result.stdout
    assert load_checkpoint(weights / "quick-ada.pt").metrics["personal"]["samples"] == 30

    for path in samples.glob("9/*.png"):
        path.unlink()
    short = personalize(*args)
    assert short.returncode == 2 and "Draw 3 more 9s" in short.stderr
    missing = personalize("--samples", str(tmp_path / "nowhere"), "--name", "ada")
    assert missing.returncode == 2 and "no folder" in missing.stderr
    slash = personalize("--samples", str(samples), "--name", "a/b")
    assert slash.returncode == 2 and "may not contain /" in slash.stderr


def _predict(checkpoint, images: torch.Tensor) -> np.ndarray:
    return Predictor(checkpoint).predict(images.numpy())


def test_a_personal_checkpoint_saves_and_loads_like_any_other(mnist, weights, drawings, tmp_path):
    images, labels = drawings
    base = load_checkpoint(checkpoint_path(MODEL, weights))
    *_, result = fit_personal(base, images, labels, mnist_features(base, mnist), "quick-ada")
    path = save_checkpoint(result.checkpoint, tmp_path / "quick-ada.pt")
    again = load_checkpoint(path)
    assert again.metrics["personal"]["own_after"] == result.figures["own_after"]
    assert (_predict(again, images) == _predict(result.checkpoint, images)).all()
    # and exports to ONNX, its gate included: the drawings and MNIST digits read alike.
    onnx = export_onnx(again, tmp_path / "quick-ada.onnx")
    both = np.concatenate([images.numpy(), mnist.test_images[:200].numpy()])
    expected = Predictor(again).probabilities(both)
    assert np.abs(onnx_probabilities(onnx, both) - expected).max() < 1e-4
