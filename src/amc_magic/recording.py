"""The history store as the engine's :class:`~amc_magic.engine.recorder.Recorder` for one execution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .client import OutputColumn
from .history import ExecutionStatus, HistoryStore

_KNOWN = {status.value for status in ExecutionStatus}


class StoreRecorder:
    """Writes one execution's milestones to its history row (``local_id``) as they happen."""

    def __init__(self, store: HistoryStore, local_id: str) -> None:
        self._store = store
        self.local_id = local_id
        self.submitted = False

    def on_submitting(self, body: Mapping[str, Any], mark: str | None) -> None:
        """The row already exists (claimed before the request); nothing more to write."""

    def on_submitted(self, amc_id: str) -> None:
        self.submitted = True
        self._store.set_amc_id(self.local_id, amc_id)

    def on_status(self, status: str, reason: str | None) -> None:
        # An unknown status (AMC added one) is still running as far as we know: keep the row live.
        self._store.record_status(self.local_id, status if status in _KNOWN else "RUNNING", status_reason=reason)

    def on_poll(self) -> None:
        self._store.record_poll(self.local_id)

    def on_result(self, frame: pd.DataFrame, output_columns: Sequence[OutputColumn], size_bytes: int) -> None:
        columns = [{"name": c.name, "dataType": c.data_type} for c in output_columns]
        self._store.store_result(self.local_id, frame, output_columns=columns, bytes_downloaded=size_bytes)
