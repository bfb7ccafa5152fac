"""Saved workflows: versioned SQL templates with typed parameters, run locally or mirrored to AMC.

::

    saved = save(store, "weekly_reach", sql, user_ns, options={"window": "last_7_days"})
    plan = resolve_run(store, "weekly_reach", namespace=user_ns, overrides={"campaigns": "A,B"})
    sql = plan.render(window.builtins())            # or, once synced, run by workflowId:
    result = await sync(client, instance, store, "weekly_reach")
    request = ExecutionRequest(instance, workflow_id=plan.amc_workflow_id,
                               parameter_values=plan.amc_parameter_values(), ...)

Modules: :mod:`.parameters` (types and AMC encodings), :mod:`.amc` (``CUSTOM_PARAMETER`` SQL and the
workflow body), :mod:`.library` (save, list, show), :mod:`.running` (what a run uses),
:mod:`.sync` (AMC's saved workflows and the executions AMC ran).
"""

from amc_magic.history.workflows import SavedVersion, WorkflowSummary, WorkflowSync, WorkflowVersion
from amc_magic.workflows.amc import input_parameters, to_amc_sql, to_amc_workflow
from amc_magic.workflows.library import WorkflowDetail, list_workflows, save, show, workflows_frame
from amc_magic.workflows.parameters import parameter_values_for_amc
from amc_magic.workflows.running import RunPlan, resolve_run
from amc_magic.workflows.sync import SyncResult, pull_runs, sync

__all__ = [
    "RunPlan",
    "SavedVersion",
    "SyncResult",
    "WorkflowDetail",
    "WorkflowSummary",
    "WorkflowSync",
    "WorkflowVersion",
    "input_parameters",
    "list_workflows",
    "parameter_values_for_amc",
    "pull_runs",
    "resolve_run",
    "save",
    "show",
    "sync",
    "to_amc_sql",
    "to_amc_workflow",
    "workflows_frame",
]
