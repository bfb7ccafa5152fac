"""The wall clock every layer defaults to; each takes an injected clock instead in tests."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
