"""Doors an attacker tried (issue 33): a request's model name is never a path, a crafted
checkpoint cannot make the server build a giant network, the temporary files of writes
that a crash cut short do not pile up, and the server fetches nothing from a URL."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
import shutil
import socket
import threading
import time

import gradio as gr
import httpx
import numpy as np
import pytest
import torch
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from mnist_app.core.atomic import LEFTOVER_AGE_S, remove_leftovers, write_atomically
from mnist_app.core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from mnist_app.core.models import MAX_PARAMETERS, build_model
from mnist_app.service import library as library_module
from mnist_app.service import personal_jobs
from mnist_app.service.library import ModelLibrary
from mnist_app.service.personal_jobs import FitOrder, FitsBusy, fit_and_save, fit_in_process
from mnist_app.service.personal_store import SETS_PER_ADDRESS, SETS_PER_OWNER, PersonalStore
from mnist_app.ui import build_app
from tests.harness.rest import call, train_data
from tests.harness.server import MODEL, quick_checkpoint, weights_with_quick_model


def fit_answer(mnist, base: str, weights, person: str = "attacker") -> str:
    """What fitting 30 drawings onto `base` answers: the error message, or 'fitted'."""
    images = mnist.test_images[:30].numpy().astype(np.float32) / 255
    labels = np.arange(30) % 10
    order = FitOrder(base, person, images, labels, weights, owner_secret="x")
    try:
        for _ in fit_and_save(order, mnist):
            pass
    except ValueError as err:
        return str(err)
    return "fitted"


def test_a_fit_never_takes_its_base_from_a_path_outside_the_weights_folder(mnist, tmp_path):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    private = tmp_path / "private"
    private.mkdir()
    shutil.copy2(quick_checkpoint(mnist), private / "secret.pt")
    answer = fit_answer(mnist, str(private / "secret.pt"), weights)
    assert answer != "fitted"
    assert sorted(p.name for p in weights.glob("*.pt")) == [f"{MODEL}.pt"]
    assert sorted(p.name for p in private.rglob("*")) == ["secret.pt"]  # no cache beside it


def test_a_fit_answers_alike_whatever_exists_on_disk(mnist, tmp_path):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    (weights / "broken.pt").write_bytes(b"not a checkpoint")

    def answer(base: str) -> str:  # the name itself masked: it is echoed back
        return fit_answer(mnist, base, weights).replace(base, "X")

    assert answer("/etc/passwd") == answer("/etc/nonexistent")
    assert answer("nothing") == answer("broken")  # missing, and unreadable
    assert "index" not in answer("broken")


def test_a_person_keeps_a_few_personal_models_and_everyone_a_bounded_disk(mnist, tmp_path):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    fitted = weights / f"{MODEL}-attacker.pt"
    assert fit_answer(mnist, MODEL, weights) == "fitted"
    assert fit_answer(mnist, MODEL, weights) == "fitted"  # a fit again replaces its own
    for n in range(personal_jobs.PERSONAL_MODELS_PER_OWNER - 1):  # as if fitted on other bases
        shutil.copy2(fitted, weights / f"other{n}-attacker.pt")
    assert fit_answer(mnist, MODEL, weights) == "fitted"  # at the most, one replaced: room
    answer = fit_answer(mnist, MODEL, weights, person="another-set")  # one more: none
    assert answer.startswith("You keep 4 personal models, the most one person may: delete one")
    before = sorted(p.name for p in weights.glob("*.pt"))
    # Someone else is bounded by everyone's disk, not by this person's count.
    images, labels = mnist.test_images[:30].numpy() / 255, np.arange(30) % 10
    other = FitOrder(MODEL, "bob", images.astype(np.float32), labels, weights, owner_secret="b")
    personal_jobs.PERSONAL_BYTES, kept = 4 * fitted.stat().st_size, personal_jobs.PERSONAL_BYTES
    try:
        with pytest.raises(personal_jobs.NoRoomForPersonalModels, match="no room for more"):
            list(fit_and_save(other, mnist))
    finally:
        personal_jobs.PERSONAL_BYTES = kept
    assert sorted(p.name for p in weights.glob("*.pt")) == before  # nothing saved
    # The operator's own fits (no owner: the command line) are not bounded.
    operator = dataclasses.replace(other, owner_secret="", person="operator")
    assert list(fit_and_save(operator, mnist))[-1].saved_as == f"{MODEL}-operator"


def test_a_checkpoint_asking_for_a_giant_network_is_refused_before_it_is_built(mnist, tmp_path):
    checkpoint = dataclasses.replace(
        load_checkpoint(quick_checkpoint(mnist)), arch="mlp", arch_kwargs={"hidden": [650000]}
    )
    path = save_checkpoint(checkpoint, tmp_path / "giant.pt")
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="parameters"):
        load_checkpoint(path).build()
    assert time.perf_counter() - started < 2  # refused from its size, not after allocating
    with pytest.raises(ValueError, match=f"{MAX_PARAMETERS:,}"):
        build_model("mlp", hidden=[650000])


def test_writes_cut_short_by_a_crash_are_removed_and_younger_ones_kept(tmp_path):
    cache = tmp_path / ".cache" / "personal"
    cache.mkdir(parents=True)
    old = cache / ".quick.pt.abc123.tmp"
    old.write_bytes(b"\0" * 1000)
    young = tmp_path / ".other.pt.def456.tmp"  # another server's write in progress
    young.write_bytes(b"\0")
    past = time.time() - LEFTOVER_AGE_S - 60
    os.utime(old, (past, past))
    whole = write_atomically(tmp_path / "kept.pt", lambda tmp: torch.save({}, tmp))
    assert remove_leftovers(tmp_path) == 1
    assert not old.exists() and young.exists() and whole.exists()


def test_an_image_given_as_a_url_is_refused_with_a_clear_message(client):
    with pytest.raises(AppError, match="does not fetch files from addresses"):
        client.predict(
            handle_file("https://example.invalid/x.png"), MODEL, api_name="/predict_image"
        )


def test_a_url_is_refused_before_its_host_is_looked_up(mnist, tmp_path, monkeypatch):
    library = ModelLibrary(weights_with_quick_model(mnist, tmp_path / "weights"))
    demo = build_app(library, personal=PersonalStore(tmp_path / "personal"))
    looked_up = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **_: looked_up.append(args))
    inputs = [b for b in demo.blocks.values() if isinstance(b, gr.Image | gr.ImageEditor)]
    assert inputs
    for block in inputs:
        with pytest.raises(gr.Error, match="does not fetch"):
            asyncio.run(block.async_move_resource_to_block_cache("https://example.invalid/x"))
    assert looked_up == []


def test_bad_input_gets_a_clear_message_and_one_short_log_line(app_url, app_weights):
    log = app_weights.parent / "app.log"
    before = log.stat().st_size
    with httpx.Client(base_url=app_url, timeout=60) as rest:
        arity = call(rest, "train", ["A" * 1_000_000])
        listed = call(rest, "train", train_data({"recipe": ["speedrun"], "name": "x"}))
        number = call(rest, "train", train_data({"recipe": "speedrun", "name": 7}))
        never_uploaded = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}
        unknown_file = call(rest, "predict_image", [never_uploaded, MODEL])
    assert "takes" in arity[-1][1] and "inputs, got 1" in arity[-1][1]
    assert "must be text, not list" in listed[-1][1]
    assert "must be text, not int" in number[-1][1]
    assert "could not be used" in unknown_file[-1][1]
    assert all(events[-1][0] == "error" for events in (arity, listed, number, unknown_file))
    time.sleep(1)  # the server's log is written as it goes
    added = log.read_text(errors="replace")[before:]
    assert "Traceback" not in added
    assert len(added) < 4000, added[-2000:]  # four short lines, not the 1 MB input


def test_features_of_a_model_dropped_from_the_cache_are_never_computed(mnist, tmp_path):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    names = [MODEL] + [f"copy{k}" for k in range(1, 6)]
    for name in names[1:]:
        shutil.copy2(weights / f"{MODEL}.pt", weights / f"{name}.pt")
    library = ModelLibrary(weights)
    library.data()
    futures = [library.prefetch_features(name) for name in names]  # the first one runs
    assert all(f.cancelled() for f in futures[1:3]), "jobs nobody waits for were kept"
    assert len(library.features(names[1])) == 60_000  # asked for again: computed
    futures[-1].result()


def test_loaded_models_are_dropped_least_recently_used_over_the_memory_budget(
    mnist, tmp_path, monkeypatch
):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    for k in range(1, 4):
        shutil.copy2(weights / f"{MODEL}.pt", weights / f"copy{k}.pt")
    library = ModelLibrary(weights)
    one_model = library_module._memory_bytes(library.predictor(MODEL))
    monkeypatch.setattr(library_module, "MODEL_MEMORY_BYTES", 2 * one_model)
    for name in ["copy1", "copy2", MODEL, "copy3"]:
        library.predictor(name)
    assert [key[0] for key in library._predictors] == [MODEL, "copy3"]


def test_fits_beyond_the_servers_room_are_answered_busy_at_once(monkeypatch):
    release = threading.Event()

    def slow_fit(*_):
        release.wait(30)
        yield "fitted"

    monkeypatch.setattr(personal_jobs, "run_in_process", slow_fit)
    order = functools.partial(FitOrder, "quick", images=None, labels=None)
    running = [fit_in_process(order(f"p{k}", owner_secret=f"s{k}"), None) for k in range(2)]
    threads = [threading.Thread(target=list, args=(fit,)) for fit in running]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    with pytest.raises(FitsBusy, match="fitting 2 models for others"):
        next(fit_in_process(order("p3", owner_secret="s3"), None))
    release.set()
    for thread in threads:
        thread.join(10)
    assert list(fit_in_process(order("p3", owner_secret="s3"), None)) == ["fitted"]


def test_one_person_fits_one_model_at_a_time(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(personal_jobs, "run_in_process", lambda *_: iter([release.wait(30)]))
    first = fit_in_process(FitOrder("quick", "ada", None, None, owner_secret="ada's"), None)
    thread = threading.Thread(target=list, args=(first,))
    thread.start()
    time.sleep(0.2)
    with pytest.raises(FitsBusy, match="still running"):
        next(fit_in_process(FitOrder("quick", "ada", None, None, owner_secret="ada's"), None))
    release.set()
    thread.join(10)


def a_drawing() -> tuple[np.ndarray, np.ndarray]:
    image = np.zeros((28, 28), np.float32)
    image[4:24, 13:15] = 1.0
    return image, image


def test_one_client_cannot_take_every_personal_set(tmp_path):
    store = PersonalStore(tmp_path, max_sets=500)
    image, ink = a_drawing()
    for k in range(SETS_PER_OWNER):
        store.add(f"mine{k}", ["one browser"], image, ink, 1, "192.0.2.1")
    with pytest.raises(ValueError, match=f"You keep {SETS_PER_OWNER} sets already"):
        store.add("one-more", ["one browser"], image, ink, 1, "192.0.2.1")
    for k in range(SETS_PER_ADDRESS - SETS_PER_OWNER):  # new browser ids, one address
        store.add(f"theirs{k}", [f"browser {k}"], image, ink, 1, "192.0.2.1")
    with pytest.raises(ValueError, match="started from your network"):
        store.add("yet-another", ["fresh browser"], image, ink, 1, "192.0.2.1")
    store.add("elsewhere", ["fresh browser"], image, ink, 1, "198.51.100.9")  # another place


def test_a_full_server_makes_room_by_dropping_idle_small_sets(tmp_path):
    store = PersonalStore(tmp_path, max_sets=3)
    image, ink = a_drawing()
    for k in range(3):
        store.add(f"set{k}", [f"browser {k}"], image, ink, 1, f"192.0.2.{k}")
    with pytest.raises(ValueError, match="no more personal sets"):
        store.add("newcomer", ["newcomer"], image, ink, 1, "192.0.2.9")
    long_ago = time.time() - 2 * 24 * 3600
    for path in (tmp_path / "set1").rglob("*"):
        os.utime(path, (long_ago, long_ago))
    store.add("newcomer", ["newcomer"], image, ink, 1, "192.0.2.9")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newcomer", "set0", "set2"]
