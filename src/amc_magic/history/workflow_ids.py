"""Workflow ids and names: making a ``wf_`` id, checking a name, and finding a workflow by any of them.

Lookups never hand the database text it could fail on: ids are stored and compared as strings,
prefixes are matched literally, and text that cannot be an id (NUL characters, a ``wf_`` id with
non-hex digits, kilobytes of it) is refused with a :class:`~amc_magic.errors.NotFoundError`.
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa

from amc_magic.errors import NextStep, NotFoundError, OptionError, Remedy
from amc_magic.history import tables as t
from amc_magic.history.queries import SHOWN_MATCHES, like_prefix, searchable, workflow_record
from amc_magic.history.records import WorkflowRecord

WORKFLOW_ID_PATTERN = re.compile(r"wf_[0-9a-f]{12}")
"""The readable id this package gives a workflow (older databases may hold other AMC-valid ids)."""
MAX_NAME_LENGTH = 255
_WF_PREFIX = re.compile(r"wf_[0-9a-f]{0,12}")
_UUID_PREFIX = re.compile(r"[0-9a-f][0-9a-f-]{0,35}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LOOKUP_HINT = "Give the workflow's name, its wf_ id, its UUID, or the start of either id."
_LIST = (NextStep(Remedy.LIST_WORKFLOWS),)
_w = t.workflows.c


def new_workflow_id() -> str:
    """A fresh readable workflow id, ``wf_`` and 12 lowercase hex digits."""
    return f"wf_{secrets.token_hex(6)}"


def find_workflow(conn: sa.Connection, ref: str) -> WorkflowRecord:
    """Return the workflow whose UUID, ``wf_`` id or name is ``ref``, or whose UUID or ``wf_`` id starts with it.

    Exact matches win over prefixes; ids match in any case.

    Raises:
        NotFoundError: ``ref`` cannot be an id or a name, nothing matches, or a prefix matches
            several workflows (the message lists them).
    """
    text = searchable(ref)
    shown = _shown(ref)
    if not text or len(text) > MAX_NAME_LENGTH:
        raise NotFoundError(f"No workflow matches {shown}.", hint=_LOOKUP_HINT, next_steps=_LIST)
    lowered = text.lower()
    for condition in (_w.id == lowered, _w.workflow_id == text, _w.name == text, _w.workflow_id == lowered):
        row = conn.execute(sa.select(t.workflows).where(condition).limit(1)).first()
        if row is not None:
            return workflow_record(row)
    if lowered.startswith("wf_"):
        if not _WF_PREFIX.fullmatch(lowered):
            raise NotFoundError(
                f"No workflow matches {shown}: a wf_ id is wf_ followed by 12 lowercase hex digits "
                "(such as wf_0123456789ab).",
                hint=_LOOKUP_HINT,
                next_steps=_LIST,
            )
        column = _w.workflow_id
    elif _UUID_PREFIX.fullmatch(lowered):
        column = _w.id
    else:
        hint = "A UUID has 32 hex digits in groups of 8-4-4-4-12. " if len(lowered) == 36 else ""
        raise NotFoundError(f"No workflow matches {shown}.", hint=hint + _LOOKUP_HINT, next_steps=_LIST)
    query = sa.select(t.workflows).where(column.like(like_prefix(lowered), escape="\\")).order_by(_w.name)
    matches = [workflow_record(row) for row in conn.execute(query.limit(SHOWN_MATCHES + 1))]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"No workflow matches {shown}.", hint=_LOOKUP_HINT, next_steps=_LIST)
    listed = ", ".join(f"{m.name!r} ({m.workflow_id}, {m.id})" for m in matches[:SHOWN_MATCHES])
    more = " and more" if len(matches) > SHOWN_MATCHES else ""
    raise NotFoundError(f"{shown} matches several workflows: {listed}{more}.", hint="Give more of the id, or the name.")


def check_name(name: str) -> str:
    """Return ``name`` trimmed, if it can name a workflow.

    Raises:
        OptionError: it is empty, longer than 255 characters, holds a NUL or line break, or looks
            like a ``wf_`` id or a UUID (it would be found as one).
    """
    text = str(name).strip()
    if not text or len(text) > MAX_NAME_LENGTH or any(c in text for c in "\x00\r\n"):
        raise OptionError(
            f"{_shown(name)} cannot name a workflow.",
            hint=f"Use 1 to {MAX_NAME_LENGTH} characters on one line, such as save=weekly_reach.",
        )
    if WORKFLOW_ID_PATTERN.fullmatch(text.lower()) or _UUID.fullmatch(text.lower()):
        raise OptionError(f"{text!r} looks like a workflow id, not a name.", hint="Choose a descriptive name.")
    return text


def _shown(ref: object) -> str:
    """A user's text for a message: quoted, and cut short when long."""
    text = repr(ref if isinstance(ref, str) else str(ref))
    return text if len(text) <= 60 else f"{text[:57]}...' ({len(str(ref))} characters)"
