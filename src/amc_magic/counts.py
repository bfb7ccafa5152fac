"""Counts as people read them: ``1 row``, ``12,345 rows x 3 columns``."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """``1 row``, ``0 rows``, ``12,345 rows``: the number with its noun, plural unless it is one."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def rows_by_columns(rows: int, columns: int, times: str = "x") -> str:
    """``12,345 rows x 3 columns`` (``times`` between them: ``&times;`` in HTML)."""
    return f"{counted(rows, 'row')} {times} {counted(columns, 'column')}"
