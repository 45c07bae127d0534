"""The Gradio web app. Gradio lives only in this package; the engine knows nothing of it."""

from .limits import Limits
from .page import CSS, THEME, TITLE, build_app, launch_options, warm_up, with_queue
from .upload_cache import UploadCache

__all__ = [
    "CSS",
    "THEME",
    "TITLE",
    "Limits",
    "UploadCache",
    "build_app",
    "launch_options",
    "warm_up",
    "with_queue",
]
