"""Teaching the app one's handwriting, in a real browser: a person draws, says "right" or
picks the true digit, sees her drawings, deletes one, fits a model of her own and sees the
before and after; another browser may not use her name; she deletes her set."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, sync_playwright

from mnist_app.core.paths import pendigits_file
from mnist_app.pen.replay import parse
from tests.conftest import MNIST_DIR
from tests.harness.browser import (
    CANVAS,
    answer_text,
    draw,
    launch_chromium,
    shown_model,
    stroke_on_canvas,
    wait_text,
)
from tests.harness.server import MODEL, launched_app, weights_with_quick_model

pytestmark = pytest.mark.slow
ONE = [(0, -70), (0, 70)]


@pytest.fixture(scope="module")
def url(mnist, tmp_path_factory):
    folder = tmp_path_factory.mktemp("personal-browser")
    weights = weights_with_quick_model(mnist, folder / "weights")
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

        for digit in three_of_each:
            for stroke in digit.fit(CANVAS, 0.6 * CANVAS, (CANVAS / 2, CANVAS / 2)):
                stroke_on_canvas(page, stroke, 8)
            page.locator(f"#personal-digit-{digit.label}").click()
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
