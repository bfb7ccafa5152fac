"""A real browser on a real ``jupyter lab``: a notebook runs ``%%amc`` in Notebook 7, and the dashboard shows it.

Headless Chromium (Debian's ``chromium`` package, ``/usr/bin/chromium``; Playwright's own browser
downloads are never used) is driven by the ``playwright`` Python package. The test starts
``jupyter lab`` as a user would, on a free loopback port with a random token, its history database
and Jupyter data in a fresh directory and no AMC credentials, so ``%%amc`` runs on the embedded
sandbox. Then, in the browser:

1. Notebook 7 (``/notebooks/<name>.ipynb``) runs a ``%%amc`` cell through the server's kernel; the
   status panel is rendered by ipywidgets (``.widget-vbox``/``.widget-html`` with the panel's text),
   not as its text fallback, and carries the notifier's anywidget element. No notification is shown
   while the page is visible.
2. A click on the panel asks the notification permission, once (the answer lands in ``localStorage``).
   With the page hidden (``document.hidden`` overridden, ``visibilitychange`` dispatched), a second
   ``%%amc`` cell ends and a notification is constructed (``window.Notification`` is a recording stub
   installed by an init script; the context grants the permission).
3. The dashboard (``/amc-magic/``) lists both executions; the first one opens with its SQL and a
   preview, and its CSV download holds the rows the kernel stored. A screenshot of the dashboard is
   saved to ``tests/browser/artifacts/dashboard.png`` (and one of the notebook beside it).

A second test opens JupyterLab itself (``/lab``): the prebuilt lab extension (source in
``labextension/``, built output in ``src/amc_magic/labextension/``) puts an "AMC dashboard" card in the
launcher and an item in the Help menu; each opens the dashboard in a main-area tab (an iframe that
reaches ``body[data-ready="true"]``). The server loads the extension from the checkout's built output,
copied into a temporary directory named by ``--LabApp.extra_labextensions_path`` (searched before the
installed ``share/jupyter/labextensions``), so a stale copy from an earlier ``pip install`` never decides
the result.

Every wait is on a selector or a condition, with generous timeouts; the server (and the kernels it
started, in its process group) is stopped in a ``finally``.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from amc_magic.history import HistoryStore
from amc_magic.history.listing import sql_summary

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs the playwright package")
expect = sync_api.expect

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LAB_EXTENSION = Path(__file__).resolve().parents[2] / "src" / "amc_magic" / "labextension"
"""The checkout's prebuilt JupyterLab extension (``jupyter-builder build labextension``'s output)."""
NOTEBOOK = "amc-browser.ipynb"
WAIT_MS = 90_000
"""Playwright's timeout for every wait (a slow machine loads JupyterLab's bundles in tens of seconds)."""

REACH_SQL = (
    "SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions\n"
    "FROM dsp_impressions\n"
    "GROUP BY campaign"
)
DAILY_SQL = "SELECT impression_date_utc, SUM(impressions) AS impressions\nFROM dsp_impressions\nGROUP BY impression_date_utc"
CELLS = [
    "%load_ext amc_magic",
    f"%%amc reach start=2026-03-01 end=2026-03-31\n{REACH_SQL}",
    f"%%amc daily start=2026-03-01 end=2026-03-07\n{DAILY_SQL}",
]

NOTIFICATION_STUB = """
(() => {
  const Real = window.Notification;
  const shown = [];
  const asks = [];
  let permission = "default";
  class RecordingNotification {
    constructor(title, options) {
      shown.push({ title, body: (options || {}).body || "", tag: (options || {}).tag || "", hidden: document.hidden });
      this.title = title;
    }
    static get permission() { return permission; }
    static async requestPermission() {
      asks.push(new Date().toISOString());
      permission = Real ? await Real.requestPermission() : "granted";
      return permission;
    }
    close() {}
  }
  window.Notification = RecordingNotification;
  window.__amcNotifications = shown;
  window.__amcPermissionAsks = asks;
})();
"""
"""Records every notification and permission request; the real permission (granted by the context) answers."""

HIDE_PAGE = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@dataclass
class JupyterLab:
    """A running ``jupyter lab``: where it listens, its token and its history database."""

    url: str
    token: str
    db_url: str
    root: Path
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def lab_extension_name() -> str:
    return json.loads((LAB_EXTENSION / "package.json").read_text(encoding="utf-8"))["name"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_notebook(path: Path, sources: list[str]) -> None:
    cells = [
        {"cell_type": "code", "execution_count": None, "id": f"cell-{i}", "metadata": {}, "outputs": [], "source": source}
        for i, source in enumerate(sources)
    ]
    kernelspec = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    notebook = {"cells": cells, "metadata": {"kernelspec": kernelspec}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook, indent=1))


@pytest.fixture
def jupyter_lab(tmp_path: Path, notebook_environment) -> Iterator[JupyterLab]:
    """``jupyter lab`` in a subprocess on its own session, with a fresh history and no AMC credentials."""
    history = notebook_environment.history_dir(f"browser-{tmp_path.name}")
    changes = notebook_environment.overrides(history, amc=False)  # also builds the sandbox's data file once
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    runtime = tmp_path / "jupyter-runtime"
    runtime.mkdir()
    env["JUPYTER_RUNTIME_DIR"] = str(runtime)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("JUPYTER_TOKEN", None)
    root = tmp_path / "notebooks"
    root.mkdir()
    token = secrets.token_hex(16)
    port = free_port()
    log = tmp_path / "jupyter-lab.log"
    labextensions = tmp_path / "labextensions"  # the checkout's build, ahead of any installed copy
    shutil.copytree(LAB_EXTENSION, labextensions / lab_extension_name())
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.extra_labextensions_path={labextensions}",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = JupyterLab(f"http://127.0.0.1:{port}/", token, changes["AMC_MAGIC_DB_URL"] or "", root, log)
    try:
        wait_until_serving(process, server)
        yield server
    finally:
        stop(process, server)


def wait_until_serving(process: subprocess.Popen, server: JupyterLab, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}")
        try:
            response = httpx.get(f"{server.url}amc-magic/api/status", headers={"Authorization": f"token {server.token}"}, timeout=5)
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"jupyter lab did not serve /amc-magic/api/status within {timeout:g}s:\n{server.log_tail()}")
        time.sleep(0.2)


def stop(process: subprocess.Popen, server: JupyterLab) -> None:
    """Shut the server's kernels down through its API (they run in sessions of their own), then stop the server.

    Whatever is left in the server's process group afterwards is killed.
    """
    if process.poll() is None:
        headers = {"Authorization": f"token {server.token}"}
        try:
            for kernel in httpx.get(f"{server.url}api/kernels", headers=headers, timeout=10).json():
                httpx.delete(f"{server.url}api/kernels/{kernel['id']}", headers=headers, timeout=30)
        except (httpx.HTTPError, ValueError, TypeError, KeyError):
            pass  # the server's own shutdown stops its kernels too
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=15)


@pytest.fixture
def browser(unavailable) -> Iterator[object]:
    if not CHROMIUM.is_file():  # .ci/run installs it
        unavailable(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def run_cell(page, index: int) -> object:
    """Click into cell ``index`` and run it with Shift+Enter, once the kernel is idle; the cell's locator.

    A key press that lands while the notebook is still laying out its cells is lost (the prompt stays
    ``[ ]:``); it is pressed again then, never while the cell runs or has run.
    """
    expect(page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_have_count(1)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    for attempt in range(3):
        cell.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        try:
            expect(prompt).not_to_have_text("[ ]:", timeout=10_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    return cell


def finished_panel(cell) -> object:
    """The cell's status panel, once rendered by ipywidgets with SUCCEEDED."""
    panel = cell.locator(".jp-OutputArea-output .widget-vbox").first
    expect(panel.locator(".widget-html", has_text="SUCCEEDED")).to_be_visible()
    return panel


def test_a_notebook_run_in_notebook_7_shows_its_panel_notifies_when_hidden_and_appears_on_the_dashboard(jupyter_lab, browser):
    lab = jupyter_lab
    started = time.monotonic()
    write_notebook(lab.root / NOTEBOOK, CELLS)
    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(
        viewport={"width": 1600, "height": 1000}, accept_downloads=True, permissions=["notifications"], base_url=lab.url
    )
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(NOTIFICATION_STUB)
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("failure-*.png"):
        old.unlink()
    try:
        # 1. Notebook 7 runs %%amc through the server's kernel; the panel is a widget, not its text fallback.
        notebook = context.new_page()
        notebook.goto(f"notebooks/{NOTEBOOK}?token={lab.token}")
        expect(notebook.locator(".jp-Notebook .jp-Cell")).to_have_count(len(CELLS))
        expect(run_cell(notebook, 0).locator(".jp-InputPrompt")).to_have_text("[1]:")
        reach_cell = run_cell(notebook, 1)
        panel = finished_panel(reach_cell)
        expect(panel.locator(".widget-html").first).to_contain_text("amcsandbox01")
        expect(panel.locator(".widget-html").first).to_contain_text("execution")
        expect(panel.locator("[data-amc-notifier]")).to_have_count(1)  # the anywidget ES module rendered
        outputs = reach_cell.locator(".jp-OutputArea")
        expect(outputs).not_to_contain_text("AMC status panel for")  # the panel's text/plain stand-in
        expect(outputs).not_to_contain_text("[amc]")  # TextStatus lines
        assert notebook.evaluate("window.__amcNotifications.length") == 0, "a notification while the page is visible"

        # 2. A click on the panel asks the permission once; with the page hidden, the next end notifies.
        assert notebook.evaluate("window.__amcPermissionAsks.length") == 0
        panel.locator(".widget-html").first.click()
        notebook.wait_for_function("window.__amcPermissionAsks.length === 1")
        notebook.wait_for_function("localStorage.getItem('amc-magic:notification-permission') === 'granted'")
        panel.locator(".widget-html").first.click()
        notebook.evaluate(HIDE_PAGE)
        daily_cell = run_cell(notebook, 2)
        finished_panel(daily_cell)
        notebook.wait_for_function("window.__amcNotifications.length === 1")
        [shown] = notebook.evaluate("window.__amcNotifications")
        assert shown["title"] == "AMC query SUCCEEDED"
        assert shown["body"].startswith("amcsandbox01 · ") and " rows x 2 columns · after " in shown["body"]
        assert shown["hidden"] is True
        assert notebook.evaluate("window.__amcPermissionAsks.length") == 1, "the permission was asked again"
        notebook.screenshot(path=str(ARTIFACTS / "notebook.png"))

        # 3. The dashboard lists the notebook's executions; open the first, check SQL and preview, download its CSV.
        store = HistoryStore.from_url(lab.db_url)
        try:
            records = {record.rendered_sql.strip().splitlines()[-1]: record for record in store.list_executions()}
            reach = records["GROUP BY campaign"]
            expected = store.load_result(reach.id)
        finally:
            store.close()
        assert len(records) == 2 and expected is not None and len(expected) > 0
        dashboard = context.new_page()
        dashboard.goto(f"amc-magic/?token={lab.token}")
        expect(dashboard.locator('body[data-ready="true"]')).to_have_count(1)
        rows = dashboard.locator("#executions tbody tr[data-id]")
        expect(rows).to_have_count(2)
        row = dashboard.locator(f'#executions tbody tr[data-id="{reach.id}"]')
        expect(row).to_have_attribute("data-status", "SUCCEEDED")
        expect(row.locator('[data-col="sql"]')).to_have_text(sql_summary(REACH_SQL))  # its lines joined, cut with "…"
        row.click()
        detail = dashboard.locator("#detail")
        expect(detail).to_be_visible()
        expect(detail).to_have_attribute("data-id", reach.id)
        expect(dashboard.locator("#detail-sql")).to_contain_text("COUNT(DISTINCT user_id) AS reach")
        expect(dashboard.locator("#preview thead th")).to_have_text(list(expected.columns))
        expect(dashboard.locator("#preview tbody tr")).to_have_count(min(len(expected), 50))
        download_link = dashboard.locator("#download-csv")
        expect(download_link).to_be_visible()
        dashboard.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        with dashboard.expect_download() as download_info:
            download_link.click()
        download = download_info.value
        assert download.suggested_filename == f"amc-{reach.short_id}.csv"
        with open(download.path(), newline="", encoding="utf-8") as handle:
            downloaded = list(csv.reader(handle))
    except BaseException:
        for number, page in enumerate(context.pages):  # what the browser showed, for the failure report
            page.screenshot(path=str(ARTIFACTS / f"failure-{number}.png"))
        raise
    finally:
        context.close()
    assert downloaded[0] == list(expected.columns)
    assert downloaded[1:] == [[str(value) for value in row] for row in expected.itertuples(index=False)]
    assert time.monotonic() - started < 120, "the browser part took over two minutes"


def test_jupyterlab_launcher_card_and_help_menu_item_open_the_dashboard_in_a_tab(jupyter_lab, browser):
    lab = jupyter_lab
    started = time.monotonic()
    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=lab.url)
    context.set_default_timeout(WAIT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("failure-lab-*.png"):
        old.unlink()
    built = json.loads((LAB_EXTENSION / "package.json").read_text(encoding="utf-8"))
    try:
        page = context.new_page()
        page.goto(f"lab?reset&token={lab.token}")  # ?reset: a fresh workspace, which shows the launcher
        card = page.locator(".jp-LauncherCard", has_text="AMC dashboard")
        expect(card).to_be_visible()
        federated = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).federated_extensions")
        [ours] = [extension for extension in federated if extension["name"] == built["name"]]
        assert ours["load"] == built["jupyterlab"]["_build"]["load"], "JupyterLab served another build of the extension"
        section = page.locator(".jp-Launcher-section", has=card)
        expect(section.locator(".jp-Launcher-sectionTitle")).to_have_text("AMC")

        # The launcher card opens the dashboard in a main-area tab.
        card.click()
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="AMC dashboard")
        expect(tab).to_have_count(1)
        iframe = page.locator("#amc-magic-dashboard iframe")
        expect(iframe).to_have_attribute("src", f"{lab.url}amc-magic/")  # PageConfig.getBaseUrl() is absolute
        frame = page.frame_locator("#amc-magic-dashboard iframe")
        expect(frame.locator('body[data-ready="true"]')).to_have_count(1)
        expect(frame.locator("h1")).to_have_text("amc-magic executions")
        page.screenshot(path=str(ARTIFACTS / "lab-dashboard.png"))
        tab.locator(".lm-TabBar-tabCloseIcon").click()
        expect(page.locator("#amc-magic-dashboard")).to_have_count(0)

        # So does Help > AMC dashboard.
        page.locator(".lm-MenuBar-item", has_text="Help").click()
        item = page.locator('.lm-Menu-item[data-command="amc-magic:open-dashboard"]')
        expect(item).to_contain_text("AMC dashboard")
        item.click()
        expect(tab).to_have_count(1)
        expect(page.frame_locator("#amc-magic-dashboard iframe").locator('body[data-ready="true"]')).to_have_count(1)
    except BaseException:
        for number, shown in enumerate(context.pages):
            shown.screenshot(path=str(ARTIFACTS / f"failure-lab-{number}.png"))
        raise
    finally:
        context.close()
    assert time.monotonic() - started < 60, "the JupyterLab part took over a minute"
