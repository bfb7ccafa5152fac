"""The whole story: a kernel dies mid-run, the server's poller finishes the execution, a new kernel reads it.

A sandbox is served on loopback as a real AMC instance (its clock moves only when the test says so,
so the execution stays RUNNING until then). A real ipykernel runs ``%%amc`` on it and is killed
while the execution runs; the server side (the extension's :class:`OrphanPoller` over a session
with the server's environment) takes over, and ``%amc result`` in a fresh kernel returns the
result from the cache without touching AMC again.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from amc_magic.history import HistoryStore, utc_now
from amc_magic.sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID, ManualClock, SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.sandbox.serve import ServedSandbox
from amc_magic.server.poller import OrphanPoller
from amc_magic.server.service import ServerService
from amc_magic.session import Session
from server_support import SECRETS, StubDatabase

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

RUN_SECONDS = 3600
TODAY = utc_now().date()
START, END = TODAY - timedelta(days=20), TODAY - timedelta(days=10)
SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


@pytest.fixture
def kernel_specs(tmp_path: Path) -> KernelSpecManager:
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "language": "python", "display_name": "e2e"}
    (tmp_path / "kernels" / "e2e").mkdir(parents=True)
    (tmp_path / "kernels" / "e2e" / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])


@pytest.fixture
def served() -> Iterator[tuple[ServedSandbox, ManualClock]]:
    clock = ManualClock(start=utc_now())
    config = SandboxConfig(clock=clock, data=DataSpec(today=TODAY), run_seconds=RUN_SECONDS)
    with ServedSandbox(config, database=StubDatabase(rows=7)) as server:
        yield server, clock


def start_kernel(specs: KernelSpecManager, env: dict[str, str], cwd: Path) -> tuple[KernelManager, object]:
    manager = KernelManager(kernel_name="e2e", kernel_spec_manager=specs)
    manager.start_kernel(env=env, cwd=str(cwd))
    client = manager.blocking_client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def run_cell(client: object, code: str) -> str:
    """Run a cell that must succeed; its stdout."""
    out: list[str] = []

    def hook(message: dict) -> None:
        if message["msg_type"] == "stream":
            out.append(message["content"]["text"])

    reply = client.execute_interactive(code, timeout=60, output_hook=hook)  # type: ignore[attr-defined]
    assert reply["content"]["status"] == "ok", reply["content"].get("traceback")
    return "".join(out)


async def test_a_killed_kernels_execution_is_finished_by_the_server_and_read_by_a_new_kernel(
    tmp_path: Path, served, kernel_specs
) -> None:
    server, sandbox_clock = served
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    env = {
        **os.environ,
        **SECRETS,
        "AMC_API_URL": server.base_url,
        "AMC_TOKEN_URL": f"{server.base_url}/auth/o2/token",
        "AMC_MAGIC_DB_URL": url,
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    analyst = Session(database_url=url, environ=env)
    analyst.connect(INSTANCE_ID, advertiser_id=ADVERTISER_ID, marketplace_id=MARKETPLACE_ID)
    analyst.close()
    store = HistoryStore.from_url(url)

    manager, client = start_kernel(kernel_specs, env, tmp_path)
    try:
        run_cell(client, "%load_ext amc_magic")
        client.execute(f"%%amc reach instance={INSTANCE_ID} start={START} end={END}\n{SQL}")  # type: ignore[attr-defined]
        deadline = time.monotonic() + 60
        while not (listed := store.list_executions(live_only=True)) or listed[0].poll_count < 1:
            assert time.monotonic() < deadline, "the kernel never polled its execution"
            time.sleep(0.05)
        running = listed[0]
    finally:
        client.stop_channels()  # type: ignore[attr-defined]
        manager.shutdown_kernel(now=True)  # killed mid-run: no cancel, no further poll
    assert store.get_execution(running.id).status in ("PENDING", "RUNNING")
    assert server.sandbox.calls["update_execution"] == 0

    # The server: its own session on the server's environment; its clock is past the orphan threshold.
    later = lambda: utc_now() + timedelta(minutes=10)  # noqa: E731
    service = ServerService(lambda: HistoryStore.from_url(url), lambda s: Session(store=s, environ=env), clock=later)
    poller = OrphanPoller(service, orphan_after=120, clock=later)
    try:
        sandbox_clock.advance(RUN_SECONDS + 1)
        assert await poller.sweep() == [running.id]
        await poller.wait_idle()
    finally:
        await poller.stop()
        service.close()
    finished = store.get_execution(running.id)
    assert finished.status == "SUCCEEDED" and finished.row_count == 7
    downloads = server.sandbox.calls["download"]
    assert downloads == 1

    manager, client = start_kernel(kernel_specs, env, tmp_path)
    try:
        run_cell(client, "%load_ext amc_magic")
        shown = run_cell(client, f"%amc result {running.short_id} reach\nprint(type(reach).__name__, len(reach), list(reach.columns))")
    finally:
        client.stop_channels()  # type: ignore[attr-defined]
        manager.shutdown_kernel(now=True)
        store.close()
    assert shown.strip().splitlines()[-1] == "DataFrame 7 ['campaign', 'impressions']"
    assert server.sandbox.calls["download"] == downloads and server.sandbox.calls["create_execution"] == 1
