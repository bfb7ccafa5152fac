"""Login-with-Amazon credentials and AMC endpoints, from the environment or given explicitly.

The secret fields never show in ``repr`` or ``str``: a credentials object can be logged or
printed in a notebook without leaking the client secret or the refresh token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from amc_magic.errors import ConfigurationError

DEFAULT_API_URL = "https://advertising-api.amazon.com"
DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

CREDENTIAL_VARIABLES = ("AMC_CLIENT_ID", "AMC_CLIENT_SECRET", "AMC_REFRESH_TOKEN")


@dataclass(frozen=True)
class Credentials:
    """A Login-with-Amazon app (client id and secret) and a refresh token granted to it."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read ``AMC_CLIENT_ID``, ``AMC_CLIENT_SECRET`` and ``AMC_REFRESH_TOKEN``.

        Raises:
            ConfigurationError: naming every variable that is missing or empty.
        """
        env = os.environ if environ is None else environ
        missing = [name for name in CREDENTIAL_VARIABLES if not env.get(name, "").strip()]
        if missing:
            raise ConfigurationError(
                f"AMC credentials are missing: {', '.join(missing)} not set.",
                hint=(
                    "Set AMC_CLIENT_ID, AMC_CLIENT_SECRET and AMC_REFRESH_TOKEN (your Login-with-Amazon "
                    "app and a refresh token for it). The sandbox instance needs none."
                ),
            )
        client_id, client_secret, refresh_token = (env[name].strip() for name in CREDENTIAL_VARIABLES)
        return cls(client_id, client_secret, refresh_token)

    def __str__(self) -> str:
        return repr(self)


@dataclass(frozen=True)
class Endpoints:
    """Where the AMC API and the Login-with-Amazon token endpoint live."""

    api_url: str = DEFAULT_API_URL
    token_url: str = DEFAULT_TOKEN_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Endpoints:
        """Read ``AMC_API_URL`` and ``AMC_TOKEN_URL``, defaulting to Amazon's North America hosts."""
        env = os.environ if environ is None else environ
        return cls(
            api_url=env.get("AMC_API_URL", "").strip() or DEFAULT_API_URL,
            token_url=env.get("AMC_TOKEN_URL", "").strip() or DEFAULT_TOKEN_URL,
        )
