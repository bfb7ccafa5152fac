"""Leases on executions: at most one follower at a time polls an execution and finalises it.

A follower (a kernel following its own execution, the server's orphan poller, a second server on
the same PostgreSQL) takes the lease before it polls, renews it while it follows, and releases it
when the execution has ended and its result is stored. A lease that is not renewed expires, so a
follower that died (a killed kernel) hands the execution on after ``ttl``::

    owner = lease_owner("poller")
    if acquire(store, local_id, owner, ttl=300):
        try:
            ...                                    # follow; renew(store, local_id, owner, 300) now and then
        finally:
            release(store, local_id, owner)

Every change is one conditional ``UPDATE ... WHERE`` in a write transaction, atomic on SQLite
(``BEGIN IMMEDIATE`` holds the one write lock) and on PostgreSQL (a competing ``UPDATE`` of the row
waits for the first to commit and then evaluates its ``WHERE`` again on the new row), so of
several followers asking at once exactly one gets the lease. Times come from the caller's clock;
followers sharing a database should share a time source (one machine, or NTP).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from amc_magic.history import tables as t
from amc_magic.history.database import write_transaction
from amc_magic.history.queries import searchable
from amc_magic.history.records import require_aware, utc_now
from amc_magic.history.store import HistoryStore

OWNER_LENGTH = 200
_executions = t.executions.c

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Lease:
    """Who holds an execution's lease, and until when."""

    owner: str
    expires_at: datetime


def lease_owner(role: str) -> str:
    """A lease owner name unique to this process and call: ``role@host:pid:random``."""
    name = f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    return name[-OWNER_LENGTH:]


def acquire(
    store: HistoryStore | sa.Engine,
    local_id: str,
    owner: str,
    ttl: float | timedelta,
    *,
    clock: Clock = utc_now,
    live_only: bool = True,
    unpolled_since: datetime | None = None,
) -> bool:
    """Take (or extend, if ``owner`` already holds it) the lease on execution ``local_id``.

    Args:
        store: the history store, or its engine.
        local_id: the execution's local id.
        owner: who takes it (see :func:`lease_owner`); at most 200 characters.
        ttl: how long the lease lasts without :func:`renew` (seconds or a timedelta).
        clock: the current timezone-aware UTC time.
        live_only: take it only while the execution is live (PENDING, RUNNING, ...).
        unpolled_since: take it only if nobody polled AMC for the execution since then
            (``last_polled_at``, or the submission time if it was never polled).

    Returns:
        True if ``owner`` holds the lease now; False if another owner holds an unexpired one, the
        execution does not exist, or a condition above failed.
    """
    now = clock()
    expires = now + _duration(ttl)
    free = sa.or_(
        _executions.lease_owner.is_(None),
        _executions.lease_owner == _checked(owner),
        _executions.lease_expires_at.is_(None),
        _executions.lease_expires_at <= now,
    )
    conditions = [free]
    if live_only:
        conditions.append(t.live_status_clause(_executions.status))
    if unpolled_since is not None:
        require_aware(unpolled_since, "unpolled_since")
        last_seen = sa.func.coalesce(_executions.last_polled_at, _executions.submitted_at, _executions.created_at)
        conditions.append(last_seen < unpolled_since)
    return _update(store, local_id, conditions, lease_owner=owner, lease_expires_at=expires)


def renew(store: HistoryStore | sa.Engine, local_id: str, owner: str, ttl: float | timedelta, *, clock: Clock = utc_now) -> bool:
    """Extend ``owner``'s lease to ``ttl`` from now; False if ``owner`` no longer holds it."""
    expires = clock() + _duration(ttl)
    return _update(store, local_id, [_executions.lease_owner == _checked(owner)], lease_expires_at=expires)


def release(store: HistoryStore | sa.Engine, local_id: str, owner: str) -> bool:
    """Give up ``owner``'s lease; False if ``owner`` did not hold it (nothing changes then)."""
    return _update(store, local_id, [_executions.lease_owner == _checked(owner)], lease_owner=None, lease_expires_at=None)


def holder(store: HistoryStore | sa.Engine, local_id: str, *, clock: Clock = utc_now) -> Lease | None:
    """The unexpired lease on ``local_id``, or None if nobody holds one (read-only)."""
    query = sa.select(_executions.lease_owner, _executions.lease_expires_at).where(
        _executions.id == searchable(local_id)
    )
    with _engine(store).connect() as conn:
        row = conn.execute(query).first()
    if row is None or row.lease_owner is None or row.lease_expires_at is None or row.lease_expires_at <= clock():
        return None
    return Lease(row.lease_owner, row.lease_expires_at)


def _update(store: HistoryStore | sa.Engine, local_id: str, conditions: list[sa.ColumnElement[bool]], **values: object) -> bool:
    text = searchable(local_id)
    if not text:
        return False
    query = sa.update(t.executions).where(_executions.id == text, *conditions).values(**values)
    with write_transaction(_engine(store)) as conn:
        return conn.execute(query).rowcount == 1


def _engine(store: HistoryStore | sa.Engine) -> sa.Engine:
    return store if isinstance(store, sa.Engine) else store.engine


def _duration(ttl: float | timedelta) -> timedelta:
    duration = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    if duration <= timedelta(0):
        raise ValueError(f"a lease must last a positive time, not {duration}")
    return duration


def _checked(owner: str) -> str:
    if not owner or len(owner) > OWNER_LENGTH or "\x00" in owner:
        raise ValueError(f"a lease owner is 1 to {OWNER_LENGTH} characters without NUL")
    return owner


def holder_is_gone(owner: str) -> bool:
    """Whether ``owner`` (a :func:`lease_owner` name) was a process of this machine that has exited.

    A kernel restarted on the same machine hands its executions on at once instead of after the
    lease's lifetime. Owners on other machines (or names not made by :func:`lease_owner`) are never
    taken for gone: their leases expire by themselves.
    """
    _, _, place = owner.partition("@")
    host, _, rest = place.rpartition(":")
    host, _, pid_text = host.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or not rest:
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, and someone else's
        return False
    return False


def take_over(
    store: HistoryStore | sa.Engine, local_id: str, owner: str, gone: str, ttl: float | timedelta, *, clock: Clock = utc_now
) -> bool:
    """Take the lease from ``gone`` (a follower known to have exited); False if it changed hands meanwhile."""
    expires = clock() + _duration(ttl)
    return _update(store, local_id, [_executions.lease_owner == _checked(gone)], lease_owner=_checked(owner), lease_expires_at=expires)
