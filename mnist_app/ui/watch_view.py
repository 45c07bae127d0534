"""Your drawings, learnt: small multiples of how the model in training reads each watched
drawing, one card per drawing (its thumbnail, the probability of its digit over the steps
as a line, and the answer now). Plain HTML and SVG: cheap to send at every watch point,
readable by a screen reader, and the same live (Train tab) and replayed (Models tab)."""

from __future__ import annotations

import html

from ..core.timeline import NO_LABEL, Timeline
from .charts import enlarge
from .pen_answers import png_data_url

WIDTH, HEIGHT = 150, 44  # the line's box, in CSS pixels
THUMBNAIL_ZOOM = 2  # 56x56

CSS = """
.watch-view .watch-grid { display: grid; gap: 8px;
  grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); }
.watch-view .watch-card { display: flex; gap: 8px; align-items: center; padding: 6px;
  border: 1px solid var(--border-color-primary); border-radius: 6px; }
.watch-view .watch-card img { width: 56px; height: 56px; image-rendering: pixelated;
  border-radius: 3px; flex: none; }
.watch-view .watch-card svg { display: block; }
.watch-view .watch-line { fill: none; stroke: #c2410c; stroke-width: 2; }
.watch-view .watch-half { stroke: var(--border-color-primary); stroke-dasharray: 3 3; }
.watch-view .watch-text { font-size: 0.85em; line-height: 1.3; }
.watch-view .watch-note { margin: 0 0 6px; }
"""


def watch_html(timeline: Timeline | None, total_steps: int, note: str = "") -> str:
    """The cards of `timeline`'s watched drawings, their lines drawn over `total_steps`
    steps (the run's length: a live line grows from the left); "" with none."""
    if timeline is None or not timeline.watch_labels:
        return ""
    cards = "".join(_card(timeline, p, total_steps) for p in range(len(timeline.watch_labels)))
    head = f'<p class="watch-note">{html.escape(note)}</p>' if note else ""
    return f'{head}<div class="watch-grid">{cards}</div>'


def _card(timeline: Timeline, p: int, total_steps: int) -> str:
    label, digit = timeline.watch_labels[p], timeline.followed_digit(p)
    # A drawing picked during the run is read from a later point on.
    first = timeline.read_from(p)
    series, steps = timeline.series(p)[first:], timeline.watch_steps[first:]
    image = png_data_url(enlarge(timeline.watch_images[p].numpy(), THUMBNAIL_ZOOM))
    if label != NO_LABEL:
        name = f"a {label}"
        about = f"p({label})"
    elif digit != NO_LABEL:
        name = f"no digit given; read as {digit} now"
        about = f"p({digit})"
    else:
        name, about = "no digit given", "not read yet"
    if series:
        now = timeline.watch_probabilities[-1, p]
        answer = int(now.argmax())
        text = (
            f"{about} {series[-1]:.0%} at step {steps[-1]:,}"
            f"<br>reads {answer} ({float(now[answer]):.0%})"
        )
        since = f"from step {steps[0]:,} to {steps[-1]:,}" if first else f"over {steps[-1]:,} steps"
        told = (
            f"{about} went from {series[0]:.0%} to {series[-1]:.0%} {since}; it now reads {answer}."
        )
    else:
        text, told = "waiting for the first reading", "No reading yet."
    line = _line(steps, series, total_steps)
    alt = html.escape(f"Drawing {p + 1}, {name}. {told}")
    return (
        f'<figure class="watch-card" role="img" aria-label="{alt}" data-watch="{p}">'
        f'<img src="{image}" alt="">'
        f'<div><svg width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'aria-hidden="true"><line class="watch-half" x1="0" x2="{WIDTH}" '
        f'y1="{HEIGHT / 2}" y2="{HEIGHT / 2}"/>{line}</svg>'
        f'<div class="watch-text">{html.escape(name)}<br>{text}</div></div></figure>'
    )


def _line(steps: list[int], series: list[float], total_steps: int) -> str:
    if not series:
        return ""
    span = max(total_steps, steps[-1], 1)
    points = " ".join(
        f"{WIDTH * step / span:.1f},{(HEIGHT - 2) * (1 - value) + 1:.1f}"
        for step, value in zip(steps, series, strict=True)
    )
    return f'<polyline class="watch-line" points="{points}"/>'
