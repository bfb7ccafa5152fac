"""What running a saved workflow means: its SQL, its values, its options, and what to link the run to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amc_magic.errors import OptionError, ParameterError
from amc_magic.history.records import WorkflowRecord
from amc_magic.history.store import HistoryStore
from amc_magic.history.workflows import WorkflowStore, WorkflowVersion
from amc_magic.params import render
from amc_magic.workflows.amc import to_amc_workflow
from amc_magic.workflows.library import workflow_store
from amc_magic.workflows.parameters import (
    MISSING,
    convert,
    lookup,
    parameter_values_for_amc,
    render_namespace,
)


@dataclass(frozen=True)
class RunPlan:
    """A workflow version ready to run, locally rendered or on AMC by ``workflowId``.

    Attributes:
        workflow: the workflow (``workflow.id`` is the UUID executions link to).
        version: the version to run.
        values: each parameter's value by placeholder expression, converted to its declared type.
        options: the version's saved options (the caller lays the line's options over them).
    """

    workflow: WorkflowRecord
    version: WorkflowVersion
    values: dict[str, Any]
    options: dict[str, Any]

    @property
    def sql_template(self) -> str:
        """The version's SQL template (what the execution records as its template)."""
        return self.version.sql_template

    @property
    def workflow_uuid(self) -> str:
        """The workflow's UUID: ``claim_execution(workflow_id=...)``."""
        return self.workflow.id

    @property
    def workflow_version(self) -> int:
        """The version number: ``claim_execution(workflow_version=...)``."""
        return self.version.version

    @property
    def amc_workflow_id(self) -> str:
        """The ``wf_`` id: AMC's ``workflowId`` once the workflow is synced."""
        return self.workflow.workflow_id

    @property
    def namespace(self) -> dict[str, Any]:
        """A namespace for :func:`amc_magic.params.render` holding exactly :attr:`values`."""
        return render_namespace(self.values)

    def render(self, builtins: Mapping[str, Any] | None = None) -> str:
        """The SQL with the values rendered as literals; ``builtins`` gives ``window_start``/``window_end``."""
        return render(self.sql_template, self.namespace, builtins=builtins)

    def options_beside(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The saved options a run keeps beside the options ``given`` for it (which go over them).

        A window is replaced whole: ``start=``/``end=`` given drop a saved ``window=``, and
        ``window=`` given drops a saved ``start=`` and ``end=``.
        """
        dropped = set()
        if given.get("start") is not None or given.get("end") is not None:
            dropped.add("window")
        if given.get("window") is not None:
            dropped.update(("start", "end"))
        return {key: value for key, value in self.options.items() if key not in dropped}

    def amc_parameter_values(self) -> dict[str, Any]:
        """AMC's ``parameterValues`` for a run by ``workflowId`` (``ExecutionRequest(parameter_values=...)``)."""
        return parameter_values_for_amc(self.values)

    def amc_workflow(self) -> dict[str, Any]:
        """AMC's saved-workflow body for this version (see :func:`~amc_magic.workflows.amc.to_amc_workflow`)."""
        return to_amc_workflow(self.workflow, self.version)


def resolve_run(
    store: HistoryStore | WorkflowStore,
    ref: str,
    *,
    version: int | None = None,
    namespace: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RunPlan:
    """Find the workflow ``ref`` and work out its parameter values.

    Each parameter's value is, in order of precedence: ``overrides[name]`` (text from
    ``key=value`` is parsed), the notebook's value (``namespace``, attribute chains followed), the
    value saved with the version. Every value is converted to the declared type.

    Args:
        store: the history store.
        ref: the name, UUID, ``wf_`` id, or a unique prefix of either id.
        version: the version number (None: the newest).
        namespace: the notebook's variables.
        overrides: ``key=value`` pairs from the line, by placeholder expression.

    Raises:
        NotFoundError: no workflow matches ``ref``, or it has no version ``version``.
        OptionError: an override names no parameter of the version, or ``version`` is not a number.
        ParameterError: a parameter has no value anywhere, or a value is not of the declared type.
    """
    workflows = workflow_store(store)
    workflow = workflows.find(ref)
    chosen = workflows.get_version(workflow.id, _version_number(version))
    overrides = dict(overrides or {})
    declared = {p["name"]: p for p in chosen.parameters}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        names = ", ".join(declared) or "none"
        raise OptionError(
            f"Workflow {workflow.name!r} version {chosen.version} has no parameter {', '.join(map(repr, unknown))}.",
            hint=f"Its parameters: {names}.",
        )
    values = {}
    for name, parameter in declared.items():
        value = overrides[name] if name in overrides else lookup(name, namespace or {})
        if value is MISSING:
            value = parameter.get("default", MISSING)
        if value is MISSING:
            raise ParameterError(
                name,
                f"{{{{{name}}}}} of workflow {workflow.name!r} has no value",
                hint=f"Define {name.split('.')[0]} in the notebook or pass {name}=... on the line.",
            )
        values[name] = convert(value, parameter.get("type"), name)
    return RunPlan(workflow, chosen, values, dict(chosen.options))


def _version_number(version: Any) -> int | None:
    if version is None:
        return None
    try:
        number = int(str(version).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise OptionError(f"version={version!r} is not a version number.", hint="Versions are numbered 1, 2, 3 ...")
    return number
