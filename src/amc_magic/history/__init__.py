"""The history database and result cache.

Every execution is recorded from the moment it is claimed (status ``CREATING``, before the
create request goes to AMC), and each successful result is kept as Parquet so that an
identical request is answered from the cache. SQLite by default, PostgreSQL for a team::

    store = HistoryStore.from_url()          # AMC_MAGIC_DB_URL, or a SQLite file
    key = cache_key(instance_id=..., rendered_sql=..., window_start=..., window_end=...,
                    time_zone="UTC", window_type="EXPLICIT", options={})
    if (hit := store.find_cached(key)) is not None:
        frame = store.load_result(hit.id)
"""

from amc_magic.history.cache_key import cache_key, normalise_sql
from amc_magic.history.database import DB_URL_ENV, create_engine_for_url, default_database_url
from amc_magic.history.migrations import applied_migrations, migrate, pending_migrations
from amc_magic.history.records import (
    FINAL_STATUSES,
    LIVE_STATUSES,
    ExecutionRecord,
    ExecutionStatus,
    InstanceRecord,
    WorkflowRecord,
    utc_now,
)
from amc_magic.history.store import DEFAULT_STALE_AFTER, HistoryStore

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_STALE_AFTER",
    "FINAL_STATUSES",
    "LIVE_STATUSES",
    "ExecutionRecord",
    "ExecutionStatus",
    "HistoryStore",
    "InstanceRecord",
    "WorkflowRecord",
    "applied_migrations",
    "cache_key",
    "create_engine_for_url",
    "default_database_url",
    "migrate",
    "normalise_sql",
    "pending_migrations",
    "utc_now",
]
