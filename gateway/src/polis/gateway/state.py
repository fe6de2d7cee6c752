"""What the app holds for its lifetime; built in create_app and handed to routes by DI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from polis.common.clock import Clock
from polis.gateway.caching import AsyncTtlCache
from polis.gateway.domain.savings import ServedReport
from polis.gateway.peers.catalogue_cache import CatalogueCache
from polis.gateway.peers.clients import Peers
from polis.gateway.readings import ReadingsStore
from polis.gateway.security.key_cache import KeyCache
from polis.gateway.security.ratelimit import TokenBuckets
from polis.gateway.settings import GatewaySettings
from polis.gateway.webhook_dispatch import WebhookDispatcher


@dataclass
class GatewayState:
    settings: GatewaySettings
    engine: Engine
    sessions: sessionmaker[Session]
    peers: Peers
    catalogue: CatalogueCache
    readings: ReadingsStore
    buckets: TokenBuckets
    webhooks: WebhookDispatcher
    clock: Clock
    keys: KeyCache
    # Serialised last values per tuple of point ids.
    last_values: AsyncTtlCache[tuple[str, ...], bytes]
    # Savings reports (as returned to clients) per request; cleared when data is imported.
    reports: AsyncTtlCache[tuple[object, ...], ServedReport]
