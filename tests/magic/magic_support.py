"""Helpers for the magic tests: the sandbox dataset, an IPython shell harness and a kernel harness."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from jupyter_client import BlockingKernelClient, KernelManager

from amc_magic.magics import AMCMagic
from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec, ensure_database

SPEC = DataSpec(today=date(2025, 4, 3), seed=11, scale=0.2)
"""Three months of data (2025-01-01 to 2025-04-01) at a fifth of the default volume."""
MARCH = "start=2025-03-01 end=2025-03-31"
REACH_SQL = """SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN ({{campaigns}})
GROUP BY campaign"""
TOTALS_SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
CAMPAIGNS = ["Northwind - Spring Collection", "Mother's Day", "Lumen - Remarketing"]


def sandbox_config(cache_dir: Path, **settings: Any) -> SandboxConfig:
    """The test dataset's sandbox, with ``settings`` (e.g. ``run_seconds``) on top."""
    return SandboxConfig(data=SPEC, data_cache_dir=cache_dir, **settings)


def direct_reach(cache_dir: Path, campaigns: list[str], start: str, end_exclusive: str) -> pd.DataFrame:
    """:data:`REACH_SQL` computed with DuckDB straight over the sandbox's data file."""
    con = duckdb.connect(str(ensure_database(SPEC, cache_dir)), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(
            """SELECT campaign, COUNT(DISTINCT user_id) AS reach, CAST(SUM(impressions) AS BIGINT) AS impressions
            FROM dsp_impressions
            WHERE list_contains(?, campaign) AND impression_dt_utc >= CAST(? AS TIMESTAMP)
              AND impression_dt_utc < CAST(? AS TIMESTAMP)
            GROUP BY campaign ORDER BY campaign""",
            [campaigns, start, end_exclusive],
        ).df()
    finally:
        con.close()


def wait_until(predicate: Callable[[], bool], *, timeout: float = 15.0, what: str = "the condition") -> None:
    """Wait (polling) until ``predicate()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class ShellHarness:
    """An IPython shell with ``amc_magic`` loaded, its magic, and the sandbox behind it."""

    shell: InteractiveShell
    magics: AMCMagic
    sandbox: Sandbox

    @property
    def ns(self) -> dict[str, Any]:
        return self.shell.user_ns

    def cell(self, line: str, sql: str) -> ExecutionResult:
        """Run ``%%amc LINE`` over ``sql`` as a notebook cell."""
        return self.shell.run_cell(f"%%amc {line}\n{sql}", store_history=True)

    def line(self, line: str) -> ExecutionResult:
        """Run ``%amc LINE`` as a notebook cell."""
        return self.shell.run_cell(f"%amc {line}", store_history=True)

    def config(self, assignment: str) -> None:
        """Run ``%config AMCMagic.<assignment>``."""
        self.shell.run_line_magic("config", f"AMCMagic.{assignment}")

    @property
    def creates(self) -> int:
        """How many executions the sandbox was asked to create."""
        return self.sandbox.calls["create_execution"]

    def sandbox_statuses(self) -> list[str]:
        """The status of every execution the sandbox knows, oldest first."""
        return [execution.status.value for execution in self.sandbox.api.executions.all()]

    def history(self) -> pd.DataFrame:
        return self.magics.session.history()


def kernel_setup_code(cache_dir: Path, **settings: Any) -> str:
    """A first cell: load the magic and give it a session on the test dataset's sandbox."""
    options = "".join(f", {key}={value!r}" for key, value in settings.items())
    return f"""
%load_ext amc_magic
from datetime import date
from pathlib import Path
from amc_magic.sandbox.app import create_app
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.session import Session
amc_sandbox = create_app(SandboxConfig(
    data=DataSpec(today=date({SPEC.today.year}, {SPEC.today.month}, {SPEC.today.day}), seed={SPEC.seed}, scale={SPEC.scale}),
    data_cache_dir=Path({str(cache_dir)!r}){options},
))
get_ipython().magics_manager.registry["AMCMagic"].session = Session(sandbox_app=amc_sandbox)
"""


@dataclass
class CellRun:
    """One executed cell: its ``execute_reply`` content and the iopub messages it caused."""

    reply: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.reply["status"])

    @property
    def stdout(self) -> str:
        return "".join(m["content"]["text"] for m in self.messages if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m["content"] for m in self.messages if m["msg_type"] == "error"]

    @property
    def displayed_types(self) -> set[str]:
        """MIME types of everything the cell displayed."""
        return {mime for m in self.messages if m["msg_type"] == "display_data" for mime in m["content"]["data"]}


class KernelHarness:
    """Sends cells to a started kernel and sorts its iopub and shell messages by cell."""

    def __init__(self, manager: KernelManager, client: BlockingKernelClient) -> None:
        self.manager = manager
        self.client = client
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._idle: set[str] = set()
        self._replies: dict[str, dict[str, Any]] = {}
        self.reply_order: list[str] = []

    def send(self, code: str) -> str:
        """Queue a cell without waiting; its message id."""
        msg_id = self.client.execute(code)
        self._messages[msg_id] = []
        return msg_id

    def wait(self, msg_id: str, *, timeout: float = 30.0) -> CellRun:
        """Wait until the cell's reply and its last iopub message arrived."""
        self._pump(lambda: msg_id in self._idle, timeout, f"cell {msg_id} to go idle")
        deadline = time.monotonic() + timeout
        while msg_id not in self._replies:
            reply = self.client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            parent = reply["parent_header"].get("msg_id")
            self._replies[parent] = reply["content"]
            self.reply_order.append(parent)
        return CellRun(self._replies[msg_id], self._messages[msg_id])

    def run(self, code: str, *, timeout: float = 30.0) -> CellRun:
        """Run one cell and wait for it."""
        return self.wait(self.send(code), timeout=timeout)

    def run_ok(self, code: str, *, timeout: float = 30.0) -> CellRun:
        """Run one cell that must succeed."""
        run = self.run(code, timeout=timeout)
        assert run.status == "ok", "\n".join(line for error in run.errors for line in error["traceback"])
        return run

    def send_comm(self, comm_id: str, data: dict[str, Any]) -> None:
        """Send a ``comm_msg`` to a widget, as a browser does (e.g. a button click)."""
        self.client.shell_channel.send(self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data}))

    def watch(self, msg_id: str, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 30.0) -> None:
        """Wait until the cell caused an iopub message that satisfies ``predicate``."""
        self._pump(lambda: any(predicate(m) for m in self._messages[msg_id]), timeout, f"a message from cell {msg_id}")

    def _pump(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            try:
                message = self.client.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            parent = message["parent_header"].get("msg_id")
            if parent in self._messages:
                self._messages[parent].append(message)
                if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                    self._idle.add(parent)
