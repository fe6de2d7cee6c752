"""Optimizer scale benchmark on seeded random instances.

    uv run python bench/optimizer_scale.py [--seed 7] [--building-limit 5] [--hood-limit 60]
        [--transformer-fraction 0.9 1.2] [--skip-neighbourhood]

Prints solve time, time to the first feasible plan, objective, best bound, proven gap and the
plan's bill against the as-is schedule's bill (ratio), for one building (10 flexible loads x
96 slots) and a neighbourhood (50 buildings x 10 loads x 96 slots) behind a transformer sized
at each given fraction of the summed as-is peak (0.9: binding, 1.2: not binding).
"""

from __future__ import annotations

import argparse
import os
import random
import time

from polis.optimizer.decompose import solve_neighbourhood
from polis.optimizer.domain import Horizon, SolveResult
from polis.optimizer.solve import SolverParams, solve_building
from polis.optimizer.synthetic import DEFAULT_START, random_building, random_neighbourhood
from polis.optimizer.validator import validate_neighbourhood, validate_plan


def report(name: str, result: SolveResult, valid: bool) -> None:
    planned = sum(p.planned.cost_eur for p in result.plans)
    baseline = sum(p.baseline.cost_eur for p in result.plans)
    first = "n/a" if result.first_solution_s is None else f"{result.first_solution_s:.3f} s"
    print(f"{name}")
    print(f"  status          {result.status.value} ({result.method})")
    print(f"  solve time      {result.solve_time_s:.2f} s")
    print(f"  first plan      {first}")
    print(f"  objective       {result.objective_eur:.2f} EUR (cost + CO2 + comfort)")
    print(f"  best bound      {result.best_bound_eur:.2f} EUR")
    print(f"  proven gap      {100 * result.gap:.2f} %")
    print(f"  bill plan/as-is {planned:.2f} / {baseline:.2f} EUR = {planned / baseline:.3f}")
    if result.status.value == "infeasible":
        print("  validator       n/a (the as-is schedule is published; see conflicts)")
        print(f"  conflicts       {'; '.join(result.conflicts)}")
    else:
        print(f"  validator       {'ok' if valid else 'FAILED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--building-limit", type=float, default=5.0)
    parser.add_argument("--hood-limit", type=float, default=60.0)
    parser.add_argument("--skip-neighbourhood", action="store_true")
    parser.add_argument(
        "--transformer-fraction",
        type=float,
        nargs="+",
        default=[0.9, 1.2],
        help="transformer limits as fractions of the summed as-is peak (one case each)",
    )
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, seed {args.seed}")

    building = random_building(random.Random(args.seed), 0, Horizon(DEFAULT_START, 96))
    result = solve_building(building, SolverParams(time_limit_s=args.building_limit))
    report("one building, 10 loads x 96 slots", result, validate_plan(building, result.plans[0]).ok)

    if args.skip_neighbourhood:
        return
    for fraction in args.transformer_fraction:
        started = time.perf_counter()
        hood = random_neighbourhood(
            args.seed, buildings=50, loads=10, slots=96, transformer_fraction=fraction
        )
        print(
            f"\nneighbourhood built in {time.perf_counter() - started:.2f} s, "
            f"transformer {hood.transformer_kw} kW ({fraction:g} x the as-is peak)"
        )
        result = solve_neighbourhood(hood, SolverParams(time_limit_s=args.hood_limit))
        report(
            f"neighbourhood, 50 buildings x 10 loads x 96 slots, transformer {fraction:g}",
            result,
            validate_neighbourhood(hood, result.plans).ok,
        )


if __name__ == "__main__":
    main()
