"""Durations as people read them: ``42s``, ``3m 05s``, ``2h 04m``."""

from __future__ import annotations


def format_duration(seconds: float) -> str:
    """``42s``, ``3m 05s``, ``2h 04m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
