"""CSV rendering of readings and savings (pure)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """One CSV line at a time, so large results stream without being held in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def raw_rows_csv(rows: Iterable[tuple[str, str, float]]) -> str:
    """Raw (time, point, value) rows as CSV lines ``point,time,value``, without a header."""
    points: dict[str, str] = {}
    out = []
    for time, point, value in rows:
        field = points.get(point)
        if field is None:
            field = points[point] = _csv_field(point)
        out.append(f"{field},{time},{value!r}\n")
    return "".join(out)


def raw_rows_json(rows: Iterable[tuple[str, str, float]], next_cursor: str | None) -> bytes:
    """A page of raw rows as the API's ReadingsPage JSON, built without per-row objects.

    Times are RFC 3339 text as the store gave them and values are finite floats (InfluxDB
    stores no NaN or infinity), so both are written as they are.
    """
    points: dict[str, str] = {}
    items = []
    for time, point, value in rows:
        key = points.get(point)
        if key is None:
            key = points[point] = '{"point":' + json.dumps(point) + ',"time":"'
        items.append(f'{key}{time}","value":{value!r}}}')
    cursor = json.dumps(next_cursor)
    return (
        f'{{"items":[{",".join(items)}],"next_cursor":{cursor},"window":null,"fn":null}}'.encode()
    )
