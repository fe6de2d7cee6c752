"""Raw readings as InfluxDB answers them (CSV with the columns _time, _value and point),
rendered as the API's JSON page or CSV (pure).

A year of one 15-minute series is 35,040 rows, so the common case is rewritten in one regular
expression substitution over the whole text, with no Python object per row: InfluxDB's times are
RFC 3339 text and its floats are plain numbers (it stores no NaN or infinity), both valid JSON as
they stand. Answers the substitution cannot rewrite safely (quoted fields, several tables, a
different column order) go through the csv module instead; both give the same result.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from polis.gateway.readings import After, RawRow

HEADER = ",result,table,_time,_value,point"
_ROW = re.compile(r",_result,\d+,([^,\r\n]*),([^,\r\n]*),([^,\r\n]*)\r\n")
_AS = {
    "json": r'{"point":"\3","time":"\1","value":\2},',
    "csv": r"\3,\1,\2\n",
}


class Output(StrEnum):
    JSON = "json"  # the items of a ReadingsPage, comma-separated, without brackets
    CSV = "csv"  # lines ``point,time,value`` without a header


@dataclass(frozen=True, slots=True)
class Rendered:
    body: str
    count: int  # rows rendered
    last: After | None  # position of the last row rendered
    more: bool  # the answer held more than ``limit`` rows


def parse_rows(text: str) -> list[RawRow]:
    """Every row of an answer, whatever its quoting and column order."""
    rows: list[RawRow] = []
    header: list[str] | None = None
    t = v = p = 0
    for record in csv.reader(text.splitlines()):
        if not record or not any(record):
            header = None  # a blank line ends a table
            continue
        if header is None:
            header = record
            t, v, p = header.index("_time"), header.index("_value"), header.index("point")
            continue
        rows.append((record[t], record[p], float(record[v])))
    return rows


def to_flux_csv(rows: Sequence[RawRow]) -> str:
    """Rows written the way InfluxDB answers the raw query: one table, CRLF lines."""
    if not rows:
        return "\r\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["", "result", "table", "_time", "_value", "point"])
    writer.writerows(["", "_result", 0, t, repr(v), p] for t, p, v in rows)
    return buffer.getvalue() + "\r\n"


def rfc3339_ns(text: str) -> int:
    """Nanoseconds since the epoch of RFC 3339 UTC text (exact, unlike a datetime)."""
    head, _, frac = text.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp())
    return seconds * 1_000_000_000 + int(frac.ljust(9, "0")[:9] or 0)


def after_position(text: str, after: After) -> str:
    """The answer without its leading rows at or before ``after`` in the (time, point) order.

    For a query whose range starts at the cursor's instant: the rows it repeats are its first
    ones, so only those are looked at.
    """
    position = (rfc3339_ns(after.time), after.point)
    if _fast_body(text) is None:
        rows = parse_rows(text)
        skip = 0
        while skip < len(rows) and (rfc3339_ns(rows[skip][0]), rows[skip][1]) <= position:
            skip += 1
        return to_flux_csv(rows[skip:])
    start = len(HEADER) + 2
    while start < len(text):
        end = text.find("\r\n", start)
        fields = text[start:end].split(",")
        if len(fields) != 6 or (rfc3339_ns(fields[3]), fields[5]) > position:
            break
        start = end + 2
    rest = text[start:]
    return HEADER + "\r\n" + rest if rest.strip() else "\r\n"


def render(text: str, limit: int, output: Output) -> Rendered:
    """The first ``limit`` rows of an answer (rows in the API's order) as ``output``."""
    fast = _render_fast(text, limit, output)
    return fast if fast is not None else _render_rows(parse_rows(text), limit, output)


def _fast_body(text: str) -> str | None:
    """The rows of an answer the substitution can rewrite (one table, nothing quoted)."""
    if not text.startswith(HEADER + "\r\n") or '"' in text or "\\" in text:
        return None
    body = text[len(HEADER) + 2 :].rstrip("\r\n") + "\r\n"
    if "\r\n\r\n" in body:  # more than one table
        return None
    return body


def _render_fast(text: str, limit: int, output: Output) -> Rendered | None:
    if not text.strip():
        return Rendered("", 0, None, False)
    body = _fast_body(text)
    if body is None:
        return None
    count = body.count("\n")
    more = count > limit
    if more:
        end = -1
        for _ in range(limit):
            end = body.index("\n", end + 1)
        body, count = body[: end + 1], limit
    if count == 0:
        return Rendered("", 0, None, more)
    last = body[:-2].rpartition("\n")[2].split(",")
    rendered, replaced = _ROW.subn(_AS[output.value], body)
    if replaced != count or len(last) != 6:
        return None
    if output is Output.JSON:
        rendered = rendered[:-1]
    return Rendered(rendered, count, After(last[3], last[5]), more)


def _render_rows(rows: list[RawRow], limit: int, output: Output) -> Rendered:
    more = len(rows) > limit
    rows = rows[:limit]
    last = After(rows[-1][0], rows[-1][1]) if rows else None
    body = json_items(rows) if output is Output.JSON else csv_rows(rows)
    return Rendered(body, len(rows), last, more)


def json_items(rows: list[RawRow]) -> str:
    points: dict[str, str] = {}
    items = []
    for time, point, value in rows:
        key = points.get(point)
        if key is None:
            key = points[point] = '{"point":' + json.dumps(point) + ',"time":"'
        items.append(f'{key}{time}","value":{value!r}}}')
    return ",".join(items)


def csv_rows(rows: list[RawRow]) -> str:
    points: dict[str, str] = {}
    out = []
    for time, point, value in rows:
        field = points.get(point)
        if field is None:
            field = points[point] = _csv_field(point)
        out.append(f"{field},{time},{value!r}\n")
    return "".join(out)


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def page_json(items: str, next_cursor: str | None) -> bytes:
    """A ReadingsPage of raw rows around rendered JSON items."""
    cursor = json.dumps(next_cursor)
    return f'{{"items":[{items}],"next_cursor":{cursor},"window":null,"fn":null}}'.encode()
