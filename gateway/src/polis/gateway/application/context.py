"""What the use cases run with: built once per process in ``polis.gateway.app``."""

from __future__ import annotations

from dataclasses import dataclass

from polis.common.clock import Clock
from polis.gateway.application.database import Database
from polis.gateway.application.events import Events
from polis.gateway.application.ports import Commissioning, Control, Planning, Savings


@dataclass(frozen=True)
class Services:
    db: Database
    # The shared Polis clock: the source of every domain timestamp the gateway writes.
    clock: Clock
    events: Events
    control: Control
    planning: Planning
    savings: Savings
    # None where nothing serves commissioning reports (they then answer 503)
    commissioning: Commissioning | None = None
