"""The sandbox's settings: its identity, its pace, and the faults it can be dialled to inject.

Everything the emulator does that a test may want to control is a field of :class:`SandboxConfig`:
the clock, how long executions queue and run, how large result files are, how long tokens and
download links live, and which faults to inject (throttling, server errors, eventual consistency,
dropped connections, failing executions).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..wallclock import utc_now
from .data import DataSpec

Clock = Callable[[], datetime]
"""A function returning the current time as an aware UTC datetime."""

INSTANCE_ID = "amcsandbox01"
ADVERTISER_ID = "ENTITYSANDBOX"
MARKETPLACE_ID = "ATVPDKIKX0DER"



class ManualClock:
    """A clock that only moves when told to, for tests that must not sleep.

    Calling the clock returns the current time; :meth:`advance` moves it forward. Safe to read from
    several threads (the sandbox's query workers read it too).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` and return the new time."""
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


@dataclass(frozen=True)
class SandboxConfig:
    """How the sandbox behaves.

    Attributes:
        instance_id: the one AMC instance the sandbox serves (type SANDBOX).
        advertiser_id: the AMC account (entity) id callers must send as AdvertiserId.
        marketplace_id: the marketplace callers must send as MarketplaceId.
        clock: the time source for every timestamp, queue, run time and expiry.
        data: the synthetic dataset; None means the default seed and scale ending two days before the
            clock's date when the sandbox starts. Relative time windows end on its last day. An
            injected database must hold this dataset.
        data_cache_dir: where the default database caches its data file (None: the user cache dir).
        queue_seconds: how long a new execution stays PENDING before it may start.
        run_seconds: the least time an execution stays RUNNING (it runs at least as long as its query).
        max_running: executions RUNNING at once per instance; the rest wait, first in first out.
        rows_per_file: result rows per CSV file; larger results are split into several files.
        link_expiry_seconds: lifetime of the pre-signed download links.
        token_lifetime_seconds: lifetime of access tokens from ``/auth/o2/token`` (``expires_in``).
        max_sql_bytes: the largest ``sqlQuery`` accepted (UTF-8 bytes).
        require_synthetic_data_flag: reject executions without ``requireSyntheticData: true`` the way
            AMC's sandbox instances do (created, then FAILED).
        throttle_every: answer every Nth AMC API call with 429 and ``Retry-After`` (0: never).
        retry_after_seconds: the ``Retry-After`` value sent with a 429.
        server_error_every: answer every Nth AMC API call with ``server_error_status`` (0: never).
        server_error_status: the status of injected server errors.
        scripted_statuses: statuses for the first AMC API calls in order (``None`` lets that call
            through), e.g. ``(503, None, 429)``.
        fault_endpoints: endpoint names the faults above apply to (see ``ENDPOINTS`` in ``app``);
            ``None`` means every AMC API endpoint. Calls outside the scope are not counted by them.
        unseen_gets: how many GETs of a new execution answer "does not exist" (eventual consistency).
        dropped_creates: how many accepted creates lose their connection before the response body.
        failure_reason: when set, every execution that runs ends FAILED with this ``statusReason``.
        failing_window_starts: executions whose window starts at one of these UTC instants (ISO text,
            e.g. ``2026-01-05T00:00:00``) end FAILED, with ``failure_reason`` or a reason naming the start.
        rejected_refresh_tokens: refresh tokens the token endpoint answers with ``invalid_grant``.
    """

    instance_id: str = INSTANCE_ID
    advertiser_id: str = ADVERTISER_ID
    marketplace_id: str = MARKETPLACE_ID
    clock: Clock = utc_now
    data: DataSpec | None = None
    data_cache_dir: Path | None = None
    queue_seconds: float = 0.0
    run_seconds: float = 0.0
    max_running: int = 10
    rows_per_file: int = 100_000
    link_expiry_seconds: int = 600
    token_lifetime_seconds: int = 3600
    max_sql_bytes: int = 256 * 1024
    require_synthetic_data_flag: bool = True
    throttle_every: int = 0
    retry_after_seconds: int = 1
    server_error_every: int = 0
    server_error_status: int = 503
    scripted_statuses: tuple[int | None, ...] = ()
    fault_endpoints: frozenset[str] | None = None
    unseen_gets: int = 0
    dropped_creates: int = 0
    failure_reason: str | None = None
    failing_window_starts: frozenset[str] = field(default_factory=frozenset)
    rejected_refresh_tokens: frozenset[str] = field(default_factory=frozenset)

    def data_spec(self) -> DataSpec:
        """The dataset: ``data``, or the default one ending two days before the clock's date."""
        return self.data or DataSpec(today=self.clock().date())
