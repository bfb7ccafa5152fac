"""The example notebooks run top to bottom in a fresh kernel, the way papermill or a CI job runs them.

nbclient stops at any error outside a cell tagged ``raises-exception``; a tagged cell must raise an
amc-magic error (a slip in the notebook, such as a ``NameError``, fails). Notebooks 01-03 and 05 run
with no AMC credentials at all. Notebook 04 runs against the served sandbox with the variables a real
instance needs, and once more with none, when it serves the sandbox itself.

``pytest tests/test_notebooks.py --write-notebooks`` saves the executed notebooks, outputs and
widget state included, back into ``notebooks/``: that is how their nbval reference outputs are made.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode

from amc_magic import errors

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
QUICKSTART = "01_quickstart.ipynb"
PARAMETERS = "02_parameters_and_windows.ipynb"
HISTORY = "03_history_cache_and_reattach.ipynb"
REAL_INSTANCE = "04_connect_a_real_instance.ipynb"
BACKFILLS = "05_backfills_and_instances.ipynb"
WORKFLOWS = "06_workflows_and_schedules.ipynb"
CELL_TIMEOUT_SECONDS = 60

pytestmark = pytest.mark.slow


def run_notebook(name: str, changes: dict[str, str | None]) -> NotebookNode:
    """Execute notebook ``name`` in a new kernel whose environment is ours with ``changes`` applied."""
    env = dict(os.environ)
    for variable, value in changes.items():
        if value is None:
            env.pop(variable, None)
        else:
            env[variable] = value
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        store_widget_state=True,
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=env)
    return notebook


def assert_only_expected_errors(notebook: NotebookNode) -> None:
    """Cells tagged ``raises-exception`` raised one amc-magic error each; no other cell raised."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        names = [output.ename for output in cell.outputs if output.output_type == "error"]
        if "raises-exception" in cell.metadata.get("tags", []):
            assert len(names) == 1, f"cell {index} should raise an amc-magic error, not {names}"
            raised = getattr(errors, names[0], None)
            assert isinstance(raised, type) and issubclass(raised, errors.AmcMagicError), f"cell {index}: {names[0]}"
        else:
            assert not names, f"cell {index} raised {names}"


def text_of(cell: NotebookNode) -> str:
    """Everything a cell printed or returned, as plain text."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def cell_running(notebook: NotebookNode, fragment: str) -> NotebookNode:
    """The one code cell whose source contains ``fragment``."""
    found = [c for c in notebook.cells if c.cell_type == "code" and fragment in c.source]
    assert len(found) == 1, f"{len(found)} cells contain {fragment!r}"
    return found[0]


@pytest.fixture
def save(pytestconfig: pytest.Config) -> Callable[[str, NotebookNode], None]:
    """Save an executed notebook into notebooks/ when pytest runs with --write-notebooks."""

    def save_notebook(name: str, notebook: NotebookNode) -> None:
        if pytestconfig.getoption("write_notebooks"):
            nbformat.write(notebook, NOTEBOOKS / name)

    return save_notebook


def test_quickstart_runs_without_credentials(notebook_environment, tmp_path, save) -> None:
    notebook = run_notebook(QUICKSTART, notebook_environment.overrides(tmp_path, amc=False))

    assert_only_expected_errors(notebook)
    assert "Northwind - Spring Collection" in text_of(cell_running(notebook, "by_device.pivot"))
    save(QUICKSTART, notebook)


def test_parameters_notebook_shows_rendering_windows_and_errors(notebook_environment, tmp_path, save) -> None:
    notebook = run_notebook(PARAMETERS, notebook_environment.overrides(tmp_path, amc=False))

    assert_only_expected_errors(notebook)
    assert "'Mother''s Day'" in text_of(cell_running(notebook, "{{campaign}}"))
    assert "previous month, " in text_of(cell_running(notebook, "window=previous_month"))
    assert "reaches into the last 48 hours" in text_of(cell_running(notebook, "window=last_7_days"))
    assert "Did you mean 'campaign'?" in text_of(cell_running(notebook, "validate=only\nSELECT user_id"))
    save(PARAMETERS, notebook)


def test_history_notebook_counts_a_cache_hit_as_no_execution(notebook_environment, tmp_path, save) -> None:
    notebook = run_notebook(HISTORY, notebook_environment.overrides(tmp_path, amc=False))

    assert_only_expected_errors(notebook)
    history = text_of(cell_running(notebook, "history = %amc history"))
    assert history.count("SUCCEEDED") == 2  # three cells ran queries; the cached re-run is no execution
    assert text_of(cell_running(notebook, "creatives.status")) == "'SUCCEEDED'"
    save(HISTORY, notebook)


def test_real_instance_notebook_goes_through_tokens_and_http(notebook_environment, tmp_path, save) -> None:
    served = notebook_environment.sandbox
    before = Counter(served.calls)

    notebook = run_notebook(REAL_INSTANCE, notebook_environment.overrides(tmp_path, amc=True))

    assert_only_expected_errors(notebook)
    calls = Counter(served.calls)
    calls.subtract(before)
    assert calls["token"] >= 1
    assert calls["list_instances"] >= 1
    assert calls["list_data_sources"] >= 1
    assert calls["create_execution"] == 1
    assert calls["download"] >= 1
    assert "Connected amcsandbox01 (SANDBOX) at http://127.0.0.1:" in text_of(cell_running(notebook, "%amc connect"))
    save(REAL_INSTANCE, notebook)


def test_real_instance_notebook_serves_its_own_sandbox_without_credentials(notebook_environment, tmp_path) -> None:
    served = notebook_environment.sandbox
    before = Counter(served.calls)

    notebook = run_notebook(REAL_INSTANCE, notebook_environment.overrides(tmp_path, amc=False))

    assert_only_expected_errors(notebook)
    assert Counter(served.calls) == before
    assert "Connected amcsandbox01 (SANDBOX) at http://127.0.0.1:" in text_of(cell_running(notebook, "%amc connect"))


def test_backfills_notebook_runs_one_execution_per_week(notebook_environment, tmp_path, save) -> None:
    notebook = run_notebook(BACKFILLS, notebook_environment.overrides(tmp_path, amc=False))

    assert_only_expected_errors(notebook)
    history = text_of(cell_running(notebook, "history = %amc history"))
    assert "13 runs" in history and "13 succeeded" in history and "bf_" in history
    periods = text_of(cell_running(notebook, "%amc show {backfill_id}"))
    assert periods.count("SUCCEEDED") == 13
    assert text_of(cell_running(notebook, "weekly_again.equals(weekly)")) == "True"
    after_rerun = text_of(cell_running(notebook, "history_after = %amc history"))
    assert after_rerun.count("bf_") == 1  # the cached re-run is no execution
    monthly = next(c for c in notebook.cells if c.cell_type == "code" and c.source == "monthly")
    assert "-05:00" in text_of(monthly) and "-04:00" in text_of(monthly)  # New York months, DST included
    assert text_of(cell_running(notebook, "by_device_job.status")) == "'13/13 done · 0 running · 0 queued · 0 failed'"
    assert text_of(cell_running(notebook, "monthly_from_python.equals(monthly)")) == "True"
    save(BACKFILLS, notebook)


def test_workflows_notebook_saves_versions_runs_analyses_and_schedules(notebook_environment, tmp_path, save) -> None:
    notebook = run_notebook(WORKFLOWS, notebook_environment.overrides(tmp_path, amc=False))

    assert_only_expected_errors(notebook)
    assert "saved as version 2" in text_of(cell_running(notebook, "SUM(impressions) / COUNT(DISTINCT user_id)"))
    detail = text_of(cell_running(notebook, "%amc workflow campaign_reach"))
    assert "+       SUM(impressions) AS impressions," in detail
    assert "Lumen - Streaming TV" in text_of(cell_running(notebook, "april"))
    assert text_of(cell_running(notebook, "analyses = %amc analyses")).count("analyses/") == 8
    assert "created on amcsandbox01 (version 2); it runs there by workflowId" in text_of(cell_running(notebook, "sync=true"))
    assert "is already version 2" in text_of(cell_running(notebook, "%amc sync campaign_reach"))
    assert "weekly at 06:00 UTC on Mondays" in text_of(cell_running(notebook, "%amc schedule campaign_reach"))
    assert "AMC has no new runs of campaign_reach." in text_of(cell_running(notebook, "%amc runs campaign_reach"))
    save(WORKFLOWS, notebook)
