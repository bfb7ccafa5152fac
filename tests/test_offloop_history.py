"""History I/O runs off the event loop: a store that blocks never delays another execution's polls."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from amc_magic.history import HistoryStore
from amc_magic.history.database import create_engine_for_url
from amc_magic.sandbox.app import create_app
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.session import Session

SPEC = DataSpec(today=date(2025, 3, 3), seed=5, scale=0.05)
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
REACH = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"


class BlockingStore(HistoryStore):
    """A store whose writes for one execution hang until released (a locked file, a stalled server)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.blocked_id: str | None = None
        self.release = threading.Event()
        self.blocked_calls = 0

    def record_poll(self, local_id: str) -> None:
        if local_id == self.blocked_id:
            self.blocked_calls += 1
            self.release.wait(60)
        super().record_poll(local_id)


def test_a_blocked_history_write_does_not_delay_other_executions(tmp_path, tmp_path_factory):
    app = create_app(SandboxConfig(data=SPEC, data_cache_dir=tmp_path_factory.mktemp("data"), run_seconds=1.0))
    store = BlockingStore(create_engine_for_url(f"sqlite:///{tmp_path / 'history.sqlite'}"))
    session = Session(store=store, sandbox_app=app, now=lambda: NOW)
    try:
        slow = session.start(session.prepare(REACH, start="2025-02-01", end="2025-02-10"))
        for _ in range(500):
            if slow.local_id:
                break
            threading.Event().wait(0.01)
        store.blocked_id = slow.local_id
        for _ in range(1000):  # until a write of the slow execution hangs
            if store.blocked_calls:
                break
            threading.Event().wait(0.01)
        assert store.blocked_calls == 1
        polls_when_blocked = slow.handle.polls

        other = session.start(session.prepare(REACH, start="2025-02-11", end="2025-02-20"))
        frame = other.result(30)  # finishes (polled, downloaded, stored) while the slow one's write hangs
        assert not frame.empty and store.get_execution(other.local_id).status == "SUCCEEDED"
        assert not store.release.is_set() and not slow.done()
        assert slow.handle.polls > polls_when_blocked  # and the slow execution itself kept being polled

        store.release.set()
        assert not slow.result(30).empty
        assert store.get_execution(slow.local_id).status == "SUCCEEDED"  # its writes landed, in order
    finally:
        store.release.set()
        session.close()
