"""A serial line on loopback: two pseudo-terminals joined like a null-modem cable.

Each end is a real terminal device (``/dev/pts/N``) that a serial client opens by path with
its usual settings, as it would ``/dev/ttyUSB0``: what the holder of one end writes, the
holder of the other reads. One pseudo-terminal pair alone would not do, as its master side has
no path to open. This is what ``socat pty,raw,echo=0 pty,raw,echo=0`` does, without socat.

Pseudo-terminals carry bytes, not bits: baud rate and stop bits are accepted and have no
effect, and Linux refuses parity on them (``tcsetattr``: EINVAL), so a line on loopback runs
without parity (8N2, the Modbus serial line's alternative to even parity).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import tty


class NullModem:
    """Two joined terminal ends, ``near`` and ``far``, served by the running event loop."""

    def __init__(self) -> None:
        self._masters: list[int] = []
        self._slaves: list[int] = []
        paths = []
        for _ in range(2):
            master, slave = pty.openpty()
            tty.setraw(slave)  # no echo nor line editing before a client configures the end
            os.set_blocking(master, False)
            self._masters.append(master)
            # held open, so that a master never reads end-of-file while no client has its end
            self._slaves.append(slave)
            paths.append(os.ttyname(slave))
        self.near, self.far = paths
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        a, b = self._masters
        self._loop.add_reader(a, self._carry, a, b)
        self._loop.add_reader(b, self._carry, b, a)

    @staticmethod
    def _carry(source: int, sink: int) -> None:
        try:
            data = os.read(source, 4096)
        except OSError:
            return  # nothing there after all, or an end closed under us
        # a full far end (nobody reading it) loses bytes, as an unplugged line would
        with contextlib.suppress(BlockingIOError, InterruptedError):
            os.write(sink, data)

    def close(self) -> None:
        if self._loop is not None:
            for master in self._masters:
                self._loop.remove_reader(master)
            self._loop = None
        for fd in self._masters + self._slaves:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._masters.clear()
        self._slaves.clear()
