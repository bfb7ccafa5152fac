"""Credentials and endpoints from the environment; secrets stay out of reprs."""

import pytest

from amc_magic.client import DEFAULT_API_URL, DEFAULT_TOKEN_URL, AmcClient, Credentials, Endpoints
from amc_magic.errors import ConfigurationError

ENV = {"AMC_CLIENT_ID": "client-id", "AMC_CLIENT_SECRET": "the-secret", "AMC_REFRESH_TOKEN": "Atzr|the-refresh"}


def test_credentials_from_env_reads_the_three_variables():
    assert Credentials.from_env(ENV) == Credentials("client-id", "the-secret", "Atzr|the-refresh")


def test_missing_credentials_name_every_missing_variable():
    with pytest.raises(ConfigurationError) as caught:
        Credentials.from_env({"AMC_CLIENT_ID": "client-id", "AMC_REFRESH_TOKEN": "  "})
    assert "AMC_CLIENT_SECRET, AMC_REFRESH_TOKEN" in caught.value.message
    assert "AMC_CLIENT_ID" not in caught.value.message
    assert "sandbox" in caught.value.hint


def test_credentials_from_the_process_environment(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert Credentials.from_env().client_secret == "the-secret"


def test_secrets_are_not_in_repr_or_str():
    credentials = Credentials.from_env(ENV)
    for text in (repr(credentials), str(credentials), repr(AmcClient(credentials))):
        assert "the-secret" not in text and "the-refresh" not in text
    assert "client-id" in repr(credentials)


def test_endpoints_default_to_amazon_and_follow_the_environment():
    assert Endpoints.from_env({}) == Endpoints(DEFAULT_API_URL, DEFAULT_TOKEN_URL)
    custom = Endpoints.from_env(
        {"AMC_API_URL": "http://127.0.0.1:8765", "AMC_TOKEN_URL": "http://127.0.0.1:8765/auth/o2/token"}
    )
    assert custom.api_url == "http://127.0.0.1:8765"
    assert custom.token_url.endswith("/auth/o2/token")


def test_client_from_env_uses_both(monkeypatch):
    for name, value in {**ENV, "AMC_API_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(name, value)
    assert "127.0.0.1:9" in repr(AmcClient.from_env())
    with pytest.raises(ConfigurationError):
        AmcClient.from_env({})
