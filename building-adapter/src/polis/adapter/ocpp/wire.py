"""What both OCPP versions share: typed route decorators and calls that fail as drivers do."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from ocpp.exceptions import OCPPError
from ocpp.routing import after as _after
from ocpp.routing import on as _on
from websockets.exceptions import ConnectionClosed

from polis.adapter.driver import DriverError
from polis.adapter.ocpp.state import ENERGY_REGISTER, Sample, amps_to_kw

# The ocpp library logs every message it sends and receives at INFO, id tags included:
# its logger is kept to errors, and Polis logs its own summaries instead.
WIRE = logging.getLogger("polis.adapter.ocpp.wire")
WIRE.setLevel(logging.ERROR)

F = TypeVar("F", bound=Callable[..., Any])


def on(action: str) -> Callable[[F], F]:
    """``ocpp.routing.on`` with its type kept."""
    return cast(Callable[[F], F], _on(action))


def after(action: str) -> Callable[[F], F]:
    return cast(Callable[[F], F], _after(action))


async def ask(charger: Any, payload: Any) -> Any:
    """Send one call to a charger; a refusal, a timeout or a lost link is a DriverError."""
    try:
        return await charger.call(payload, suppress=False)
    except OCPPError as error:
        raise DriverError(f"{charger.id}: {type(payload).__name__} refused: {error}") from error
    except TimeoutError as error:
        raise DriverError(f"{charger.id}: no answer to {type(payload).__name__}") from error
    except ConnectionClosed as error:
        raise DriverError(f"{charger.id}: connection closed") from error


def first_period_kw(schedule: dict[str, Any] | None) -> float | None:
    """The limit of a composite schedule's first period, kW."""
    if not schedule:
        return None
    periods = schedule.get("charging_schedule_period") or []
    if not periods:
        return None
    first = min(periods, key=lambda p: p.get("start_period", 0))
    limit = float(first["limit"])
    if schedule.get("charging_rate_unit") == "A":
        return amps_to_kw(limit, first.get("number_phases"))
    return limit / 1000.0


def sample(measurand: str | None, value: float, unit: str | None, raw: dict[str, Any]) -> Sample:
    """A sampled value with OCPP's defaults: no measurand is the energy register, in Wh."""
    name = measurand or ENERGY_REGISTER
    default = "Wh" if name.startswith("Energy") else "W"
    return Sample(name, value, unit or default, raw.get("phase"), raw.get("location"))
