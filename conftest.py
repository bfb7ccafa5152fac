"""What the example notebooks need when pytest runs them: AMC on loopback and an empty history each.

nbval (``pytest --nbval notebooks``) starts one kernel per notebook, and the kernel inherits this
process's environment. Right before a notebook's kernel starts, the environment becomes the one a
user of a real instance has (credentials, ``AMC_API_URL``, ``AMC_TOKEN_URL`` and the instance ids
notebook 04 reads), pointed at the sandbox served on a free loopback port, the same server as
``amc-magic sandbox serve``. Every notebook also gets a history database of its own, so each run
starts from an empty history and cache. The environment is restored once the kernel is up.

``tests/test_notebooks.py`` gets the same environments from the ``notebook_environment`` fixture and
passes them to its kernels explicitly. ``--write-notebooks`` makes it save the executed notebooks,
outputs included, back into ``notebooks/``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from amc_magic.client.credentials import CREDENTIAL_VARIABLES
from amc_magic.history import DB_URL_ENV

USER_VARIABLES = (
    *CREDENTIAL_VARIABLES,
    "AMC_API_URL",
    "AMC_TOKEN_URL",
    DB_URL_ENV,
    "AMC_INSTANCE_ID",
    "AMC_ADVERTISER_ID",
    "AMC_MARKETPLACE_ID",
)
"""Variables of the user's own setup that must never reach a notebook run by the tests."""

DUMMY_CREDENTIALS = {
    "AMC_CLIENT_ID": "amzn1.application-oa2-client.notebooks",
    "AMC_CLIENT_SECRET": "notebook-client-secret",
    "AMC_REFRESH_TOKEN": "Atzr|notebook-refresh-token",
}
"""The sandbox's token endpoint accepts any credentials; these only have the real shapes."""


class NotebookEnvironment:
    """Kernel environments for the example notebooks, and the sandbox server they may talk to.

    The server starts on the first environment that asks for AMC variables and stops on
    :meth:`close`, which also removes the history directories made by :meth:`history_dir`.
    """

    def __init__(self) -> None:
        self._resources = ExitStack()
        self._served: Any = None
        self._scratch: Path | None = None
        self._history_dirs: dict[str, Path] = {}
        self._caches_warm = False

    @property
    def sandbox(self) -> Any:
        """The served :class:`~amc_magic.sandbox.app.Sandbox` (``calls`` counts its requests)."""
        return self._serve().sandbox

    def amc_variables(self) -> dict[str, str]:
        """The variables a user of a real instance sets, pointing at the served sandbox."""
        from amc_magic.sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID

        base_url = self._serve().base_url
        return {
            **DUMMY_CREDENTIALS,
            "AMC_API_URL": base_url,
            "AMC_TOKEN_URL": f"{base_url}/auth/o2/token",
            "AMC_INSTANCE_ID": INSTANCE_ID,
            "AMC_ADVERTISER_ID": ADVERTISER_ID,
            "AMC_MARKETPLACE_ID": MARKETPLACE_ID,
        }

    def overrides(self, history_dir: Path, *, amc: bool = True) -> dict[str, str | None]:
        """Variables to set (``None``: to remove) for a kernel keeping its history in ``history_dir``.

        Args:
            history_dir: an empty directory for the history database and Jupyter data.
            amc: include the served sandbox's credentials and endpoints; without them the kernel
                looks like a fresh install with no credentials.
        """
        self._warm_caches()
        changes: dict[str, str | None] = dict.fromkeys(USER_VARIABLES)
        changes["JUPYTER_DATA_DIR"] = str(history_dir)
        changes["AMC_MAGIC_DB_URL"] = f"sqlite:///{(history_dir / 'history.sqlite').as_posix()}"
        if amc:
            changes.update(self.amc_variables())
        return changes

    def history_dir(self, key: str) -> Path:
        """An empty directory for ``key`` (the same one for every call with that key)."""
        if key not in self._history_dirs:
            if self._scratch is None:
                self._scratch = Path(tempfile.mkdtemp(prefix="amc-notebooks-"))
                self._resources.callback(shutil.rmtree, self._scratch, ignore_errors=True)
            path = self._scratch / f"history-{len(self._history_dirs)}"
            path.mkdir()
            self._history_dirs[key] = path
        return self._history_dirs[key]

    def close(self) -> None:
        """Stop the server and remove the history directories."""
        self._resources.close()

    def _warm_caches(self) -> None:
        """Build the sandbox's data file and matplotlib's font cache here, so no kernel prints about it."""
        if self._caches_warm:
            return
        import matplotlib.font_manager  # noqa: F401  (importing it builds the font cache)

        from amc_magic.sandbox.config import SandboxConfig
        from amc_magic.sandbox.data import ensure_database

        ensure_database(SandboxConfig().data_spec())
        self._caches_warm = True

    def _serve(self) -> Any:
        if self._served is None:
            from amc_magic.sandbox.serve import ServedSandbox

            self._served = self._resources.enter_context(ServedSandbox())
        return self._served


_ENVIRONMENT = pytest.StashKey[NotebookEnvironment]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--write-notebooks",
        action="store_true",
        help="tests/test_notebooks.py saves the executed example notebooks, outputs included, to notebooks/.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_ENVIRONMENT] = NotebookEnvironment()


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[_ENVIRONMENT].close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Give an nbval notebook's kernel (started in its first cell's setup) the notebook environment."""
    if item.path.suffix != ".ipynb":
        return (yield)
    environment = item.config.stash[_ENVIRONMENT]
    changes = environment.overrides(environment.history_dir(str(item.path)))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in changes.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        return (yield)


@pytest.fixture(scope="session")
def notebook_environment(pytestconfig: pytest.Config) -> NotebookEnvironment:
    """The kernel environments of the example notebooks (see :class:`NotebookEnvironment`)."""
    return pytestconfig.stash[_ENVIRONMENT]
