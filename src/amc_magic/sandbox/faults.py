"""Faults the sandbox injects on request, so clients can be tested against AMC's bad days.

- Throttling: every Nth call in scope answers 429 with ``Retry-After``.
- Server errors: every Nth call in scope, and/or a scripted status per call, answers 5xx.
- Eventual consistency: the first GETs of a new execution answer "does not exist".
- Dropped connections: an accepted create is recorded, then its connection drops before the body.
- Failed executions: every one (``failure_reason``), or those whose window starts at given instants
  (``failing_window_starts``), end FAILED (:func:`injected_failure`).

The scope is ``SandboxConfig.fault_endpoints`` (default: every AMC API endpoint, not the token
endpoint or result downloads). The counters are shared by all threads and event loops using the app.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from .config import SandboxConfig


@dataclass(frozen=True)
class InjectedFault:
    """An answer to give instead of serving the call."""

    status: int
    retry_after: int | None = None


class Faults:
    """Decides, call by call, whether to inject a fault."""

    def __init__(self, config: SandboxConfig, *, default_scope: frozenset[str]) -> None:
        self._config = config
        self._scope = config.fault_endpoints if config.fault_endpoints is not None else default_scope
        self._calls_in_scope = 0
        self._gets_by_execution: Counter[str] = Counter()
        self._drops_left = config.dropped_creates
        self._lock = threading.Lock()

    def before_call(self, endpoint: str) -> InjectedFault | None:
        """Count a call to ``endpoint`` and return the fault to answer it with, if any."""
        if endpoint not in self._scope:
            return None
        config = self._config
        with self._lock:
            self._calls_in_scope += 1
            n = self._calls_in_scope
        if n <= len(config.scripted_statuses) and config.scripted_statuses[n - 1] is not None:
            return self._fault(config.scripted_statuses[n - 1])  # type: ignore[arg-type]
        if config.throttle_every and n % config.throttle_every == 0:
            return self._fault(429)
        if config.server_error_every and n % config.server_error_every == 0:
            return self._fault(config.server_error_status)
        return None

    def hides_execution(self, execution_id: str) -> bool:
        """Whether this GET of ``execution_id`` should not find it yet (eventual consistency)."""
        if not self._config.unseen_gets:
            return False
        with self._lock:
            self._gets_by_execution[execution_id] += 1
            return self._gets_by_execution[execution_id] <= self._config.unseen_gets

    def drops_create(self) -> bool:
        """Whether the connection of this accepted create should drop."""
        with self._lock:
            if self._drops_left <= 0:
                return False
            self._drops_left -= 1
            return True

    def _fault(self, status: int) -> InjectedFault:
        return InjectedFault(status, self._config.retry_after_seconds if status == 429 else None)


def injected_failure(config: SandboxConfig, window_start: datetime) -> str | None:
    """The ``statusReason`` an execution whose window starts at ``window_start`` (naive UTC) must fail with, if any."""
    if not config.failing_window_starts:
        return config.failure_reason
    start = window_start.isoformat(timespec="seconds")
    if start in config.failing_window_starts:
        return config.failure_reason or f"Injected failure for the window starting {start} UTC."
    return None
