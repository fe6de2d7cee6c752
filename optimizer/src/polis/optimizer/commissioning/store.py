"""The commissioning reports the optimizer serves: the files ``commission --report DIR`` writes
(``<building>-commissioning.json``, ``<building>-<zone>.png``) in the optimizer's reports
directory (``POLIS_OPTIMIZER_COMMISSIONING_DIR``), read afresh on every request, so a new
run is served as soon as it is written."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polis.common.catalogue.ids import ID_PATTERN

_ID = re.compile(ID_PATTERN)


class ReportMissing(LookupError):
    pass


@dataclass(frozen=True)
class StoredReport:
    building: str
    data: dict[str, Any]  # the JSON report as written
    generated_at: datetime  # when the file was written
    plots: frozenset[str]  # zones with a fit plot


def _checked(value: str, field: str) -> str:
    # ids name files: nothing but an id may reach the path
    if not _ID.fullmatch(value):
        raise ReportMissing(f"{field}: {value!r} is not an id")
    return value


class ReportStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _json(self, building: str) -> Path:
        return self.directory / f"{_checked(building, 'building')}-commissioning.json"

    def _plot(self, building: str, zone: str) -> Path:
        return self.directory / f"{_checked(building, 'building')}-{_checked(zone, 'zone')}.png"

    def report(self, building: str) -> StoredReport:
        path = self._json(building)
        try:
            text = path.read_text(encoding="utf-8")
            written = path.stat().st_mtime
        except FileNotFoundError:
            raise ReportMissing(f"no commissioning report for {building}") from None
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("building") != building:
            raise ReportMissing(f"{path.name}: not a commissioning report of {building}")
        zones = [z.get("zone", "") for z in data.get("zones", []) if isinstance(z, dict)]
        plots = frozenset(z for z in zones if _ID.fullmatch(z) and self._plot(building, z).exists())
        return StoredReport(building, data, datetime.fromtimestamp(written, UTC), plots)

    def plot(self, building: str, zone: str) -> tuple[bytes, datetime]:
        path = self._plot(building, zone)
        try:
            return path.read_bytes(), datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except FileNotFoundError:
            raise ReportMissing(f"no fit plot of {building}/{zone}") from None
