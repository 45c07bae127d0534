"""A real browser opens "Inside the network" under the canvas: every layer of the model for
the drawing, following the pen, and a click on a feature map shows its 9 training images."""

from __future__ import annotations

import tempfile

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.harness.browser import answer_text, draw, launch_chromium

pytestmark = pytest.mark.slow

SEVEN = [(-80, -90), (80, -90), (-10, 100)]
BOUND_MS = 120_000  # for a hung server, not a speed assertion
# The session app's model, a speedrun: two conv layers, then 256 hidden units that are what
# its last layer reads.
LAYERS = [
    "input · 28x28, as the model reads it",
    "layer 1 · conv 4→32, 3x3 · 14x14",
    "layer 2 · conv 32→64, 3x3 · 7x7",
    "layer 3 · dense 576→256 · 256 units · penultimate",
    "output · probability of each digit",
]


@pytest.fixture(scope="module")
def page(app_url):
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tempfile.mkdtemp(prefix="chromium-"))
        page = context.new_page()
        page.goto(app_url)
        page.wait_for_selector("#canvas[data-ready=true]", timeout=BOUND_MS)
        yield page
        context.close()


def view_state(page: Page) -> str | None:
    return page.evaluate("() => document.querySelector('.inside')?.dataset.state ?? null")


def wait_view(page: Page, state: str) -> None:
    page.wait_for_function(
        f"() => document.querySelector('.inside')?.dataset.state === '{state}'", timeout=BOUND_MS
    )


def answered(page: Page) -> str:
    """The answer's digit, once the canvas has answered the whole drawing (the pen-up's
    answer, not a glimpse sent while drawing: under load it may come later than 0.3 s)."""
    shown = "document.querySelector('#prediction').dataset"
    page.wait_for_function(
        f"() => ['digit', 'not-digit'].includes({shown}.state) && {shown}.live === 'false'",
        timeout=BOUND_MS,
    )
    return answer_text(page).splitlines()[0]


def click_tile(page: Page, layer: int, channel: int) -> None:
    """A click in the middle of one tile of a layer's picture."""
    tiles = page.locator(f"img.inside-tiles[data-layer='{layer}']")
    size = tiles.evaluate(
        "img => ({gap: +img.dataset.gap, cell: +img.dataset.cell, columns: +img.dataset.columns,"
        " natural: img.naturalWidth, shown: img.getBoundingClientRect().width})"
    )
    scale = size["shown"] / size["natural"]
    pitch = size["cell"] + size["gap"]
    row, column = divmod(channel, size["columns"])
    middle = size["gap"] + size["cell"] / 2
    tiles.click(
        position={"x": (middle + column * pitch) * scale, "y": (middle + row * pitch) * scale}
    )


def examples(page: Page, channel: int) -> tuple[str, str, int]:
    """The examples panel once it answers about `channel`: its state, text and images."""
    title = "(document.querySelector('.inside-picked')?.textContent || '')"
    state = "document.querySelector('.inside-examples').dataset.state"
    page.wait_for_function(
        f"() => {title}.endsWith('#{channel}') && {state} !== 'asking'", timeout=BOUND_MS
    )
    panel = page.locator(".inside-examples")
    return (
        panel.get_attribute("data-state"),
        panel.inner_text(),
        panel.locator(".inside-examples-grid img").count(),
    )


def test_opened_it_shows_every_layer_and_a_clicked_map_its_nine_images(page):
    draw(page, SEVEN)
    digit = answered(page)
    assert view_state(page) is None  # closed, it asked nothing
    page.get_by_role("button", name="Inside the network").click()
    wait_view(page, "layers")
    captions = page.locator(".inside-row figcaption").all_inner_texts()
    assert [caption.split(" · white")[0] for caption in captions] == LAYERS
    assert page.locator("img.inside-tiles").count() == 3  # two conv layers, the features
    probabilities = page.locator(".inside-output .num").all_inner_texts()
    assert len(probabilities) == 10
    shown = max(range(10), key=lambda d: float(probabilities[d].rstrip("%")))
    assert str(shown) == digit  # the outputs are the answer's probabilities

    click_tile(page, layer=0, channel=1)
    state, text, _ = examples(page, 1)
    if state == "pending":  # computed once per model, in the background
        assert "of the 60,000 done" in text
        page.wait_for_function(
            "() => document.querySelector('.inside-examples').dataset.state === 'ready'",
            timeout=300_000,
        )
    state, text, images = examples(page, 1)
    assert state == "ready" and images == 9
    assert "layer 1 · conv 4→32" in text and "the 9 training images that excite it most" in text
    assert page.locator(".inside-mark:not([hidden])").count() == 1  # the clicked map outlined

    click_tile(page, layer=1, channel=10)
    state, text, images = examples(page, 10)
    assert (state, images) == ("ready", 9)  # a second click: kept, no waiting
    assert "layer 2 · conv 32→64" in text

    page.locator("img.inside-tiles[data-layer='1']").press("ArrowRight")  # the keyboard's way
    assert examples(page, 11)[::2] == ("ready", 9)


def test_the_view_follows_the_pen_while_open(page):
    if view_state(page) is None:
        page.get_by_role("button", name="Inside the network").click()
    page.locator("#clear").click()
    wait_view(page, "blank")
    assert "draw a digit" in page.locator(".inside-layers").inner_text()
    draw(page, SEVEN)
    wait_view(page, "layers")
    assert page.locator("img.inside-tiles").count() == 3
