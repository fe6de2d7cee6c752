"""Savings reports (IPMVP Option C) from the savings service, authorised per request and kept
briefly in this replica's memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polis.gateway.application.access import check_building
from polis.gateway.application.context import Services
from polis.gateway.application.errors import InvalidInput, NotFound
from polis.gateway.caching import AsyncTtlCache
from polis.gateway.domain import savings as domain
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.domain.savings import ReportQuery, Scope, ServedReport
from polis.gateway.security.roles import (
    Principal,
    Role,
    can_read_neighbourhood,
    can_report_all,
    require,
)

# The cache epoch (``polis.gateway.coordination.epochs``) that drops every replica's reports.
REPORTS_EPOCH = "savings_reports"


def authorise_scope(
    principal: Principal, catalogue: Catalogue, scope: Scope, scope_id: str
) -> None:
    if scope is Scope.BUILDING:
        check_building(principal, catalogue, scope_id)
    elif scope is Scope.NEIGHBOURHOOD:
        require(
            can_read_neighbourhood(principal, scope_id),
            f"no access to neighbourhood {scope_id}",
        )
        if scope_id not in catalogue.neighbourhoods():
            raise NotFound(f"no neighbourhood {scope_id}", "id")
    else:
        require(can_report_all(principal), "municipality reports need energy_department or admin")
        if scope_id not in catalogue.municipalities():
            raise NotFound(f"no municipality {scope_id}", "id")


def check_periods(query: ReportQuery) -> None:
    if query.baseline_end <= query.baseline_start:
        raise InvalidInput("baseline_end: must be after baseline_start", "baseline_end")
    if query.reporting_end <= query.reporting_start:
        raise InvalidInput("reporting_end: must be after reporting_start", "reporting_end")


class SavingsReports:
    def __init__(
        self,
        services: Services,
        cache: AsyncTtlCache[tuple[object, ...], ServedReport],
        render: Callable[[dict[str, Any]], bytes],
    ) -> None:
        """``render`` turns a report's data into the JSON the API serves (done once per cached
        report, not per request)."""
        self._services = services
        self._cache = cache
        self._render = render

    async def report(
        self, principal: Principal, catalogue: Catalogue, query: ReportQuery
    ) -> ServedReport:
        check_periods(query)
        authorise_scope(principal, catalogue, query.scope, query.scope_id)
        # Neighbourhood schemes see aggregates only, never per-building results.
        per_building = principal.role is not Role.NEIGHBOURHOOD_SCHEME

        async def load() -> ServedReport:
            report = await self._services.savings.savings_report(query)
            data = domain.report_dict(
                report, query.scope.value, query.scope_id, per_building=per_building
            )
            return ServedReport(data, self._render(data))

        # Authorised above; the cached report depends only on what was asked and the role's view.
        return await self._cache.get((*query.key(), per_building), load)

    def forget(self) -> None:
        """Drop every cached report of this replica (imported data may change any of them)."""
        self._cache.clear()
