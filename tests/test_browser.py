"""A real browser (headless Chromium) draws on the canvas with the mouse and reads the answer."""

from __future__ import annotations

import tempfile
import time

import pytest
from app_server import launched_app, weights_with_quick_model
from conftest import MNIST_DIR
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A seven in three points, relative to the canvas centre: each mouse move costs ~200 ms of
# software rendering, so the strokes are few and straight.
SEVEN = [(-80, -90), (80, -90), (-10, 100)]
ONE = [(5, -100), (-5, 100)]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(mnist, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    weights = weights_with_quick_model(mnist, folder / "weights")
    with (
        launched_app(weights, MNIST_DIR, folder / "app.log") as url,
        sync_playwright() as playwright,
        tempfile.TemporaryDirectory() as profile,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#sketch canvas", timeout=60_000)
        yield page
        context.close()


def select_brush(page: Page) -> None:
    """Drawing needs the Brush tool selected; Clear deselects it, a second click toggles."""
    brush = page.get_by_role("button", name="Brush", exact=True)
    if "highlight" not in (brush.get_attribute("class") or ""):
        brush.click()
    page.wait_for_function(
        "() => document.querySelector('button[aria-label=\"Brush\"]')"
        ".classList.contains('highlight')"
    )


def draw(page: Page, points: list[tuple[float, float]]) -> None:
    select_brush(page)
    box = page.locator("#sketch canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx + points[0][0], cy + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(cx + x, cy + y, steps=2)
    page.mouse.up()


def heading(page: Page) -> str:
    """The Label's big text: the predicted digit, or "draw a digit"."""
    return page.locator('#prediction [data-testid="label-output-value"]').inner_text().strip()


def wait_for_heading(page: Page, accept) -> str:
    deadline = time.monotonic() + 180  # a bound for a hung server, not a speed assertion
    while time.monotonic() < deadline:
        text = heading(page)
        if text and accept(text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"the prediction stayed at {heading(page)!r}")


def predicted_label(page: Page) -> str:
    return wait_for_heading(page, lambda text: text != "draw a digit")


def clear(page: Page) -> None:
    page.get_by_role("button", name="Clear", exact=True).click()
    wait_for_heading(page, lambda text: text == "draw a digit")


def test_page_starts_by_asking_for_a_digit(page):
    assert heading(page) == "draw a digit"
    assert page.get_by_role("tab", name="Train").is_visible()
    assert page.get_by_role("tab", name="Mistakes").is_visible()


def test_drawing_a_seven_with_the_mouse_predicts_seven(page):
    draw(page, SEVEN)
    assert predicted_label(page) == "7"
    clear(page)


def test_drawing_a_one_after_clearing_predicts_one(page):
    draw(page, ONE)
    assert predicted_label(page) == "1"
    clear(page)
