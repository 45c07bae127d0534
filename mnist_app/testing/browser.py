"""Headless Chromium driving the app's canvas: shared by the browser tests and
scripts/screenshots.py (launch flags as in ../shared/notes/environment.md)."""

from __future__ import annotations

from pathlib import Path

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


def launch_chromium(playwright: Playwright, profile: str | Path, height: int) -> BrowserContext:
    """Debian's Chromium, headless; launch() refuses a profile folder, hence persistent."""
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": height},
    )


def select_brush(page: Page) -> None:
    """Drawing needs the Brush tool selected; Clear deselects it, a second click toggles."""
    brush = page.get_by_role("button", name="Brush", exact=True)
    if "highlight" not in (brush.get_attribute("class") or ""):
        brush.click()
    page.wait_for_function(
        "() => document.querySelector('button[aria-label=\"Brush\"]')"
        ".classList.contains('highlight')"
    )


def draw(page: Page, points: list[tuple[float, float]], steps: int = 2) -> None:
    """One stroke through `points`, given relative to the canvas centre."""
    select_brush(page)
    box = page.locator("#sketch canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx + points[0][0], cy + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(cx + x, cy + y, steps=steps)
    page.mouse.up()
