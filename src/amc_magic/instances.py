"""Where an instance name leads: the embedded sandbox, or a real (or served) AMC instance.

``sandbox`` is the in-process emulator: no credentials, no network, its own HTTP protocol spoken
through an ASGI transport. Any other name must have been connected once (``%amc connect``), which
stores its advertiser and marketplace ids in the history database; its endpoints come from
``AMC_API_URL`` / ``AMC_TOKEN_URL`` and its credentials from ``AMC_CLIENT_ID``,
``AMC_CLIENT_SECRET`` and ``AMC_REFRESH_TOKEN``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .client import Credentials, Endpoints, InstanceRef
from .errors import ConfigurationError, NextStep, Remedy
from .history import HistoryStore, InstanceRecord
from .sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID

SANDBOX = "sandbox"
SANDBOX_TYPE = "SANDBOX"
EMBEDDED_API_URL = "http://sandbox.amc-magic.invalid"


@dataclass(frozen=True)
class Target:
    """An instance to run on, and everything needed to reach it.

    Attributes:
        name: what the user typed (``sandbox`` or the instance id).
        ref: the instance and the ids for AMC's headers.
        instance_type: ``SANDBOX`` or ``STANDARD``.
        endpoints: the AMC API and token endpoint.
        credentials: the Login-with-Amazon app and refresh token (never shown).
        embedded: True for the in-process sandbox.
    """

    name: str
    ref: InstanceRef
    instance_type: str
    endpoints: Endpoints
    credentials: Credentials = field(repr=False)
    embedded: bool = False

    @property
    def instance_id(self) -> str:
        return self.ref.instance_id

    @property
    def request_options(self) -> dict[str, Any]:
        """Body fields every execution on this instance needs (sandboxes require synthetic data)."""
        return {"requireSyntheticData": True} if self.instance_type == SANDBOX_TYPE else {}

    @property
    def complete_schema(self) -> bool:
        """Whether the bundled schema is the whole truth (only for the embedded sandbox)."""
        return self.embedded

    @property
    def client_key(self) -> tuple[str, str, str, bool]:
        """Targets with equal keys can share one HTTP client."""
        return (self.endpoints.api_url, self.endpoints.token_url, self.credentials.client_id, self.embedded)


def embedded_sandbox() -> Target:
    """The in-process sandbox instance."""
    return Target(
        name=SANDBOX,
        ref=InstanceRef(INSTANCE_ID, ADVERTISER_ID, MARKETPLACE_ID),
        instance_type=SANDBOX_TYPE,
        endpoints=Endpoints(api_url=EMBEDDED_API_URL, token_url=f"{EMBEDDED_API_URL}/auth/o2/token"),
        credentials=Credentials("amc-magic-sandbox", "sandbox-secret", "sandbox-refresh-token"),
        embedded=True,
    )


def _named(store: HistoryStore, name: str) -> InstanceRecord | None:
    """The one connected instance called ``name`` (``%amc connect ... name=``), any case; None if there is none.

    Raises:
        ConfigurationError: several instances have that name.
    """
    named = [r for r in store.list_instances() if r.name and r.name.casefold() == name.casefold()]
    if len(named) > 1:
        ids = ", ".join(r.instance_id for r in named)
        raise ConfigurationError(f"{len(named)} instances are named {name!r} ({ids}).", hint="Give the instance id instead.")
    return named[0] if named else None


def resolve_target(name: str, store: Callable[[], HistoryStore], environ: Mapping[str, str] | None = None) -> Target:
    """The target for instance ``name``; ``store`` is opened only for an instance other than the sandbox.

    Raises:
        ConfigurationError: the instance was never connected, or credentials are missing.
    """
    name = name.strip()
    if name.lower() == SANDBOX:
        return embedded_sandbox()
    record = store().get_instance(name) or _named(store(), name)
    if record is None:
        raise ConfigurationError(f"Unknown AMC instance {name!r}.", next_steps=(NextStep(Remedy.CONNECT, instance_id=name),))
    name = record.instance_id
    env = os.environ if environ is None else environ
    endpoints = Endpoints.from_env(env)
    if not env.get("AMC_API_URL", "").strip() and record.api_url:
        endpoints = Endpoints(api_url=record.api_url, token_url=endpoints.token_url)
    return Target(
        name=name,
        ref=InstanceRef(record.instance_id, record.entity_id, record.marketplace_id),
        instance_type=record.instance_type or "STANDARD",
        endpoints=endpoints,
        credentials=Credentials.from_env(env),
    )
