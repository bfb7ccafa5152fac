"""Fixtures of the integration tests: history databases (SQLite and PostgreSQL) and served sandboxes.

The history databases come from the history tests' fixtures (``db_url``: a fresh SQLite file, or a
schema of its own on the PostgreSQL server named by ``AMC_MAGIC_TEST_PG_URL``). Served sandboxes
share one small synthetic dataset, generated once per test session into a temporary cache.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.data import ensure_database
from amc_magic.sandbox.serve import ServedSandbox

_HISTORY_TESTS = Path(__file__).resolve().parent.parent / "history"
if str(_HISTORY_TESTS) not in sys.path:  # history_support, for us and for spawned processes
    sys.path.insert(0, str(_HISTORY_TESTS))

from integration_support import SERVED_DATA  # noqa: E402




@pytest.fixture(scope="session")
def sandbox_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data cache every sandbox of the test session shares, with :data:`SERVED_DATA` in it."""
    directory = tmp_path_factory.mktemp("sandbox-cache")
    ensure_database(SERVED_DATA, directory)
    return directory


@pytest.fixture
def serve_sandbox(sandbox_cache: Path) -> Iterator[Callable[..., ServedSandbox]]:
    """Start a sandbox on loopback over :data:`SERVED_DATA`; keyword arguments set its config."""
    with contextlib.ExitStack() as servers:

        def serve(**config: Any) -> ServedSandbox:
            settings = SandboxConfig(data=SERVED_DATA, data_cache_dir=sandbox_cache, **config)
            return servers.enter_context(ServedSandbox(settings))

        yield serve
