"""Helpers for the engine's messages to people."""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """An exception's first line, at most 200 characters (some exceptions have no text)."""
    return (str(err).splitlines() or [type(err).__name__])[0][:200]
