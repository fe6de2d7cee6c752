"""What every Polis service process does at start and stop, in one place."""

from __future__ import annotations

import asyncio
import signal
from typing import TypeVar

from polis.common.logging import configure_logging
from polis.common.settings import PolisSettings, load_settings

S = TypeVar("S", bound=PolisSettings)


def service_settings(cls: type[S], service: str) -> S:
    """Settings from the environment (SettingsError names each bad variable), then logging
    configured as they say, with ``service`` on every line."""
    settings = load_settings(cls)
    configure_logging(service, settings.log_level, settings.log_format)
    return settings


def stop_on_signals() -> asyncio.Event:
    """An event set when the process is asked to stop (SIGINT, or SIGTERM from a container
    runtime), so a service can close its servers and flush before it exits."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
