"""IANA time-zone names, validated where configuration names one."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


#: A configuration field holding an IANA zone name such as ``Europe/Athens``.
TimezoneName = Annotated[str, AfterValidator(known_timezone)]
