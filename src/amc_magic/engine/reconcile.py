"""Create an execution at most once, even when the create's answer is lost.

A create that times out or loses its connection after the request was sent, or that gets a 5xx,
may or may not have created the execution. Sending it again blindly could run the query twice
(and spend AMC quota twice). Instead: list the instance's executions created since just before
the first attempt and look for this one (ad-hoc SQL by its unique mark comment, a saved workflow
by its id, window and parameters); adopt it if found, otherwise send the create again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from amc_magic.client import AmcClient, AmcExecution, InstanceRef
from amc_magic.client.retry import Sleep, may_have_arrived
from amc_magic.engine.request import MARK_PREFIX
from amc_magic.errors import ServerError, TransportError

logger = logging.getLogger("amc_magic.engine")

WallClock = Callable[[], datetime]
"""Returns the current time as an aware datetime."""


@dataclass(frozen=True)
class ReconcilePolicy:
    """How hard to look for a create whose answer was lost.

    Attributes:
        attempts: create requests in total.
        lookups: list calls after an ambiguous failure before concluding nothing was created
            (AMC's listing may lag behind a create).
        lookup_interval: seconds between those list calls.
        clock_skew: how far before our clock's "now" the listing starts (``minCreationTime``).
    """

    attempts: int = 3
    lookups: int = 3
    lookup_interval: float = 5.0
    clock_skew: timedelta = timedelta(minutes=5)


async def create_once(
    client: AmcClient,
    instance: InstanceRef,
    body: Mapping[str, Any],
    mark: str | None,
    *,
    now: WallClock,
    sleep: Sleep,
    policy: ReconcilePolicy = ReconcilePolicy(),
) -> AmcExecution:
    """Create the execution described by ``body``, never twice.

    Args:
        client: the AMC client.
        instance: where to create it.
        body: the create body (its SQL carries ``mark`` when it is ad hoc).
        mark: the mark in the SQL, or ``None`` for a saved workflow.
        now: wall clock, for ``minCreationTime``.
        sleep: how to wait between lookups.
        policy: attempts and lookups.

    Raises:
        AmcApiError, TransportError: the create failed and no execution was found.
    """
    since = now() - policy.clock_skew
    for attempt in range(1, policy.attempts + 1):
        try:
            return await client.create_execution(instance, body)
        except (ServerError, TransportError) as exc:
            if not may_have_arrived(exc):
                raise
            logger.warning("Creating an execution failed ambiguously (%s); looking for it on AMC", type(exc).__name__)
            found = await _look_for(client, instance, body, mark, since=since, sleep=sleep, policy=policy)
            if found is not None:
                logger.info("Adopted execution %s, created by the failed request", found.execution_id)
                client.note_created(found.execution_id)
                return found
            if attempt == policy.attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def find_created(
    client: AmcClient, instance: InstanceRef, body: Mapping[str, Any], mark: str | None, *, since: datetime
) -> AmcExecution | None:
    """The execution created from ``body`` since ``since``, if AMC lists one (newest first)."""
    listed = await client.list_executions(instance, min_creation_time=since, include_workflow=True)
    matches = [e for e in listed if _matches(e, body, mark)]
    matches.sort(key=lambda e: e.create_time or since, reverse=True)
    return matches[0] if matches else None


async def _look_for(
    client: AmcClient,
    instance: InstanceRef,
    body: Mapping[str, Any],
    mark: str | None,
    *,
    since: datetime,
    sleep: Sleep,
    policy: ReconcilePolicy,
) -> AmcExecution | None:
    for lookup in range(policy.lookups):
        if lookup:
            await sleep(policy.lookup_interval)
        found = await find_created(client, instance, body, mark, since=since)
        if found is not None:
            return found
    return None


def _matches(execution: AmcExecution, body: Mapping[str, Any], mark: str | None) -> bool:
    if mark is not None:
        return f"{MARK_PREFIX}{mark}" in (execution.sql_query or "")
    raw = execution.raw
    if execution.workflow_id != body.get("workflowId"):
        return False
    if dict(raw.get("parameterValues") or {}) != dict(body.get("parameterValues") or {}):
        return False
    for key in ("timeWindowStart", "timeWindowEnd"):
        if key in body and raw.get(f"{key}Original", raw.get(key)) != body[key]:
            return False
    return True
