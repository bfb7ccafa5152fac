"""AMC's reporting API as plain calls: request data in, AMC's JSON out, AMC's 400s raised.

Each public method of :class:`AmcApi` serves one endpoint. It takes an :class:`ApiRequest` (path
parameters, query string, body, base URL) and returns the JSON body of a 200 answer, or raises an
:class:`~amc_magic.sandbox.problems.ApiProblem` carrying AMC's status and ``details``. Headers, faults and
HTTP framing are the app's business (``app.py``).

Answers follow AMC's samples: objects at the top level (not wrapped), ``{}`` for workflow writes
and cancels, ``nextToken`` only when there is a next page (``limit`` 1-100, default 100). Executions
list newest first unless ``sortAscending=true``, without CANCELLED ones unless
``includeCancelled=true``; ``min/maxCreationTime`` are inclusive ISO times. Where AMC's answer is undocumented the
sandbox picks the nearest documented one: a missing workflow or data source is a 400
"... does not exist." like a missing execution, and a duplicate workflow is a 400
"Workflow with ID ... already exists.". A workflow a schedule runs cannot be deleted (AMC's guide
says so; the sandbox answers 400). The schedule endpoints are in ``schedule_api``.

Column types: a SUCCEEDED execution lists ``outputColumns`` as ``[{"name", "dataType", "columnType"}]``
(AMC types such as STRING, LONG, DOUBLE, DECIMAL, DATE, TIMESTAMP; DIMENSION or METRIC), as AMC's own
execution sample does, and its ``metadataDownloadUrls`` file is a JSON object with the same
``outputColumns`` plus ``sqlQuery``, the window, ``parameterValues``, ``rowCount``,
``filteredRowCount`` (rows removed by aggregation thresholds) and ``fileCount``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import schema, sqlcheck
from . import dialect
from .faults import injected_failure
from .problems import CompileProblem, QueryFailure
from .config import SandboxConfig
from .database import SandboxDatabase
from .executions import (
    DEFAULT_TIMEOUT_SECONDS,
    Execution,
    ExecutionSpec,
    ExecutionStore,
    QueryOutput,
    Status,
    metadata_json,
)
from .results import LinkSigner, csv_part
from .schedules import ScheduleStore
from .time_window import ResolvedWindow, reject_outside_data, resolve_window
from .validation import (
    bad_request,
    optional_bool,
    optional_int,
    optional_list,
    optional_object,
    optional_str,
    parse_json_object,
    reject_unknown_fields,
)
from .workflows import Workflow, WorkflowStore, parse_workflow, resolve_parameters

CREATE_EXECUTION_FIELDS = frozenset(
    {
        "workflowId",
        "workflow",
        "timeWindowType",
        "timeWindowStart",
        "timeWindowEnd",
        "timeWindowTimeZone",
        "parameterValues",
        "ignoreDataGaps",
        "workflowExecutionTimeoutSeconds",
        "requireSyntheticData",
        "disableAggregationControls",
        "dryRun",
        "skipPublish",
        "maxCertifiedTime",
        "maxDimensionTime",
        "advertisers",
        "additionalAcrResultsReceivers",
    }
)
ALLOWED_WITHOUT_AGGREGATION_CONTROLS = frozenset({"no_aggregation", "very_high_output"})
"""Rule problems a sandbox execution with ``disableAggregationControls: true`` may have."""

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class ApiRequest:
    """What an endpoint needs from an HTTP request."""

    path: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes = b""
    base_url: str = ""


class Database(Protocol):
    """Runs AMC SQL over the sandbox's data (``amc_magic.sandbox.database.SandboxDatabase``)."""

    def run(
        self,
        sql: str,
        *,
        window_start: datetime,
        window_end: datetime,
        parameters: Mapping[str, Any],
        disable_aggregation_controls: bool,
    ) -> QueryOutput: ...


class AmcApi:
    """The reporting API of one sandbox instance."""

    def __init__(self, config: SandboxConfig, *, database: Database | None = None) -> None:
        self.config = config
        self.data = config.data_spec()
        self._injected_database = database
        self._built_database: SandboxDatabase | None = None
        self._database_lock = threading.Lock()
        self.workflows = WorkflowStore()
        self.executions = ExecutionStore(
            clock=config.clock,
            queue_seconds=config.queue_seconds,
            run_seconds=config.run_seconds,
            max_running=config.max_running,
        )
        self.links = LinkSigner(clock=config.clock, lifetime_seconds=config.link_expiry_seconds)
        self.schedules = ScheduleStore(clock=config.clock)

    # --- accounts, instances, data sources ---------------------------------------------------

    def list_accounts(self, request: ApiRequest) -> dict[str, Any]:
        account = {
            "accountId": self.config.advertiser_id,
            "accountName": "amc-magic sandbox",
            "marketplaceId": self.config.marketplace_id,
        }
        return {"amcAccounts": [account]}

    def list_instances(self, request: ApiRequest) -> dict[str, Any]:
        instance = {
            "instanceId": self.config.instance_id,
            "instanceName": "amc-magic sandbox",
            "instanceType": "SANDBOX",
            "creationStatus": "COMPLETED",
            "customerCanonicalName": "amc-magic sandbox",
            "s3BucketName": None,
            "awsAccountId": None,
            "apiEndpoint": request.base_url,
            "entities": ["NA"],
            "advertiserTypes": [],
            "optionalDatasets": [],
            "acrCollaboration": None,
        }
        return {"instances": [instance]}

    def list_data_sources(self, request: ApiRequest) -> dict[str, Any]:
        return _page("dataSources", schema.data_sources(), request.query)

    def get_data_source(self, request: ApiRequest) -> dict[str, Any]:
        wanted = request.path["dataSourceId"]
        for source in schema.data_sources():
            if source["dataSourceId"] == wanted:
                return source
        raise bad_request(f"Data source with ID {wanted} does not exist.")

    # --- workflows ---------------------------------------------------------------------------

    def create_workflow(self, request: ApiRequest) -> dict[str, Any]:
        workflow = parse_workflow(
            parse_json_object(request.body), workflow_id=None, max_sql_bytes=self.config.max_sql_bytes
        )
        self._check_sql(workflow, disable_aggregation_controls=False)
        self.workflows.create(workflow)
        return {}

    def list_workflows(self, request: ApiRequest) -> dict[str, Any]:
        return _page("workflows", [w.to_json() for w in self.workflows.all()], request.query)

    def get_workflow(self, request: ApiRequest) -> dict[str, Any]:
        return self.workflows.get(request.path["workflowId"]).to_json()

    def update_workflow(self, request: ApiRequest) -> dict[str, Any]:
        workflow_id = request.path["workflowId"]
        data = parse_json_object(request.body)
        if data.get("workflowId", workflow_id) != workflow_id:
            raise bad_request("The workflowId in the body does not match the workflowId in the path.")
        workflow = parse_workflow(data, workflow_id=workflow_id, max_sql_bytes=self.config.max_sql_bytes)
        self._check_sql(workflow, disable_aggregation_controls=False)
        self.workflows.replace(workflow)
        return {}

    def delete_workflow(self, request: ApiRequest) -> dict[str, Any]:
        workflow_id = request.path["workflowId"]
        if used_by := self.schedules.using(workflow_id):
            raise bad_request(f"Workflow with ID {workflow_id} cannot be deleted: schedule {used_by[0]} runs it.")
        self.workflows.delete(workflow_id)
        return {}

    # --- executions --------------------------------------------------------------------------

    def create_execution(self, request: ApiRequest) -> dict[str, Any]:
        """Check the request, compile the SQL, record the execution and return it (PENDING)."""
        body = parse_json_object(request.body)
        reject_unknown_fields(body, CREATE_EXECUTION_FIELDS)
        workflow = self._execution_workflow(body)
        window = resolve_window(body, self.data)
        reject_outside_data(window, self.data)
        parameters = resolve_parameters(workflow, body.get("parameterValues"))
        no_controls = optional_bool(body, "disableAggregationControls")
        synthetic = optional_bool(body, "requireSyntheticData")
        echoed: dict[str, Any] = {
            "ignoreDataGaps": optional_bool(body, "ignoreDataGaps"),
            "disableAggregationControls": no_controls,
            "requireSyntheticData": synthetic,
        }
        if "advertisers" in body:
            echoed["advertisers"] = optional_list(body, "advertisers")
        for key in ("maxCertifiedTime", "maxDimensionTime"):
            optional_str(body, key)
        optional_list(body, "additionalAcrResultsReceivers")
        spec = ExecutionSpec(
            workflow=workflow,
            window=window,
            parameter_values=body.get("parameterValues") or {},
            timeout_seconds=optional_int(
                body, "workflowExecutionTimeoutSeconds", default=DEFAULT_TIMEOUT_SECONDS, low=1, high=86400
            ),
            echoed=echoed,
            dry_run=optional_bool(body, "dryRun"),
            skip_publish=optional_bool(body, "skipPublish"),
        )
        self._check_sql(workflow, disable_aggregation_controls=no_controls)
        self._compile(workflow, window, parameters)
        work = functools.partial(self._run_query, spec, parameters, no_controls, synthetic)
        return self.executions.create(spec, work).to_json()

    def submit_scheduled(self, spec: ExecutionSpec, *, created_at: datetime) -> None:
        """Record the execution a schedule's period came due for, created when the period ended.

        Nothing is checked up front: a workflow that no longer compiles or lacks a parameter value
        gives a FAILED execution with the reason, as a schedule's run has no caller to answer.
        """
        no_controls = bool(spec.echoed.get("disableAggregationControls"))
        synthetic = bool(spec.echoed.get("requireSyntheticData"))

        def work() -> QueryOutput:
            parameters = resolve_parameters(spec.workflow, spec.parameter_values)
            return self._run_query(spec, parameters, no_controls, synthetic)

        self.executions.create(spec, work, created_at=created_at)

    def get_execution(self, request: ApiRequest) -> dict[str, Any]:
        execution = self._execution(request.path["executionId"])
        return execution.to_json(include_workflow=_flag(request.query, "includeWorkflow"))

    def list_executions(self, request: ApiRequest) -> dict[str, Any]:
        query = request.query
        zone = _query_zone(query.get("timeZone"))
        low = _query_time(query, "minCreationTime", zone)
        high = _query_time(query, "maxCreationTime", zone)
        workflow_id = query.get("workflowId")
        include_cancelled = _flag(query, "includeCancelled")
        chosen = [
            e
            for e in self.executions.all()
            if (low is None or e.created_at >= low)
            and (high is None or e.created_at <= high)
            and (workflow_id is None or e.spec.workflow.workflow_id == workflow_id)
            and (include_cancelled or e.status is not Status.CANCELLED)
        ]
        if not _flag(query, "sortAscending"):
            chosen.reverse()
        include_workflow = _flag(query, "includeWorkflow")
        return _page("executions", [e.to_json(include_workflow=include_workflow) for e in chosen], query)

    def update_execution(self, request: ApiRequest) -> dict[str, Any]:
        """``PUT {"status": "CANCELLED"}``: cancel a PENDING or RUNNING execution."""
        execution_id = request.path["executionId"]
        data = parse_json_object(request.body)
        reject_unknown_fields(data, {"status"})
        status = optional_str(data, "status")
        if status is None:
            self._execution(execution_id)
            return {}
        if status != Status.CANCELLED:
            raise bad_request(f"Invalid status {status}: an execution can only be updated to CANCELLED.")
        if self.executions.cancel(execution_id) is None:
            raise _missing_execution(execution_id)
        return {}

    def download_urls(self, request: ApiRequest) -> dict[str, Any]:
        """Pre-signed links to a SUCCEEDED execution's CSV files and metadata file."""
        execution_id = request.path["executionId"]
        execution = self._execution(execution_id)
        if execution.status is not Status.SUCCEEDED:
            raise bad_request(f"Execution with ID {execution_id} is unavailable for download.")
        files = execution.result_file_count(self.config.rows_per_file)
        token = execution.result_token
        return {
            "downloadUrls": [self._link(request.base_url, f"/results/{token}/{n}.csv") for n in range(1, files + 1)],
            "metadataDownloadUrls": [self._link(request.base_url, f"/results/{token}/metadata.json")],
        }

    def result_file(self, token: str, name: str) -> tuple[bytes, str] | None:
        """The content and media type of one result file, or None if there is no such file."""
        execution = self.executions.by_result_token(token)
        if execution is None or execution.status is not Status.SUCCEEDED:
            return None
        rows_per_file = self.config.rows_per_file
        if name == "metadata.json":
            return json.dumps(metadata_json(execution, rows_per_file)).encode(), "application/json"
        number = name.removesuffix(".csv")
        if (
            not name.endswith(".csv")
            or not number.isdigit()
            or not 1 <= int(number) <= execution.result_file_count(rows_per_file)
        ):
            return None
        assert execution.output is not None
        delimiter = _delimiter(execution.spec.workflow)
        return csv_part(execution.output.table, int(number) - 1, rows_per_file, delimiter), "text/csv"

    def close(self) -> None:
        """Stop the query threads and close the database if this API built it."""
        self.executions.close()
        with self._database_lock:
            if self._built_database is not None:
                self._built_database.close()

    # --- internals ---------------------------------------------------------------------------

    @property
    def database(self) -> Database:
        """The query database, built on first use when none was given."""
        if self._injected_database is not None:
            return self._injected_database
        with self._database_lock:
            if self._built_database is None:
                self._built_database = SandboxDatabase(self.data, self.config.data_cache_dir, clock=self.config.clock)
            return self._built_database

    def _execution_workflow(self, data: Mapping[str, Any]) -> Workflow:
        workflow_id = optional_str(data, "workflowId")
        inline = optional_object(data, "workflow")
        if workflow_id and inline is not None:
            raise bad_request("Give either workflowId or workflow, not both.")
        if inline is not None:
            return parse_workflow(
                inline, workflow_id=f"transient_{uuid.uuid4()}", max_sql_bytes=self.config.max_sql_bytes
            )
        if not workflow_id:
            raise bad_request("Either workflowId or workflow.sqlQuery is required.")
        return self.workflows.get(workflow_id)

    def _execution(self, execution_id: str) -> Execution:
        execution = self.executions.get(execution_id)
        if execution is None:
            raise _missing_execution(execution_id)
        return execution

    def _check_sql(self, workflow: Workflow, *, disable_aggregation_controls: bool) -> None:
        """AMC's compile step: the rule checks, with aggregation rules relaxed when controls are off."""
        problems = sqlcheck.errors(sqlcheck.check(workflow.sql_query))
        if disable_aggregation_controls:
            problems = [p for p in problems if p.code not in ALLOWED_WITHOUT_AGGREGATION_CONTROLS]
        if problems:
            text = sqlcheck.details(problems).replace(
                "Was unable to compile workflow.", f"Was unable to compile workflow {workflow.workflow_id}.", 1
            )
            raise CompileProblem(text)

    def _compile(self, workflow: Workflow, window: ResolvedWindow, parameters: Mapping[str, Any]) -> None:
        """Translate the query as the run will (parameters, tables, functions, columns); errors are 400s."""
        context = dialect.QueryContext(
            _naive_utc(window.start), _naive_utc(window.end), parameters, _naive_utc(self.config.clock())
        )
        try:
            dialect.prepare(workflow.sql_query, context)
        except CompileProblem as exc:
            raise CompileProblem(f"Was unable to compile workflow {workflow.workflow_id}.\n{exc.details}") from None

    def _run_query(
        self, spec: ExecutionSpec, parameters: Mapping[str, Any], no_controls: bool, synthetic: bool
    ) -> QueryOutput:
        """The execution's work, run in a query thread."""
        if self.config.require_synthetic_data_flag and not synthetic:
            raise QueryFailure(
                f"Instance {self.config.instance_id} is a sandbox instance: "
                "executions must set requireSyntheticData to true."
            )
        injected = injected_failure(self.config, _naive_utc(spec.window.start))
        if injected is not None:
            raise QueryFailure(injected)
        return self.database.run(
            spec.workflow.sql_query,
            window_start=_naive_utc(spec.window.start),
            window_end=_naive_utc(spec.window.end),
            parameters=parameters,
            disable_aggregation_controls=no_controls,
        )

    def _link(self, base_url: str, path: str) -> str:
        return f"{base_url}{path}?{self.links.sign(path)}"


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _missing_execution(execution_id: str) -> Exception:
    return bad_request(f"Workflow execution with ID {execution_id} does not exist.")


def _flag(query: Mapping[str, str], key: str) -> bool:
    value = query.get(key)
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"Query parameter {key} must be true or false.")


def _query_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"Invalid timeZone {name}.") from None


def _query_time(query: Mapping[str, str], key: str, zone: ZoneInfo) -> datetime | None:
    """A ``minCreationTime``-style bound: ISO 8601, naive times read in ``zone``."""
    text = query.get(key)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Invalid {key} {text}; expected yyyy-MM-ddTHH:mm:ssZ.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _page(key: str, items: list[Any], query: Mapping[str, str]) -> dict[str, Any]:
    """One page of ``items`` under ``key``, with ``nextToken`` when more follow."""
    limit = optional_int(query, "limit", default=MAX_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    offset = _decode_token(query.get("nextToken"), len(items))
    page: dict[str, Any] = {key: items[offset : offset + limit]}
    if offset + limit < len(items):
        page["nextToken"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
    return page


def _decode_token(token: str | None, total: int) -> int:
    if not token:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request("Invalid nextToken.") from None
    if not 0 <= offset <= total:
        raise bad_request("Invalid nextToken.")
    return offset


def _delimiter(workflow: Workflow) -> str:
    output_format = workflow.extra.get("outputFormat")
    separator = output_format.get("separatorCharacter") if isinstance(output_format, dict) else None
    return separator if isinstance(separator, str) and len(separator) == 1 else ","
