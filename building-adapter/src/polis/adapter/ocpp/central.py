"""The OCPP central system: one WebSocket endpoint every charger of the catalogue connects to.

A charger is pointed at ``ws[s]://<host>:<port>/<identity>``; the identity picks its catalogue
entry, which fixes the OCPP version (the WebSocket subprotocol it must offer). Before the
upgrade, an unknown identity is refused (404), and from security profile 1 on so is a request
without the charger's basic-auth credentials (401). Each connection runs the version's
handler until it closes.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from polis.adapter.config import ConfigError
from polis.adapter.ocpp import v16, v201
from polis.adapter.ocpp.security import SecurityError, authorised, load_passwords, server_tls
from polis.adapter.ocpp.sessions import SessionLog, id_tag_key
from polis.adapter.ocpp.state import ChargerLink, ChargerRecorder, ChargerState
from polis.adapter.settings import AdapterSettings, ocpp_settings_problems
from polis.common.catalogue.devices import OcppDeviceConfig, OcppVersion
from polis.common.clock import Clock
from polis.common.logging import get_logger

log = get_logger("polis.adapter.ocpp")

SUBPROTOCOLS = {OcppVersion.V16: v16.SUBPROTOCOL, OcppVersion.V201: v201.SUBPROTOCOL}
BootHook = Callable[[], Awaitable[None]]


class OcppSetupError(ConfigError):
    """The central system cannot start as configured; the message names what to set."""


def identity_of(path: str) -> str:
    """The charge point identity: the last segment of the URL path."""
    return unquote(urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1])


def _offered(headers: Headers) -> list[str]:
    return [
        p.strip()
        for value in headers.get_all("Sec-WebSocket-Protocol")
        for p in value.split(",")
        if p.strip()
    ]


class CentralSystem:
    def __init__(
        self, devices: Sequence[OcppDeviceConfig], settings: AdapterSettings, clock: Clock
    ) -> None:
        self._settings = settings
        self._clock = clock
        secret = settings.ocpp_id_tag_key
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        key = id_tag_key(
            secret.get_secret_value() if secret else None, settings.state_dir / "ocpp-id-tag.key"
        )
        self.sessions = SessionLog(settings.state_dir / "ocpp-sessions.jsonl")
        self._devices = {d.charge_point_identity: d for d in devices}
        self._recorders: dict[str, ChargerRecorder] = {}
        for identity, device in self._devices.items():
            state = ChargerState.with_connectors(identity, device.connectors)
            self._recorders[identity] = ChargerRecorder(
                state, self.sessions, key, on_boot=self._booted_callback(identity)
            )
        self._links: dict[str, ChargerLink] = {}
        self._connections: dict[str, ServerConnection] = {}
        self._boot_hooks: dict[str, BootHook] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._passwords: dict[str, str] = {}
        self._server: Server | None = None
        self.port: int | None = None

    # -- what drivers use ---------------------------------------------------------------
    def state(self, identity: str) -> ChargerState:
        return self._recorders[identity].state

    def link(self, identity: str) -> ChargerLink | None:
        return self._links.get(identity)

    def on_boot(self, identity: str, hook: BootHook) -> None:
        """``hook`` runs each time the charger has booted on a new connection."""
        self._boot_hooks[identity] = hook

    def _booted_callback(self, identity: str) -> Callable[[], None]:
        def booted() -> None:
            state = self.state(identity)
            log.info(
                "OCPP charger booted", charger=identity, vendor=state.vendor, model=state.model
            )
            hook = self._boot_hooks.get(identity)
            if hook is not None:
                task = asyncio.ensure_future(self._run_hook(identity, hook))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        return booted

    async def _run_hook(self, identity: str, hook: BootHook) -> None:
        try:
            await hook()
        except Exception as error:  # a hook failing must not end the connection
            log.error("OCPP charger set-up after boot failed", charger=identity, error=str(error))

    # -- serving ----------------------------------------------------------------------
    async def start(self) -> None:
        settings = self._settings
        problems = ocpp_settings_problems(settings)
        if problems:
            raise OcppSetupError("\n".join(problems))
        try:
            tls = self._load_secrets()
        except SecurityError as error:
            raise OcppSetupError(str(error)) from None
        self._server = await serve(
            self._serve,
            settings.ocpp_host,
            settings.ocpp_port,
            process_request=self._admit,
            select_subprotocol=self._subprotocol,
            ssl=tls,
            ping_interval=settings.ocpp_heartbeat_s,
            ping_timeout=settings.ocpp_response_timeout_s * 3,
        )
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])
        log.info(
            "OCPP central system listening",
            url=f"{'wss' if tls else 'ws'}://{settings.ocpp_host}:{self.port}/<identity>",
            security_profile=settings.ocpp_security_profile,
            chargers=len(self._devices),
        )

    def _load_secrets(self) -> ssl.SSLContext | None:
        """The chargers' passwords and the TLS context the security profile asks for."""
        settings = self._settings
        if settings.ocpp_passwords_file is not None:
            self._passwords = load_passwords(settings.ocpp_passwords_file)
        if settings.ocpp_security_profile >= 1:
            missing = sorted(set(self._devices) - set(self._passwords))
            if missing:
                raise SecurityError(
                    f"POLIS_ADAPTER_OCPP_PASSWORDS_FILE: no password for {', '.join(missing)}"
                )
        if settings.ocpp_security_profile < 2:
            return None
        assert settings.ocpp_tls_cert is not None
        assert settings.ocpp_tls_key is not None
        return server_tls(settings.ocpp_tls_cert, settings.ocpp_tls_key)

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Before the upgrade: a known identity, its credentials, its OCPP version."""
        identity = identity_of(request.path)
        device = self._devices.get(identity)
        if device is None:
            log.warning("OCPP connection refused", charger=identity, reason="unknown identity")
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown charge point\n")
        if self._settings.ocpp_security_profile >= 1 and not authorised(
            request.headers.get("Authorization"), identity, self._passwords
        ):
            log.warning("OCPP connection refused", charger=identity, reason="authentication")
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "authentication required\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="polis-ocpp", charset="UTF-8"'
            return response
        wanted = SUBPROTOCOLS[device.version]
        if wanted not in _offered(request.headers):
            log.warning("OCPP connection refused", charger=identity, reason=f"no {wanted}")
            return connection.respond(
                HTTPStatus.BAD_REQUEST, f"{identity} is configured for {wanted}\n"
            )
        return None

    def _subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        assert connection.request is not None
        device = self._devices[identity_of(connection.request.path)]
        wanted = Subprotocol(SUBPROTOCOLS[device.version])
        return wanted if wanted in offered else None

    async def _serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        identity = identity_of(connection.request.path)
        device = self._devices[identity]
        recorder = self._recorders[identity]
        kind: Any = v16.ChargerV16 if device.version is OcppVersion.V16 else v201.ChargerV201
        charger = kind(
            identity,
            connection,
            recorder,
            self._clock,
            self._settings.ocpp_heartbeat_s,
            self._settings.ocpp_response_timeout_s,
        )
        previous = self._connections.get(identity)
        if previous is not None:  # the charger came back before its old link timed out
            await previous.close(1001, "replaced by a new connection")
        self._links[identity] = charger
        self._connections[identity] = connection
        recorder.state.connected, recorder.state.booted = True, False
        log.info("OCPP charger connected", charger=identity, version=device.version.value)
        try:
            await charger.start()
        except ConnectionClosed:
            pass
        finally:
            if self._links.get(identity) is charger:
                del self._links[identity]
                del self._connections[identity]
                recorder.state.connected = False
            log.info("OCPP charger disconnected", charger=identity)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
