"""Saving workflows, listing them, and showing one with the SQL diff between its versions."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from amc_magic.history.records import WorkflowRecord
from amc_magic.history.store import HistoryStore
from amc_magic.history.workflows import SavedVersion, WorkflowStore, WorkflowSync, WorkflowVersion
from amc_magic.workflows.parameters import declare_parameters, describe

NOT_SAVED_OPTIONS = frozenset({"save", "description", "sync", "version", "wait"})
"""Options of a ``%%amc save=NAME`` cell that are about saving or about this one cell, not about the query
(``validate=only`` is not kept either: it checks and saves without running, once)."""
LIST_COLUMNS = ("name", "workflow_id", "versions", "last_run", "last_status", "description", "id")


def workflow_store(store: HistoryStore | WorkflowStore) -> WorkflowStore:
    """The :class:`WorkflowStore` of a history store (or the store itself)."""
    return store.workflows if isinstance(store, HistoryStore) else store


def save(
    store: HistoryStore | WorkflowStore,
    name: str,
    sql_template: str,
    parameter_values: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> SavedVersion:
    """Save ``sql_template`` as the next version of workflow ``name`` if anything changed.

    The parameters are the template's placeholders (less ``window_start``/``window_end``), typed
    by their values, which are kept as defaults for runs that do not give one (schedules, the
    CLI). A new version is made only when the template, the parameters' names or types, or the
    options differ from the newest version; a changed value alone does not make one.

    Args:
        store: the history store.
        name: the workflow's name (created on first save).
        sql_template: the cell's SQL, placeholders unrendered.
        parameter_values: the values by placeholder expression, or the notebook namespace.
        options: the options the workflow runs with (``instance``, ``start``, ``window`` ...);
            :data:`NOT_SAVED_OPTIONS` and ``validate=only`` are left out.
        description: replaces the workflow's description when given.

    Returns:
        ``SavedVersion(workflow, version, created)``: ``created`` is False when the newest
        version already matched.

    Raises:
        OptionError: ``name`` cannot name a workflow (empty, too long, or shaped like an id).
    """
    kept = {
        key: value
        for key, value in (options or {}).items()
        if key not in NOT_SAVED_OPTIONS and not (key == "validate" and str(value) == "only")
    }
    return workflow_store(store).save_version(
        name,
        sql_template=sql_template,
        parameters=declare_parameters(sql_template, parameter_values),
        options=kept,
        description=description,
    )


def list_workflows(store: HistoryStore | WorkflowStore) -> list[dict[str, Any]]:
    """One row per workflow, by name: ``name``, ``workflow_id`` (the ``wf_`` id), ``versions``,
    ``last_run`` (when its newest execution was submitted), ``last_status``, ``description``, ``id``."""
    return [
        {
            "name": s.workflow.name,
            "workflow_id": s.workflow.workflow_id,
            "versions": s.versions,
            "last_run": s.last_run,
            "last_status": s.last_status,
            "description": s.workflow.description,
            "id": s.workflow.id,
        }
        for s in workflow_store(store).list_summaries()
    ]


def workflows_frame(store: HistoryStore | WorkflowStore) -> pd.DataFrame:
    """:func:`list_workflows` as a DataFrame (columns :data:`LIST_COLUMNS`, even when empty)."""
    return pd.DataFrame(list_workflows(store), columns=list(LIST_COLUMNS))


@dataclass(frozen=True)
class WorkflowDetail:
    """A workflow, every version, the unified diff of each version from the one before, and sync state.

    ``diffs[i]`` turns version ``i + 1`` into version ``i + 2`` (empty when only parameters or
    options changed).
    """

    workflow: WorkflowRecord
    versions: list[WorkflowVersion]
    diffs: list[str]
    syncs: list[WorkflowSync]

    def text(self) -> str:
        """The detail for people: the workflow, then each version with its parameters and diff."""
        w = self.workflow
        lines = [f"{w.name}  {w.workflow_id}  (id {w.id})"]
        if w.description:
            lines.append(w.description)
        lines += [
            f"synced to {s.instance_id}: version {s.version} at {s.synced_at:%Y-%m-%d %H:%M} UTC" for s in self.syncs
        ]
        for index, version in enumerate(self.versions):
            lines += ["", f"version {version.version}  {version.created_at:%Y-%m-%d %H:%M} UTC"]
            lines.append(f"  parameters: {describe(version.parameters)}")
            if version.options:
                lines.append("  options: " + " ".join(f"{k}={v}" for k, v in sorted(version.options.items())))
            if index == 0:
                lines += ["  " + line for line in version.sql_template.splitlines()]
            elif self.diffs[index - 1]:
                lines += ["  " + line for line in self.diffs[index - 1].splitlines()]
            else:
                lines.append("  (SQL unchanged)")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())


def show(store: HistoryStore | WorkflowStore, ref: str) -> WorkflowDetail:
    """Everything about the workflow ``ref`` (name, either id, or a unique prefix of an id).

    Raises:
        NotFoundError: nothing matches ``ref``, it is malformed, or it is ambiguous.
    """
    workflows = workflow_store(store)
    workflow = workflows.find(ref)
    versions = workflows.list_versions(workflow.id)
    diffs = [sql_diff(workflow.name, old, new) for old, new in zip(versions, versions[1:], strict=False)]
    return WorkflowDetail(workflow, versions, diffs, workflows.list_syncs(workflow.id))


def sql_diff(name: str, old: WorkflowVersion, new: WorkflowVersion) -> str:
    """The unified diff from ``old``'s SQL template to ``new``'s (``""`` when they are equal)."""
    lines = difflib.unified_diff(
        old.sql_template.splitlines(),
        new.sql_template.splitlines(),
        fromfile=f"{name} v{old.version}",
        tofile=f"{name} v{new.version}",
        lineterm="",
    )
    return "\n".join(lines)
