"""python -m polis.gateway [serve|create-key|create-token|migrate]."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from polis.common.logging import configure_logging
from polis.common.settings import SettingsError, load_settings
from polis.gateway.security import keys
from polis.gateway.security.roles import Role, scope_error
from polis.gateway.settings import GatewaySettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m polis.gateway")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the gateway (default)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    key = sub.add_parser("create-key", help="create an API key and print it once")
    key.add_argument("--role", required=True, choices=[r.value for r in Role])
    key.add_argument("--name", default="cli")
    key.add_argument("--building", action="append", default=[], help="repeat for several")
    key.add_argument("--neighbourhood")
    key.add_argument(
        "--print-only",
        action="store_true",
        help="print a fresh key without storing it (for POLIS_BOOTSTRAP_ADMIN_KEY)",
    )
    token = sub.add_parser("create-token", help="issue a JWT signed with POLIS_JWT_SECRET")
    token.add_argument("--subject", required=True)
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--building", action="append", default=[])
    token.add_argument("--neighbourhood")
    token.add_argument("--hours", type=float, default=1.0)
    return parser


def _create_key(settings: GatewaySettings, args: argparse.Namespace) -> int:
    if args.print_only:
        print(keys.generate_key().plaintext)
        return 0
    role = Role(args.role)
    problem = scope_error(role, frozenset(args.building), args.neighbourhood)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from polis.gateway.application.database import Database
    from polis.gateway.application.keys import KeyOrder, store_key
    from polis.gateway.db.engine import make_engine, migrate, session_factory

    order = KeyOrder(
        name=args.name,
        role=role,
        buildings=frozenset(args.building),
        neighbourhood=args.neighbourhood,
    )
    engine = make_engine(settings.gateway_database_url)
    migrate(engine)
    now = settings.clock().now()
    row, plaintext = Database(session_factory(engine)).run_sync(
        lambda session: store_key(session, order, now)
    )
    engine.dispose()
    print(plaintext)
    print(
        f"key id {row.id}, role {role.value}: store it now, it is not shown again",
        file=sys.stderr,
    )
    return 0


def _create_token(settings: GatewaySettings, args: argparse.Namespace) -> int:
    from polis.gateway.security.tokens import issue_token

    role = Role(args.role)
    problem = scope_error(role, frozenset(args.building), args.neighbourhood)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(
        issue_token(
            settings.jwt_secret.get_secret_value(),
            subject=args.subject,
            role=role,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            lifetime=timedelta(hours=args.hours),
            buildings=frozenset(args.building),
            neighbourhood=args.neighbourhood,
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(GatewaySettings)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging("gateway", settings.log_level, settings.log_format)
    command = args.command or "serve"
    if command == "create-key":
        return _create_key(settings, args)
    if command == "create-token":
        return _create_token(settings, args)
    if command == "migrate":
        from polis.gateway.db.engine import make_engine, migrate

        migrate(make_engine(settings.gateway_database_url))
        return 0
    import uvicorn

    from polis.gateway.app import create_app

    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
