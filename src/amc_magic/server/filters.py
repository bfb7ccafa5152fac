"""Query parameters of the REST API, checked before anything reaches the database, and the reads they drive.

Every parameter is validated here and a bad one raises :class:`BadRequest` with a message that
says what is accepted, so a hostile or mistyped value is a 400, never a database error. The
reads run in a worker thread (they are synchronous SQLAlchemy Core).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from amc_magic.errors import NotFoundError
from amc_magic.history import ExecutionRecord, ExecutionStatus, HistoryStore
from amc_magic.history import tables as t
from amc_magic.history.queries import execution_record

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_ID_LENGTH = 200
CHANGE_OVERLAP = timedelta(seconds=5)
"""A change cursor lags this far behind the clock, so a write committed late is still seen."""

_INSTANCE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_STATUSES = tuple(status.value for status in ExecutionStatus)
_executions = t.executions.c


class BadRequest(ValueError):
    """A query parameter or id the API does not accept (a 400)."""


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions to list: every given condition must hold."""

    statuses: tuple[str, ...] = ()
    instance: str | None = None
    workflow: str | None = None
    since: datetime | None = None
    limit: int = DEFAULT_LIMIT


def parse_filter(arguments: Mapping[str, Sequence[str]]) -> ExecutionFilter:
    """Build the filter from ``status``, ``instance``, ``workflow``, ``since`` and ``limit``.

    ``status`` may repeat or list several names with commas (any case). Other parameters are
    ignored (Jupyter's ``token`` among them).

    Raises:
        BadRequest: a value is malformed, with what is accepted.
    """
    statuses: list[str] = []
    for value in arguments.get("status", []):
        for name in filter(None, (part.strip().upper() for part in value.split(","))):
            if name not in _STATUSES:
                raise BadRequest(f"Unknown status {_shown(name)}; use one of {', '.join(_STATUSES)}.")
            statuses.append(name)
    instance = _single(arguments, "instance")
    if instance is not None and not _INSTANCE.match(instance):
        raise BadRequest("instance must be an AMC instance id: 1 to 128 letters, digits, '.', '-' or '_'.")
    workflow = _single(arguments, "workflow")
    if workflow is not None and (len(workflow) > 255 or not workflow.isprintable()):
        raise BadRequest("workflow must be a workflow's id or name: up to 255 printable characters.")
    since = _single(arguments, "since")
    limit = _single(arguments, "limit")
    return ExecutionFilter(
        statuses=tuple(dict.fromkeys(statuses)),
        instance=instance,
        workflow=workflow,
        since=None if since is None else parse_since(since),
        limit=DEFAULT_LIMIT if limit is None else parse_limit(limit),
    )


def parse_since(value: str) -> datetime:
    """An ISO 8601 date or date-time; a time without a zone is UTC.

    Raises:
        BadRequest: anything else.
    """
    text = value.strip()
    try:
        if len(text) > 40:
            raise ValueError(text)
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise BadRequest(
            f"since must be an ISO 8601 date or date-time such as 2026-03-01 or 2026-03-01T09:30:00Z, not {_shown(text)}."
        ) from None
    if len(text) == 10:  # a date: midnight UTC
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_limit(value: str, maximum: int = MAX_LIMIT) -> int:
    """A whole number from 1 to ``maximum``.

    Raises:
        BadRequest: anything else.
    """
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= maximum:
        raise BadRequest(f"limit must be a whole number from 1 to {maximum}, not {_shown(text)}.")
    return int(text)


def check_ref(ref: str) -> str:
    """An execution id from a URL: not empty, not too long, no control characters.

    Raises:
        BadRequest: it cannot be an id.
    """
    if not ref or len(ref) > MAX_ID_LENGTH or not ref.isprintable():
        raise BadRequest(
            f"An execution id is 1 to {MAX_ID_LENGTH} printable characters: the local id, the AMC id, or the start of either."
        )
    return ref


def list_executions(store: HistoryStore, wanted: ExecutionFilter) -> list[ExecutionRecord]:
    """The executions ``wanted`` selects, newest first (read-only)."""
    query = sa.select(t.executions)
    if wanted.statuses:
        query = query.where(_executions.status.in_(wanted.statuses))
    if wanted.instance is not None:
        query = query.where(_executions.instance_id == wanted.instance)
    if wanted.workflow is not None:
        try:
            workflow = store.find_workflow(wanted.workflow)
        except NotFoundError:
            return []
        query = query.where(_executions.workflow_id == workflow.id)
    if wanted.since is not None:
        query = query.where(_executions.created_at >= wanted.since)
    newest = sa.func.coalesce(_executions.submitted_at, _executions.created_at)
    query = query.order_by(newest.desc(), _executions.id.desc()).limit(wanted.limit)
    with store.engine.connect() as conn:
        return [execution_record(row) for row in conn.execute(query)]


def changed_since(store: HistoryStore, since: datetime, limit: int = MAX_LIMIT) -> list[ExecutionRecord]:
    """Executions created, submitted, polled, started, finished or given a result at ``since`` or later."""
    stamps = (
        _executions.created_at,
        _executions.submitted_at,
        _executions.last_polled_at,
        _executions.started_at,
        _executions.finished_at,
    )
    result_stored = sa.exists().where(t.results.c.execution_id == _executions.id, t.results.c.created_at >= since)
    query = (
        sa.select(t.executions)
        .where(sa.or_(*(stamp >= since for stamp in stamps), result_stored))
        .order_by(_executions.created_at.desc(), _executions.id.desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [execution_record(row) for row in conn.execute(query)]


def _single(arguments: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [value.strip() for value in arguments.get(name, [])]
    if len(values) > 1:
        raise BadRequest(f"Give {name} at most once.")
    if not values or not values[0]:
        return None
    if "\x00" in values[0]:
        raise BadRequest(f"{name} must not contain a NUL character.")
    return values[0]


def _shown(text: str) -> str:
    """A user's value, cut short and made printable, for an error message."""
    short = text if len(text) <= 40 else text[:40] + "..."
    return repr(short)
