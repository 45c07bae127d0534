"""The Gradio web app. Gradio lives only in this package; the engine knows nothing of it."""

from .app import CSS, THEME, TITLE, build_app, warm_up, with_queue

__all__ = ["CSS", "THEME", "TITLE", "build_app", "warm_up", "with_queue"]
