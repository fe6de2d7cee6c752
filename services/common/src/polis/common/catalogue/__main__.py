"""``python -m polis.common.catalogue check FILE [--complete]``: validate a catalogue.

Prints each problem as ``file:line: path: what`` and exits 1, or a one-line summary.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from polis.common.catalogue import CatalogueError, load_catalogue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m polis.common.catalogue")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate a catalogue file")
    check.add_argument("file", type=Path)
    check.add_argument(
        "--complete",
        action="store_true",
        help="also require what a deployment needs (main meters, tariffs, command points)",
    )
    args = parser.parse_args(argv)
    try:
        catalogue = load_catalogue(args.file, complete=args.complete)
    except CatalogueError as error:
        print(error, file=sys.stderr)
        return 1
    points = sum(1 for _ in catalogue.points())
    loads = sum(len(b.loads) for b in catalogue.buildings)
    print(
        f"{args.file}: {catalogue.municipality}: {len(catalogue.buildings)} buildings, "
        f"{points} points, {loads} loads, {len(catalogue.tariffs)} tariffs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
