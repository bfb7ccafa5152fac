"""The Jupyter server extension app: its settings, routes and lifecycle.

Configure it like any Jupyter server setting, e.g. in ``jupyter_server_config.py``::

    c.AmcMagicServer.database_url = "postgresql://analyst@db.internal/amc"   # default: AMC_MAGIC_DB_URL
    c.AmcMagicServer.orphan_after = 300      # seconds without a poll before the server takes over
    c.AmcMagicServer.poller_enabled = False  # only the API and the dashboard

or on the command line (``jupyter lab --AmcMagicServer.orphan_after=300``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Int, Unicode

from amc_magic.history import HistoryStore
from amc_magic.server.dashboard import dashboard_handlers
from amc_magic.server.handlers import POLLER_SETTING, SERVICE_SETTING, api_handlers
from amc_magic.server.poller import OrphanPoller
from amc_magic.server.service import ServerService


class AmcMagicServer(ExtensionApp):
    """amc-magic in the Jupyter server: REST API, dashboard and orphan poller."""

    name = "amc_magic"
    description = "amc-magic: executions dashboard, REST API and orphan poller"
    load_other_extensions = True

    database_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="History database (SQLAlchemy URL). Default: AMC_MAGIC_DB_URL, else the SQLite file the kernels use.",
    )
    poller_enabled = Bool(True, config=True, help="Finish executions that no kernel polls any more.")
    orphan_after = Float(
        120.0, config=True, help="Seconds without a status poll after which the poller takes over a live execution."
    )
    poll_interval = Float(30.0, config=True, help="Seconds between the poller's looks for orphaned executions.")
    lease_seconds = Float(
        300.0, config=True, help="Lifetime of the poller's lease on an execution (renewed every third of it)."
    )
    max_followers = Int(10, config=True, help="Orphaned executions the poller follows at once.")

    service: ServerService | None = None
    poller: OrphanPoller | None = None

    def initialize_settings(self) -> None:
        """Build the shared service and the poller; nothing opens the database yet."""
        url = self.database_url
        self.service = ServerService(lambda: HistoryStore.from_url(url))
        self.poller = OrphanPoller(
            self.service,
            orphan_after=self.orphan_after,
            interval=self.poll_interval,
            lease_seconds=self.lease_seconds,
            max_followers=self.max_followers,
        )
        self.settings[SERVICE_SETTING] = self.service
        self.settings[POLLER_SETTING] = self.poller if self.poller_enabled else None

    def initialize_handlers(self) -> None:
        """``/amc-magic/`` and ``/amc-magic/api/...`` (the server prefixes its base URL)."""
        self.handlers.extend([*api_handlers("/"), *dashboard_handlers("/")])

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Start the poller once the server's loop runs."""
        if self.poller_enabled and self.poller is not None:
            self.poller.start()
            self.log.info(
                "amc-magic: orphan poller started (orphan_after=%gs, interval=%gs)", self.orphan_after, self.poll_interval
            )

    async def stop_extension(self) -> None:
        """Stop the poller (executions keep running on AMC) and close the store and session."""
        if self.poller is not None:
            await self.poller.stop()
        if self.service is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.service.close)
