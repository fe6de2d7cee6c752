"""The municipality catalogue every Polis service reads its view of.

``load_catalogue(path)`` reads and checks one YAML file; errors name the file, line and path
(``catalogue.yaml:41: buildings[0].loads[1].command_point: no point 'bms/x' among …``).
The schema is documented in docs/catalogue.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from polis.common.catalogue.ids import point_id, resolve_point_ref, split_point_id
from polis.common.catalogue.references import (
    Problem,
    completeness_problems,
    reference_problems,
)
from polis.common.catalogue.schema import Building, Catalogue, Meters, Neighbourhood, PointRef
from polis.common.catalogue.source import CatalogueError, describe, where, yaml_with_lines

__all__ = [
    "Building",
    "Catalogue",
    "CatalogueError",
    "Meters",
    "Neighbourhood",
    "PointRef",
    "Problem",
    "load_catalogue",
    "parse_catalogue",
    "point_id",
    "resolve_point_ref",
    "split_point_id",
]


def parse_catalogue(
    data: Any,
    source: str = "<catalogue>",
    *,
    complete: bool = False,
    lines: dict[tuple[int | str, ...], int] | None = None,
) -> Catalogue:
    """Validate a catalogue document; ``complete`` also asks for what a deployment needs."""
    lines = lines or {}
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as error:
        raise CatalogueError(describe(source, data, lines, error)) from None
    problems = reference_problems(catalogue)
    if complete:
        problems += completeness_problems(catalogue)
    if problems:
        raise CatalogueError(
            "\n".join(f"{where(source, lines, p.path)}: {p.message}" for p in problems)
        )
    return catalogue


def load_catalogue(path: Path | str, *, complete: bool = False) -> Catalogue:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogueError(f"{path}: cannot read: {error.strerror}") from None
    data, lines = yaml_with_lines(text, path.name)
    return parse_catalogue(data, path.name, complete=complete, lines=lines)
