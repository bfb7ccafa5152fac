"""The execution engine: one asyncio task per AMC execution, from submit to a typed DataFrame."""

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

__all__ = [
    "MAX_CONCURRENCY",
    "ConcurrencyGate",
    "Engine",
    "EventKind",
    "ExecutionEvent",
    "ExecutionHandle",
    "ExecutionRequest",
    "ExecutionResult",
    "NullRecorder",
    "PollSchedule",
    "ReconcilePolicy",
    "Recorder",
    "SimulatedClock",
    "Subscriber",
    "failure_hint",
    "find_created",
    "read_result_files",
    "recent_data_hint",
]
