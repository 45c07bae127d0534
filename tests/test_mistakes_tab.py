"""The Mistakes tab, in-process: every misclassified image can be reached, a page at a
time, and the per-class table sorts as numbers."""

from __future__ import annotations

import pytest

from mnist_app.service.library import ModelLibrary
from mnist_app.ui import build_app
from mnist_app.ui.mistakes_tab import PAGE_SIZE
from tests.harness.server import MODEL, weights_with_quick_model


@pytest.fixture(scope="module")
def demo(mnist, tmp_path_factory):
    weights = weights_with_quick_model(mnist, tmp_path_factory.mktemp("mistakes") / "weights")
    return build_app(ModelLibrary(weights, mnist.source))


def handler(demo, name: str):
    return next(f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_every_mistake_can_be_reached_a_page_at_a_time(demo):
    first = handler(demo, "mistakes").fn(MODEL, "any", "any")
    gallery, summary, _, table, page = first
    errors = sum(table["mistakes"])
    assert errors > PAGE_SIZE and len(gallery) == PAGE_SIZE and page == 1
    next_page = handler(demo, "next_page")
    seen, number = len(gallery), page
    while seen < errors:
        gallery, summary, number = next_page.fn(MODEL, "any", "any", number)
        seen += len(gallery)
        assert f"page {number} of" in summary
    assert seen == errors  # the last page holds the rest, and no page is skipped


def test_the_per_class_table_holds_numbers(demo):
    table = handler(demo, "mistakes").fn(MODEL, "any", "any")[3]
    accuracy = table["accuracy (%)"]
    assert all(isinstance(a, float) and 0 <= a <= 100 for a in accuracy)
    assert sorted(accuracy)[0] < sorted(accuracy)[-1]
