"""Readings from InfluxDB: raw or windowed, JSON pages or streamed CSV; last values; live SSE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, TypeAdapter
from starlette.concurrency import run_in_threadpool

from polis.gateway.api.deps import CatalogueDep, PrincipalDep, StateDep
from polis.gateway.api.problems import PEER_RESPONSES, Problem
from polis.gateway.api.schemas import LastValue, ReadingOut, ReadingsPage
from polis.gateway.application.access import check_building, readable_points
from polis.gateway.domain import flux_csv
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.domain.paging import (
    PagingError,
    decode_after,
    decode_cursor,
    encode_after,
    encode_cursor,
    parse_window,
    rfc3339,
)
from polis.gateway.readings import MAX_POINTS, After, Aggregate, ReadingsStore, Row
from polis.gateway.state import GatewayState

router = APIRouter(tags=["readings"], responses=PEER_RESPONSES)

CSV_CHUNK = 50_000
# A page of raw rows: a year of one 15-minute series (35,040 rows) fits in one.
MAX_PAGE = 50_000
MAX_SPAN = timedelta(days=400)
LIVE_MAX_S = 3600.0


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


def _paging_problem(error: PagingError) -> Problem:
    return Problem(422, "Invalid request", f"{error.field}: {error}", field=error.field)


def _out(row: Row) -> ReadingOut:
    return ReadingOut(point=row.tags.get("point", ""), time=row.time, value=row.value)


def _sort_key(row: Row) -> tuple[datetime, str]:
    return row.time, row.tags.get("point", "")


async def _csv_stream(
    store: ReadingsStore,
    ids: list[str],
    start: datetime,
    end: datetime,
    every: timedelta | None,
    fn: Aggregate,
) -> AsyncIterator[str]:
    yield "point,time,value\n"
    if not ids:
        return
    if every is not None:
        for point_id in ids:
            windows = await run_in_threadpool(
                store.query_window, start, end, {"point": point_id}, every, fn
            )
            windows.sort(key=_sort_key)
            yield flux_csv.csv_rows([(rfc3339(r.time), point_id, r.value) for r in windows])
        return
    after: After | None = None
    while True:
        text = await store.raw_csv(start, end, ids, limit=CSV_CHUNK + 1, after=after)
        chunk = flux_csv.render(text, CSV_CHUNK, flux_csv.Output.CSV)
        if chunk.count:
            yield chunk.body
        if not chunk.more:
            return
        after = chunk.last


async def _raw_page(
    store: ReadingsStore,
    ids: list[str],
    start: datetime,
    end: datetime,
    limit: int,
    after: After | None,
) -> Response:
    text = await store.raw_csv(start, end, ids, limit=limit + 1, after=after)
    page = flux_csv.render(text, limit, flux_csv.Output.JSON)
    cursor = encode_after(page.last) if page.more and page.last is not None else None
    return Response(flux_csv.page_json(page.body, cursor), media_type="application/json")


@router.get(
    "/readings",
    response_model=ReadingsPage,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Readings over a time range, raw or aggregated per window",
    description=(
        "Raw rows come in (time, point) order, up to `limit` per page (a year of one "
        "15-minute series fits one page); pass `next_cursor` back as `cursor` for the next. "
        "CSV streams every row of the range without paging."
    ),
)
async def readings(
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    start: Annotated[AwareDatetime, Query(examples=["2026-03-01T00:00:00Z"])],
    end: Annotated[AwareDatetime, Query(examples=["2026-03-02T00:00:00Z"])],
    point: Annotated[list[str], Query(description="Point ids (repeat)")] = [],  # noqa: B006
    building: Annotated[str | None, Query(description="All points of a building")] = None,
    window: Annotated[str | None, Query(description="Aggregation window, e.g. 15m, 1h")] = None,
    fn: Aggregate = Aggregate.MEAN,
    format: Format = Format.JSON,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
    cursor: str | None = None,
) -> ReadingsPage | Response:
    if end <= start:
        raise Problem(422, "Invalid request", "end: must be after start", field="end")
    if end - start > MAX_SPAN:
        raise Problem(422, "Invalid request", "end: range longer than 400 days", field="end")
    try:
        every = parse_window(window) if window else None
        offset = decode_cursor(cursor) if every is not None else 0
        after = decode_after(cursor) if every is None else None
    except PagingError as error:
        raise _paging_problem(error) from None
    if every is not None and (end - start) / every > state.settings.readings_max_rows:
        raise Problem(
            422, "Invalid request", "window: too many windows for this range", field="window"
        )
    ids = readable_points(principal, catalogue, point, building)
    if len(ids) > MAX_POINTS:
        raise Problem(
            422, "Invalid request", f"point: at most {MAX_POINTS} points per query", field="point"
        )
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    store = state.readings
    if format is Format.CSV:
        return StreamingResponse(
            _csv_stream(store, ids, start, end, every, fn),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="readings.csv"'},
        )
    if not ids:
        return ReadingsPage(
            items=[], next_cursor=None, window=window, fn=fn.value if every else None
        )
    if every is None:
        return await _raw_page(store, ids, start, end, limit, after)
    if offset + limit > state.settings.readings_max_rows * 10:
        raise Problem(
            422, "Invalid request", "cursor: page too deep; narrow the range", field="cursor"
        )
    rows = await run_in_threadpool(store.query_window, start, end, {"point": ids}, every, fn)
    rows.sort(key=_sort_key)
    page = rows[offset : offset + limit]
    more = len(rows) > offset + limit
    return ReadingsPage(
        items=[_out(r) for r in page],
        next_cursor=encode_cursor(offset + limit) if more else None,
        window=window,
        fn=fn.value if every else None,
    )


async def _last_values(
    store: ReadingsStore, catalogue: Catalogue, ids: list[str], now: datetime
) -> list[LastValue]:
    if not ids:
        return []
    rows = await run_in_threadpool(lambda: store.last({"point": ids}, now=now))
    out = []
    for row in sorted(rows, key=lambda r: r.tags.get("point", "")):
        info = catalogue.points.get(row.tags.get("point", ""))
        if info is None:
            continue
        out.append(
            LastValue(
                point=info.id,
                building=info.building,
                device=info.device,
                quantity=info.quantity,
                unit=info.unit,
                time=row.time,
                value=row.value,
            )
        )
    return out


_LAST_VALUES = TypeAdapter(list[LastValue])


async def last_values_json(state: GatewayState, catalogue: Catalogue, ids: list[str]) -> bytes:
    """The newest value of each point as JSON, at the gateway clock's "now" (briefly cached:
    every caller asking for the same points within the TTL shares one store query)."""

    async def load() -> bytes:
        values = await _last_values(state.readings, catalogue, ids, state.clock.now())
        return _LAST_VALUES.dump_json(values)

    return await state.last_values.get(tuple(ids), load)


@router.get("/readings/last", response_model=list[LastValue], summary="Newest value per point")
async def last_values(
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    point: Annotated[list[str], Query()] = [],  # noqa: B006
    building: str | None = None,
) -> Response:
    ids = readable_points(principal, catalogue, point, building)
    return Response(await last_values_json(state, catalogue, ids), media_type="application/json")


@router.get(
    "/buildings/{building}/live",
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Live values as Server-Sent Events (event: readings)",
)
async def live(
    building: str,
    request: Request,
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
) -> StreamingResponse:
    check_building(principal, catalogue, building)
    ids = [p.id for p in catalogue.points_of(building)]
    interval = state.settings.live_interval_s

    async def events() -> AsyncIterator[str]:
        yield f"retry: {int(interval * 1000)}\n\n"
        loop = asyncio.get_running_loop()
        until = loop.time() + LIVE_MAX_S
        while loop.time() < until and not await request.is_disconnected():
            try:
                data = (await last_values_json(state, catalogue, ids)).decode()
                yield f"event: readings\ndata: {data}\n\n"
            except Exception:  # the store is down: tell the client, keep the stream
                yield 'event: unavailable\ndata: {"service":"influxdb"}\n\n'
            await asyncio.sleep(interval)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
