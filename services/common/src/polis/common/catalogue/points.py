"""What a point is, independent of the protocol that reads it."""

from __future__ import annotations

from enum import StrEnum


class PointKind(StrEnum):
    CUMULATIVE = "cumulative"
    INSTANTANEOUS = "instantaneous"
    STATE = "state"
    COMMAND = "command"
