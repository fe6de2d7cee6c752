"""SQL that differs between PostgreSQL (production) and SQLite (development and tests).

``db_now_s()`` is the database server's clock in epoch seconds. Replicas coordinate on it
(lease expiry, delivery due times, rate-limit refills) rather than on their own clocks, which
may drift apart; it is stable within one statement on both backends.

``insert_for`` picks the dialect's INSERT, whose ``on_conflict_do_update`` /
``on_conflict_do_nothing`` make the atomic upserts the coordination code is built on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class db_now_s(FunctionElement[float]):
    """Epoch seconds on the database server's clock."""

    type = Float()
    inherit_cache = True


@compiles(db_now_s, "postgresql")
def _now_postgresql(element: db_now_s, compiler: SQLCompiler, **kw: Any) -> str:
    # statement_timestamp(): the same instant everywhere in one statement.
    return "CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)"


@compiles(db_now_s, "sqlite")
def _now_sqlite(element: db_now_s, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday('now') has millisecond resolution and is fixed for the statement.
    return "((julianday('now') - 2440587.5) * 86400.0)"


Insert = postgresql.Insert | sqlite.Insert


def insert_for(dialect: Dialect, table: Table | Any) -> Insert:
    """The dialect's INSERT for ``table`` (a Table or a mapped class)."""
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    if dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the gateway runs on PostgreSQL or SQLite, not {dialect.name}")
