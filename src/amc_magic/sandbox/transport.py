"""An httpx transport that calls the sandbox app in-process, as if over a connection.

It is :class:`httpx.ASGITransport` plus one translation: when the sandbox drops a connection on
purpose (a fault), the app raises ``ConnectionAbortedError`` after starting the response; over a
socket the server aborts the connection and httpx raises :class:`httpx.RemoteProtocolError`, so this
transport raises the same.

::

    sandbox = Sandbox(SandboxConfig())
    async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app), base_url="http://sandbox") as client:
        ...
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp


class SandboxTransport(httpx.AsyncBaseTransport):
    """Sends requests straight into an ASGI app (the sandbox), no socket involved."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionAbortedError:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response.", request=request
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()
