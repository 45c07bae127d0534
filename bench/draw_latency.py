"""Draw latency: pen-up to the final answer on screen, in a real browser.

Headless Chromium draws strokes with the mouse on the Draw tab's canvas: the first stroke
of pendigits test-writer digits, one per cleared canvas. For each stroke, the time from the
pointerup event to the moment the prediction panel shows the answer to a request sent
after it (the answer for the whole drawing), both read from the page's own clock. The same
is measured, in the same run, against a do-nothing server function behind the same canvas
(bench/trivial_server.py --pen): what the browser, Gradio and the network cost by
themselves.

    python -m bench.draw_latency                    # 50 strokes each, the most accurate model
    python -m bench.draw_latency --strokes 20 --points 12
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, sync_playwright

from bench import run_script
from mnist_app.core.paths import WEIGHTS_DIR, shared_mnist_dir
from mnist_app.pen.replay import parse
from mnist_app.pen.sources import pendigits_path
from tests.harness.browser import launch_chromium, stroke_on_canvas
from tests.harness.server import launched_app, launched_server

# Records, in the page, each pointerup and each answer the panel shows (with the time its
# request was sent): pen-up latency = first answer sent after the pen-up, minus the pen-up.
RECORDER = """() => {
  window.penLog = {ups: [], answers: []};
  document.querySelector('#canvas').addEventListener(
    'pointerup', () => window.penLog.ups.push(performance.now()), {capture: true});
  new MutationObserver(() => {
    const panel = document.querySelector('#prediction');
    window.penLog.answers.push([performance.now(), Number(panel.dataset.sentAt || -1)]);
  }).observe(document.querySelector('#prediction'), {childList: true, subtree: true,
                                                     characterData: true, attributes: true});
}"""


def strokes(count: int) -> list[list[tuple[float, float]]]:
    """The first stroke of the first `count` test-writer digits, fitted to the canvas."""
    digits = parse(pendigits_path("test"))[:count]
    return [digit.fit(280, 170, (140, 140))[0] for digit in digits]


def measure(page: Page, url: str, all_strokes, points: int) -> list[float]:
    page.goto(url)
    page.wait_for_selector("#canvas", timeout=120_000)
    page.evaluate(RECORDER)
    latencies = []
    for stroke in all_strokes:
        page.keyboard.press("Escape")  # a cleared canvas: each stroke is a new drawing
        time.sleep(0.1)
        before = page.evaluate("window.penLog.ups.length")
        stroke_on_canvas(page, stroke, points)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = page.evaluate("window.penLog")
            if len(log["ups"]) > before:
                up = log["ups"][-1]
                after = [t for t, sent in log["answers"] if sent >= up]
                if after:
                    latencies.append(min(after) - up)
                    break
            time.sleep(0.02)
        else:
            raise RuntimeError("no answer within 30 s of a pen-up")
    return latencies


def summary(name: str, samples: list[float]) -> str:
    p50, p95 = np.percentile(samples, 50), np.percentile(samples, 95)
    return (
        f"  {name:<28} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   "
        f"mean {statistics.mean(samples):6.1f} ms   max {max(samples):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strokes", type=int, default=50)
    parser.add_argument("--points", type=int, default=8, help="mouse moves per stroke")
    args = parser.parse_args()
    drawn = strokes(args.strokes)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        folder = Path(folder)
        with (
            launched_app(WEIGHTS_DIR, shared_mnist_dir(), folder / "app.log") as app_url,
            launched_server(
                ["bench/trivial_server.py", "--pen"], folder / "trivial.log"
            ) as trivial_url,
        ):
            context = launch_chromium(playwright, folder / "profile", height=900)
            page = context.new_page()
            results = {}
            for name, url in (("do-nothing server function", trivial_url), ("app", app_url)):
                measure(page, url, drawn[:3], args.points)  # warm-up: model, caches, JIT
                results[name] = measure(page, url, drawn, args.points)
            context.close()
    print(f"{args.strokes} strokes each, {args.points} mouse moves per stroke, pen-up -> answer:")
    for name, samples in results.items():
        print(summary(name, samples))
    print("  target for the app: p50 <= 150 ms, p95 <= 300 ms")


if __name__ == "__main__":
    run_script(main)
