"""What the app holds for its lifetime; built in create_app and handed to routes by DI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from polis.gateway.peers.catalogue_cache import CatalogueCache
from polis.gateway.peers.clients import Peers
from polis.gateway.readings import ReadingsStore
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
