"""Headless Chromium on the Draw tab's pen canvas: shared by the browser tests, the
benchmarks and scripts/screenshots.py (launch flags as in ../shared/notes/environment.md)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import BrowserContext, Page, Playwright

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
CANVAS = 280  # the pen canvas's own pixels (pen_canvas.html)
PHONE = {"width": 390, "height": 844}


def launch_chromium(
    playwright: Playwright,
    profile: str | Path,
    height: int = 900,
    phone: bool = False,
    dark: bool = False,
) -> BrowserContext:
    """Debian's Chromium, headless; launch() refuses a profile folder, hence persistent.
    `phone`: a 390x844 touch screen; `dark`: the system asks for a dark colour scheme."""
    viewport = PHONE if phone else {"width": 1280, "height": height}
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=viewport,
        has_touch=phone,
        is_mobile=phone,
        color_scheme="dark" if dark else "light",
    )


def canvas_to_page(page: Page, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Canvas pixels (0-280) to page coordinates, whatever size the canvas is shown at."""
    box = page.locator("#canvas").bounding_box()
    scale = box["width"] / CANVAS
    return [(box["x"] + x * scale, box["y"] + y * scale) for x, y in points]


def resample(stroke: list[tuple[float, float]], count: int) -> list[tuple[float, float]]:
    """`count` points evenly spaced along the stroke (a pen's own points bunch up where it
    slowed down; each mouse move costs ~200 ms of software rendering)."""
    points = np.asarray(stroke, dtype=float)
    if len(points) <= count:
        return [tuple(p) for p in points]
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    along = np.concatenate([[0], np.cumsum(steps)])
    targets = np.linspace(0, along[-1], count)
    xs, ys = (np.interp(targets, along, points[:, axis]) for axis in (0, 1))
    return [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]


def stroke_on_canvas(page: Page, stroke: list[tuple[float, float]], points: int = 8) -> None:
    """One stroke with the mouse, in canvas pixels: down, `points` moves, up."""
    path = canvas_to_page(page, resample(stroke, points))
    page.mouse.move(*path[0])
    page.mouse.down()
    for x, y in path[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def draw(page: Page, points: list[tuple[float, float]]) -> None:
    """One straight-segment stroke with the mouse through `points`, given in canvas pixels
    relative to the canvas centre."""
    stroke = [(CANVAS / 2 + x, CANVAS / 2 + y) for x, y in points]
    stroke_on_canvas(page, stroke, points=len(stroke))


def touch_stroke(page: Page, stroke: list[tuple[float, float]], points: int = 8) -> None:
    """One stroke with a finger (Chromium's touch events), in canvas pixels."""
    cdp = page.context.new_cdp_session(page)
    path = canvas_to_page(page, resample(stroke, points))
    for kind, (x, y) in [("touchStart", path[0])] + [("touchMove", p) for p in path[1:]]:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def answer_text(page: Page) -> str:
    """The prediction panel's text: the digit first, or a message such as "draw a digit"."""
    return page.locator("#prediction").inner_text().strip()


def choose_model(page: Page, dropdown: str, name: str) -> None:
    """Pick model `name` in a model dropdown (`#draw-model`), whose options read like
    `quick · 97.10% · 170k`."""
    page.locator(f"{dropdown} input").click()
    # Its own options: another dropdown's list may be open too (a multiselect stays open).
    options = page.locator(dropdown).get_by_role(
        "option", name=re.compile(rf"^{re.escape(name)} · ")
    )
    options.click()


def shown_model(page: Page, dropdown: str) -> str:
    """The model a model dropdown shows (its name, without the facts after it)."""
    return page.locator(f"{dropdown} input").input_value().split(" · ")[0]


def wait_text(page: Page, selector: str, accept, bound: float = 300) -> str:
    """The text of `selector` once `accept(text)` holds (AssertionError after `bound`
    seconds: a bound for a hung server, not a speed assertion)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        text = page.locator(selector).inner_text()
        if accept(text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{selector} stayed at {page.locator(selector).inner_text()!r}")
