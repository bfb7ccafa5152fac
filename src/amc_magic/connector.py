"""From a target to the engine that reaches it, and the embedded sandbox those engines may share.

One engine (and HTTP client) per endpoint and credentials; the embedded sandbox is built on
first use and owned here, so one object starts and stops everything a session talks to. Engines
are made by an injectable factory: tests run a session on a simulated clock or a scripted
transport without touching real time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .wallclock import utc_now

if TYPE_CHECKING:
    import httpx

    from .engine import Engine
    from .instances import Target

EngineFactory = Callable[["Target", "httpx.AsyncBaseTransport | None"], "Engine"]
"""Builds the engine for a target, given the transport to use (the embedded sandbox's, or None)."""


def default_engine_factory(now: Callable[[], datetime] = utc_now) -> EngineFactory:
    """Engines over :class:`~amc_magic.client.AmcClient`, polling the embedded sandbox densely."""

    def build(target: Target, transport: httpx.AsyncBaseTransport | None) -> Engine:
        from .client import AmcClient
        from .engine import Engine, PollSchedule

        client = AmcClient(target.credentials, endpoints=target.endpoints, transport=transport)
        # In-process status calls cost microseconds: poll the embedded sandbox densely.
        schedule = PollSchedule(minimum=0.05, ratio=0.02, ceiling=5.0) if target.embedded else None
        return Engine(client, schedule=schedule, now=now)

    return build


class Connector:
    """The engines of a session, and the embedded sandbox.

    Args:
        engine_factory: builds an engine per endpoint and credentials.
        sandbox_app: the embedded sandbox's ASGI app (default: built on first use, and owned).
    """

    def __init__(self, engine_factory: EngineFactory | None = None, *, sandbox_app: Any = None) -> None:
        self._factory = engine_factory or default_engine_factory()
        self._sandbox_app = sandbox_app
        self._owns_sandbox = False
        self._engines: dict[tuple[str, str, str, bool], Engine] = {}
        self._lock = threading.Lock()

    def engine(self, target: Target) -> Engine:
        """The engine for ``target``'s endpoint and credentials (call on the session's loop)."""
        engine = self._engines.get(target.client_key)
        if engine is None:
            transport = None
            if target.embedded:
                from .sandbox.transport import SandboxTransport

                transport = SandboxTransport(self.sandbox_app())
            engine = self._factory(target, transport)
            self._engines[target.client_key] = engine
        return engine

    def sandbox_app(self) -> Any:
        """The embedded sandbox's ASGI app, built on first use."""
        with self._lock:
            if self._sandbox_app is None:
                from .sandbox.app import create_app

                self._sandbox_app = create_app()
                self._owns_sandbox = True
            return self._sandbox_app

    def embedded_data_days(self) -> tuple[date, date]:
        """The first and last day of the embedded sandbox's synthetic data."""
        data = self.sandbox_app().state.sandbox.api.data
        return data.first_day, data.last_day

    async def aclose(self) -> None:
        """Close every HTTP client and let an owned sandbox finish its work (on the loop)."""
        if self._owns_sandbox and self._sandbox_app is not None:
            await self._sandbox_app.state.sandbox.wait_idle()
        engines = list(self._engines.values())
        self._engines.clear()
        for engine in engines:
            await engine.client.aclose()

    def close(self) -> None:
        """Release an owned sandbox (after :meth:`aclose`)."""
        with self._lock:
            if self._owns_sandbox and self._sandbox_app is not None:
                self._sandbox_app.state.sandbox.close()
            self._sandbox_app = None
            self._owns_sandbox = False
