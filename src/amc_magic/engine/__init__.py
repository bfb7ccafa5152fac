"""The execution engine: one asyncio task per AMC execution, from submit to a typed DataFrame.

Names are imported on first use, so that a module needing one small piece (the panel reads
``engine.events``) does not load the runner, the HTTP client and pyarrow with it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amc_magic.engine.clock import SimulatedClock
    from amc_magic.engine.events import EventKind, ExecutionEvent, Subscriber
    from amc_magic.engine.execution import ExecutionResult
    from amc_magic.engine.gate import MAX_CONCURRENCY, ConcurrencyGate
    from amc_magic.engine.hints import failure_hint, recent_data_hint
    from amc_magic.engine.polling import PollSchedule
    from amc_magic.engine.reconcile import ReconcilePolicy, find_created
    from amc_magic.engine.recorder import NullRecorder, Recorder
    from amc_magic.engine.request import ExecutionRequest
    from amc_magic.engine.results import read_result_files
    from amc_magic.engine.runner import Engine, ExecutionHandle

_MODULES = {
    "SimulatedClock": "clock",
    "EventKind": "events",
    "ExecutionEvent": "events",
    "Subscriber": "events",
    "ExecutionResult": "execution",
    "MAX_CONCURRENCY": "gate",
    "ConcurrencyGate": "gate",
    "failure_hint": "hints",
    "recent_data_hint": "hints",
    "PollSchedule": "polling",
    "ReconcilePolicy": "reconcile",
    "find_created": "reconcile",
    "NullRecorder": "recorder",
    "Recorder": "recorder",
    "ExecutionRequest": "request",
    "read_result_files": "results",
    "Engine": "runner",
    "ExecutionHandle": "runner",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'amc_magic.engine' has no attribute {name!r}")
    return getattr(import_module(f"amc_magic.engine.{module}"), name)
