"""Container healthchecks without extra binaries.

    python -m polis.common.healthcheck grpc 127.0.0.1:50051
    python -m polis.common.healthcheck http http://127.0.0.1:8080/healthz

Exit 0 when healthy, 1 otherwise; used by docker-compose healthchecks.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

from polis.common.grpc_server import check_health


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in {"grpc", "http"}:
        print(__doc__, file=sys.stderr)
        return 2
    kind, target = args
    if kind == "grpc":
        healthy = asyncio.run(check_health(target))
    else:
        try:
            healthy = httpx.get(target, timeout=3.0).status_code == 200
        except httpx.HTTPError:
            healthy = False
    print("healthy" if healthy else "unhealthy")
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
