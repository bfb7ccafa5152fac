"""Fixtures for the magic tests: one small dataset per session, a fresh IPython shell per module, a
fresh history database and sandbox per test, and real kernels started from this interpreter."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from traitlets.config import Config

from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.data import ensure_database
from amc_magic.session import Session
from magic_support import SPEC, KernelHarness, ShellHarness, sandbox_config

KERNEL_NAME = "amc-magic-test"


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox data cache of the whole run, with :data:`SPEC` generated once."""
    directory = tmp_path_factory.mktemp("sandbox-cache")
    ensure_database(SPEC, directory)
    return directory


@pytest.fixture
def make_sandbox(data_cache: Path) -> Iterator[Callable[..., Sandbox]]:
    """Builds sandboxes over the test dataset (``make_sandbox(run_seconds=2)``); closes them after the test."""
    made: list[Sandbox] = []

    def make(**settings: object) -> Sandbox:
        sandbox = Sandbox(sandbox_config(data_cache, **settings))
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        asyncio.run(sandbox.wait_idle())  # a cancelled execution's query may still be running
        sandbox.close()


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InteractiveShell]:
    """A fresh IPython shell for the module (never the process-wide test app), with the magic loaded."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
        InteractiveShell.clear_instance()
        ipython = InteractiveShell.instance(config=config)
        ipython.run_line_magic("load_ext", "amc_magic")
        yield ipython
        ipython.run_line_magic("unload_ext", "amc_magic")
        InteractiveShell.clear_instance()


@pytest.fixture
def make_amc(shell: InteractiveShell, make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> Iterator[Callable[..., ShellHarness]]:
    """Points the module's shell at a history database of the test's own and a new sandbox with ``settings``."""
    harnesses: list[ShellHarness] = []

    def make(**settings: object) -> ShellHarness:
        sandbox = make_sandbox(**settings)
        magics = shell.magics_manager.registry["AMCMagic"]
        url = f"sqlite:///{tmp_path / 'history.sqlite'}"
        shell.run_line_magic("config", f"AMCMagic.database_url = {url!r}")
        magics.session = Session(database_url=magics.database_url, sandbox_app=sandbox.app)
        harnesses.append(ShellHarness(shell, magics, sandbox))
        return harnesses[-1]

    yield make
    for harness in harnesses:
        harness.magics.close()
        harness.config("display = 'auto'")
        harness.config("default_instance = 'sandbox'")


@pytest.fixture
def amc(make_amc: Callable[..., ShellHarness]) -> ShellHarness:
    """The module's shell on a fast sandbox."""
    return make_amc()


@pytest.fixture
def slow_amc(make_amc: Callable[..., ShellHarness]) -> ShellHarness:
    """The module's shell on a sandbox whose executions stay RUNNING for 30 s (unless cancelled)."""
    return make_amc(run_seconds=30)


# --- kernels ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kernel_dirs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec directory holding one python kernel that runs this interpreter."""
    root = tmp_path_factory.mktemp("kernels")
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "amc-magic tests",
        "language": "python",
        "interrupt_mode": "signal",
    }
    (root / KERNEL_NAME).mkdir()
    (root / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec))
    return root


@pytest.fixture
def kernel_env(tmp_path: Path) -> dict[str, str]:
    """The kernel's environment: this one (already without the user's AMC settings) plus private dirs."""
    return {
        **os.environ,
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "AMC_MAGIC_DB_URL": f"sqlite:///{tmp_path / 'history.sqlite'}",
    }


@pytest.fixture
def kernel_manager(kernel_dirs: Path) -> Iterator[KernelManager]:
    """A kernel manager for the test kernelspec (not started); the kernel is shut down afterwards."""
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dirs)]))
    yield manager
    if manager.has_kernel:
        manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(kernel_manager: KernelManager, kernel_env: dict[str, str], tmp_path: Path) -> Iterator[KernelHarness]:
    """A started kernel and a client on it."""
    kernel_manager.start_kernel(env=kernel_env, cwd=str(tmp_path))
    client = kernel_manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=30)
        yield KernelHarness(kernel_manager, client)
    finally:
        client.stop_channels()
