"""Fixtures shared by every test: no test sees the user's credentials, endpoints or history."""

import pytest

_USER_ENVIRONMENT = (
    "AMC_CLIENT_ID",
    "AMC_CLIENT_SECRET",
    "AMC_REFRESH_TOKEN",
    "AMC_API_URL",
    "AMC_TOKEN_URL",
    "AMC_MAGIC_DB_URL",
)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path_factory):
    """Hide the user's AMC settings and point the Jupyter data directory at a temporary folder."""
    for name in _USER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path_factory.mktemp("jupyter-data")))
