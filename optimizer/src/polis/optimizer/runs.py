"""Maximal runs of consecutive slots, shared by the plan validator and the explanations."""

from __future__ import annotations

from collections.abc import Iterable


def runs_of(flags: Iterable[object]) -> list[tuple[int, int]]:
    """Maximal runs ``[start, end)`` of consecutive slots whose flag is true."""
    out: list[tuple[int, int]] = []
    start = None
    for t, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = t
        elif not flag and start is not None:
            out.append((start, t))
            start = None
    return out
