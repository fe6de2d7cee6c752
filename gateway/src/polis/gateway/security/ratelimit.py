"""Rate limits per key, shared by every replica: token buckets in the database.

Each key has a bucket of ``burst`` tokens refilled at ``rate`` per second; a request takes one.
Taking is one atomic upsert (``INSERT … ON CONFLICT … DO UPDATE … RETURNING``): the refill, the
take and the answer are computed by the database on its own clock, under the row's lock, so
N requests arriving at once on any number of replicas get exactly as many tokens as there are.

If the database cannot be reached the limiter falls back to a bucket in this process's memory,
so the API keeps its limits (per replica) while the database is away.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Engine, Float, String, bindparam, case, delete
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.dml import ReturningInsert

from polis.common.logging import get_logger
from polis.gateway.db.models import RateBucket
from polis.gateway.db.sql import db_now_s, insert_for

log = get_logger(__name__)


@dataclass(slots=True)
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One bucket per key in memory: ``rate`` tokens per second up to ``burst``."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str, now: float, rate: float | None = None) -> float:
        """Take a token; returns 0.0 when allowed, else the seconds until one is available."""
        per_s = rate or self.rate
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets.clear()
            bucket = self._buckets[key] = Bucket(float(self.burst), now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * per_s)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / per_s


def take_statement(dialect: Dialect, now: ColumnElement[float]) -> ReturningInsert[float, bool]:
    """The upsert that takes a token from bucket ``:key`` (refilled at ``:rate`` up to
    ``:burst``) at ``now``, returning the tokens left and whether one was granted."""
    b = RateBucket
    rate = bindparam("rate", type_=Float)
    burst = bindparam("burst", type_=Float)
    elapsed = case((now > b.updated_s, now - b.updated_s), else_=0.0)
    filled = b.tokens + elapsed * rate
    refilled = case((filled > burst, burst), else_=filled)
    allowed = refilled >= 1.0
    first = insert_for(dialect, b).values(
        key=bindparam("key", type_=String),
        tokens=burst - 1.0,
        updated_s=now,
        rate=rate,
        burst=burst,
        granted=True,
    )
    # In DO UPDATE, the bucket's columns are the row as it was: refill, then take.
    return first.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "tokens": case((allowed, refilled - 1.0), else_=refilled),
            "granted": allowed,
            "updated_s": case((now > b.updated_s, now), else_=b.updated_s),
            "rate": rate,
            "burst": burst,
        },
    ).returning(b.tokens, b.granted)


Take = ReturningInsert[float, bool]


class _Pooled:
    """Takes through the engine's pool (PostgreSQL: row locks let takes of different keys
    run in parallel, one connection each)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def close(self) -> None:
        pass  # the engine's pool is closed with the engine

    def run(self, statement: Take, params: dict[str, object]) -> tuple[float, bool]:
        with self._engine.begin() as connection:
            row = connection.execute(statement, params).one()
        return float(row.tokens), bool(row.granted)


class _SqliteWriter:
    """Takes on SQLite through one connection of their own, with the statements compiled
    once: about 35 µs a take instead of 100 µs through the pool. SQLite has one writer at a
    time, and a writer that finds the file locked sleeps in steps of milliseconds, so this
    process's takes queue on a lock instead."""

    def __init__(self, engine: Engine) -> None:
        self._dialect = engine.dialect
        proxy = engine.raw_connection()  # opened with the engine's pragmas (WAL, NORMAL)
        proxy.detach()  # this limiter's own, for the process's lifetime
        # The pysqlite driver's connection (SQLAlchemy types it as any DB-API connection).
        connection = cast(sqlite3.Connection, proxy.dbapi_connection)
        # Autocommit: the one upsert is its own transaction, with no BEGIN or COMMIT around it.
        connection.isolation_level = None
        self._connection = connection
        self._lock = threading.Lock()
        self._compiled: dict[int, tuple[str, tuple[str, ...], dict[str, object]]] = {}

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def run(self, statement: Take, params: dict[str, object]) -> tuple[float, bool]:
        sql, order, defaults = self._compile(statement)
        values = [params[name] if name in params else defaults[name] for name in order]
        with self._lock:
            tokens, granted = self._connection.execute(sql, values).fetchone()
        return float(tokens), bool(granted)

    def _compile(self, statement: Take) -> tuple[str, tuple[str, ...], dict[str, object]]:
        found = self._compiled.get(id(statement))
        if found is None:
            compiled = statement.compile(dialect=self._dialect)
            found = (str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))
            self._compiled[id(statement)] = found
        return found


class SharedTokenBuckets:
    """Token buckets in the ``rate_buckets`` table (blocking; call from a worker thread)."""

    def __init__(self, engine: Engine, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._engine = engine
        self.rate = rate
        self.burst = burst
        self._fallback = TokenBuckets(rate, burst)
        self._degraded = False
        # Built once: on the request path only the parameters change.
        self._take_now = take_statement(engine.dialect, db_now_s())
        self._take_at = take_statement(engine.dialect, bindparam("now", type_=Float))
        self._writer: _Pooled | _SqliteWriter = (
            _SqliteWriter(engine) if engine.dialect.name == "sqlite" else _Pooled(engine)
        )

    def take(self, key: str, rate: float | None = None, now: float | None = None) -> float:
        """Take a token; 0.0 when allowed, else the seconds until one is available.

        ``now`` (epoch seconds) replaces the database's clock, for tests.
        """
        per_s = rate or self.rate
        try:
            tokens, granted = self._take(key, per_s, now)
        except (SQLAlchemyError, sqlite3.Error):
            if not self._degraded:
                log.warning("rate limits unreachable in the database; limiting per replica")
                self._degraded = True
            return self._fallback.take(key, time.monotonic(), per_s)
        if self._degraded:
            log.info("rate limits shared through the database again")
            self._degraded = False
        return 0.0 if granted else (1.0 - tokens) / per_s

    def _take(self, key: str, rate: float, now: float | None) -> tuple[float, bool]:
        params: dict[str, object] = {"key": key, "rate": rate, "burst": float(self.burst)}
        statement = self._take_now
        if now is not None:
            statement, params["now"] = self._take_at, now
        return self._writer.run(statement, params)

    def close(self) -> None:
        """Close the limiter's own connection, if it has one (on shutdown)."""
        self._writer.close()

    def prune(self) -> int:
        """Delete buckets that have refilled completely (a fresh bucket is the same); returns
        how many. Run by the leader now and then, so idle keys do not pile up."""
        b = RateBucket
        full_at = b.updated_s + (b.burst - b.tokens) / b.rate
        with self._engine.begin() as connection:
            result = connection.execute(delete(b).where(full_at <= db_now_s()))
        return result.rowcount


def retry_after_header(wait_s: float) -> str:
    """Whole seconds, at least one, as Retry-After wants."""
    return str(max(1, math.ceil(wait_s)))
