"""The Gradio web app. Gradio lives only in this package; the engine knows nothing of it."""

from .app import CSS, THEME, TITLE, build_app, launch_options, warm_up, with_queue
from .limits import Limits
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
