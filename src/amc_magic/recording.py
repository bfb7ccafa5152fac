"""The history store as the engine's :class:`~amc_magic.engine.recorder.Recorder` for one execution.

The engine calls the recorder on its loop; every write goes to a :class:`WriteQueue` and is
applied in order in a worker thread, so a slow database never delays a poll. The one-query
protocol awaits :meth:`StoreRecorder.flush` before it hands out a result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .client import OutputColumn
from .history import ExecutionStatus, leases
from .history.offloop import OffLoopHistory, WriteQueue

_KNOWN = {status.value for status in ExecutionStatus}


class StoreRecorder:
    """Writes one execution's milestones to its history row (``local_id``) as they happen."""

    def __init__(self, history: OffLoopHistory, local_id: str, *, submitted: bool = False, lease: Any = None) -> None:
        self._writes = WriteQueue(history)
        self.local_id = local_id
        self.submitted = submitted
        self._lease = lease  # LeaseTerms renewed with every poll, if the follower holds one

    def on_submitting(self, body: Mapping[str, Any], mark: str | None) -> None:
        """The row already exists (claimed before the request); nothing more to write."""

    def on_submitted(self, amc_id: str) -> None:
        self.submitted = True
        self._writes.put(lambda store: store.set_amc_id(self.local_id, amc_id))

    def on_status(self, status: str, reason: str | None) -> None:
        # An unknown status (AMC added one) is still running as far as we know: keep the row live.
        known = status if status in _KNOWN else ExecutionStatus.RUNNING.value
        self._writes.put(lambda store: store.record_status(self.local_id, known, status_reason=reason))

    def on_poll(self) -> None:
        self._writes.put(lambda store: store.record_poll(self.local_id))
        lease = self._lease
        if lease is not None:
            self._writes.put(lambda store: leases.renew(store, self.local_id, lease.owner, lease.ttl, clock=lease.clock))

    def on_result(self, frame: pd.DataFrame, output_columns: Sequence[OutputColumn], size_bytes: int) -> None:
        columns = [{"name": c.name, "dataType": c.data_type} for c in output_columns]
        self._writes.put(
            lambda store: store.store_result(self.local_id, frame, output_columns=columns, bytes_downloaded=size_bytes)
        )

    async def flush(self) -> None:
        """Wait for every write so far (the result's included); raises the first failure."""
        await self._writes.flush()

    def stop(self) -> None:
        """Stop the writer (after :meth:`flush`)."""
        self._writes.stop()
