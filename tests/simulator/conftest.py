"""Shared fixtures for the simulator tests."""

from __future__ import annotations

import pytest

from polis.simulator.config import MunicipalityConfig, load_config


@pytest.fixture(scope="session")
def municipality() -> MunicipalityConfig:
    return load_config()
