"""Append-only journal of readings accepted but not yet written to InfluxDB or the buffer.

The sink keeps the readings of the current flush interval in memory. Each batch submitted is
also appended to a journal segment with one ``write()``: the kernel keeps it when the process
is killed (SIGKILL, OOM), so a restarted adapter moves the segments into the durable buffer
before polling again. A flush rotates to a new segment and deletes the old one once its
readings are in InfluxDB or in the buffer. A reading may then be written twice after a kill,
never lost; InfluxDB keeps one point per series and time, so a repeat changes nothing.

Segments are not fsynced: power loss can cost up to one flush interval, the buffer itself
(SQLite, ``synchronous=FULL``) is what survives power loss.
"""

from __future__ import annotations

import os
from pathlib import Path

SEGMENT_GLOB = "pending-*.log"


class PendingJournal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        existing = self.segments()
        self._seq = int(existing[-1].stem.split("-")[1]) + 1 if existing else 1
        self._fd = -1
        self._path = self._open_next()

    def segments(self) -> list[Path]:
        """Segments on disk, oldest first (the sequence number is zero-padded)."""
        return sorted(self.directory.glob(SEGMENT_GLOB))

    def recover(self) -> tuple[list[Path], list[str]]:
        """Segments left by a previous process and their complete lines, in order.

        A line cut short by a kill in the middle of a ``write()`` has no newline and is left
        out: it was never acknowledged to anyone.
        """
        old = [path for path in self.segments() if path != self._path]
        lines: list[str] = []
        for path in old:
            text = path.read_text(encoding="utf-8", errors="replace")
            complete, _, _partial = text.rpartition("\n")
            if complete:
                lines.extend(complete.split("\n"))
        return old, lines

    def append(self, lines: list[str]) -> None:
        if lines:
            os.write(self._fd, ("\n".join(lines) + "\n").encode())

    def rotate(self) -> Path:
        """Close the current segment and start a new one; returns the closed segment."""
        closed = self._path
        os.close(self._fd)
        self._path = self._open_next()
        return closed

    @staticmethod
    def discard(segments: list[Path]) -> None:
        for path in segments:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the current segment, removing it when nothing is in it."""
        if self._fd < 0:
            return
        os.close(self._fd)
        self._fd = -1
        if self._path.exists() and self._path.stat().st_size == 0:
            self._path.unlink()

    def _open_next(self) -> Path:
        path = self.directory / f"pending-{self._seq:012d}.log"
        self._seq += 1
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        return path
