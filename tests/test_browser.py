"""A real browser (headless Chromium) draws on the canvas with the mouse and reads the answer."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import MNIST_DIR
from playwright.sync_api import Page, sync_playwright

from mnist_app.drawing.pen_replay import PenDigit, Stroke, parse
from mnist_app.paths import WEIGHTS_DIR, pendigits_file
from mnist_app.testing.browser import draw, launch_chromium, select_brush
from mnist_app.testing.server import launched_app, weights_with_quick_model
from mnist_app.ui.text import DOT

# A seven in three points, relative to the canvas centre: each mouse move costs ~200 ms of
# software rendering, so the strokes are few and straight.
SEVEN = [(-80, -90), (80, -90), (-10, 100)]
ONE = [(5, -100), (-5, 100)]
SHIPPED_MODEL = "resnet_mini"  # the repo's default model, trained with drawing augmentations
CANVAS = 280  # the Sketchpad's canvas_size in draw_tab.py
POINTS_PER_STROKE = 10  # each mouse move costs ~200 ms of software rendering

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(mnist, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    weights = weights_with_quick_model(mnist, folder / "weights")
    shutil.copy2(WEIGHTS_DIR / f"{SHIPPED_MODEL}.pt", weights)
    with (
        launched_app(weights, MNIST_DIR, folder / "app.log") as url,
        sync_playwright() as playwright,
        tempfile.TemporaryDirectory() as profile,
    ):
        context = launch_chromium(playwright, profile, height=900)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#sketch canvas", timeout=60_000)
        yield page
        context.close()


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
    """The app's Clear button: the canvas and the strip empty, the label asks again."""
    page.get_by_role("button", name="Clear", exact=True).click()
    wait_for_heading(page, lambda text: text == "draw a digit")
    page.wait_for_function("() => !document.querySelector('#stages img')")


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


def test_a_single_click_is_a_dot_not_a_digit(page):
    draw(page, [(-40, 50)])
    assert wait_for_heading(page, lambda text: text != "draw a digit") == DOT
    clear(page)


def test_uploading_a_file_that_is_not_an_image_shows_why(page, tmp_path):
    fake = tmp_path / "digit.png"
    fake.write_text("not an image at all\n" * 20)
    page.locator("#upload input[type=file]").set_input_files(fake)
    toast = page.get_by_text("Could not read that image: the file is not an image")
    toast.first.wait_for(timeout=60_000)
    assert heading(page) == "draw a digit"  # no stale or made-up prediction
    draw(page, SEVEN)  # and the app still works
    assert predicted_label(page) == "7"
    clear(page)


def first_of_each_class() -> list[PenDigit]:
    """The first digit of each class from the pendigits test writers (unseen in training)."""
    path = pendigits_file("test")
    if not path.is_file():
        pytest.fail(f"this test needs the pendigits test writers: {path} is missing")
    first: dict[int, PenDigit] = {}
    for digit in parse(path):
        first.setdefault(digit.label, digit)
    return [first[label] for label in range(10)]


def resample(stroke: Stroke, count: int) -> Stroke:
    """`count` points evenly spaced along the stroke (the pen's own points bunch up where
    it slowed down)."""
    points = np.asarray(stroke)
    if len(points) <= count:
        return stroke
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    along = np.concatenate([[0], np.cumsum(steps)])
    targets = np.linspace(0, along[-1], count)
    xs, ys = (np.interp(targets, along, points[:, axis]) for axis in (0, 1))
    return [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]


def draw_on_canvas(page: Page, strokes: list[Stroke]) -> None:
    """Strokes in canvas pixels, drawn with the mouse: down, moves, up for each. After each
    stroke, wait for the prediction it triggers, as a person would glance at the label."""
    select_brush(page)
    box = page.locator("#sketch canvas").first.bounding_box()
    zoom_text = page.locator("#sketch").get_by_text(re.compile(r"^\d+%$")).inner_text()
    zoom = int(zoom_text.rstrip("%")) / 100
    # The drawing area is the canvas_size times the toolbar's zoom, centred in <canvas>.
    left = box["x"] + (box["width"] - CANVAS * zoom) / 2
    top = box["y"] + (box["height"] - CANVAS * zoom) / 2
    for stroke in strokes:
        points = [(left + x * zoom, top + y * zoom) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point)
        with answered_prediction(page):
            page.mouse.up()


@contextlib.contextmanager
def answered_prediction(page: Page) -> Iterator[None]:
    """Wait until a request queued during the block (or after it) has been answered.

    The label keeps its old text while requests are pending, so its text says nothing;
    its status tracker stays visible until every pending request for it has answered."""
    bound = 180_000  # for a hung server, not a speed assertion
    with page.expect_response(lambda r: "/queue/join" in r.url, timeout=bound):
        yield
    page.wait_for_selector("#prediction .wrap.default.hide", state="attached", timeout=bound)


def predict_after_drawing(page: Page) -> str:
    with answered_prediction(page):
        page.get_by_role("button", name="Predict", exact=True).click()
    return heading(page)


def test_pen_drawn_digits_replayed_with_the_mouse_are_read_by_the_shipped_model(page):
    model = page.get_by_label("Model", exact=True)
    if model.input_value() != SHIPPED_MODEL:
        model.click()
        page.get_by_role("option", name=SHIPPED_MODEL, exact=True).click()
    assert model.input_value() == SHIPPED_MODEL
    results = []
    for digit in first_of_each_class():
        strokes = digit.fit(CANVAS, 0.6 * CANVAS, (CANVAS / 2, CANVAS / 2))
        draw_on_canvas(page, [resample(s, POINTS_PER_STROKE) for s in strokes])
        results.append((digit.label, predict_after_drawing(page)))
        clear(page)
    wrong = [(str(label), read) for label, read in results if read != str(label)]
    print(f"pen digits (true, read): {results}; wrong: {wrong}")
    assert len(wrong) <= 1, f"misread {len(wrong)} of {len(results)} (true, read): {wrong}"
