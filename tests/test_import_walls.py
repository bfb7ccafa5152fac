"""The architecture's walls, checked through whole import chains: each front module is imported in a fresh
interpreter and ``sys.modules`` is inspected, so a wall crossed three imports deep fails here too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("httpx", "sqlalchemy", "duckdb", "pyarrow", "pandas", "sqlglot", "tenacity", "psycopg")
FRONTEND = ("IPython", "ipywidgets", "ipykernel", "traitlets")


def loaded_by(statement: str) -> set[str]:
    """Top-level packages (and amc_magic submodules) in ``sys.modules`` after ``statement`` in a new interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names = json.loads(output.splitlines()[-1])
    return {n for n in names if n.startswith("amc_magic")} | {n.split(".")[0] for n in names}


def test_loading_the_extension_pulls_in_no_engine_http_database_or_dataframe_library():
    loaded = loaded_by(
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'amc_magic')"
    )
    assert "amc_magic.magics" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_panel_pulls_in_no_engine_http_or_database():
    loaded = loaded_by("import amc_magic.panel")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "amc_magic.engine.runner" not in loaded


@pytest.mark.parametrize("module", ["amc_magic.engine", "amc_magic.engine.runner", "amc_magic.client", "amc_magic.history"])
def test_engine_client_and_history_import_no_notebook_frontend(module):
    loaded = loaded_by(f"import {module}; import {module} as m; [getattr(m, n) for n in getattr(m, '__all__', [])]")
    assert loaded.isdisjoint(FRONTEND), sorted(loaded & set(FRONTEND))


def test_the_sandbox_imports_nothing_of_the_client_engine_or_notebook():
    loaded = loaded_by("import amc_magic.sandbox.app, amc_magic.sandbox.serve, amc_magic.sandbox.database")
    crossing = {n for n in loaded if n.startswith(("amc_magic.client", "amc_magic.engine", "amc_magic.magics"))}
    assert not crossing, sorted(crossing)
    assert loaded.isdisjoint(FRONTEND), sorted(loaded & set(FRONTEND))
