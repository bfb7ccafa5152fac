"""``%%amc`` in real ipykernel kernels (jupyter_client, nbclient): queued cells, interrupts,
background handles, headless failures and the widget panel."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from magic_support import TOTALS_SQL, KernelHarness, kernel_setup_code

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def shows_status(status: str):
    """A predicate on iopub messages: a panel update showing ``status``."""

    def predicate(message: dict) -> bool:
        return message["msg_type"] == "comm_msg" and f">{status}</span>" in json.dumps(message["content"])

    return predicate


def test_cells_queued_behind_a_blocking_cell_all_run_in_order(kernel: KernelHarness, data_cache: Path):
    kernel.run_ok(kernel_setup_code(data_cache, run_seconds=3))
    kernel.run_ok("import time\norder = []")

    blocking = kernel.send(f"%%amc totals\n{TOTALS_SQL}")
    queued = [kernel.send(f"order.append({n})") for n in (1, 2, 3)]
    runs = [kernel.wait(msg_id) for msg_id in (blocking, *queued)]

    assert [run.status for run in runs] == ["ok"] * 4
    assert kernel.reply_order[-4:] == [blocking, *queued]
    assert [run.reply["execution_count"] for run in runs] == sorted(run.reply["execution_count"] for run in runs)
    check = kernel.run_ok("print(order, type(totals).__name__, len(totals))")
    assert check.stdout.strip() == "[1, 2, 3] DataFrame 6"
    # the blocking cell showed the panel and updated it live while it ran
    assert WIDGET_VIEW in runs[0].displayed_types
    assert any(shows_status("RUNNING")(m) for m in runs[0].messages)


def test_an_interrupt_stops_the_cell_and_cancels_the_execution(kernel: KernelHarness, data_cache: Path):
    kernel.run_ok(kernel_setup_code(data_cache, run_seconds=30))

    blocking = kernel.send(f"%%amc totals\n{TOTALS_SQL}")
    kernel.watch(blocking, shows_status("RUNNING"))
    kernel.manager.interrupt_kernel()
    run = kernel.wait(blocking, timeout=20)

    assert run.status == "error"
    assert run.reply["ename"] == "KeyboardInterrupt"
    assert "totals" not in kernel.run_ok("print(dir())").stdout
    history = kernel.run_ok("print(get_ipython().run_line_magic('amc', 'history')['status'].tolist())")
    assert history.stdout.strip() == "['CANCELLED']"
    sandbox = kernel.run_ok("print([e.status.value for e in amc_sandbox.state.sandbox.api.executions.all()])")
    assert sandbox.stdout.strip() == "['CANCELLED']"
    assert kernel.run_ok("print(6 * 7)").stdout.strip() == "42"


def test_a_background_handle_completes_while_another_cell_runs(kernel: KernelHarness, data_cache: Path):
    kernel.run_ok(kernel_setup_code(data_cache, run_seconds=2))

    started = kernel.run_ok(f"%%amc job wait=false\n{TOTALS_SQL}", timeout=10)
    assert WIDGET_VIEW in started.displayed_types
    busy = kernel.run_ok(
        "import time\n"
        "print(job.done())\n"
        "deadline = time.monotonic() + 20\n"
        "while not job.done() and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)\n"
        "print(job.status)"
    )
    assert busy.stdout.split() == ["False", "SUCCEEDED"]
    awaited = kernel.run_ok("frame = await job\nprint(type(frame).__name__, len(frame), job.execution_id is not None)")
    assert awaited.stdout.strip() == "DataFrame 6 True"
    # the background panel got its final state while the other cell ran
    assert any(shows_status("SUCCEEDED")(m) for m in started.messages)


def test_the_panel_cancel_button_cancels_a_background_job(kernel: KernelHarness, data_cache: Path):
    kernel.run_ok(kernel_setup_code(data_cache, run_seconds=30))
    started = kernel.run_ok(f"%%amc job wait=false\n{TOTALS_SQL}", timeout=10)
    kernel.run_ok("import time\nwhile job.status != 'RUNNING':\n    time.sleep(0.05)", timeout=15)
    button = next(
        m["content"]["comm_id"]
        for m in started.messages
        if m["msg_type"] == "comm_open" and m["content"]["data"]["state"]["_model_name"] == "ButtonModel"
    )

    kernel.send_comm(button, {"method": "custom", "content": {"event": "click"}})
    ended = kernel.run_ok("import time\nwhile not job.done():\n    time.sleep(0.05)\nprint(job.status)", timeout=20)

    assert ended.stdout.strip() == "CANCELLED"
    sandbox = kernel.run_ok("print([e.status.value for e in amc_sandbox.state.sandbox.api.executions.all()])")
    assert sandbox.stdout.strip() == "['CANCELLED']"


def test_a_failing_cell_fails_a_headless_run(kernel_manager: KernelManager, kernel_env: dict[str, str], data_cache: Path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(kernel_setup_code(data_cache)),
        nbformat.v4.new_code_cell("campaigns = ['Lumen - Remarketing']"),
        nbformat.v4.new_code_cell("%%amc reach\nSELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions\n"
                                  "WHERE campaign IN ({{campaings}}) GROUP BY campaign"),
        nbformat.v4.new_code_cell("print('never runs')"),
    ]
    client = NotebookClient(notebook, km=kernel_manager, timeout=30)

    with pytest.raises(CellExecutionError) as raised:
        client.execute(env=kernel_env)

    assert raised.value.ename == "ParameterError"
    error = notebook.cells[2].outputs[-1]
    assert error.traceback == [
        "ParameterError: {{campaings}}: 'campaings' is not defined",
        "Hint: Define campaings in the notebook (or fix the spelling) before running the cell.",
    ]
    assert notebook.cells[3].outputs == []
