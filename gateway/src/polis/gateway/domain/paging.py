"""Opaque cursors and window lengths for readings queries (pure)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

_WINDOW = re.compile(r"^(\d{1,6})(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class PagingError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError):
        raise PagingError("cursor", "not a cursor this API returned") from None
    if kind != "o" or offset < 0:
        raise PagingError("cursor", "not a cursor this API returned")
    return offset


def parse_window(text: str) -> timedelta:
    """'15m' → 15 minutes; seconds, minutes, hours or days."""
    match = _WINDOW.match(text)
    if match is None:
        raise PagingError("window", "a whole number and s, m, h or d, e.g. 15m")
    length = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if length <= timedelta(0):
        raise PagingError("window", "must be positive")
    return length
