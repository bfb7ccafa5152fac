"""The instances a session knows: resolving names, connecting new ones, and their schemas.

A real instance's schema is read once per session from ``GET /dataSources``; the embedded
sandbox's is the bundled one, which is complete.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .client import Credentials, Endpoints, InstanceRef
from .errors import ConfigurationError
from .instances import SANDBOX, Target, embedded_sandbox, resolve_target
from .report import instances_frame, schema_frame
from .schema import TABLES, Table, tables_from_data_sources

if TYPE_CHECKING:
    import pandas as pd

    from .background import BackgroundLoop
    from .connector import Connector
    from .history import ExecutionRecord, HistoryStore

logger = logging.getLogger("amc_magic")


class InstanceCatalog:
    """Instance names to targets, ``connect``, and each instance's schema (cached).

    Args:
        connector: reaches the instances.
        background: the loop the connector's engines live on.
        store: opens the history store (only for an instance other than the sandbox).
        environ: where credentials and endpoints are read (default: ``os.environ``).
    """

    def __init__(
        self,
        connector: Connector,
        background: BackgroundLoop,
        store: Callable[[], HistoryStore],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._connector = connector
        self._background = background
        self._store = store
        self._environ = environ
        self._schemas: dict[str, Mapping[str, Table]] = {}
        self._lock = threading.Lock()

    def target(self, instance: str) -> Target:
        """Resolve an instance name (``sandbox`` or a connected instance id)."""
        return resolve_target(instance, self._store, self._environ)

    def target_of(self, record: ExecutionRecord) -> Target:
        """Where a recorded execution ran."""
        name = str((record.options or {}).get("target") or record.instance_id)
        return embedded_sandbox() if name == SANDBOX else self.target(name)

    def tables(self, target: Target) -> Mapping[str, Table]:
        """The instance's own schema (``GET /dataSources``, read once per session and instance).

        Access and connection errors raise: the execution would meet them too, so the user hears
        of them once, before anything is recorded. A schema AMC serves in an unexpected shape falls
        back to the bundled one: the checks must never block on it.
        """
        if target.complete_schema:
            return TABLES
        with self._lock:
            if target.instance_id not in self._schemas:
                engine = self._background.run(_on_loop(self._connector.engine, target))
                items = self._background.run(engine.client.list_data_sources(target.ref))
                try:
                    self._schemas[target.instance_id] = tables_from_data_sources(items) or TABLES
                except (KeyError, TypeError, AttributeError, ValueError) as error:
                    logger.warning("The schema of %s is not in the expected shape (%s); checking against the bundled one", target.instance_id, error)
                    self._schemas[target.instance_id] = TABLES
            return self._schemas[target.instance_id]

    def connect(self, instance_id: str, *, advertiser_id: str, marketplace_id: str, name: str | None = None) -> dict[str, Any]:
        """Check that the credentials reach ``instance_id`` and remember it (never the secrets).

        Raises:
            ConfigurationError: credentials missing; AccessDeniedError / AuthenticationError from AMC.
        """
        credentials = Credentials.from_env(self._environ)
        endpoints = Endpoints.from_env(self._environ)
        probe = Target(
            name=instance_id,
            ref=InstanceRef(instance_id, advertiser_id, marketplace_id),
            instance_type="STANDARD",
            endpoints=endpoints,
            credentials=credentials,
        )
        engine = self._background.run(_on_loop(self._connector.engine, probe))
        instances = self._background.run(engine.client.list_instances(advertiser_id, marketplace_id))
        found = next((i for i in instances if i.get("instanceId") == instance_id), None)
        if found is None:
            known = ", ".join(sorted(str(i.get("instanceId")) for i in instances)) or "none"
            raise ConfigurationError(
                f"AMC account {advertiser_id} has no instance {instance_id!r} (it has: {known}).",
                hint="Check the instance id in the AMC console, and that advertiser_id is the account's entity id (ENTITY...).",
            )
        instance_type = str(found.get("instanceType") or "STANDARD")
        store = self._store()
        store.save_account(advertiser_id, marketplace_id)
        display_name = name or found.get("instanceName")
        store.save_instance(
            instance_id,
            entity_id=advertiser_id,
            marketplace_id=marketplace_id,
            api_url=endpoints.api_url,
            instance_type=instance_type,
            name=display_name,
        )
        with self._lock:
            self._schemas.pop(instance_id, None)
        return {"instance_id": instance_id, "instance_type": instance_type, "api_url": endpoints.api_url, "name": display_name}

    def instances(self) -> pd.DataFrame:
        """The embedded sandbox and every connected instance."""
        return instances_frame(embedded_sandbox(), self._store().list_instances())

    def schema(self, table: str | None = None, *, instance: str = SANDBOX) -> pd.DataFrame:
        """Tables (or one table's columns) of an instance's schema."""
        target = self.target(instance)
        return schema_frame(self.tables(target), table, target.instance_id)


async def _on_loop(make: Callable[[Target], Any], target: Target) -> Any:
    """Call ``make(target)`` on the loop (engines are built and kept there)."""
    return make(target)
