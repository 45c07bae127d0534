"""Teaching the app one's handwriting, in a real browser: a person draws, says "right" or
picks the true digit, sees her drawings, deletes one, fits a model of her own and sees the
before and after; another browser may not use her name; she deletes her set. A first
visit meets no wrong turn: "✓ Right" stands out only for a digit, a name is asked for at
the name box, a drawing the model refused is kept only when confirmed, a fit's "not yet"
goes once the set changes, and a model that cannot refuse says so."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from playwright.sync_api import Page, sync_playwright

from mnist_app.core.paths import WEIGHTS_DIR, pendigits_file
from mnist_app.pen.replay import parse
from mnist_app.service.model_files import SHIPPED_MANIFEST
from mnist_app.ui.text import NOT_A_DIGIT_ANSWER
from tests.conftest import MNIST_DIR
from tests.harness.browser import (
    CANVAS,
    answer_text,
    choose_model,
    draw,
    launch_chromium,
    shown_model,
    stroke_on_canvas,
    wait_text,
)
from tests.harness.server import MODEL, launched_app, weights_with_quick_model
from tests.test_browser import HASH, SHIPPED_MODEL, final_answer

pytestmark = pytest.mark.slow
ONE = [(0, -70), (0, 70)]
# Gradio's page client, for an event whose inputs outnumber what it thinks it takes.
TOO_MANY_ARGUMENTS = "Too many arguments provided for the endpoint."


@pytest.fixture(scope="module")
def url(mnist, tmp_path_factory):
    """The quick model first (it cannot say "not a digit"), and the shipped one (it can)."""
    folder = tmp_path_factory.mktemp("personal-browser")
    weights = weights_with_quick_model(mnist, folder / "weights")
    shutil.copy2(WEIGHTS_DIR / f"{SHIPPED_MODEL}.pt", weights)
    manifest = {"models": [MODEL, SHIPPED_MODEL], "default": MODEL}
    (weights / SHIPPED_MANIFEST).write_text(json.dumps(manifest))
    with launched_app(weights, MNIST_DIR, folder / "app.log") as url:
        yield url


def open_panel(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_selector("#canvas", timeout=120_000)
    page.locator("#personal-panel").get_by_text("Your handwriting").click()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your name").press("Enter")


def message(page: Page, expected: str) -> str:
    text = wait_text(page, "#personal-message", lambda text: expected in text, bound=60)
    assert page.locator("#personal-message").is_visible()  # not hidden as stale
    return text


def console_of(page: Page) -> list[str]:
    """The page's console messages and uncaught errors from now on, as they come."""
    said: list[str] = []
    page.on("console", lambda entry: said.append(f"{entry.type}: {entry.text}"))
    page.on("pageerror", lambda error: said.append(f"pageerror: {error}"))
    return said


def right_stands_out(page: Page) -> bool:
    return "primary" in page.locator("#personal-right").get_attribute("class").split()


def test_a_person_teaches_the_model_her_handwriting(url, tmp_path):
    writer = [d for d in parse(pendigits_file("train")) if d.writer == 7]
    three_of_each = [d for label in range(10) for d in [x for x in writer if x.label == label][:3]]
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "ada", height=1400)
        page = context.new_page()
        open_panel(page, url, "ada")

        draw(page, ONE)
        wait_text(page, "#prediction", lambda text: text[:1].isdigit())
        read = answer_text(page)[0]
        page.locator("#personal-right").click()
        message(page, f"Kept as a {read} in ada's set.")
        page.locator("#personal-digit-7").click()  # the same drawing, as a 7 this time
        message(page, "Kept as a 7 in ada's set.")
        page.locator("#clear").click()
        page.locator("#personal-digit-3").click()
        message(page, "Draw a digit first")
        draw(page, [(0, 0), (2, 1)])
        page.locator("#personal-digit-3").click()
        message(page, "Not kept: that is a dot")
        page.locator("#clear").click()

        for kept, digit in enumerate(three_of_each, start=3):
            for stroke in digit.fit(CANVAS, 0.6 * CANVAS, (CANVAS / 2, CANVAS / 2)):
                stroke_on_canvas(page, stroke, 8)
            page.locator(f"#personal-digit-{digit.label}").click()
            # Kept before the next: as a person sees it counted (a busy machine lagged).
            wait_text(page, "#personal-counts", lambda t, n=kept: t.startswith(f"{n} drawings"))
            page.locator("#clear").click()
        counts = wait_text(page, "#personal-counts", lambda t: t.startswith("32 drawings"), 120)
        assert "Ready" in counts
        thumbnails = page.locator("#personal-samples .thumbnail-item")
        assert thumbnails.count() == 32
        captions = page.locator("#personal-samples .caption-label").all_inner_texts()
        assert captions == sorted(captions), "by digit"

        thumbnails.nth(captions.index("7")).click()  # one of the extra sevens
        page.locator("#personal-delete-drawing").click()
        message(page, "Deleted that drawing.")
        wait_text(page, "#personal-counts", lambda t: t.startswith("31 drawings"))

        page.locator("#personal-fit").click()
        result = wait_text(page, "#personal-result", lambda t: "Saved as" in t or "⚠" in t, 300)
        assert f"Saved as {MODEL}-ada" in result
        assert re.search(r"Your drawings.*\d+\.\d% \(\d+ of 31\)", result)
        assert "MNIST test, 10,000 images" in result
        assert shown_model(page, "#draw-model") == f"{MODEL}-ada", "her model, ready to use"

        stranger = launch_chromium(playwright, tmp_path / "stranger").new_page()
        open_panel(stranger, url, "ada")
        draw(stranger, ONE)
        stranger.locator("#personal-digit-1").click()
        message(stranger, "The name 'ada' is taken by someone else")

        page.locator("#personal-delete-set").click()
        page.locator("#personal-confirm-delete").click()
        message(page, "Deleted 31 drawings: ada's set is gone from the server.")
        wait_text(page, "#personal-counts", lambda t: t.startswith("0 drawings"))
        context.close()


def test_the_answer_buttons_fit_a_phone_screen(url, tmp_path):
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "phone", phone=True)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#canvas", timeout=120_000)
        for button in ["#personal-right", *[f"#personal-digit-{d}" for d in range(10)]]:
            box = page.locator(button).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, button
            assert box["height"] >= 30, f"{button}: big enough for a finger"
        context.close()


def test_a_first_visit_meets_no_wrong_turn_at_the_answer_buttons(url, tmp_path):
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "newcomer")
        page = context.new_page()
        said = console_of(page)
        page.goto(url)
        page.wait_for_selector("#canvas", timeout=120_000)
        # What a fit takes is said before the panel is opened.
        title = page.locator("#personal-panel").get_by_text("Your handwriting")
        assert "3 of each digit (30 drawings)" in title.inner_text()
        assert not right_stands_out(page), "nothing to confirm on a blank canvas"

        draw(page, ONE)
        page.wait_for_function(
            "() => document.querySelector('#prediction').dataset.state === 'digit'",
            timeout=60_000,
        )
        assert right_stands_out(page)
        read = answer_text(page)[0]
        page.locator("#personal-right").click()
        message(page, "Enter your name first")
        # The panel opens at the name box, ready to type in.
        page.wait_for_function(
            "() => document.activeElement?.closest('#personal-name') != null", timeout=30_000
        )
        page.keyboard.type("newcomer")
        page.locator("#personal-right").click()
        message(page, f"Kept as a {read} in newcomer's set.")
        page.locator("#personal-digit-7").click()
        message(page, "Kept as a 7 in newcomer's set.")
        wait_text(page, "#personal-counts", lambda text: text.startswith("2 drawings"), 60)
        assert [line for line in said if TOO_MANY_ARGUMENTS in line] == []

        page.locator("#clear").click()
        page.wait_for_function(
            "() => document.querySelector('#prediction').dataset.state === 'blank'",
            timeout=60_000,
        )
        assert not right_stands_out(page)
        context.close()


def test_a_digit_for_a_drawing_the_model_refused_is_kept_only_when_pressed_again(url, tmp_path):
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "slip", height=1200)
        page = context.new_page()
        said = console_of(page)
        open_panel(page, url, "slip")
        choose_model(page, "#draw-model", SHIPPED_MODEL)
        for stroke in HASH:
            draw(page, stroke)
        assert final_answer(page) == NOT_A_DIGIT_ANSWER
        assert not right_stands_out(page)
        page.locator("#personal-digit-5").click()
        message(page, f"{SHIPPED_MODEL} read this as not a digit. Press 5 again to keep it as a 5")
        assert page.locator("#personal-samples").is_hidden()  # nothing kept yet

        page.locator("#personal-digit-5").click()
        message(page, f"Kept as a 5 in slip's set, marked ⚠: {SHIPPED_MODEL} read it as not")
        counts = wait_text(page, "#personal-counts", lambda text: text.startswith("1 drawing"))
        assert "⚠ marks 1 drawing kept although the model read it as not a digit" in counts
        captions = page.locator("#personal-samples .caption-label")
        assert captions.all_inner_texts() == ["5 ⚠"]  # easy to find...

        page.locator("#personal-samples .thumbnail-item").first.click()
        page.locator("#personal-delete-drawing").click()  # ...and to remove
        message(page, "Deleted that drawing.")
        wait_text(page, "#personal-counts", lambda text: text.startswith("0 drawings"))
        assert [line for line in said if TOO_MANY_ARGUMENTS in line] == []
        context.close()


def test_a_fits_not_yet_goes_once_the_set_changes(url, tmp_path):
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "eager", height=1200)
        page = context.new_page()
        open_panel(page, url, "eager")
        page.locator("#personal-fit").click()
        wait_text(page, "#personal-result", lambda text: "⚠ Not yet" in text, 60)
        draw(page, ONE)
        page.locator("#personal-digit-1").click()
        message(page, "Kept as a 1 in eager's set.")
        wait_text(page, "#personal-result", lambda text: "Not yet" not in text, 60)
        context.close()


def test_a_model_that_cannot_say_not_a_digit_says_so_beside_its_answers(url, tmp_path):
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "notice")
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#canvas", timeout=120_000)
        notice = page.locator("#model-notice")
        assert shown_model(page, "#draw-model") == MODEL
        assert f"{MODEL} cannot say “not a digit”" in notice.inner_text()
        assert notice.is_visible()
        choose_model(page, "#draw-model", SHIPPED_MODEL)
        notice.wait_for(state="hidden", timeout=30_000)
        context.close()
