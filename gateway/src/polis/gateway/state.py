"""What the app holds for its lifetime; built in create_app and handed to routes by DI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from polis.common.clock import Clock
from polis.gateway.application.context import Services
from polis.gateway.application.savings import SavingsReports
from polis.gateway.caching import AsyncTtlCache
from polis.gateway.peers.catalogue_cache import CatalogueCache
from polis.gateway.readings import ReadingsStore
from polis.gateway.security.key_cache import KeyCache
from polis.gateway.security.ratelimit import SharedTokenBuckets
from polis.gateway.settings import GatewaySettings


@dataclass
class GatewayState:
    settings: GatewaySettings
    engine: Engine
    sessions: sessionmaker[Session]
    # The use cases' database, clock, events and peers.
    services: Services
    catalogue: CatalogueCache
    readings: ReadingsStore
    # Shared by every replica (in the database).
    limits: SharedTokenBuckets
    clock: Clock
    # Per replica, in memory (see gateway/README.md, "Replicas").
    keys: KeyCache
    # Serialised last values per tuple of point ids.
    last_values: AsyncTtlCache[tuple[str, ...], bytes]
    # Savings reports per request; dropped on every replica when data is imported.
    reports: SavingsReports
