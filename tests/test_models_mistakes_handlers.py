"""The Models and Mistakes tabs' handlers called directly, without building the page: what
a user reads for an empty pick, a bad name, a model that is not hers, a filter, a click."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import gradio as gr
import pandas as pd
import pytest
import torch

from mnist_app.core.checkpoint import load_checkpoint, save_checkpoint
from mnist_app.core.evaluation import Evaluation
from mnist_app.service.library import ModelLibrary
from mnist_app.service.model_files import SHIPPED_MANIFEST, owner_key
from mnist_app.ui.mistakes_tab import DETAILS_PROMPT, PAGE_SIZE, MistakesHandlers, forget_example
from mnist_app.ui.models_tab import (
    COLUMNS,
    PICK_TO_MANAGE,
    ModelsHandlers,
    TableOrder,
    ask_delete,
    next_order,
    pick_row,
    sorted_frame,
)
from mnist_app.ui.text import no_models_help
from tests.harness.server import MODEL, weights_with_quick_model

ME = gr.Request(username=None, session_hash="my-session")


def library_in(folder, mnist) -> ModelLibrary:
    """The quick model, shipped; `mine`, owned by the browser token "me"."""
    weights = weights_with_quick_model(mnist, folder / "weights")
    quick = load_checkpoint(weights / f"{MODEL}.pt")
    quick.name, quick.owners = "mine", [owner_key("me")]
    save_checkpoint(quick, weights / "mine.pt")
    (weights / SHIPPED_MANIFEST).write_text(json.dumps({"models": [MODEL]}))
    return ModelLibrary(weights, mnist.source)


@pytest.fixture(scope="module")
def library(mnist, tmp_path_factory) -> ModelLibrary:
    return library_in(tmp_path_factory.mktemp("handlers"), mnist)


@pytest.fixture(scope="module")
def models(library) -> ModelsHandlers:
    return ModelsHandlers(library)


@pytest.fixture(scope="module")
def mistakes(library) -> MistakesHandlers:
    return MistakesHandlers(library)


# Models tab


def test_nothing_picked_to_manage_disables_the_buttons(models):
    note, rename, delete, download, onnx, watched = models.describe(None, "me", ME)
    assert note == PICK_TO_MANAGE
    assert rename["interactive"] is False and delete["interactive"] is False
    assert download["value"] is None and download["interactive"] is False and onnx is None
    assert watched == ""


def test_manage_offers_her_newest_model_first_and_nothing_to_a_newcomer(models):
    *_, chosen = models.show(None, None, None, "me", ME)
    assert chosen["value"] == "mine"
    stranger = gr.Request(username=None, session_hash="another-session")
    *_, chosen = models.show(None, None, None, "another-token", stranger)
    assert chosen["value"] is None  # not the shipped model: it cannot be changed
    *_, chosen = models.show(None, MODEL, None, "me", ME)
    assert chosen["value"] == MODEL  # what she picked stays


def test_a_shipped_model_says_why_it_cannot_be_changed(models):
    note, rename, delete, download, _, _ = models.describe(MODEL, "me", ME)
    assert note == f"{MODEL} shipped with the app; shipped models cannot be changed."
    assert rename["interactive"] is False and delete["interactive"] is False
    assert download["label"] == f"Download {MODEL}.pt"


def test_her_own_model_may_be_renamed_or_deleted_by_her_only(models):
    note, rename, delete, _, _, _ = models.describe("mine", "me", ME)
    assert note == "You trained **mine**: you may rename or delete it."
    assert rename["interactive"] is True and delete["interactive"] is True
    stranger = gr.Request(username=None, session_hash="another-session")
    assert "someone else" in models.describe("mine", "another-token", stranger)[0]
    with pytest.raises(gr.Error, match="trained by someone else"):
        models.rename_model("mine", "stolen", "another-token", stranger)
    with pytest.raises(gr.Error, match="trained by someone else"):
        models.delete_model("mine", "another-token", stranger)


def test_rename_then_delete_her_model(mnist, tmp_path):
    library = library_in(tmp_path, mnist)
    models = ModelsHandlers(library)
    assert models.rename("mine", "  renamed ", "me", ME) == (
        "Renamed mine to **renamed**.",
        "renamed",
        "",
    )
    *_, compared, managed = models.show(["mine", MODEL], "mine", None, "me", ME)
    assert "renamed" in library.names() and "mine" not in library.names()
    assert compared["value"] == [MODEL] and managed["value"] == "renamed"
    assert models.delete_model("renamed", "me", ME) == "Deleted renamed."
    assert "renamed" not in library.names()


def test_delete_and_export_ask_for_a_model_first(models):
    with pytest.raises(gr.Error, match="Pick a model first"):
        ask_delete(None)
    with pytest.raises(gr.Error, match="Pick a model first"):
        models.export("")
    confirm, question = ask_delete(MODEL)
    assert confirm["visible"] is True and question.startswith(f"Delete **{MODEL}** for good?")


def test_compare_one_model_asks_for_another_and_an_unknown_one_is_an_error(models):
    note, curves, pair, summary, gallery, difference = models.compare([MODEL])
    assert note == "Pick two or more models to overlay their curves."
    assert curves["visible"] is True and pair["visible"] is False
    assert (summary, gallery, difference) == ("", [], None)
    with pytest.raises(gr.Error, match="nosuchmodel"):
        models.compare([MODEL, "nosuchmodel"])


def test_a_row_clicked_joins_the_comparison_and_leaves_it_clicked_again():
    click = SimpleNamespace(row_value=[MODEL, "✓", 97.0])
    assert pick_row(["other"], click) == (["other", MODEL], MODEL)
    assert pick_row(["other", MODEL], click) == (["other"], MODEL)


def test_the_table_lists_the_shipped_model(models):
    frame, about, _ = models.show_table()
    row = frame[frame["model"] == MODEL].iloc[0]
    assert row["shipped"] == "✓" and 90 < row["MNIST test (%) ▼"] <= 100  # sorted by it
    assert "Click a column's header to sort by it, and again to reverse." in about


def test_a_header_click_sorts_numbers_as_numbers_empty_cells_last_and_again_reverses():
    frame = pd.DataFrame({"model": ["b", "A", "c", "d"], "training (s)": [64.0, None, 2058.0, 9.5]})
    order = next_order(TableOrder(), "training (s)")
    assert order == TableOrder("training (s)", descending=True)
    longest = sorted_frame(frame, order)
    assert list(longest.columns) == ["model", "training (s) ▼"]
    assert list(longest["model"]) == ["c", "b", "d", "A"]
    shortest = sorted_frame(frame, next_order(order, "training (s)"))
    assert list(shortest["model"]) == ["d", "b", "c", "A"]  # the empty cell stays last
    by_name = next_order(order, "model")
    assert not by_name.descending  # text: A to Z first
    assert list(sorted_frame(frame, by_name)["model ▲"]) == ["A", "b", "c", "d"]


def test_sort_takes_the_clicked_columns_position(models):
    frame, _, _, order = models.sort(str(COLUMNS.index("parameters")), None)
    assert order == TableOrder("parameters", descending=True)
    assert "parameters ▼" in frame.columns
    _, _, _, order = models.sort(str(COLUMNS.index("parameters")), order)
    assert order == TableOrder("parameters", descending=False)
    assert all(update == gr.skip() for update in models.sort("not a column", order))


def test_disagreement_counts_have_thousands_separators():
    labels = torch.arange(3000) % 10
    logits_right = torch.nn.functional.one_hot(labels, 10).float() * 5
    logits_wrong = torch.nn.functional.one_hot((labels + 1) % 10, 10).float() * 5
    first_right = torch.arange(3000) < 1500  # first: right on 1,500; second on the rest
    first = Evaluation(torch.where(first_right[:, None], logits_right, logits_wrong), labels)
    second = Evaluation(torch.where(first_right[:, None], logits_wrong, logits_right), labels)
    library = SimpleNamespace(
        evaluation={"one": first, "two": second}.__getitem__,
        data=lambda: SimpleNamespace(test_images=torch.zeros(3000, 28, 28, dtype=torch.uint8)),
    )
    summary, gallery, _ = ModelsHandlers(library)._pair("one", "two")
    assert "read 3,000 of 3,000 test images differently" in summary
    assert "one is right on 1,500, two on 1,500, neither on 0" in summary
    # Under each image, one short line: the digit, then what one | two read.
    assert all(re.fullmatch(r"a \d: \d \(94%\) \| \d \(94%\)", c) for _, c in gallery)


# Mistakes tab


def test_no_model_picked_says_how_to_train_one(library, mistakes):
    gallery, summary, confusion, table, page = mistakes.mistakes(None, "any", "any")
    assert gallery == [] and summary == no_models_help(library.weights_dir) and page == 1
    assert confusion is None and table is None


def test_the_same_digit_twice_shows_those_read_right_least_confident_first(mistakes):
    gallery, summary, _, _, page = mistakes.mistakes(MODEL, "3", "3")
    assert "read right" in summary and "least confident first" in summary
    assert all(caption.startswith("true 3 -> predicted 3") for _, caption in gallery)
    assert len(gallery) == PAGE_SIZE and page == 1


def test_a_bad_filter_or_model_is_an_error_not_a_crash(mistakes):
    with pytest.raises(gr.Error, match="digit filter must be 'any' or 0-9"):
        mistakes.mistakes(MODEL, "x", "any")
    with pytest.raises(gr.Error, match="nosuchmodel"):
        mistakes.mistakes("nosuchmodel", "any", "any")


def test_pages_turn_within_bounds(mistakes):
    _, summary, page = mistakes.previous_page(MODEL, "any", "any", 1)
    assert page == 1 and "(page 1 of" in summary
    assert mistakes.next_page(None, "any", "any", 1)[2] == 1  # no model: nothing to turn


def test_a_click_on_the_gallery_picks_that_mistake(mistakes, library):
    found = library.evaluation(MODEL).mistakes(None, None)
    assert mistakes.pick_example(MODEL, "any", "any", 1, SimpleNamespace(index=0)) == (
        found[0].index
    )
    # The second page's first image: the mistake after the first page's PAGE_SIZE.
    assert mistakes.pick_example(MODEL, "any", "any", 2, SimpleNamespace(index=0)) == (
        found[PAGE_SIZE].index
    )
    past_the_end = SimpleNamespace(index=len(found))
    assert mistakes.pick_example(MODEL, "any", "any", 1, past_the_end) == gr.skip()


def test_inspect_refuses_an_index_outside_the_test_set(mistakes):
    with pytest.raises(gr.Error, match="test_index must be 0 to 9999, got 10000"):
        mistakes.inspect(MODEL, 10000)


def test_a_click_beside_the_confusion_matrix_changes_nothing(mistakes):
    skipped = mistakes.pick_cell(MODEL, SimpleNamespace(index=[0, 0]))
    assert len(skipped) == 5 and all(update == gr.skip() for update in skipped)


def test_another_model_forgets_the_picked_example():
    _, index, title, *_ = forget_example()
    assert index is None and title == DETAILS_PROMPT
