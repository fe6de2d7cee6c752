"""InfluxDB 2.x access for every Polis service; the only module that imports influxdb-client.

Writes go in batches (never one point per request). Queries are Flux with parameters: every
value from a caller is bound in a ``params`` record encoded by :func:`flux_literal` from its
Python type (strings escaped, instants and durations as Flux literals), and the query body only
ever refers to ``params.<name>``. InfluxDB OSS ignores the API's own ``params`` field (a Cloud
feature), hence the record. Tag keys and aggregate functions are checked against fixed sets
before they appear in a query.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.bucket_retention_rules import BucketRetentionRules
from influxdb_client.domain.dialect import Dialect
from influxdb_client.domain.task_create_request import TaskCreateRequest
from influxdb_client.domain.write_precision import WritePrecision

from polis.common.lineprotocol import Sample, encode, to_ns
from polis.common.settings import PolisSettings

__all__ = [
    "READING",
    "TAG_KEYS",
    "Aggregate",
    "InfluxError",
    "InfluxStore",
    "Row",
    "Sample",
    "Suffix",
    "to_ns",
]

READING = "reading"
# The bounded tag set of the raw bucket (DESIGN.md: InfluxDB schema).
TAG_KEYS = frozenset(
    {"municipality", "neighbourhood", "building", "device", "point", "quantity", "unit", "quality"}
)
_EXTRA_TAG_KEYS = frozenset({"load", "meter", "source", "plan"})
DEFAULT_BATCH = 5_000
# WritePrecision.NS is annotated as str, the write API wants the enum type.
_NS = cast(WritePrecision, WritePrecision.NS)


class InfluxError(Exception):
    """InfluxDB could not be reached or refused a request."""


class Aggregate(StrEnum):
    MEAN = "mean"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    FIRST = "first"
    COUNT = "count"
    SPREAD = "spread"


@dataclass(frozen=True, slots=True)
class Row:
    time: datetime
    value: float
    tags: Mapping[str, str]


def _check_tag_keys(keys: Iterable[str]) -> None:
    unknown = set(keys) - TAG_KEYS - _EXTRA_TAG_KEYS
    if unknown:
        raise ValueError(f"unknown tag key(s) {sorted(unknown)}; allowed: {sorted(TAG_KEYS)}")


def _check_identifier(name: str, what: str) -> None:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{what} {name!r} must be letters, digits and underscores")


class Suffix(str):
    """A tag filter matching values that end with this text (e.g. a point id's last part)."""

    __slots__ = ()


def _filters(tags: Mapping[str, str | Sequence[str]], params: dict[str, Any]) -> str:
    """Flux filter lines for tag equality (or a Suffix); values become params, keys are
    whitelisted."""
    _check_tag_keys(tags)
    lines = []
    for i, (key, value) in enumerate(sorted(tags.items())):
        if isinstance(value, Suffix):
            params[f"t{i}"] = str(value)
            lines.append(
                f'  |> filter(fn: (r) => strings.hasSuffix(v: r["{key}"], suffix: params.t{i}))'
            )
        elif isinstance(value, str):
            params[f"t{i}"] = value
            lines.append(f'  |> filter(fn: (r) => r["{key}"] == params.t{i})')
        else:
            values = list(value)
            params[f"t{i}"] = ",".join(values)
            # Sets of values travel as one joined param; Flux splits it back.
            lines.append(
                f'  |> filter(fn: (r) => contains(value: r["{key}"], '
                f'set: strings.split(v: params.t{i}, t: ",")))'
            )
    return "\n".join(lines)


class InfluxStore:
    """A connection to one org and bucket, with batched writes and typed queries."""

    def __init__(
        self,
        url: str,
        token: str,
        org: str,
        bucket: str,
        *,
        timeout_ms: int = 10_000,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.url = url
        self.org = org
        self.bucket = bucket
        self.batch_size = batch_size
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=timeout_ms)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        self._query = self._client.query_api()

    @classmethod
    def from_settings(cls, settings: PolisSettings, bucket: str | None = None) -> InfluxStore:
        return cls(
            settings.influx_url,
            settings.influx_token.get_secret_value(),
            settings.influx_org,
            bucket or settings.influx_bucket,
            timeout_ms=settings.influx_timeout_ms,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> InfluxStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- health and buckets -------------------------------------------------------------

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except Exception:
            return False

    def ensure_bucket(self, name: str, retention: timedelta | None = None) -> None:
        api = self._client.buckets_api()
        try:
            if api.find_bucket_by_name(name) is None:
                rules = (
                    [
                        BucketRetentionRules(
                            type="expire", every_seconds=int(retention.total_seconds())
                        )
                    ]
                    if retention
                    else []
                )
                api.create_bucket(bucket_name=name, retention_rules=rules, org=self.org)
        except InfluxDBError as error:
            raise InfluxError(f"cannot create bucket {name!r}: {error}") from error

    def delete_bucket(self, name: str) -> None:
        api = self._client.buckets_api()
        bucket = api.find_bucket_by_name(name)
        if bucket is not None:
            api.delete_bucket(bucket)

    # -- writes -----------------------------------------------------------------------------

    def write_lines(self, lines: Sequence[str], bucket: str | None = None) -> None:
        """Write encoded lines in batches of ``batch_size``; raises InfluxError on failure."""
        target = bucket or self.bucket
        for start in range(0, len(lines), self.batch_size):
            chunk = "\n".join(lines[start : start + self.batch_size])
            try:
                self._write.write(bucket=target, org=self.org, record=chunk, write_precision=_NS)
            except Exception as error:  # urllib3 and HTTP errors alike mean "not written"
                raise InfluxError(
                    f"write to {self.url} bucket {target!r} failed: {error}"
                ) from error

    def write(self, samples: Iterable[Sample], bucket: str | None = None) -> int:
        lines = [encode(sample) for sample in samples]
        self.write_lines(lines, bucket)
        return len(lines)

    # -- queries ----------------------------------------------------------------------------

    def _run(self, flux: str, params: dict[str, Any]) -> Iterator[dict[str, str]]:
        query = bind(flux, params)
        try:
            text = self._query.query_raw(query, org=self.org, dialect=_DIALECT)
            body = text.data.decode() if hasattr(text, "data") else str(text)
        except Exception as error:
            raise InfluxError(f"query on {self.url} failed: {error}") from error
        # Annotated CSV: tables are separated by blank lines and each starts with a header row.
        header: list[str] | None = None
        for record in csv.reader(io.StringIO(body)):
            if not record or not any(record):
                header = None
                continue
            if record[0].startswith("#"):
                continue
            if header is None:
                header = record
                continue
            yield dict(zip(header, record, strict=False))

    def records(self, flux: str, params: dict[str, Any]) -> Iterator[dict[str, str]]:
        """The CSV records of a query of the caller's own, by column name (``result``,
        ``_time``, ``_value`` and the tags it keeps). Values reach it only as ``params``
        (bound as in every other query); the text itself must be constant."""
        return self._run(flux, params)

    @staticmethod
    def _row(record: Mapping[str, str], tag_keys: Iterable[str]) -> Row:
        return Row(
            time=_parse_time(record["_time"]),
            value=float(record["_value"]),
            tags={key: record[key] for key in tag_keys if key in record},
        )

    def _select(
        self,
        start: datetime,
        stop: datetime,
        tags: Mapping[str, str | Sequence[str]],
        measurement: str,
        field: str,
        bucket: str | None,
        group_by: Sequence[str],
        tail: str,
        **extra: Any,
    ) -> tuple[str, dict[str, Any]]:
        """The query every reader shares: range, measurement and field, tag filters, grouping;
        ``tail`` is the reader's own Flux (it may use ``params.<name>`` of ``extra``)."""
        _check_identifier(field, "field")
        _check_tag_keys(group_by)
        params: dict[str, Any] = {
            "bucket": bucket or self.bucket,
            "start": start,
            "stop": stop,
            "measurement": measurement,
            "field": field,
            **extra,
        }
        flux = f"""import "strings"
from(bucket: params.bucket)
  |> range(start: params.start, stop: params.stop)
  |> filter(fn: (r) => r._measurement == params.measurement and r._field == params.field)
{_filters(tags, params)}
  |> group(columns: {_columns(group_by)})
{tail}"""
        return flux, params

    def _rows(self, query: tuple[str, dict[str, Any]], group_by: Sequence[str]) -> list[Row]:
        return [self._row(record, group_by) for record in self._run(*query)]

    def query_range(
        self,
        start: datetime,
        stop: datetime,
        tags: Mapping[str, str | Sequence[str]],
        *,
        measurement: str = READING,
        field: str = "value",
        bucket: str | None = None,
        group_by: Sequence[str] = ("point",),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Row]:
        """Raw rows in [start, stop), sorted by time within each group."""
        paging: dict[str, Any] = {}
        tail = '  |> sort(columns: ["_time"])'
        if limit is not None:
            paging = {"limit": int(limit), "offset": int(offset)}
            tail += "\n  |> limit(n: params.limit, offset: params.offset)"
        tail += f"\n  |> keep(columns: {_columns(['_time', '_value', *group_by])})"
        query = self._select(
            start, stop, tags, measurement, field, bucket, group_by, tail, **paging
        )
        return self._rows(query, group_by)

    def query_window(
        self,
        start: datetime,
        stop: datetime,
        tags: Mapping[str, str | Sequence[str]],
        every: timedelta,
        fn: Aggregate = Aggregate.MEAN,
        *,
        measurement: str = READING,
        field: str = "value",
        bucket: str | None = None,
        group_by: Sequence[str] = ("point",),
    ) -> list[Row]:
        """One row per window and group; the row's time is the window's start."""
        fn = Aggregate(fn)
        if every <= timedelta(0):
            raise ValueError("window length must be positive")
        tail = (
            f"  |> aggregateWindow(every: params.every, fn: {fn.value}, createEmpty: false, "
            f'timeSrc: "_start")\n  |> keep(columns: {_columns(["_time", "_value", *group_by])})'
        )
        query = self._select(
            start, stop, tags, measurement, field, bucket, group_by, tail, every=every
        )
        return self._rows(query, group_by)

    def last(
        self,
        tags: Mapping[str, str | Sequence[str]],
        *,
        since: timedelta = timedelta(days=30),
        now: datetime | None = None,
        measurement: str = READING,
        field: str = "value",
        bucket: str | None = None,
        group_by: Sequence[str] = ("point",),
    ) -> list[Row]:
        """The newest row of each group within ``since`` before ``now``."""
        stop = now or datetime.now(UTC)
        tail = f"  |> last()\n  |> keep(columns: {_columns(['_time', '_value', *group_by])})"
        query = self._select(
            stop - since,
            stop + timedelta(microseconds=1),
            tags,
            measurement,
            field,
            bucket,
            group_by,
            tail,
        )
        return self._rows(query, group_by)

    def count(
        self,
        start: datetime,
        stop: datetime,
        tags: Mapping[str, str | Sequence[str]],
        *,
        measurement: str = READING,
        field: str = "value",
        bucket: str | None = None,
    ) -> int:
        """How many rows match, over all groups."""
        query = self._select(
            start, stop, tags, measurement, field, bucket, (), "  |> group()\n  |> count()"
        )
        return sum(int(record["_value"]) for record in self._run(*query))

    # -- downsampling -------------------------------------------------------------------------

    def ensure_downsampling(self, source: str | None = None) -> list[str]:
        """Create the 15-minute and hourly views as InfluxDB tasks; returns their names.

        Cumulative counters keep their last value per window (so differences still give energy),
        everything else its mean. Re-running replaces the tasks, so the call is idempotent.
        """
        source = source or self.bucket
        names = []
        tasks = self._client.tasks_api()
        org_id = self._org_id()
        for suffix, lookback in (("15m", "30m"), ("1h", "2h")):
            target = f"{source}_{suffix}"
            self.ensure_bucket(target)
            name = f"polis-downsample-{source}-{suffix}"
            for existing in tasks.find_tasks(name=name):
                tasks.delete_task(existing.id)
            tasks.create_task(
                task_create_request=TaskCreateRequest(
                    flux=downsampling_flux(name, source, target, suffix, lookback),
                    org_id=org_id,
                    status="active",
                    description=f"Polis {suffix} view of {source}",
                )
            )
            names.append(name)
        return names

    def run_task_now(self, name: str) -> None:
        tasks = self._client.tasks_api()
        for task in tasks.find_tasks(name=name):
            tasks.run_manually(task.id)

    def _org_id(self) -> str:
        orgs = self._client.organizations_api().find_organizations(org=self.org)
        if not orgs:
            raise InfluxError(f"organisation {self.org!r} not found")
        return str(orgs[0].id)


def downsampling_flux(name: str, source: str, target: str, every: str, lookback: str) -> str:
    """The Flux of one downsampling task (constant text: names come from configuration)."""
    for value in (source, target):
        if not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"bucket name {value!r} must be letters, digits, '-' and '_'")
    return f"""option task = {{name: "{name}", every: {every}, offset: 1m}}

data = from(bucket: "{source}")
  |> range(start: -{lookback})
  |> filter(fn: (r) => r._measurement == "{READING}" and r._field == "value")

data
  |> filter(fn: (r) => r.quantity == "active_energy")
  |> aggregateWindow(every: {every}, fn: last, createEmpty: false)
  |> to(bucket: "{target}")

data
  |> filter(fn: (r) => r.quantity != "active_energy")
  |> aggregateWindow(every: {every}, fn: mean, createEmpty: false)
  |> to(bucket: "{target}")
"""


def flux_literal(value: object) -> str:
    """A Flux literal for a Python value; the only way caller values enter a query."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value} has no Flux literal")
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
        return f'"{escaped}"'
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("query instants must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, timedelta):
        return f"{value // timedelta(microseconds=1) * 1000}ns"
    raise TypeError(f"no Flux literal for {type(value).__name__}")


def bind(flux: str, params: Mapping[str, Any]) -> str:
    """Put a ``params`` record after the query's imports."""
    for name in params:
        _check_identifier(name, "parameter")
    record = ", ".join(f"{name}: {flux_literal(value)}" for name, value in params.items())
    lines = flux.splitlines()
    split = 0
    while split < len(lines) and lines[split].startswith("import "):
        split += 1
    return "\n".join([*lines[:split], f"params = {{{record}}}", *lines[split:]])


def _columns(names: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{name}"' for name in names) + "]"


def _parse_time(text: str) -> datetime:
    # RFC 3339 with up to nanoseconds; datetime keeps microseconds.
    if text.endswith("Z"):
        text = text[:-1]
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]:0<6}"
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_DIALECT = Dialect(header=True, delimiter=",", annotations=[], comment_prefix="#")
