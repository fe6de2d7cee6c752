"""The savings service's ``Expectation`` call ↔ the alarm engine's ``BaselineExpectation``."""

from __future__ import annotations

from polis.alarms.facts import BaselineExpectation
from polis.gateway.application.alarm_ports import ExpectationAnswer, ExpectationQuery
from polis.gateway.peers.translate import timestamp
from polis.mv.v1 import savings_pb2


def expectation_request(query: ExpectationQuery) -> savings_pb2.ExpectationRequest:
    return savings_pb2.ExpectationRequest(
        building=query.building,
        baseline_start=timestamp(query.baseline_start),
        baseline_end=timestamp(query.baseline_end),
        start=timestamp(query.start),
        end=timestamp(query.end),
    )


def expectation_answer(
    query: ExpectationQuery, response: savings_pb2.ExpectationResponse
) -> ExpectationAnswer:
    if not response.accepted:
        return ExpectationAnswer(None, response.reason or "baseline not accepted")
    unoccupied = response.unoccupied_kw if response.HasField("unoccupied_kw") else None
    try:
        expectation = BaselineExpectation(
            building=query.building,
            start=query.start,
            end=query.end,
            expected_kwh=response.expected_kwh,
            uncertainty_kwh=response.uncertainty_kwh,
            unoccupied_kw=unoccupied,
            unoccupied_uncertainty_kw=response.unoccupied_uncertainty_kw,
            model=response.model,
        )
    except ValueError as error:  # e.g. no finite uncertainty: no threshold to judge by
        return ExpectationAnswer(None, f"unusable expectation: {error}")
    return ExpectationAnswer(expectation, response.reason)
