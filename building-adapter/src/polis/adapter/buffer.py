"""Durable local buffer of encoded readings (SQLite in WAL mode).

Batches of line-protocol lines are appended in order and removed only after InfluxDB has
accepted them, so readings survive an InfluxDB outage and a SIGKILL of the adapter. Each
commit is a transaction in the write-ahead log: a killed process loses nothing that was
committed; ``synchronous=FULL`` extends that to power loss.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


class BufferFull(Exception):
    """The buffer holds its maximum number of readings; the batch was not stored."""


@dataclass(frozen=True, slots=True)
class BufferedBatch:
    id: int
    lines: list[str]


class DurableBuffer:
    def __init__(self, path: Path | str, max_readings: int, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_readings = max_readings
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, payload TEXT NOT NULL)"
        )
        row = self._db.execute("SELECT COALESCE(SUM(n), 0) FROM batches").fetchone()
        self._depth = int(row[0])

    @property
    def depth(self) -> int:
        """Readings currently buffered."""
        return self._depth

    def append(self, lines: list[str]) -> int:
        """Store one batch durably; returns its id. Raises BufferFull at the bound."""
        if not lines:
            raise ValueError("empty batch")
        if self._depth + len(lines) > self.max_readings:
            raise BufferFull(
                f"buffer {self.path} holds {self._depth} of {self.max_readings} readings"
            )
        cursor = self._db.execute(
            "INSERT INTO batches (n, payload) VALUES (?, ?)", (len(lines), "\n".join(lines))
        )
        self._depth += len(lines)
        return int(cursor.lastrowid or 0)

    def oldest(self, limit: int = 1) -> list[BufferedBatch]:
        rows = self._db.execute(
            "SELECT id, payload FROM batches ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [BufferedBatch(int(i), payload.split("\n")) for i, payload in rows]

    def remove(self, batch_ids: list[int]) -> None:
        if not batch_ids:
            return
        marks = ",".join("?" * len(batch_ids))
        self._db.execute("BEGIN")
        removed = self._db.execute(
            f"SELECT COALESCE(SUM(n), 0) FROM batches WHERE id IN ({marks})", batch_ids
        ).fetchone()[0]
        self._db.execute(f"DELETE FROM batches WHERE id IN ({marks})", batch_ids)
        self._db.execute("COMMIT")
        self._depth -= int(removed)

    def close(self) -> None:
        self._db.close()
