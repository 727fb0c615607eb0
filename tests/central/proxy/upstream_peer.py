"""A raw upstream CSMS on loopback that records every frame and handshake, byte for byte."""

from __future__ import annotations

import asyncio
import contextlib
import http
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

WAIT = 10.0


@dataclass
class UpstreamLink:
    """One station's link as the upstream saw it."""

    path: str
    subprotocol: str | None
    authorization: str | None
    websocket: ServerConnection
    received: list[str] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def frame(self, index: int) -> str:
        """The ``index``-th frame received (waiting for it)."""
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.received) > index), WAIT)
        return self.received[index]

    async def send(self, text: str) -> None:
        await self.websocket.send(text)


@dataclass
class RawUpstream:
    url: str
    links: list[UpstreamLink] = field(default_factory=list)
    refuse_with: http.HTTPStatus | None = None
    connected: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def link(self, index: int = 0) -> UpstreamLink:
        async with self.connected:
            await asyncio.wait_for(self.connected.wait_for(lambda: len(self.links) > index), WAIT)
        return self.links[index]


@contextlib.asynccontextmanager
async def raw_upstream(
    ssl_context: ssl.SSLContext | None = None, port: int = 0
) -> AsyncIterator[RawUpstream]:
    """Serve the recording upstream on 127.0.0.1 (both OCPP versions)."""
    upstream = RawUpstream("")

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if upstream.refuse_with is not None:
            return connection.respond(upstream.refuse_with, "no\n")
        return None

    async def handler(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        link = UpstreamLink(
            websocket.request.path,
            websocket.subprotocol,
            websocket.request.headers.get("Authorization"),
            websocket,
        )
        async with upstream.connected:
            upstream.links.append(link)
            upstream.connected.notify_all()
        with contextlib.suppress(ConnectionClosed):
            async for message in websocket:
                assert isinstance(message, str)
                async with link.arrived:
                    link.received.append(message)
                    link.arrived.notify_all()

    server: Server = await serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=[Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")],
        process_request=process_request,
        compression=None,
        ssl=ssl_context,
    )
    bound = next(iter(server.sockets)).getsockname()[1]
    scheme = "wss" if ssl_context is not None else "ws"
    upstream.url = f"{scheme}://127.0.0.1:{bound}/ocpp"
    try:
        yield upstream
    finally:
        server.close()
        await server.wait_closed()
