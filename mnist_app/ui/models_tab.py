"""Models tab: every checkpoint with its facts, runs compared, and one's own models
renamed, deleted, downloaded and exported."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import gradio as gr
import pandas as pd
from PIL import Image

from ..analysis.compare import confusion_difference, disagreements
from ..core.data import MnistFormatError, MnistNotFoundError
from ..core.paths import pendigits_file
from ..service.library import ModelLibrary
from ..service.model_files import check_may_change
from .charts import curves_image, difference_image, enlarge
from .errors import user_error
from .identity import owner_keys
from .watch_panel import watch_replay

# The facts that tell models apart first; on a narrow screen the rest scroll into view.
COLUMNS = [
    "model",
    "shipped",
    "MNIST test (%)",
    "drawn digits (%)",
    "parameters",
    "file (kB)",
    "training (s)",
    "trained on",
    "recipe",
    "architecture",
    "date",
]
# Text columns sort A to Z at a first click; numbers, dates and "shipped" highest first.
A_TO_Z_FIRST = {"model", "trained on", "recipe", "architecture"}
# A first look at where two models differ; the counts in the summary cover them all.
DISAGREEMENTS_SHOWN = 120
REFRESH_S = 3.0  # while drawn-digit accuracies are being measured
DOWNLOAD_LABEL = "Download checkpoint (.pt)"
PICK_TO_MANAGE = (
    "Pick a model to download it or export it to ONNX; the ones you trained may also be "
    "renamed or deleted."
)
# A click on a column's header (or Enter on it) sends the column's position to the server,
# which sorts the table: Gradio's data frame fires no event for a header click, and its
# own column menu sorted numbers as text and made a second sort only break ties. Capture
# phase: the data frame stops the click's propagation. Mounted again, it replaces its
# listener rather than add a second one.
HEADER_SORT_JS = """
const sortBy = (event) => {
  if (event.type === "keydown" && event.key !== "Enter") return;
  const header = event.target.closest("#models-table th[role=columnheader]");
  if (!header || event.target.closest("button")) return;
  props.value = header.dataset.heading;
  trigger("click");
};
for (const type of ["click", "keydown"]) {
  if (window.modelsHeaderSort) document.removeEventListener(type, window.modelsHeaderSort, true);
  document.addEventListener(type, sortBy, true);
}
window.modelsHeaderSort = sortBy;
"""


@dataclass
class ModelsTab:
    connect: Callable  # connect(trigger): fill the tab on the trigger (the tab opened)


def models_records(library: ModelLibrary) -> list[dict]:
    """One record per model, best first: the facts, and its drawn-digit accuracy per brush
    (None while it is being measured, or without the pendigits files)."""
    records = []
    for name in library.names():
        try:
            facts = library.facts(name)
        except ValueError as err:
            records.append({"name": name, "error": str(err)})
            continue
        try:
            drawn = library.drawn_accuracy(name)
        except FileNotFoundError:
            drawn = None
        records.append(
            {
                **dataclasses.asdict(facts),
                "label": facts.label(),
                "drawn_accuracy": {f"{b:g}": a for b, a in drawn.items()} if drawn else None,
            }
        )
    return sorted(records, key=lambda r: -(r.get("test_accuracy") or -1))


def table_frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for r in records:
        if "error" in r:
            rows.append({"model": r["name"], "recipe": "unreadable", "architecture": r["error"]})
            continue
        drawn = r["drawn_accuracy"]
        rows.append(
            {
                "model": r["name"],
                "recipe": r["recipe"],
                "architecture": r["architecture"],
                "parameters": r["parameters"],
                "file (kB)": round(r["file_bytes"] / 1024),
                "MNIST test (%)": _percent(r["test_accuracy"]),
                "drawn digits (%)": _percent(sum(drawn.values()) / len(drawn)) if drawn else None,
                "training (s)": round(r["training_s"], 1) if r["training_s"] else None,
                "trained on": r["device"] or "not recorded",
                "date": (r["created"] or "")[:10],
                "shipped": "✓" if r["shipped"] else "",
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


class TableOrder(NamedTuple):
    """The column the table is sorted by, and which way."""

    column: str = "MNIST test (%)"
    descending: bool = True


def next_order(order: TableOrder, column: str) -> TableOrder:
    """A click on `column`'s header: sorted by it (text A to Z, the rest highest first);
    a click on the header it is sorted by reverses it."""
    if column == order.column:
        return TableOrder(column, not order.descending)
    return TableOrder(column, column not in A_TO_Z_FIRST)


def sorted_frame(frame: pd.DataFrame, order: TableOrder) -> pd.DataFrame:
    """The table sorted by one column, numbers as numbers and text regardless of case,
    empty cells last either way; its header carries ▼ (descending) or ▲."""

    def key(cells: pd.Series) -> pd.Series:
        if cells.map(lambda cell: isinstance(cell, str)).any():
            return cells.map(lambda cell: cell.casefold() if isinstance(cell, str) else None)
        return pd.to_numeric(cells, errors="coerce")

    ordered = frame.sort_values(
        order.column,
        ascending=not order.descending,
        key=key,
        na_position="last",
        kind="stable",
        ignore_index=True,
    )
    arrow = "▼" if order.descending else "▲"
    return ordered.rename(columns={order.column: f"{order.column} {arrow}"})


def _percent(value: float | None) -> float | None:
    return round(100 * value, 2) if value is not None and math.isfinite(value) else None


def drawn_status(records: list[dict], training_now: bool) -> tuple[str, bool]:
    """What the drawn-digit column means, and whether some are still being measured."""
    readable = [r for r in records if "error" not in r]
    pending = sum(r["drawn_accuracy"] is None for r in readable)
    if not pendigits_file("test").is_file():
        return f"Drawn-digit accuracy is not available: {pendigits_file('test')} is missing.", False
    about = (
        "**drawn digits**: the 3,498 digits of the 14 pendigits test writers, drawn on the "
        "canvas at brushes 6, 12 and 20 px and read through the Draw tab's preprocessing "
        "(the mean of the three). Click a column's header to sort by it, and again to "
        "reverse."
    )
    if pending and training_now:
        about += f" Measuring {pending} of {len(readable)} models once the training here ends…"
    elif pending:
        about += f" Measuring {pending} of {len(readable)} models in the background…"
    return about, bool(pending)


class _Table(NamedTuple):
    """What ModelsHandlers.show_table fills, in its order."""

    table: gr.Dataframe
    status: gr.Markdown
    refresh: gr.Timer  # on while drawn-digit accuracies are being measured


class _Sorting(NamedTuple):
    order: gr.State  # a TableOrder
    header_clicked: gr.HTML  # its value: the position of the column whose header was clicked


class _Comparison(NamedTuple):
    picked: gr.Dropdown
    shown: list[gr.components.Component]  # what ModelsHandlers.compare fills, in its order


class _Manage(NamedTuple):
    chosen: gr.Dropdown
    new_name: gr.Textbox
    rename_button: gr.Button
    delete_button: gr.Button
    confirm_row: gr.Row
    confirm_text: gr.Markdown
    confirm_button: gr.Button
    cancel_button: gr.Button
    download: gr.DownloadButton
    export_button: gr.Button
    onnx_file: gr.File
    note: gr.Markdown  # what this person may do with it
    message: gr.Markdown  # what was done
    watched: gr.HTML  # how its run read the drawings its owner watched


@dataclass
class ModelsHandlers:
    """The Models tab's event handlers, over the model library: each can be called
    without building the page."""

    library: ModelLibrary

    def show_table(self, order: TableOrder | None = None):
        """The table in `order` (best MNIST test accuracy first by default), what its
        drawn-digit column means, and the timer on while some are being measured."""
        records = models_records(self.library)
        about, pending = drawn_status(records, self.library.training_now)
        frame = sorted_frame(table_frame(records), TableOrder(*(order or ())))
        return frame, about, gr.Timer(active=pending)

    def sort(self, heading: str | None, order: TableOrder | None):
        """A click on the header of the column at position `heading`."""
        try:
            column = COLUMNS[int(heading)]
        except (TypeError, ValueError, IndexError):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        order = next_order(TableOrder(*(order or ())), column)
        return *self.show_table(order), order

    def show(
        self,
        selected: list[str] | None,
        current: str | None,
        order: TableOrder | None,
        token: str | None,
        request: gr.Request,
    ):
        """The table, and the lists of models kept to those that still exist. The model
        to manage stays; else it is the newest one this person trained, or none: shipped
        models and other people's cannot be renamed or deleted."""
        choices = self.library.choices()
        names = [name for _, name in choices]
        kept = [name for name in selected or [] if name in names]
        if current not in names:
            current = self.library.newest_owned(owner_keys(token, request))
        return (
            *self.show_table(order),
            gr.update(choices=choices, value=kept),
            gr.update(choices=choices, value=current),
        )

    def compare(self, names: list[str]):
        """Training curves of several models; where two of them disagree.

        Args:
            names: two or more model names for their curves; exactly two also give the
                test images they read differently and their confusion-matrix difference.

        Returns:
            A note on models without stored curves; a picture of their loss and
            accuracy per epoch; the two-model section's visibility, its summary, gallery
            of disagreements and confusion-difference picture.
        """
        names = [n for n in names or [] if n]
        histories, missing = {}, []
        for name in names:
            history = _readable(lambda n=name: self.library.history(n))
            if history:
                histories[name] = history
            else:
                missing.append(name)
        note = ""
        if missing:
            note = (
                f"No curves stored for {', '.join(missing)}: checkpoints keep their curves "
                "since this version; retrain to get them."
            )
        elif len(names) < 2:
            note = "Pick two or more models to overlay their curves."
        plot = gr.update(
            value=curves_image(histories) if histories else None, visible=bool(histories)
        )
        if len(names) != 2:
            return note, plot, gr.update(visible=False), "", [], None
        return note, plot, gr.update(visible=True), *self._pair(*names)

    def _pair(self, first: str, second: str):
        a, b = (_readable(lambda n=n: self.library.evaluation(n)) for n in (first, second))
        found = disagreements(a, b)
        images = self.library.data().test_images
        counts = {who: sum(d.right == who for d in found) for who in ("first", "second", "neither")}
        summary = (
            f"**{first}** and **{second}** read {len(found):,} of {len(a.labels):,} test "
            f"images differently: {first} is right on {counts['first']:,}, {second} on "
            f"{counts['second']:,}, neither on {counts['neither']:,}. Shown: "
            f"{min(len(found), DISAGREEMENTS_SHOWN):,}, those one gets right first; under "
            f"each, its digit, then what {first} | {second} read."
        )
        # Short, without the names (the summary says which is which): one line under
        # the image on a phone too, rather than a third of the image covered.
        gallery = [
            (
                Image.fromarray(enlarge(images[d.index].numpy(), 3)),
                f"a {d.true}: {d.first} ({d.first_confidence:.0%}) | "
                f"{d.second} ({d.second_confidence:.0%})",
            )
            for d in found[:DISAGREEMENTS_SHOWN]
        ]
        difference = confusion_difference(a, b).numpy()
        return summary, gallery, difference_image(difference, first, second)

    def describe(self, name: str | None, token: str | None, request: gr.Request):
        """What may be done with the picked model, and its file to download."""
        if not name:
            return (
                PICK_TO_MANAGE,
                gr.update(interactive=False),
                gr.update(interactive=False),
                gr.update(value=None, label=DOWNLOAD_LABEL, interactive=False),
                None,
                "",
            )
        checkpoint = _readable(lambda: self.library.predictor(name).checkpoint)
        try:
            check_may_change(checkpoint, self.library.weights_dir, owner_keys(token, request))
            note, mine = f"You trained **{name}**: you may rename or delete it.", True
        except PermissionError as err:
            note, mine = str(err), False
        path = self.library.path(name)
        return (
            note,
            gr.update(interactive=mine),
            gr.update(interactive=mine),
            gr.update(value=str(path), label=f"Download {path.name}", interactive=True),
            gr.update(value=None, visible=False),
            watch_replay(checkpoint.timeline, mine),
        )

    def rename(self, name: str, new: str, token: str | None, request: gr.Request):
        new = (new or "").strip()
        _change(lambda: self.library.rename(name, new, owner_keys(token, request)))
        return f"Renamed {name} to **{new}**.", new, ""

    def delete(self, name: str, token: str | None, request: gr.Request):
        _change(lambda: self.library.delete(name, owner_keys(token, request)))
        return f"Deleted {name}.", gr.update(visible=False), None

    def export(self, name: str):
        """A model as an ONNX file (float32 (N, 1, 28, 28) images in 0-1, light digit on
        dark, to float32 (N, 10) probabilities)."""
        if not name:
            raise user_error("Pick a model first.")
        return str(_readable(lambda: self.library.onnx_file(name)))

    def rename_model(self, name: str, new_name: str, token: str, request: gr.Request) -> str:
        """Rename a model you trained through the API: `token` is the stop_token of the
        /train call that made it. Shipped models and other people's are refused."""
        return self.rename(name, new_name, token, request)[0]

    def delete_model(self, name: str, token: str, request: gr.Request) -> str:
        """Delete a model you trained through the API: `token` is the stop_token of the
        /train call that made it. Shipped models and other people's are refused."""
        return self.delete(name, token, request)[0]


def pick_row(names: list[str] | None, selected: gr.SelectData):
    """A click on a row: that model joins the comparison (or leaves it, clicked again)
    and is the one to manage."""
    row = selected.row_value or []
    if not row:
        return gr.skip(), gr.skip()
    name, names = row[0], list(names or [])
    names = [n for n in names if n != name] if name in names else [*names, name]
    return names, name


def ask_delete(name: str | None):
    if not name:
        raise user_error("Pick a model first.")
    return gr.update(visible=True), f"Delete **{name}** for good? It cannot be undone."


def _hidden():
    return gr.update(visible=False)


def _visible():
    return gr.update(visible=True)


def _readable(load):
    try:
        return load()
    except (ValueError, MnistNotFoundError, MnistFormatError) as err:
        raise user_error(str(err)) from None


def _change(action) -> None:
    try:
        action()
    except (PermissionError, ValueError, FileNotFoundError) as err:
        raise user_error(str(err)) from None


def build_models_tab(library: ModelLibrary, owner_token: gr.BrowserState) -> ModelsTab:
    gr.Markdown(
        "Every model on this server. Click rows (or pick below) to compare their training "
        "curves and where they disagree; manage the ones you trained.",
    )
    table, sorting = _table_section()
    gr.Markdown("### Compare runs")
    comparison = _comparison_section(library)
    gr.Markdown("### Manage a model")
    manage = _manage_section(library)
    handlers = ModelsHandlers(library)
    compare, show, describe = handlers.compare, handlers.show, handlers.describe
    picked, compare_outputs = comparison
    chosen, new_name, onnx_file = manage.chosen, manage.new_name, manage.onnx_file

    table_outputs = list(table)
    order = sorting.order
    table.refresh.tick(
        handlers.show_table, order, table_outputs, api_visibility="private", show_progress="hidden"
    )
    sorting.header_clicked.click(
        handlers.sort,
        [sorting.header_clicked, order],
        [*table_outputs, order],
        api_visibility="private",
        queue=False,
    )
    # always_last: ticking two boxes quickly must compare both, not drop the second tick.
    picked.input(compare, picked, compare_outputs, api_name="compare", trigger_mode="always_last")
    describe_outputs = [
        manage.note,
        manage.rename_button,
        manage.delete_button,
        manage.download,
        onnx_file,
        manage.watched,
    ]
    chosen.change(
        describe, [chosen, owner_token], describe_outputs, api_visibility="private", queue=False
    )
    # always_last, both: a second row clicked while the first one's comparison runs must
    # be compared too (the page would otherwise drop a trigger of a pending listener).
    table.table.select(
        pick_row,
        picked,
        [picked, chosen],
        api_visibility="private",
        queue=False,
        trigger_mode="always_last",
    ).then(compare, picked, compare_outputs, api_visibility="private", trigger_mode="always_last")
    after_change = [manage.message, chosen, new_name]
    to_show, shown = [picked, chosen, order, owner_token], [*table_outputs, picked, chosen]
    manage.rename_button.click(
        handlers.rename, [chosen, new_name, owner_token], after_change, api_visibility="private"
    ).success(show, to_show, shown, api_visibility="private")
    confirm_row = manage.confirm_row
    manage.delete_button.click(
        ask_delete, chosen, [confirm_row, manage.confirm_text], api_visibility="private"
    )
    manage.cancel_button.click(_hidden, None, confirm_row, queue=False, api_visibility="private")
    manage.confirm_button.click(
        handlers.delete,
        [chosen, owner_token],
        [manage.message, confirm_row, chosen],
        api_visibility="private",
    ).success(show, to_show, shown, api_visibility="private")
    manage.export_button.click(handlers.export, chosen, onnx_file, api_name="export_onnx").success(
        _visible, None, onnx_file, api_visibility="private", queue=False
    )
    gr.api(handlers.rename_model, api_name="rename_model")
    gr.api(handlers.delete_model, api_name="delete_model")

    def connect(trigger) -> None:
        """Fill the tab on `trigger` (the app's: the tab opened)."""
        trigger(show, to_show, shown, api_visibility="private").then(
            describe, [chosen, owner_token], describe_outputs, api_visibility="private"
        )

    return ModelsTab(connect=connect)


def _table_section() -> tuple[_Table, _Sorting]:
    table = gr.Dataframe(
        headers=COLUMNS,
        interactive=False,
        max_height=480,  # the 11 shipped models and a trained one before it scrolls
        elem_id="models-table",
        show_search="filter",
    )
    # Rendered (its script must run) but hidden: it shows nothing and takes no room.
    header_clicked = gr.HTML("", html_template="", js_on_load=HEADER_SORT_JS, visible="hidden")
    status = gr.Markdown(elem_id="models-status")
    sorting = _Sorting(gr.State(TableOrder()), header_clicked)
    return _Table(table, status, gr.Timer(REFRESH_S, active=False)), sorting


def _comparison_section(library: ModelLibrary) -> _Comparison:
    picked = gr.Dropdown(
        library.choices(),
        multiselect=True,
        allow_custom_value=True,  # API callers may name a model trained after page load
        label="Models to compare: two or more for their curves, exactly two for where they "
        "disagree",
        elem_id="models-compare",
    )
    curves_note = gr.Markdown(elem_id="curves-note")
    curves = gr.Image(
        label="Training curves",
        format="png",
        interactive=False,
        visible=False,
        elem_id="models-curves",
    )
    with gr.Group(visible=False) as pair:
        pair_summary = gr.Markdown(elem_id="disagreement-summary")
        with gr.Row(equal_height=False):
            pair_gallery = gr.Gallery(
                label="Test images they read differently",
                columns=5,
                height=480,
                format="png",
                object_fit="contain",
                allow_preview=False,
                elem_id="disagreements",
                scale=3,
                min_width=320,  # beside the matrix on a wide screen, above it on a phone
            )
            pair_difference = gr.Image(
                label="Confusion-matrix difference",
                show_label=False,  # its title says what it shows
                format="png",
                interactive=False,
                elem_id="confusion-difference",
                scale=2,
                min_width=300,
            )
    shown = [curves_note, curves, pair, pair_summary, pair_gallery, pair_difference]
    return _Comparison(picked, shown)


def _manage_section(library: ModelLibrary) -> _Manage:
    with gr.Row():
        chosen = gr.Dropdown(
            library.choices(),
            value=None,  # ModelsHandlers.show picks one of the visitor's own, if any
            label="Model",
            allow_custom_value=True,
            elem_id="manage-model",
            scale=2,
            min_width=220,
        )
        new_name = gr.Textbox(label="New name", elem_id="new-name", scale=2, min_width=220)
        rename_button = gr.Button("Rename", elem_id="rename-button", scale=1)
        delete_button = gr.Button("Delete…", variant="stop", elem_id="delete-button", scale=1)
    with gr.Row(visible=False, elem_classes="notice", elem_id="delete-confirm") as confirm_row:
        confirm_text = gr.Markdown()
        confirm_button = gr.Button("Yes, delete it", variant="stop", elem_id="confirm-delete")
        cancel_button = gr.Button("Cancel")
    with gr.Row():
        download = gr.DownloadButton(DOWNLOAD_LABEL, elem_id="download-model")
        export_button = gr.Button("Export to ONNX", elem_id="export-button")
        onnx_file = gr.File(label="ONNX file", elem_id="onnx-file", visible=False)
    note = gr.Markdown(elem_id="manage-note")
    message = gr.Markdown(elem_id="manage-message")
    watched = gr.HTML(elem_id="manage-watched", elem_classes="watch-view")
    return _Manage(
        chosen,
        new_name,
        rename_button,
        delete_button,
        confirm_row,
        confirm_text,
        confirm_button,
        cancel_button,
        download,
        export_button,
        onnx_file,
        note,
        message,
        watched,
    )
