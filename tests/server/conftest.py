"""Fixtures of the server-extension tests: a Jupyter server with amc_magic, on SQLite and PostgreSQL.

pytest-jupyter's fixtures (``jp_fetch``, ``jp_serverapp``, ...) are imported here, so they apply
to this directory only. ``async def`` tests run on the server's own loop (``jp_asyncio_loop``),
not on pytest-asyncio's, which would leave the server unserved while the test waits on it. The server is configured with
``allow_unauthenticated_access = False``, as Jupyter's extension template recommends, and every
test runs with credentials in the environment that must never appear in a response.

The history databases come from the history tests' fixtures (``db_url``: a fresh SQLite file, or
a schema of its own on the PostgreSQL server named by ``AMC_MAGIC_TEST_PG_URL``).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_jupyter.jupyter_server import *  # noqa: F403  (fixtures and the async test runner)

_HERE = Path(__file__).resolve().parent
_HISTORY_TESTS = _HERE.parent / "history"
for directory in (_HISTORY_TESTS, _HERE):
    if str(directory) not in sys.path:  # history_support and server_support, for us and spawned processes
        sys.path.insert(0, str(directory))

from server_support import SECRETS  # noqa: E402




@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test on ``jp_asyncio_loop`` (the loop the Jupyter server and client use)."""
    function = inspect.unwrap(pyfuncitem.obj)  # pytest-asyncio wraps coroutines; unwrap to the test itself
    loop = pyfuncitem.funcargs.get("jp_asyncio_loop")
    if not inspect.iscoroutinefunction(function) or loop is None:
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    loop.run_until_complete(function(**arguments))
    return True


@pytest.fixture(autouse=True)
def secrets_in_environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Credentials a real user has set; no response may contain them."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


@pytest.fixture
def jp_server_config(db_url: str) -> dict[str, Any]:
    """amc_magic enabled on the test's history database, authentication required everywhere."""
    return {
        "ServerApp": {"jpserver_extensions": {"amc_magic": True, "jupyter_server_terminals": False}, "allow_unauthenticated_access": False},
        "AmcMagicServer": {"database_url": db_url, "poller_enabled": False},
    }
