"""The Draw tab's handlers and its personal panel's, called directly without building the
page: what a user reads for a blank drawing, no model, a model that cannot refuse, a bad
name or digit, a set that is not hers, an empty set, a drawing the model refused, and a
drawing kept, listed and deleted."""

from __future__ import annotations

import dataclasses
import re

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from mnist_app.core.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from mnist_app.service.library import ModelLibrary
from mnist_app.service.personal_store import PersonalStore
from mnist_app.ui.draw_tab import DrawHandlers, take_offer
from mnist_app.ui.limits import Limits
from mnist_app.ui.pen_answers import png_data_url
from mnist_app.ui.personal_panel import (
    RIGHT,
    KeepAs,
    PersonalHandlers,
    forget_fit_warning,
    name_on_load,
    person,
    pick,
)
from mnist_app.ui.text import DRAW_A_DIGIT, NO_MODEL
from tests.harness.server import MODEL, weights_with_quick_model
from tests.harness.sketches import pen_sketchpad_values, sketchpad_value

TOKEN = "ada's secret"
REFUSER = "refuser"  # says "not a digit" to every drawing


@pytest.fixture(scope="module")
def library(mnist, tmp_path_factory) -> ModelLibrary:
    weights = weights_with_quick_model(mnist, tmp_path_factory.mktemp("draw") / "weights")
    quick = load_checkpoint(checkpoint_path(MODEL, weights))
    config = {**quick.config, "reject_below": 1.01}  # no probability reaches it
    save_checkpoint(
        dataclasses.replace(quick, name=REFUSER, config=config), checkpoint_path(REFUSER, weights)
    )
    return ModelLibrary(weights, mnist.source)


@pytest.fixture(scope="module")
def draw(library) -> DrawHandlers:
    return DrawHandlers(library)


@pytest.fixture
def personal(library, tmp_path) -> PersonalHandlers:
    return PersonalHandlers(library, PersonalStore(tmp_path / "personal"), Limits())


def blank_sketch() -> dict:
    return sketchpad_value(np.zeros((280, 280), np.uint8))


def a_one() -> Image.Image:
    """A bar of black ink on white: an upload of a 1."""
    pixels = np.full((280, 280, 3), 255, np.uint8)
    pixels[60:220, 130:146] = 0
    return Image.fromarray(pixels)


def page_drawing() -> dict:
    """What the answer buttons send: the pen's strokes on a transparent 280x280 canvas."""
    alpha = 255 - pen_sketchpad_values(1)[0]["composite"][..., 0]
    drawing = np.zeros((280, 280, 4), np.uint8)
    drawing[..., 3] = alpha
    return {"image": png_data_url(drawing), "kind": "canvas"}


# Draw tab


def test_predict_asks_for_a_digit_when_nothing_is_drawn(draw):
    assert draw.predict(blank_sketch(), MODEL) == {"label": DRAW_A_DIGIT, "confidences": None}


def test_predict_says_to_train_a_model_when_none_is_picked(draw):
    answer = draw.predict(pen_sketchpad_values(1)[0], None)
    assert answer == {"label": NO_MODEL, "confidences": None}


def test_predict_image_reads_an_uploaded_one_with_ten_probabilities(draw):
    answer = draw.predict_image(a_one(), MODEL)
    assert answer["label"] == "1"
    assert sorted(c["label"] for c in answer["confidences"]) == [str(d) for d in range(10)]


def test_a_model_that_is_not_there_is_named_in_the_error(draw):
    with pytest.raises(gr.Error, match="no-such-model"):
        draw.predict(pen_sketchpad_values(1)[0], "no-such-model")


def test_nothing_to_explain_in_a_blank_drawing(draw):
    with pytest.raises(gr.Error, match="Draw a digit first: there is nothing to explain"):
        draw.explain_drawing(blank_sketch(), MODEL)


def test_an_explanation_names_the_digit_and_its_runner_up(draw):
    sketch = pen_sketchpad_values(1)[0]
    on_input, on_strokes, summary = draw.explain_drawing(sketch, MODEL)
    assert summary["digit"] == int(draw.predict(sketch, MODEL)["label"])
    assert summary["runner_up"] != summary["digit"] and summary["lead"] > 0
    assert on_input.shape[:2] == (280, 280) and on_strokes.shape[2] == 4


def test_a_model_that_cannot_say_not_a_digit_says_so_beside_its_answers(draw):
    notice = draw.show_notice(MODEL)  # no digit detector, no refusal threshold
    assert notice["visible"] is True
    assert notice["value"].startswith(f"**{MODEL}** cannot say “not a digit”")


def test_no_notice_for_a_model_that_refuses_with_the_apps_preprocessing_or_for_none(draw):
    assert draw.show_notice(REFUSER)["visible"] is False
    assert draw.show_notice(None)["visible"] is False


def test_taking_the_offer_selects_the_new_model_and_hides_the_offer():
    assert take_offer("new-model") == ("new-model", {"__type__": "update", "visible": False})


# Personal panel


def test_no_name_yet_shows_an_empty_panel(personal):
    counts, gallery, ids, selected, delete = personal.show("", TOKEN, None)
    assert counts == "" and gallery["visible"] is False and ids == [] and selected is None
    assert delete["interactive"] is False


def test_a_bad_name_is_said_in_the_counts_line(personal):
    counts, *_ = personal.show("ada/../x", TOKEN, None)
    assert counts.startswith("⚠ A name may not contain /")


def test_a_login_user_gets_a_set_named_after_the_login(personal):
    bob = gr.Request(username="Bob Smith")
    assert person("anything typed", bob) == "Bob_Smith"
    update = name_on_load("ada", bob)
    assert update["value"] == "Bob_Smith" and update["interactive"] is False
    assert name_on_load("ada", None)["value"] == "ada"  # the name this browser used last


def test_an_answer_with_nothing_drawn_asks_for_a_drawing_not_a_name(personal):
    message, *view, panel, pending, ask_name = KeepAs(personal, "3")(
        None, "", MODEL, TOKEN, None, None
    )
    assert message == "⚠ Draw a digit first, then say which digit it is."
    assert all(isinstance(r, dict) and r.get("__type__") == "update" for r in view)  # skips
    assert panel == gr.skip() and pending is None and ask_name is False


def test_an_answer_with_no_name_asks_for_it_and_opens_the_panel_at_the_name(personal):
    message, *_, panel, _, ask_name = KeepAs(personal, "3")(
        page_drawing(), "", MODEL, TOKEN, None, None
    )
    assert message == "⚠ Enter your name first: your drawings are kept under it."
    assert panel["open"] is True and ask_name is True  # the page focuses the name box


def test_right_keeps_the_digit_the_model_reads(personal, draw):
    message, counts, gallery, ids, panel, pending, _ = KeepAs(personal, RIGHT)(
        page_drawing(), "ada", MODEL, TOKEN, None, None
    )
    digit = re.fullmatch(r"Kept as a \*\*(\d)\*\* in ada's set\.", message).group(1)
    assert digit == draw.predict(pen_sketchpad_values(1)[0], MODEL)["label"]
    assert counts.startswith("1 drawing in **ada**'s set") and f"**{digit}** ×1" in counts
    assert gallery["visible"] is True and len(ids) == 1
    assert gallery["value"][0][1] == digit  # the caption: the digit a fit learns from it
    assert panel["open"] is True and pending is None


def test_right_with_no_model_says_to_train_one(personal):
    message, *_ = KeepAs(personal, RIGHT)(page_drawing(), "ada", None, TOKEN, None, None)
    assert message == f"⚠ {NO_MODEL}"


def test_a_digit_for_what_the_model_calls_not_a_digit_is_kept_only_when_pressed_again(
    personal,
):
    five, seven = KeepAs(personal, "5"), KeepAs(personal, "7")
    message, *view, panel, pending, _ = five(page_drawing(), "ada", REFUSER, TOKEN, None, None)
    assert message == (
        f"⚠ {REFUSER} read this as not a digit. Press **5** again to keep it as a 5: a fit "
        "learns from it that such drawings are 5s."
    )
    assert all(v == gr.skip() for v in view) and panel == gr.skip() and pending
    assert personal.personal_set("ada", TOKEN, None)["drawings"] == []  # nothing kept yet
    # Another digit, or another drawing, is another question.
    assert seven(page_drawing(), "ada", REFUSER, TOKEN, pending, None)[0].startswith(
        f"⚠ {REFUSER} read this as not a digit. Press **7** again"
    )
    bar = np.zeros((280, 280, 4), np.uint8)
    bar[60:220, 100:116, 3] = 255
    other = {"image": png_data_url(bar), "kind": "canvas"}
    assert "Press **5** again" in five(other, "ada", REFUSER, TOKEN, pending, None)[0]

    message, counts, gallery, ids, _, pending, _ = five(
        page_drawing(), "ada", REFUSER, TOKEN, pending, None
    )
    assert message.startswith(f"Kept as a **5** in ada's set, marked ⚠: {REFUSER} read it as")
    assert "⚠ marks 1 drawing kept although the model read it as not a digit" in counts
    assert gallery["value"][0][1] == "5 ⚠" and pending is None
    assert personal.personal_set("ada", TOKEN, None)["drawings"] == [
        {"id": ids[0], "digit": 5, "refused": True}
    ]
    done, counts, *_ = personal.delete_selected("ada", ids[0], TOKEN, None)
    assert done == "Deleted that drawing." and "⚠" not in counts


def test_collect_keeps_an_upload_and_personal_set_lists_it(personal):
    assert personal.collect(a_one(), "1", "ada", MODEL, TOKEN, None) == "Kept as a 1 in ada's set."
    kept = personal.personal_set("ada", TOKEN, None)
    assert kept["counts"]["1"] == 1 and kept["needed"]["1"] == 2
    assert [d["digit"] for d in kept["drawings"]] == [1]


def test_collect_refuses_a_digit_that_is_not_one(personal):
    with pytest.raises(gr.Error, match='The digit must be "0" to "9", or "right"'):
        personal.collect(a_one(), "12", "ada", MODEL, TOKEN, None)


def test_a_set_is_its_owners_alone(personal):
    personal.collect(a_one(), "1", "ada", MODEL, TOKEN, None)
    with pytest.raises(gr.Error, match="taken by someone else"):
        personal.personal_set("ada", "a stranger", None)


def test_deleting_with_no_drawing_clicked_says_to_click_one(personal):
    with pytest.raises(gr.Error, match="Click a drawing first"):
        personal.delete_selected("ada", None, TOKEN, None)


def test_a_clicked_drawing_is_picked_and_deleted(personal):
    personal.collect(a_one(), "1", "ada", MODEL, TOKEN, None)
    ids = [d["id"] for d in personal.personal_set("ada", TOKEN, None)["drawings"]]
    chosen, button = pick(ids, gr.SelectData(None, {"index": 0, "value": None}))
    assert chosen == ids[0] and button["interactive"] is True
    done, counts, gallery, left, selected, _ = personal.delete_selected("ada", chosen, TOKEN, None)
    assert done == "Deleted that drawing." and left == [] and selected is None
    assert counts.startswith("0 drawings in **ada**'s set") and gallery["visible"] is False


def test_deleting_an_empty_set_says_it_is_empty(personal):
    with pytest.raises(gr.Error, match="Your set is empty already"):
        personal.ask_delete_all("ada", TOKEN, None)


def test_a_whole_set_is_deleted_once_confirmed(personal):
    for _ in range(2):
        personal.collect(a_one(), "1", "ada", MODEL, TOKEN, None)
    row, question = personal.ask_delete_all("ada", TOKEN, None)
    assert row["visible"] is True and question == "Delete all 2 drawings of **ada**'s set for good?"
    done, row = personal.confirm_delete("ada", TOKEN, None)
    assert done == "Deleted 2 drawings: ada's set is gone from the server."
    assert row["visible"] is False
    assert personal.personal_set("ada", TOKEN, None)["drawings"] == []


def test_a_fit_with_too_few_drawings_says_how_many_more(personal):
    personal.collect(a_one(), "1", "ada", MODEL, TOKEN, None)
    *_, (progress, result, model) = personal.fit_from_page("ada", MODEL, TOKEN, None)
    assert progress == "" and result.startswith("⚠ Not yet:") and "more" in result
    assert model == gr.skip()  # the model picked is left as it was
    with pytest.raises(gr.Error, match="Not yet"):
        personal.fit("ada", MODEL, TOKEN, None)


def test_a_fits_refusal_goes_once_the_set_changes_and_its_result_stays():
    assert forget_fit_warning("⚠ Not yet: Draw 3 more 0s: a fit needs at least 3") == ""
    assert forget_fit_warning("**Saved as quick-ada**, now selected above") == gr.skip()
    assert forget_fit_warning("") == gr.skip()


def test_a_fit_with_no_model_says_to_train_one(personal):
    with pytest.raises(gr.Error, match=re.escape(NO_MODEL)):
        personal.fit("ada", None, TOKEN, None)
