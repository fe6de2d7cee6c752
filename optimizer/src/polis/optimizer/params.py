"""Limits and switches of one planning solve."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class SolverParams:
    time_limit_s: float = 10.0
    relative_gap_limit: float = 0.01
    num_workers: int = 0  # 0: all cores
    diagnose_time_limit_s: float = 5.0
    monolithic_max_loads: int = 60
    seed: int = 0
    # False: stop after the LP rounding (a quick plan and the LP bound, no CP-SAT search)
    search: bool = True

    @property
    def workers(self) -> int:
        return self.num_workers or os.cpu_count() or 1
