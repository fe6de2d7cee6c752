"""Raw readings from InfluxDB's CSV answer to the API's JSON page and CSV (pure)."""

from __future__ import annotations

import csv
import io

import pytest

from polis.gateway.api.schemas import ReadingsPage
from polis.gateway.domain import flux_csv
from polis.gateway.domain.flux_csv import (
    Output,
    after_position,
    page_json,
    parse_rows,
    render,
    rfc3339_ns,
    to_flux_csv,
)
from polis.gateway.readings import After

pytestmark = pytest.mark.unit

ROWS = [
    ("2026-03-01T00:00:00Z", "school-1/main-meter/power", 20.0),
    ("2026-03-01T00:00:00Z", "town-hall/main-meter/power", -2.5),
    ("2026-03-01T00:15:00.5Z", "town-hall/main-meter/power", 1e-05),
    ("2026-03-01T00:30:00Z", "town-hall/main-meter/power", 1e21),
]
# The same rows as influxd writes them: integral floats without a fraction, no exponent.
INFLUX = (
    ",result,table,_time,_value,point\r\n"
    ",_result,0,2026-03-01T00:00:00Z,20,school-1/main-meter/power\r\n"
    ",_result,0,2026-03-01T00:00:00Z,-2.5,town-hall/main-meter/power\r\n"
    ",_result,0,2026-03-01T00:15:00.5Z,0.00001,town-hall/main-meter/power\r\n"
    ",_result,0,2026-03-01T00:30:00Z,1000000000000000000000,town-hall/main-meter/power\r\n"
    "\r\n"
)
ODD = [("2026-03-01T00:00:00Z", 'meter "a", east', 1.5), *ROWS[1:]]


def page_rows(body: bytes) -> list[tuple[str, str, float]]:
    page = ReadingsPage.model_validate_json(body)
    return [(r.time.isoformat().replace("+00:00", "Z"), r.point, r.value) for r in page.items]


def iso(text: str) -> str:
    """RFC 3339 text as datetime.isoformat writes it (fractions padded to microseconds)."""
    head, _, frac = text[:-1].partition(".")
    return f"{head}.{frac.ljust(6, '0')}Z" if frac else text


@pytest.mark.parametrize("text", [INFLUX, to_flux_csv(ROWS), to_flux_csv(ODD)])
@pytest.mark.parametrize("limit", [1, 2, 3, 4, 10])
def test_json_pages_hold_the_first_rows_and_the_position_after_them(text: str, limit: int) -> None:
    rows = parse_rows(text)
    page = render(text, limit, Output.JSON)
    assert page.count == min(limit, len(rows))
    assert page.more == (len(rows) > limit)
    assert page.last == After(rows[page.count - 1][0], rows[page.count - 1][1])
    expected = [(iso(t), p, v) for t, p, v in rows[:limit]]
    assert page_rows(page_json(page.body, "next" if page.more else None)) == expected


@pytest.mark.parametrize("text", [INFLUX, to_flux_csv(ROWS), to_flux_csv(ODD)])
def test_csv_lines_read_back_to_the_rows(text: str) -> None:
    rendered = render(text, 3, Output.CSV)
    parsed = [(t, p, float(v)) for p, t, v in csv.reader(io.StringIO(rendered.body))]
    assert parsed == parse_rows(text)[:3]


def test_the_fast_path_and_the_csv_module_agree() -> None:
    fast = render(INFLUX, 10, Output.JSON)
    slow = flux_csv._render_rows(parse_rows(INFLUX), 10, Output.JSON)
    assert page_rows(page_json(fast.body, None)) == page_rows(page_json(slow.body, None))
    assert fast.last == slow.last


def test_parse_reads_columns_by_name_across_tables() -> None:
    text = (
        ",result,table,_time,_value,point\r\n"
        ",_result,0,2026-03-01T00:00:00Z,20,a\r\n"
        "\r\n"
        ",result,table,point,_value,_time\r\n"
        ",_result,1,d,1e+21,2026-03-01T00:30:00Z\r\n"
    )
    assert parse_rows(text) == [
        ("2026-03-01T00:00:00Z", "a", 20.0),
        ("2026-03-01T00:30:00Z", "d", 1e21),
    ]
    assert (
        render(text, 5, Output.CSV).body
        == "a,2026-03-01T00:00:00Z,20.0\nd,2026-03-01T00:30:00Z,1e+21\n"
    )


@pytest.mark.parametrize("text", ["", "\r\n", to_flux_csv([])])
def test_an_empty_answer_is_an_empty_page(text: str) -> None:
    page = render(text, 10, Output.JSON)
    assert (page.body, page.count, page.last, page.more) == ("", 0, None, False)
    assert page_rows(page_json(page.body, None)) == []


@pytest.mark.parametrize("text", [INFLUX, to_flux_csv(ROWS), to_flux_csv(ODD)])
def test_rows_up_to_the_cursor_are_dropped(text: str) -> None:
    rows = parse_rows(text)
    for i, (time, point, _) in enumerate(rows):
        assert parse_rows(after_position(text, After(time, point))) == rows[i + 1 :]
    # A cursor between two points of one instant keeps the later point.
    assert parse_rows(after_position(text, After(rows[0][0], "t"))) == rows[1:]
    assert parse_rows(after_position(text, After("2026-02-28T00:00:00Z", "z"))) == rows


def test_rfc3339_ns_is_exact() -> None:
    assert rfc3339_ns("1970-01-01T00:00:01Z") == 1_000_000_000
    assert rfc3339_ns("1970-01-01T00:00:01.000000002Z") == 1_000_000_002
    assert rfc3339_ns("2026-03-01T00:15:00.5Z") - rfc3339_ns("2026-03-01T00:15:00Z") == 5 * 10**8
