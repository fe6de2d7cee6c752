"""Neighbourhood coupling: the shared transformer limit moves one building's load."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.helpers import building
from polis.optimizer.decompose import solve_neighbourhood
from polis.optimizer.domain import Building, DeferrableLoad, Neighbourhood, SolveStatus
from polis.optimizer.solve import SolverParams
from polis.optimizer.validator import validate_neighbourhood

PRICES = [0.10, 0.20, 0.30, 0.30]
EXACT = SolverParams(time_limit_s=10, relative_gap_limit=0.0, num_workers=2)


def member(name: str) -> Building:
    pump = DeferrableLoad("pump", power_kw=3.0, earliest=0, latest=4, run_slots=1)
    b: Building = building(PRICES, (pump,), base=1.0)
    return replace(b, id=name, neighbourhood="n1")


def test_transformer_limit_shifts_one_pump_to_the_next_slot() -> None:
    hood = Neighbourhood("n1", (member("a"), member("b")), transformer_kw=5.0)
    result = solve_neighbourhood(hood, EXACT)
    assert result.status is SolveStatus.OPTIMAL
    assert validate_neighbourhood(hood, result.plans).ok
    starts = sorted(p.load("pump").power_kw.index(3.0) for p in result.plans)
    assert starts == [0, 1]
    # by hand: base 2 kW * 4 slots, pumps at 0.10 and 0.20, all * 0.25 h
    base = 2 * 1.0 * 0.25 * sum(PRICES)
    assert sum(p.planned.cost_eur for p in result.plans) == pytest.approx(
        base + 3.0 * 0.25 * (0.10 + 0.20)
    )


def test_impossible_transformer_limit_is_named() -> None:
    hood = Neighbourhood("n1", (member("a"), member("b")), transformer_kw=1.5)
    result = solve_neighbourhood(hood, EXACT)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.conflicts[0].startswith("n1: transformer limit 1.5 kW")
    assert all(p.status is SolveStatus.INFEASIBLE for p in result.plans)
