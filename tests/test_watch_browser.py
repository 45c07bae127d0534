"""Watching a network learn one's own digits, in a real browser: a person picks two
drawings with 👁 in the Draw tab, sees them in the Train tab, trains, and watches a card per
drawing follow the run; the Mistakes tab then shows the run epoch by epoch, and the Models
tab replays her cards. With MNIST_APP_WATCH_SHOTS set to a folder (docs/), it saves the
docs' pictures of the cards (watch.png) and of epoch by epoch (epochs.png) there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import MNIST_DIR
from tests.harness.browser import choose_model, draw, launch_chromium, wait_text
from tests.harness.server import launched_app, weights_with_quick_model
from tests.test_train_browser import choose, wait_value

pytestmark = pytest.mark.slow
ONE = [(0, -70), (0, 70)]
SEVEN = [(-60, -70), (60, -70), (-10, 80)]


def test_she_watches_her_drawings_learnt_then_sees_the_run_epoch_by_epoch(mnist, tmp_path):
    weights = weights_with_quick_model(mnist, tmp_path / "weights")
    with (
        launched_app(weights, MNIST_DIR, tmp_path / "app.log") as url,
        sync_playwright() as playwright,
    ):
        context = launch_chromium(playwright, tmp_path / "her", height=1400)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#canvas", timeout=120_000)
        for count, strokes in enumerate((ONE, SEVEN), start=1):
            page.locator("#clear").click()
            draw(page, strokes)
            wait_text(page, "#prediction", lambda text: text[:1].isdigit())
            page.locator("#watch-drawing").click()
            wait_text(page, "#personal-message", lambda t, n=count: f"({n} of 10 picked)" in t)

        page.get_by_role("tab", name="Train").click()
        picked = page.locator("#watch-picked .thumbnail-item")
        picked.first.wait_for(timeout=60_000)
        assert picked.count() == 2
        choose(page, "Recipe", "t5_mlp_bn")
        # The recipe's values first: typed before they land, a setting is overwritten.
        wait_value(page, "#setting-epochs input", "20")
        page.locator("#setting-steps input").fill("200")
        page.locator("#setting-steps input").press("Tab")
        page.locator("#train-button").click()
        cards = wait_text(page, "#watch-view", lambda t: t.count("at step 200") == 2, 600)
        assert cards.count("no digit given; read as") == 2
        assert page.locator("#watch-view .watch-card polyline").count() == 2
        result = wait_text(page, "#train-result", lambda t: "Saved as" in t, 300)
        assert "t5_mlp_bn" in result
        shots = os.environ.get("MNIST_APP_WATCH_SHOTS")
        if shots:
            page.locator("#watch-view").screenshot(path=Path(shots) / "watch.png")

        page.get_by_role("tab", name="Mistakes").click()
        choose_model(page, "#mistakes-model", "t5_mlp_bn")
        page.locator("#epochs").get_by_text("Epoch by epoch").click()
        summary = wait_text(page, "#epochs-summary", lambda t: "mistakes" in t, 120)
        assert "At evaluation" in summary and "learnt" in summary and "forgotten" in summary
        assert page.locator("#epochs-learnt .thumbnail-item").count() > 0
        if shots:  # once the matrix and the first thumbnails have loaded (the rest are lazy)
            page.wait_for_function(
                "() => [...document.querySelectorAll('#epochs-confusion img, "
                "#epochs-learnt img')].slice(0, 6).every((i) => i.complete && i.naturalWidth)",
                timeout=60_000,
            )
            page.locator("#epochs").screenshot(path=Path(shots) / "epochs.png")

        page.get_by_role("tab", name="Models").click()
        choose_model(page, "#manage-model", "t5_mlp_bn")
        replay = wait_text(page, "#manage-watched", lambda t: "watch" in t.lower(), 120)
        assert "How it read the drawings you watched" in replay
        assert page.locator("#manage-watched .watch-card").count() == 2
        context.close()
