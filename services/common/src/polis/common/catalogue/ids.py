"""Identifiers: the one place point ids are built and point references resolved."""

from __future__ import annotations

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


def point_id(municipality: str, building: str, device: str, point: str) -> str:
    """The stable id of a point: ``municipality/building/device/point``."""
    return f"{municipality}/{building}/{device}/{point}"


def split_point_id(pid: str) -> tuple[str, str, str, str]:
    """``municipality, building, device, point`` of a point id (ValueError if malformed)."""
    parts = pid.split("/")
    if len(parts) != 4 or not all(parts):
        raise ValueError(f"{pid!r} is not a point id (municipality/building/device/point)")
    return parts[0], parts[1], parts[2], parts[3]


def resolve_point_ref(ref: str, municipality: str, building: str) -> str:
    """A point reference inside a building, ``device/point``, or a full point id, as a full id."""
    parts = ref.split("/")
    if len(parts) == 2 and all(parts):
        return point_id(municipality, building, parts[0], parts[1])
    if len(parts) == 4 and all(parts):
        return ref
    raise ValueError(f"{ref!r} is neither device/point nor municipality/building/device/point")
