"""What the panel and notifier tests share: a clock they move, and engine events made briefly."""

from __future__ import annotations

from typing import Any

from amc_magic.engine.events import EventKind, ExecutionEvent


class FakeClock:
    """Monotonic seconds a test sets by hand (``clock.now += 5``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def event(kind: EventKind, status: str | None = None, **fields: Any) -> ExecutionEvent:
    """An event of execution ``e-1`` on ``amcsandbox01``; ``fields`` override the rest."""
    values: dict[str, Any] = dict(instance_id="amcsandbox01", execution_id="e-1", status=status, status_reason=None, elapsed=0.0, polls=0)
    values.update(fields)
    return ExecutionEvent(kind=kind, **values)
