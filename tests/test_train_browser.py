"""The Train tab in a real browser: a run survives a reload, a second tab of the same
browser can stop it, everybody sees it, and the new model is offered, not forced."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.conftest import MNIST_DIR
from tests.harness.browser import launch_chromium, shown_model, wait_text
from tests.harness.server import MODEL, launched_app, weights_with_quick_model

pytestmark = pytest.mark.slow


def open_train_tab(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#canvas", timeout=120_000)
    page.get_by_role("tab", name="Train").click()


def wait_value(page: Page, selector: str, expected: str, model: bool = False) -> None:
    """Wait for an input to show `expected` (events update the page a moment later); for
    a model dropdown, the model's name before the facts that follow it."""

    def shown() -> str:
        value = page.locator(selector).input_value()
        return value.split(" · ")[0] if model else value

    deadline = time.monotonic() + 60
    while shown() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert shown() == expected, selector


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_a_run_survives_a_reload_is_seen_by_all_and_its_model_is_offered(mnist, tmp_path):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    with (
        launched_app(weights, MNIST_DIR, tmp_path / "app.log") as url,
        sync_playwright() as playwright,
    ):
        profile, other_profile = tmp_path / "mine", tmp_path / "stranger"
        mine = launch_chromium(playwright, profile)
        page = mine.new_page()
        open_train_tab(page, url)
        assert "Not training" in page.locator("#train-progress").inner_text()
        choose(page, "Recipe", "speedrun")
        wait_value(page, "#setting-epochs input", "0")  # speedrun runs by steps
        page.locator("#setting-lr input").fill("-1")
        page.locator("#setting-lr input").press("Tab")  # what is wrong, not an old estimate
        wait_text(page, "#train-estimate", lambda text: "Learning rate must be positive" in text)
        page.locator("#setting-lr input").fill("0.02")
        choose(page, "Recipe", "speedrun")  # the same recipe again: its values come back
        wait_value(page, "#setting-lr input", "0.1")
        assert page.locator("#setting-lr input").evaluate("input => input.checkValidity()")
        page.locator("#setting-steps input").fill("100000")
        page.locator("#setting-steps input").press("Tab")
        # Before Train is pressed, how long it will take, from a few seconds of trial steps.
        estimate = wait_text(page, "#train-estimate", lambda text: "100,000 steps" in text)
        assert estimate.startswith("About ") and " on CPU" in estimate
        page.locator("#train-button").click()
        wait_text(page, "#train-progress", lambda text: "step " in text)

        page.reload()  # the run goes on, and this page follows it again
        open_train_tab(page, url)
        wait_text(page, "#train-progress", lambda text: "running" in text and "100,000" in text)
        wait_value(page, "#setting-steps input", "100000")  # the form is the run's
        wait_value(page, "#setting-lr input", "0.1")
        assert page.get_by_label("Recipe", exact=True).input_value() == "speedrun"

        stranger = launch_chromium(playwright, other_profile).new_page()
        open_train_tab(stranger, url)  # another person sees the run, and cannot stop it
        wait_text(stranger, "#train-progress", lambda text: "speedrun" in text and "step " in text)
        stranger.locator("#stop-button").click()
        wait_text(stranger, "#stop-message", lambda text: "someone else" in text)

        second_tab = mine.new_page()  # the same browser: the run is its own
        open_train_tab(second_tab, url)
        wait_text(second_tab, "#train-progress", lambda text: "running" in text)
        second_tab.locator("#stop-button").click()
        result = wait_text(page, "#train-result", lambda text: "Saved as" in text)
        assert "Stopped early" in result and "speedrun" in result
        # "Stopping after the current step" is over with the run: not left on screen.
        wait_text(second_tab, "#train-progress", lambda text: "stopped early, saved" in text)
        wait_text(second_tab, "#stop-message", lambda text: not text.strip())

        page.get_by_role("tab", name="Draw").click()
        offer = page.locator("#new-model-offer")
        offer.wait_for(state="visible", timeout=30_000)
        assert shown_model(page, "#draw-model") == MODEL  # not switched
        offer.click()
        wait_value(page, "#draw-model input", "speedrun", model=True)
        assert not offer.is_visible()
        stranger.context.close()
        mine.close()
