"""Refresh the screenshots of README.md and docs/ (docs/draw.png, why.png, train.png, mistakes.png,
mistake-details.png, models.png, compare.png, personal.png, inside.png).

Serves the app on the shipped checkpoints (copied to a temporary folder, so the quick
training run shown in the Train tab leaves weights/ untouched), then drives headless
Chromium: draws a digit, trains the small t5_mlp_bn recipe for two epochs, opens Mistakes
and explains one, then the Models tab with that new model and two shipped ones compared;
then a pendigits writer's 30 drawings kept as a personal set and resnet_mini fitted to it;
last, "Inside the network" opened on a drawn two, with one feature map's 9 training images.

    python -m scripts.screenshots            # needs /usr/bin/chromium and MNIST (MNIST_DIR)
    python -m scripts.screenshots --only personal
    python -m scripts.screenshots --only inside
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from mnist_app.core.paths import PROJECT_ROOT, WEIGHTS_DIR
from mnist_app.pen.replay import parse
from mnist_app.pen.sources import pendigits_path
from mnist_app.service.library import ModelLibrary
from mnist_app.service.model_files import SHIPPED_MANIFEST
from mnist_app.service.personal_store import PersonalStore
from mnist_app.ui import CSS, THEME, build_app, with_queue
from tests.harness.browser import (
    CANVAS,
    answer_text,
    choose_model,
    draw,
    launch_chromium,
    stroke_on_canvas,
)

# A two in five points around the canvas centre (few points: each mouse move is slow here).
TWO = [(-70, -60), (-10, -100), (65, -55), (-75, 95), (80, 95)]


def wait_until(check, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.3)


def choose(page: Page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.click()
    box.fill(value)
    page.get_by_role("option", name=value, exact=True).click()


@contextmanager
def fresh_page(url: str, height: int) -> Iterator[Page]:
    """The app in a new browser profile, once the Draw tab's canvas listens."""
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = launch_chromium(playwright, profile, height=height)
        try:
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("#canvas[data-ready=true]", timeout=60_000)
            yield page
        finally:
            context.close()


def draw_a_two(page: Page) -> None:
    draw(page, TWO)
    wait_until(lambda: answer_text(page)[:1].isdigit(), 60, "a prediction")


def take_screenshots(url: str, out: Path) -> None:
    with fresh_page(url, height=860) as page:
        draw_a_two(page)
        wait_until(lambda: page.locator("#stages").is_visible(), 30, "the stage strip")
        time.sleep(1)
        page.screenshot(path=out / "draw.png", full_page=True)

        page.locator(".pen-why").check()
        wait_until(lambda: page.locator("#why").is_visible(), 30, "the explanation")
        time.sleep(1)
        page.screenshot(path=out / "why.png", full_page=True)
        page.locator(".pen-why").uncheck()

        page.get_by_role("tab", name="Train").click()
        choose(page, "Recipe", "t5_mlp_bn")
        page.get_by_label("Epochs", exact=True).fill("2")
        page.locator("#train-button").click()
        wait_until(
            lambda: "Test accuracy" in page.locator("#train-result").inner_text(), 300, "training"
        )
        time.sleep(1.5)
        page.screenshot(path=out / "train.png", full_page=True)

        page.get_by_role("tab", name="Mistakes").click()
        gallery = page.locator("#mistakes-gallery img")
        wait_until(lambda: gallery.count() > 12, 120, "the mistakes gallery")
        time.sleep(2)
        page.screenshot(path=out / "mistakes.png", full_page=True)

        choose_model(page, "#mistakes-model", "resnet_mini")
        wait_until(
            lambda: "resnet_mini" in page.locator("#mistakes-summary").inner_text(),
            60,
            "resnet_mini's mistakes",
        )
        time.sleep(1)
        page.locator("#mistakes-gallery .thumbnail-item").nth(2).click()
        neighbours = page.locator("#example-neighbours img")
        wait_until(lambda: neighbours.count() == 6, 300, "the nearest training images")
        time.sleep(1.5)
        page.locator("#example-details").first.screenshot(path=out / "mistake-details.png")

        page.get_by_role("tab", name="Models").click()
        status = page.locator("#models-status")
        wait_until(lambda: "drawn digits" in status.inner_text(), 60, "the models table")
        wait_until(lambda: "Measuring" not in status.inner_text(), 600, "drawn-digit accuracy")
        choose_model(page, "#manage-model", "t5_mlp_bn-2")  # the run above
        note = page.locator("#manage-note")
        wait_until(lambda: "You trained" in note.inner_text(), 60, "the model's owner")
        time.sleep(1)
        page.screenshot(path=out / "models.png", full_page=True)

        for name in ("resnet_mini", "t4_lenet5"):
            choose_model(page, "#models-compare", name)
        page.keyboard.press("Escape")
        wait_until(lambda: page.locator("#disagreements img").count() > 5, 120, "disagreements")
        time.sleep(1.5)
        page.locator("#models-compare").scroll_into_view_if_needed()
        page.screenshot(path=out / "compare.png", full_page=True)


def personal_screenshot(url: str, out: Path) -> None:
    """A writer's drawings kept with the answer buttons, then resnet_mini fitted to them."""
    writer = [d for d in parse(pendigits_path("train")) if d.writer == 11]
    three_of_each = [d for n in range(10) for d in [x for x in writer if x.label == n][:3]]
    with fresh_page(url, height=1300) as page:
        page.locator("#personal-panel").get_by_text("Your handwriting").click()
        page.get_by_label("Your name").fill("ada")
        for digit in three_of_each:
            for stroke in digit.fit(CANVAS, 0.6 * CANVAS, (CANVAS / 2, CANVAS / 2)):
                stroke_on_canvas(page, stroke, 8)
            page.locator(f"#personal-digit-{digit.label}").click()
            page.locator("#clear").click()
        counts = page.locator("#personal-counts")
        wait_until(lambda: counts.inner_text().startswith("30 drawings"), 120, "the drawings")
        page.locator("#personal-fit").click()
        result = page.locator("#personal-result")
        wait_until(lambda: "Saved as" in result.inner_text(), 300, "the fit")
        page.locator("#canvas").scroll_into_view_if_needed()  # the fit button scrolled away
        draw_a_two(page)
        time.sleep(1.5)
        page.screenshot(path=out / "personal.png", full_page=True)


def inside_screenshot(url: str, out: Path) -> None:
    """The Draw tab's "Inside the network" for a drawn two, a map of layer 3 clicked."""
    with fresh_page(url, height=1300) as page:
        draw_a_two(page)
        page.get_by_role("button", name="Inside the network").click()
        page.wait_for_selector(".inside[data-state=layers]", timeout=60_000)
        tiles = page.locator("img.inside-tiles[data-layer='2']")
        tiles.click(position={"x": 5, "y": 5})  # its first map
        examples = page.locator(".inside-examples")
        # The first click on a model's maps starts a minute or two of work in the background.
        wait_until(lambda: examples.get_attribute("data-state") == "ready", 600, "the examples")
        time.sleep(1)
        page.locator("#inside-accordion").screenshot(path=out / "inside.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs")
    parser.add_argument("--only", choices=["personal", "inside"], help="only this screenshot")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as weights, tempfile.TemporaryDirectory() as personal:
        for checkpoint in [*WEIGHTS_DIR.glob("*.pt"), WEIGHTS_DIR / SHIPPED_MANIFEST]:
            shutil.copy2(checkpoint, weights)
        library = ModelLibrary(weights)
        if not library.names():
            print("no checkpoints in weights/: train one (docs/training.md)", file=sys.stderr)
            return 2
        demo = with_queue(build_app(library, personal=PersonalStore(personal)))
        _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, theme=THEME, css=CSS)
        try:
            if not args.only:
                take_screenshots(url, args.out)
            if args.only in (None, "personal"):
                personal_screenshot(url, args.out)
            if args.only in (None, "inside"):
                inside_screenshot(url, args.out)
        finally:
            demo.close()
    print(f"wrote {', '.join(p.name for p in sorted(args.out.glob('*.png')))} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
