"""Serve the sandbox over HTTP with uvicorn (loopback by default).

``run()`` serves in the foreground (``amc-magic sandbox serve``); :class:`ServedSandbox` serves from a
background thread on a free port, for tests and notebooks that want a real socket::

    with ServedSandbox(SandboxConfig()) as served:
        httpx.get(f"{served.base_url}/amc/accounts", ...)
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from ..errors import ConfigurationError, TransportError
from .api import Database
from .app import Sandbox
from .config import SandboxConfig

_START_TIMEOUT_SECONDS = 10.0


def run(
    host: str = "127.0.0.1",
    port: int = 8765,
    config: SandboxConfig | None = None,
    *,
    database: Database | None = None,
    listening: socket.socket | None = None,
) -> None:
    """Serve the sandbox until interrupted: the AMC API at the root, Login with Amazon at ``/auth/o2/token``.

    ``listening`` is a socket :func:`listen` made already (``host`` and ``port`` are then unused).

    Raises:
        ConfigurationError: ``host:port`` cannot be listened on (taken, not this machine's, out of range).
    """
    listening = listening or listen(host, port)
    sandbox = Sandbox(config, database=database)
    uvicorn.Server(uvicorn.Config(sandbox.app, log_level="info")).run(sockets=[listening])


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (IPv4 or IPv6), before anything else is started.

    Raises:
        ConfigurationError: the address cannot be listened on, with the reason.
    """
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"Port {port} is not a TCP port.", hint="Pass --port with a number from 1 to 65535 (0: any free port).")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(128)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigurationError(
            f"Cannot listen on {host}:{port}: {reason}.",
            hint="Pass --port with a free port (or stop what uses this one), and --host with an address of this machine.",
        ) from None
    return listening


class ServedSandbox:
    """A sandbox served by uvicorn from a background thread, as a context manager.

    Args:
        config: the sandbox's configuration.
        database: the query database (see :class:`~amc_magic.sandbox.app.Sandbox`).
        host: the address to bind; loopback by default.

    Attributes:
        sandbox: the served :class:`~amc_magic.sandbox.app.Sandbox` (for ``calls``, ``wait_idle``).
        base_url: ``http://host:port`` once entered.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        database: Database | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.sandbox = Sandbox(config, database=database)
        self._host = host
        self._server = uvicorn.Server(uvicorn.Config(self.sandbox.app, log_level="warning", lifespan="on"))
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def __enter__(self) -> ServedSandbox:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, 0))
        port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="amc-sandbox-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise TransportError(f"The sandbox server did not start on {self._host}.")
            time.sleep(0.01)
        self.base_url = f"http://{self._host}:{port}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT_SECONDS)
