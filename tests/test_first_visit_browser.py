"""A newcomer's first visit, in a real browser, with the shipped models: draw a digit and
read it, train the form's first recipe to the end, take the new model, look at its
mistakes and at the Models table; the browser logs no error or warning on the way.

Screenshots of each step go to a temporary folder, or to the folder named by
MNIST_APP_TOUR_SHOTS (`MNIST_APP_TOUR_SHOTS=docs/tour pytest tests/test_first_visit_browser.py`
refreshes the docs' pictures)."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from mnist_app.core.paths import WEIGHTS_DIR
from mnist_app.ui.train_tab import FIRST_RECIPE
from tests.conftest import MNIST_DIR
from tests.harness.browser import draw, launch_chromium, shown_model, wait_text
from tests.harness.server import launched_app

pytestmark = pytest.mark.slow

SEVEN = [(-80, -90), (80, -90), (-10, 100)]
# Gradio's own plots (6.31) declare a Vega-Lite v5 spec to the v6 library they bundle,
# which warns once per plot: Gradio's, harmless, and the only console line allowed.
GRADIOS_PLOT_WARNING = "The input spec uses Vega-Lite v5"


def test_a_first_visit_reads_a_digit_trains_and_shows_the_new_model_without_console_noise(
    tmp_path: Path,
):
    weights = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, weights, ignore=shutil.ignore_patterns(".cache"))
    shots = Path(os.environ.get("MNIST_APP_TOUR_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    noise: list[str] = []

    def heard(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and GRADIOS_PLOT_WARNING not in message.text:
            noise.append(f"{message.type}: {message.text}")

    with (
        launched_app(weights, MNIST_DIR, tmp_path / "app.log") as url,
        sync_playwright() as playwright,
    ):
        page = launch_chromium(playwright, tmp_path / "profile", height=800).new_page()
        page.on("console", heard)
        page.on("pageerror", lambda error: noise.append(f"page error: {error}"))
        page.goto(url)
        page.wait_for_selector("#canvas[data-ready]", timeout=120_000)
        page.screenshot(path=shots / "1-first-visit.png")

        for stroke in (SEVEN[:2], SEVEN[1:]):
            draw(page, stroke)
        wait_text(page, "#prediction", lambda text: text.startswith("7"), bound=120)
        page.screenshot(path=shots / "2-a-digit-read.png")

        page.get_by_role("tab", name="Train").click()
        assert page.get_by_label("Recipe", exact=True).input_value() == FIRST_RECIPE
        estimate = wait_text(page, "#train-estimate", lambda text: text.startswith("About "))
        started = time.monotonic()
        page.locator("#train-button").click()
        # The progress panel is always there; the result's panel only once it has a result.
        wait_text(page, "#train-progress", lambda text: " · done · " in text, bound=600)
        result = wait_text(page, "#train-result", lambda text: "Saved as" in text, bound=60)
        print(f"{estimate!r}; trained and saved in {time.monotonic() - started:.0f} s")
        saved_as = re.search(r"Saved as (\S+?):", result).group(1)
        assert "Test accuracy" in result and saved_as.startswith(FIRST_RECIPE)
        page.screenshot(path=shots / "3-trained.png")

        page.get_by_role("tab", name="Draw").click()
        offer = page.locator("#new-model-offer")
        offer.wait_for(state="visible", timeout=60_000)
        offer.click()
        wait_model(page, "#draw-model", saved_as)
        page.screenshot(path=shots / "4-new-model-offered.png")

        page.get_by_role("tab", name="Mistakes").click()
        wait_text(page, "#mistakes-summary", lambda text: "misclassified" in text, bound=120)
        page.locator("#mistakes-gallery img").first.wait_for(timeout=60_000)
        page.screenshot(path=shots / "5-mistakes.png")

        page.get_by_role("tab", name="Models").click()
        wait_text(page, "#models-table", lambda text: saved_as in text, bound=60)
        page.screenshot(path=shots / "6-models.png")
        page.context.close()
    assert not noise, "\n".join(noise)


def wait_model(page: Page, dropdown: str, name: str) -> None:
    deadline = time.monotonic() + 60
    while shown_model(page, dropdown) != name and time.monotonic() < deadline:
        time.sleep(0.1)
    assert shown_model(page, dropdown) == name
