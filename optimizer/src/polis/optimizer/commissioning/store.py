"""The commissioning reports the optimizer serves: the files ``commission --report DIR`` writes
(``<building>-commissioning.json``, ``<building>-<zone>.png``) in the optimizer's reports
directory (``POLIS_OPTIMIZER_COMMISSIONING_DIR``), read afresh on every request, so a new
run is served as soon as it is written.

A file read while ``commission`` writes it, or left damaged, is answered as unreadable (a
``ReportMissing`` naming the building and what is wrong with it), never half served: a report
must parse and have the shape the service reads, a plot must be a whole PNG."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polis.common.catalogue.ids import ID_PATTERN

_ID = re.compile(ID_PATTERN)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# a PNG ends with its empty IEND chunk: length 0, type, CRC
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# a zone's entries the service reads as objects, and as lists
_OBJECTS = ("parameters", "standard_errors", "points", "readings")
_LISTS = ("reasons", "notes")
_AGAIN = "being written, or damaged: ask again once commissioning has finished"


class ReportMissing(LookupError):
    pass


@dataclass(frozen=True)
class StoredReport:
    building: str
    data: dict[str, Any]  # the JSON report as written
    generated_at: datetime  # when the file was written
    plots: frozenset[str]  # zones with a fit plot

    @property
    def zones(self) -> list[dict[str, Any]]:
        """The zones' entries (checked to be objects when read)."""
        zones: list[dict[str, Any]] = self.data.get("zones", [])
        return zones


def _checked(value: str, field: str) -> str:
    # ids name files: nothing but an id may reach the path
    if not _ID.fullmatch(value):
        raise ReportMissing(f"{field}: {value!r} is not an id")
    return value


def _zone_flaw(zone: object) -> str | None:
    if not isinstance(zone, dict):
        return "is not an object"
    for key in _OBJECTS:
        if zone.get(key) is not None and not isinstance(zone[key], dict):
            return f"{key} is not an object"
    for key in _LISTS:
        if not isinstance(zone.get(key, []), list):
            return f"{key} is not a list"
    counts = zone.get("readings") or {}
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in counts.values()):
        return "readings has a count that is not an integer"
    days = zone.get("holdout_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)):
        return "holdout_days is not an integer"
    return None


def _flaw(data: dict[str, Any]) -> str | None:
    """What keeps the service from reading a parsed report (None: nothing)."""
    if not isinstance(data.get("span", {}), dict):
        return "span is not an object"
    zones = data.get("zones", [])
    if not isinstance(zones, list):
        return "zones is not a list"
    for i, zone in enumerate(zones):
        flaw = _zone_flaw(zone)
        if flaw is not None:
            return f"zones[{i}] {flaw}"
    return None


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
            raw = path.read_bytes()
            written = path.stat().st_mtime
        except FileNotFoundError:
            raise ReportMissing(f"no commissioning report for {building}") from None
        except OSError as error:
            raise self._unreadable(building, path, error.strerror or "cannot be read") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise self._unreadable(building, path, f"not UTF-8 at byte {error.start}") from None
        except json.JSONDecodeError as error:
            where = f"{error.msg} at line {error.lineno} column {error.colno}"
            raise self._unreadable(building, path, where) from None
        if not isinstance(data, dict) or data.get("building") != building:
            raise ReportMissing(f"{path.name}: not a commissioning report of {building}")
        flaw = _flaw(data)
        if flaw is not None:
            raise self._unreadable(building, path, flaw)
        names = [str(z.get("zone", "")) for z in data.get("zones", [])]
        plots = frozenset(z for z in names if _ID.fullmatch(z) and self._plot(building, z).exists())
        return StoredReport(building, data, datetime.fromtimestamp(written, UTC), plots)

    @staticmethod
    def _unreadable(building: str, path: Path, what: str) -> ReportMissing:
        return ReportMissing(
            f"unreadable commissioning report of {building} ({path.name}: {what}): {_AGAIN}"
        )

    def plot(self, building: str, zone: str) -> tuple[bytes, datetime]:
        path = self._plot(building, zone)
        try:
            data, written = path.read_bytes(), path.stat().st_mtime
        except FileNotFoundError:
            raise ReportMissing(f"no fit plot of {building}/{zone}") from None
        except OSError as error:
            what = error.strerror or "cannot be read"
            raise ReportMissing(f"unreadable fit plot of {building}/{zone} ({what})") from None
        if not (data.startswith(PNG_SIGNATURE) and data.endswith(PNG_END)):
            raise ReportMissing(
                f"unreadable fit plot of {building}/{zone} ({path.name}: not a whole PNG, "
                f"{len(data)} bytes): {_AGAIN}"
            )
        return data, datetime.fromtimestamp(written, UTC)
