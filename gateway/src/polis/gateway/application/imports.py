"""CSV import of historical interval or billing data, handed to the savings service."""

from __future__ import annotations

from sqlalchemy.orm import Session

from polis.gateway.application import audit
from polis.gateway.application.context import Services
from polis.gateway.application.errors import CsvError, InvalidCsv
from polis.gateway.application.savings import REPORTS_EPOCH, SavingsReports
from polis.gateway.coordination import epochs
from polis.gateway.domain.savings import ImportResult
from polis.gateway.security.roles import Principal, can_import, require


def check_may_import(principal: Principal) -> None:
    require(can_import(principal), "imports need energy_department or admin")


async def import_csv(
    services: Services,
    reports: SavingsReports,
    principal: Principal,
    body: bytes,
    source: str,
) -> ImportResult:
    """All or nothing: the savings service writes every row or none, naming each bad line."""
    check_may_import(principal)
    result = await services.savings.import_csv(body, source)
    # Imported history can change any baseline: no cached report may outlive an import, here
    # or (through the epoch) on any other replica.
    reports.forget()
    at = services.clock.now()
    if result.errors:
        detail: dict[str, object] = {"source": source, "errors": len(result.errors)}
        outcome = "rejected"
    else:
        detail = {"source": source, "rows": result.rows}
        outcome = "ok"

    def save(session: Session) -> None:
        audit.record(session, principal, "import.csv", outcome, at=at, detail=detail)
        epochs.bump(session, REPORTS_EPOCH)

    await services.db.run(save)
    if result.errors:
        raise InvalidCsv([CsvError(e.line, e.field, e.reason) for e in result.errors])
    return result
