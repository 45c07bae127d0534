"""Accessibility in a real browser: axe-core (axe-playwright-python) on each tab, in light
and dark mode, with what axe does not measure (a checkbox's border, unique ids, where the
Tab key stops), and a digit drawn and answered with the keyboard alone."""

from __future__ import annotations

import json
import shutil
import tempfile

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, sync_playwright

from mnist_app.core.paths import WEIGHTS_DIR
from mnist_app.service.model_files import SHIPPED_MANIFEST
from tests.conftest import MNIST_DIR
from tests.harness.browser import answer_text, choose_model, draw, launch_chromium, wait_text
from tests.harness.server import MODEL, launched_app, weights_with_quick_model

pytestmark = pytest.mark.slow

SHIPPED_MODEL = "resnet_drawn"  # it says "not a digit", with the ten probabilities greyed
SEVEN = [(-80, -90), (80, -90), (-10, 100)]
HASH = [[(-35, -95), (-45, 95)], [(45, -95), (35, 95)], [(-95, -30), (95, -30)]]
TABS = ["Draw", "Train", "Mistakes", "Models"]
SERIOUS = {"serious", "critical"}
# Gradio's own markup, which the app's CSS cannot change: each rule is waived for that
# selector only, and every other element is held to it.
GRADIO_MARKUP = [
    # An empty Label, Image, Gallery or plot shows Gradio's placeholder, a <div> with
    # aria-label="Empty value" and no role (gradio/js/atoms Empty.svelte).
    ("aria-prohibited-attr", '.empty.unpadded_box[aria-label="Empty value"]'),
    # A Dataframe's filter box is named by its title ("Enter text to filter the table") and
    # placeholder rather than a visible <label>: it has a name, just not a visible one.
    ("label-title-only", "input.search-input[title]"),
]
AXE = Axe()

# The controls that a border alone makes visible (a checkbox, a radio button): that border
# against what is behind the control, by WCAG's formula, for each one on screen.
BORDER_CONTRASTS = """() => {
  const rgba = (c) => {
    const v = c.match(/[\\d.]+/g).map(Number);
    return v.length < 4 ? [...v, 1] : v;
  };
  const lum = (rgb) => rgb
    .map((v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgba(getComputedStyle(el).backgroundColor);
      if (c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const boxes = [...document.querySelectorAll("input[type=checkbox], input[type=radio]")];
  return boxes.filter((box) => box.getClientRects().length).map((box) => {
    const border = rgba(getComputedStyle(box).borderTopColor);
    const [a, b] = [lum(border), lum(behind(box.parentElement))];
    const where = box.closest("[id]")?.id || box.className;
    return [where, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}"""
DUPLICATE_IDS = """() => {
  const ids = [...document.querySelectorAll("[id]")].map((el) => el.id).filter(Boolean);
  return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
}"""
# Where the focus is: a control with a name, or what is wrong with it.
FOCUS_PROBLEM = """() => {
  const el = document.activeElement;
  const box = el.getBoundingClientRect();
  const control = "a[href], button, input, select, textarea, [tabindex], [contenteditable]";
  const inside = el.querySelector("[aria-label]")?.getAttribute("aria-label"); // a link's button
  const name = (el.getAttribute("aria-label") || [...(el.labels || [])].map((l) => l.innerText)
    .join("") || el.innerText || el.title || el.placeholder || el.querySelector("img")?.alt
    || inside || "").trim();
  const what = `${el.tagName.toLowerCase()}#${el.id || el.closest("[id]")?.id || "?"}`;
  if (!el.matches(control)) return `${what} is not a control`;
  if (box.width * box.height === 0) return `${what} is not on screen`;
  if (!name) return `${what} has no name`;
  return null;
}"""


@pytest.fixture(scope="module")
def app_url(mnist, tmp_path_factory):
    folder = tmp_path_factory.mktemp("accessibility")
    weights = weights_with_quick_model(mnist, folder / "weights")
    shutil.copy2(WEIGHTS_DIR / f"{SHIPPED_MODEL}.pt", weights)
    # The quick model first: the Mistakes tab reads the test set with it in seconds.
    manifest = {"default": MODEL, "models": [MODEL, SHIPPED_MODEL]}
    (weights / SHIPPED_MANIFEST).write_text(json.dumps(manifest))
    with launched_app(weights, MNIST_DIR, folder / "app.log") as url:
        yield url


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module", params=["light", "dark"])
def page(request, playwright, app_url):
    profile = tempfile.mkdtemp(prefix="chromium-")
    context = launch_chromium(playwright, profile, dark=request.param == "dark")
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#canvas", timeout=120_000)
    assert page.evaluate("document.body.classList.contains('dark')") == (request.param == "dark")
    yield page
    context.close()


def axe_problems(page: Page) -> list[str]:
    """axe-core's serious and critical findings, one line each, less GRADIO_MARKUP's."""
    problems = []
    for violation in AXE.run(page).response["violations"]:
        for node in violation["nodes"]:
            if node["impact"] in SERIOUS and not gradio_markup(page, violation["id"], node):
                summary = "; ".join(check["message"] for check in node["any"] + node["all"])
                problems.append(f"{violation['id']} at {node['target']}: {summary}")
    return problems


def gradio_markup(page: Page, rule: str, node: dict) -> bool:
    selectors = [selector for waived, selector in GRADIO_MARKUP if waived == rule]
    target = node["target"][0]
    return any(
        page.evaluate("([t, s]) => document.querySelector(t)?.matches(s)", [target, selector])
        for selector in selectors
    )


def tab_stop_problems(page: Page, tab: str, most: int = 80) -> list[str]:
    """Tab from the tab's own button to the page's end: each stop must be a control, on
    screen, with a name."""
    page.get_by_role("tab", name=tab).focus()
    problems = []
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('body, footer *')"):
            break
        if problem := page.evaluate(FOCUS_PROBLEM):
            problems.append(problem)
    return problems


def audit(page: Page, tab: str | None = None) -> None:
    """axe-core's findings and the checks it lacks; and where Tab stops, from `tab`'s
    button on. Once no panel is busy: a busy one is faded on purpose."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=status-tracker]:not(.hide), .pending')",
        timeout=120_000,
    )
    problems = axe_problems(page)
    problems += [f"id {id_!r} appears more than once" for id_ in page.evaluate(DUPLICATE_IDS)]
    problems += [
        f"the border of the checkbox at {where} reads at {ratio:.2f}:1, under 3:1"
        for where, ratio in page.evaluate(BORDER_CONTRASTS)
        if ratio < 3
    ]
    if tab:
        problems += tab_stop_problems(page, tab)
    assert not problems, "\n".join(problems)


def settle(page: Page, state: str) -> None:
    """Wait for the answer given at pen-up (the strip of stages comes with it alone)."""
    page.wait_for_function(
        f"() => document.querySelector('#prediction').dataset.state === '{state}' "
        "&& !document.querySelector('#stages').hidden",
        timeout=120_000,
    )


def clear(page: Page) -> None:
    page.locator("#clear").click()
    page.wait_for_function("() => document.querySelector('#stages').hidden", timeout=60_000)


def open_tab(page: Page, tab: str) -> None:
    page.get_by_role("tab", name=tab).click()
    if tab == "Train":
        page.locator("#train-button").wait_for()
    elif tab == "Mistakes":  # with a mistake clicked, its details shown
        page.locator("#mistakes-gallery .thumbnail-item").first.click(timeout=120_000)
        wait_text(page, "#example-title", lambda text: "Test image #" in text)
        page.locator("#mistakes-confusion img").wait_for(timeout=120_000)
    elif tab == "Models":
        wait_text(page, "#models-table", lambda text: MODEL in text)


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_passes_axe_and_the_keyboard_stops_only_at_named_controls(page, tab):
    open_tab(page, tab)
    dark = page.evaluate("document.body.classList.contains('dark')")
    audit(page, None if dark else tab)  # the Tab stops are the same in either scheme
    if tab != "Draw":
        return
    choose_model(page, "#draw-model", SHIPPED_MODEL)  # it can say "not a digit"
    for stroke in HASH:
        draw(page, stroke)
    settle(page, "not-digit")  # the ten probabilities greyed
    audit(page)
    clear(page)
    page.locator(".pen-why").check()
    draw(page, SEVEN)
    page.locator(".pen-why-overlay").wait_for(timeout=120_000)  # and its legend
    audit(page)
    page.locator(".pen-why").uncheck()
    clear(page)


def test_a_digit_is_drawn_and_read_with_the_keyboard_alone(page):
    open_tab(page, "Draw")
    clear(page)
    page.locator(".pen-undo").focus()
    page.keyboard.press("Shift+Tab")  # the canvas is the stop before the tools
    assert page.evaluate("document.activeElement.id") == "canvas"
    assert page.locator(".pen-cursor").is_visible()
    assert "arrow keys" in page.locator("#pen-keys").inner_text()
    for key in ["Shift+ArrowUp"] * 3 + ["Space"] + ["Shift+ArrowDown"] * 6:
        page.keyboard.press(key)  # from the centre, 96 px up, then down 192 px: a 1
    assert "down" in page.locator(".pen-cursor").get_attribute("class")
    page.keyboard.press("Space")  # the pen lifts: the answer comes, as for a mouse
    settle(page, "digit")
    assert answer_text(page).splitlines()[0] == "1"
    clear(page)


def test_the_footer_ends_in_its_link_not_a_separator(page):
    footer = page.locator("footer").inner_text().strip()
    assert footer.startswith("Use via API")
    assert not footer.endswith("·"), footer


def test_a_busy_panel_shows_its_spinner_not_the_queue_and_timer(page):
    open_tab(page, "Draw")
    page.evaluate("""() => {
      window.statusTexts = [];
      new MutationObserver(() => {
        for (const text of document.querySelectorAll(
            '[data-testid="status-tracker"].full > .progress-text:not([data-seen])')) {
          text.dataset.seen = "yes";
          const spinner = text.parentElement.querySelector("svg");
          window.statusTexts.push({
            text: getComputedStyle(text).display !== "none",
            spinner: !!spinner && getComputedStyle(spinner).display !== "none",
          });
        }
      }).observe(document.body, { subtree: true, childList: true });
    }""")
    open_tab(page, "Models")  # its panels ask the server about the models
    seen = page.evaluate("window.statusTexts")
    assert seen, "no panel was busy"
    assert not any(status["text"] for status in seen), seen
    assert all(status["spinner"] for status in seen), seen
