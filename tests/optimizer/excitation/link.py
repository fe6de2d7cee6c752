"""The network between the optimizer and the adapter, as a TCP relay a test slows down or
cuts: replies delivered late (in order, after ``reply_delay_s``), or every connection reset
and new ones refused while cut. The server behind it is the real one; only the path is
worse, as a congested or broken network makes it."""

from __future__ import annotations

import asyncio
import contextlib
import time


class Link:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.reply_delay_s = 0.0
        self._upstream = (host, upstream_port)
        self._host = host
        self._cut = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._queued = 0  # reply chunks received and not yet delivered

    @property
    def address(self) -> str:
        assert self._server is not None, "start the link first"
        port = self._server.sockets[0].getsockname()[1]
        return f"{self._host}:{port}"

    @property
    def idle(self) -> bool:
        """No reply is held back."""
        return self._queued == 0

    async def start(self) -> Link:
        self._server = await asyncio.start_server(self._accept, self._host, 0)
        return self

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Reset every connection and refuse new ones until ``restore``."""
        self._cut = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self._cut = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        # each pipe closes the side it writes to when its own source ends, so the other
        # pipe's source ends too
        await asyncio.gather(
            self._pipe(reader, up_writer, delayed=False),
            self._pipe(up_reader, writer, delayed=True),
            return_exceptions=True,
        )
        self._writers -= {writer, up_writer}

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delayed: bool
    ) -> None:
        """Copy until the source closes; replies each after the delay set when it came."""
        queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if chunk is None:
                    return
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                self._queued -= delayed
                if not writer.transport.is_closing():
                    writer.write(chunk)
                    await writer.drain()

        sender = asyncio.create_task(deliver())
        try:
            while chunk := await reader.read(65536):
                self._queued += delayed
                delay = self.reply_delay_s if delayed else 0.0
                queue.put_nowait((time.monotonic() + delay, chunk))
        finally:
            queue.put_nowait((0.0, None))  # what was read is still delivered, late
            with contextlib.suppress(ConnectionError):
                await sender
            self._queued -= delayed * (queue.qsize() - 1 if not queue.empty() else 0)
            writer.transport.abort()
