"""Hostile inputs for the security tests."""


class RunsCode:
    """Pickles as a call to exec(code): what a hostile .pt file would carry."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def blob_upload(component_id: int, index: int | str, drawing: str, blob: bytes) -> dict:
    """The form of a Sketchpad layer upload to /gradio_api/component_server (Gradio's
    `accept_blobs`), as httpx's `data` and `files` arguments."""
    fields = {
        "component_id": str(component_id),
        "session_hash": "attacker",
        "fn_name": "accept_blobs",
        "type": "layer",
        "index": str(index),
        "id": drawing,
    }
    return {"data": fields, "files": {"blob": ("blob.png", blob, "image/png")}}
