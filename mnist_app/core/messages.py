"""Helpers for the engine's messages to people."""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """An exception's first line, at most 200 characters (some exceptions have no text)."""
    return (str(err).splitlines() or [type(err).__name__])[0][:200]


def counted(count: int, noun: str) -> str:
    """'1 drawing', '1,234 drawings': a count and its noun, plural unless one."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def quoted(value: object, limit: int = 60) -> str:
    """`repr(value)` for a message, cut to `limit` characters: a request may send a name of
    megabytes, which must not come back in the answer or go into the log whole."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"
