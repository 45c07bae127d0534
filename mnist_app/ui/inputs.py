"""Gradio's image inputs, made safe and clear before Gradio decodes anything.

Gradio decodes an upload before any handler runs: a file that is not an image would end as
a bare "Error" with the reason only in the log, and a small PNG of 13000x13000 pixels would
be unpacked at full size (2 GB, 29 s of CPU) before the app could shrink it. And the
Sketchpad's blob endpoint kept any number of layers, of any index, for ever.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, TypeVar

import gradio as gr
from fastapi import HTTPException
from gradio.components.base import server
from gradio_client.utils import is_http_url_like
from PIL import Image

from ..core.messages import first_line
from ..preprocess.ink import unreadable_message
from .errors import user_error

C = TypeVar("C", bound=gr.components.Component)


def guarded_image_input(component: C, max_pixels: int) -> C:
    """The component, refusing requests whose images have more than `max_pixels` pixels
    together (read from their headers, before any decoding), and raising its decoding
    failures as a gr.Error that says what is wrong. (Wrapped on the instance: a subclass
    would make Gradio write a .pyi stub beside this file at import time.)"""
    decode = component.preprocess

    def preprocess(payload: Any) -> Any:
        pixels = sum(_header_pixels(image) for image in _images(component, payload))
        if pixels > max_pixels:
            raise user_error(
                f"That image is too large: {pixels:,} pixels, at most {max_pixels:,}. "
                "Please send a smaller one."
            )
        try:
            return decode(payload)
        except gr.Error:
            raise
        except Exception as err:
            raise user_error(f"Could not read that image: {unreadable_message(err)}.") from None

    component.preprocess = preprocess
    return component


URLS_REFUSED = (
    "This server does not fetch files from addresses on the internet: send the image "
    "itself (upload it, or pass a local file to the client)."
)


def refuse_url_inputs(demo: gr.Blocks) -> None:
    """Every file input of `demo` refuses a URL before anything is looked up. Gradio
    fetches a file given as a URL, by API or MCP, from its own server: a request made the
    server resolve any name and fetch from any public address."""
    for block in demo.blocks.values():
        fetch = block.async_move_resource_to_block_cache

        async def refusing(url_or_file_path: Any, fetch: Any = fetch) -> Any:
            if isinstance(url_or_file_path, str) and is_http_url_like(url_or_file_path):
                raise user_error(URLS_REFUSED)
            return await fetch(url_or_file_path)

        block.async_move_resource_to_block_cache = refusing


# What each JSON type of a component's API schema may be given (None: an empty value).
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
JSON_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


def answer_bad_input_in_one_line(demo: gr.Blocks) -> None:
    """Too few inputs, inputs of the wrong JSON type, and files that cannot be used get a
    message that names the input, and one bounded line in the log. Gradio raised them deep
    in its preprocessing: a traceback echoing the input (a 1 MB string made 1 MB of log)
    and `{"error": null}` for the client."""
    preprocess_data = demo.preprocess_data

    async def checked(block_fn: Any, inputs: list[Any], *args: Any, **kwargs: Any) -> Any:
        where = f"/{block_fn.api_name}" if block_fn.api_name else "this event"
        if not isinstance(inputs, list) or len(inputs) < len(block_fn.inputs):
            got = len(inputs) if isinstance(inputs, list) else type(inputs).__name__
            raise user_error(f"{where} takes {len(block_fn.inputs)} inputs, got {got}.")
        for position, (block, value) in enumerate(zip(block_fn.inputs, inputs, strict=False), 1):
            expected = _json_type(block)
            wrong = isinstance(value, bool) and expected in ("number", "integer")
            if value is not None and expected in JSON_TYPES:
                wrong = wrong or not isinstance(value, JSON_TYPES[expected])
            if wrong:
                name = getattr(block, "label", None) or f"input {position}"
                raise user_error(
                    f"{where}: {name} must be {JSON_NAMES[expected]}, not {type(value).__name__}."
                )
        try:
            return await preprocess_data(block_fn, inputs, *args, **kwargs)
        except gr.Error:
            raise
        except Exception as err:  # a file never uploaded here, a malformed file object
            # The error's first line, cut short: it may quote the input.
            reason = first_line(err)[:120]
            raise user_error(f"{where}: an input could not be used ({reason}).") from None

    demo.preprocess_data = checked


def _json_type(block: Any) -> str | None:
    try:
        kind = block.api_info().get("type")
    except Exception:  # a component without a schema: anything goes, as in Gradio
        return None
    return kind if isinstance(kind, str) else None


def _images(component: Any, payload: Any) -> Iterator[Any]:
    """Every image file (a path) or blob (bytes) that a payload will make Gradio decode."""
    if payload is None:
        return
    drawing_id = getattr(payload, "id", None)
    stored = getattr(component, "blob_storage", {}).get(drawing_id) if drawing_id else None
    source = stored if stored is not None else payload
    for field in ("background", "composite", "layers"):
        value = getattr(source, field, None)
        yield from value if isinstance(value, list) else [value]
    yield getattr(payload, "path", None)


def _header_pixels(image: Any) -> int:
    """Width x height from the image's header (0 when there is none to read)."""
    if image is None:
        return 0
    source = io.BytesIO(image) if isinstance(image, bytes) else getattr(image, "path", image)
    if source is None:
        return 0
    try:
        with Image.open(source) as opened:  # reads the header only
            return opened.width * opened.height
    except Exception:  # not an image: decoding will say so in its own words
        return 0


def with_bounded_blobs(
    editor: gr.ImageEditor,
    layers: int,
    drawings_per_session: int,
    total_bytes: int,
    total_drawings: int = 256,
) -> gr.ImageEditor:
    """The editor's blob endpoint (component_server `accept_blobs`, which the browser's
    Sketchpad uses to upload a drawing's layers), bounded: a layer index under `layers`,
    at most `drawings_per_session` drawings held per session, and `total_drawings` and
    `total_bytes` for all sessions (the oldest drawings are dropped first). Gradio frees
    a drawing once it is read."""
    accept = editor.accept_blobs
    storage = editor.blob_storage
    owners: dict[str, str] = {}  # drawing id -> session

    @server
    def accept_blobs(data: Any) -> None:
        kind, index = data.data.get("type"), data.data.get("index")
        if kind not in ("layer", "background", "composite"):
            raise HTTPException(400, "unknown blob type")
        if kind == "layer":
            try:
                if not 0 <= int(index) < layers:
                    raise ValueError
            except (TypeError, ValueError):
                raise HTTPException(400, f"layer index must be 0 to {layers - 1}") from None
        # The form's own fields include the session that sends it.
        drawing, session = str(data.data.get("id")), str(data.data.get("session_hash"))
        for stale in [key for key in owners if key not in storage]:  # read and freed
            del owners[stale]
        if drawing not in storage:
            mine = [key for key, owner in owners.items() if owner == session]
            for oldest in mine[: max(0, len(mine) - drawings_per_session + 1)]:
                storage.pop(oldest, None)
                owners.pop(oldest, None)
        owners[drawing] = session
        accept(data)
        held = sum(map(_drawing_bytes, storage.values()))
        while len(storage) > 1 and (len(storage) > total_drawings or held > total_bytes):
            oldest = next(iter(storage))
            held -= _drawing_bytes(storage.pop(oldest))
            owners.pop(oldest, None)
        if held > total_bytes:  # one drawing alone is over the limit
            storage.pop(drawing, None)
            raise HTTPException(413, "the drawing is too large")

    editor.accept_blobs = accept_blobs
    return editor


def _drawing_bytes(blobs: Any) -> int:
    return sum(len(blob) for blob in (blobs.background, blobs.composite, *blobs.layers) if blob)
