"""A TCP proxy a test can cut: an engine outage without stopping the shared engine.

    async with FaultProxy("127.0.0.1", 5432) as proxy:
        url = proxy.rewrite(postgres_url)   # the same database, reached through the proxy
        ...
        proxy.cut()        # every open connection is reset, new ones are refused
        ...
        proxy.restore()    # connections are accepted and forwarded again

While cut, the listening socket is closed, so a client gets ``ConnectionRefusedError`` exactly
as from a stopped server; open connections are aborted (RST), as when a server is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType
from urllib.parse import urlsplit


class FaultProxy:
    """Forwards ``127.0.0.1:<port>`` to ``host:target_port`` until :meth:`cut`."""

    def __init__(self, host: str, target_port: int) -> None:
        self.host = host
        self.target_port = target_port
        self.port = _free_port()
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> FaultProxy:
        await self._listen()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close_all()

    def rewrite(self, url: str) -> str:
        """``url`` pointed at the proxy instead of the engine (user, path and query kept)."""
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)
        auth = netloc[0] + "@" if len(netloc) == 2 else ""
        return parts._replace(netloc=f"{auth}127.0.0.1:{self.port}").geturl()

    @property
    def is_cut(self) -> bool:
        return self._server is None

    def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()

    def restore(self) -> None:
        """Accept and forward connections again (on the same port)."""
        if self._server is None:
            asyncio.get_running_loop().create_task(self._listen())

    async def restored(self) -> None:
        """:meth:`restore`, awaited until the port listens again."""
        if self._server is None:
            await self._listen()

    async def _listen(self) -> None:
        for _ in range(50):  # the port may linger a moment after a cut
            try:
                self._server = await asyncio.start_server(
                    self._accept, "127.0.0.1", self.port, reuse_address=True
                )
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the fault proxy could not listen on {self.port} again")

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            _reset(client_w)
            return
        if self._server is None:  # cut while connecting
            _reset(client_w)
            _reset(server_w)
            return
        self._writers |= {client_w, server_w}
        pumps = [
            asyncio.create_task(_pump(client_r, server_w)),
            asyncio.create_task(_pump(server_r, client_w)),
        ]
        self._links.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
                self._links.discard(pump)
            for writer in (client_w, server_w):
                self._writers.discard(writer)
                writer.close()

    async def _close_all(self) -> None:
        self.cut()
        for link in list(self._links):
            link.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort with RST (SO_LINGER 0), as a killed server's kernel would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
    writer.transport.abort()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
