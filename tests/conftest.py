"""Fixtures shared by every test: no test sees the user's credentials, endpoints or history."""

import pytest

from amc_magic.client.credentials import CREDENTIAL_VARIABLES
from amc_magic.history import DB_URL_ENV

_USER_ENVIRONMENT = (*CREDENTIAL_VARIABLES, "AMC_API_URL", "AMC_TOKEN_URL", DB_URL_ENV)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path_factory):
    """Hide the user's AMC settings and point the Jupyter data directory at a temporary folder."""
    for name in _USER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path_factory.mktemp("jupyter-data")))
