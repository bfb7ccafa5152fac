"""The query corpus: AMC SQL files with a header, and an in-process sandbox to run them on.

A corpus file is one query. Its header is the block of ``--`` comment lines it starts with::

    -- analysis: reach and frequency of each DSP campaign
    -- source: datasources/dsp_impressions (Amazon Ads AMC guide page the query follows)
    -- window: 2026-03-01/2026-03-31      (optional: first and last day, UTC, both included)
    -- params: {"campaigns": ["a", "b"]}  (optional: CUSTOM_PARAMETER values, JSON)
    -- may-be-empty                       (optional: the thresholds may legitimately remove every row)

:class:`CorpusSandbox` runs a query the way an ad hoc execution runs on the embedded sandbox:
``AmcApi.create_execution`` (the sandbox's compile checks, parameters declared as ``inputParameters``
and given as ``parameterValues``, an EXPLICIT window, privacy thresholds on), then waits for the
execution's query thread and reads the execution back. No HTTP, no polling clock: the data is
generated once into the given directory and every run reuses the open database.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from amc_magic.sandbox.problems import ApiProblem
from amc_magic.sandbox.api import AmcApi, ApiRequest
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.sqlcheck import AmcDialect

CORPUS_DIR = Path(__file__).parent
DEFAULT_WINDOW = (date(2026, 3, 1), date(2026, 3, 31))
"""March 2026, both days included."""
CORPUS_DATA = DataSpec(today=date(2026, 4, 2), seed=7, scale=0.5)
"""Data from 2025-01-01 to 2026-03-31 (15 months) at half the default volume: about 2 s to generate,
and enough users that campaign-level rows of the big campaigns pass the 100-user thresholds."""
CORPUS_NOW = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)

_HEADER_KEYS = frozenset({"analysis", "source", "window", "params", "may-be-empty"})
_HEADER_LINE = re.compile(r"--\s*([a-z-]+)\s*(?::\s*(.*))?$")
_FILE_NAME = re.compile(r"\d{2}_[a-z0-9_]+\.sql")


@dataclass(frozen=True)
class CorpusQuery:
    """One corpus file, its header read."""

    path: Path
    sql: str
    analysis: str
    source: str
    first_day: date = DEFAULT_WINDOW[0]
    last_day: date = DEFAULT_WINDOW[1]
    params: dict[str, Any] = field(default_factory=dict)
    may_be_empty: bool = False

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def window_start(self) -> datetime:
        return datetime.combine(self.first_day, time())

    @property
    def window_end(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time())


def load(path: Path) -> CorpusQuery:
    """Read one corpus file; a malformed header raises ValueError."""
    sql = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        match = _HEADER_LINE.match(stripped)
        if not match or match[1] not in _HEADER_KEYS:
            raise ValueError(f"{path.name}: unknown header line {stripped!r}")
        header[match[1]] = (match[2] or "").strip()
    for required in ("analysis", "source"):
        if not header.get(required):
            raise ValueError(f"{path.name}: the header needs '-- {required}: ...'")
    first_day, last_day = DEFAULT_WINDOW
    if "window" in header:
        first_text, _, last_text = header["window"].partition("/")
        first_day, last_day = date.fromisoformat(first_text.strip()), date.fromisoformat(last_text.strip())
        if last_day < first_day:
            raise ValueError(f"{path.name}: the window ends before it starts")
    params = json.loads(header["params"]) if "params" in header else {}
    if not isinstance(params, dict):
        raise ValueError(f"{path.name}: params must be a JSON object")
    return CorpusQuery(
        path=path,
        sql=sql,
        analysis=header["analysis"],
        source=header["source"],
        first_day=first_day,
        last_day=last_day,
        params=params,
        may_be_empty="may-be-empty" in header,
    )


def corpus(kind: str = "valid") -> list[CorpusQuery]:
    """The corpus files of ``tests/corpus/<kind>/``, by name."""
    paths = sorted((CORPUS_DIR / kind).glob("*.sql"))
    bad = [p.name for p in paths if not _FILE_NAME.fullmatch(p.name)]
    if bad:
        raise ValueError(f"corpus files must be named NN_short_name.sql: {bad}")
    return [load(p) for p in paths]


def output_names(sql: str) -> list[str]:
    """The output column names the query's outermost SELECT gives (its first branch for a UNION)."""
    tree = sqlglot.parse_one(sql, read=AmcDialect)
    while isinstance(tree, exp.SetOperation):
        tree = tree.left
    while isinstance(tree, exp.Subquery):
        tree = tree.this
    assert isinstance(tree, exp.Select), f"not a SELECT: {type(tree).__name__}"
    return [projection.alias_or_name for projection in tree.expressions]


def input_parameters(params: dict[str, Any]) -> list[dict[str, Any]]:
    """``inputParameters`` declaring each value of ``params`` with the AMC type of its JSON value."""
    declared = []
    for name, value in params.items():
        if isinstance(value, list):
            element = _amc_type(value[0]) if value else "STRING"
            data_type: Any = {"type": "ARRAY", "elementDataType": element}
        else:
            data_type = _amc_type(value)
        declared.append({"name": name, "dataType": data_type, "columnType": "DIMENSION"})
    return declared


def _amc_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "LONG"
    if isinstance(value, float):
        return "DOUBLE"
    return "STRING"


@dataclass(frozen=True)
class RunResult:
    """What the sandbox answered: a 400 at creation (``rejected``), or the finished execution."""

    status: str
    status_reason: str | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    filtered_rows: int = 0

    def describe(self) -> str:
        return f"{self.status}: {self.status_reason}"


class CorpusSandbox:
    """The sandbox's API over :data:`CORPUS_DATA`, cached in ``cache_dir``, called in-process."""

    def __init__(self, cache_dir: Path, data: DataSpec = CORPUS_DATA, now: datetime = CORPUS_NOW) -> None:
        self.api = AmcApi(SandboxConfig(data=data, data_cache_dir=cache_dir, clock=lambda: now))

    def open(self) -> None:
        """Generate or open the data now rather than on the first run."""
        database = self.api.database
        opener = getattr(database, "open", None)
        if opener is not None:
            opener()

    def close(self) -> None:
        self.api.close()

    def run(self, query: CorpusQuery, *, disable_aggregation_controls: bool = False) -> RunResult:
        workflow: dict[str, Any] = {"sqlQuery": query.sql}
        if query.params:
            workflow["inputParameters"] = input_parameters(query.params)
        body: dict[str, Any] = {
            "workflow": workflow,
            "timeWindowType": "EXPLICIT",
            "timeWindowStart": query.window_start.strftime("%Y-%m-%dT%H:%M:%S"),
            "timeWindowEnd": query.window_end.strftime("%Y-%m-%dT%H:%M:%S"),
            "requireSyntheticData": True,
            "disableAggregationControls": disable_aggregation_controls,
        }
        if query.params:
            body["parameterValues"] = query.params
        try:
            created = self.api.create_execution(ApiRequest(path={}, query={}, body=json.dumps(body).encode()))
        except ApiProblem as error:
            return RunResult("REJECTED", error.details)
        asyncio.run(self.api.executions.wait_idle())
        execution_id = created["workflowExecutionId"]
        answer = self.api.get_execution(ApiRequest(path={"executionId": execution_id}, query={}))
        execution = self.api.executions.get(execution_id)
        assert execution is not None
        if answer["status"] != "SUCCEEDED" or execution.output is None:
            return RunResult(answer["status"], answer.get("statusReason"))
        columns = [(c["name"], c["dataType"]) for c in answer.get("outputColumns", [])]
        return RunResult(
            "SUCCEEDED",
            columns=columns,
            rows=execution.output.table.to_pylist(),
            filtered_rows=execution.output.filtered_rows,
        )
