"""The configuration files shipped for deployment load in the services that read them."""

from __future__ import annotations

from pathlib import Path

from polis.adapter.config import load_config as load_sites
from polis.optimizer.config import load_config as load_optimizer


def test_deployed_adapter_sites_validate(repo_root: Path) -> None:
    site = load_sites(repo_root / "k8s/base/config/sites.yaml")
    assert site.adapter.grpc_port == 50051
    assert site.adapter.automation_priority >= 9
    commands = [p for b in site.buildings for d in b.devices for p in (d.points or ()) if p.write]
    assert commands, "the example commands nothing"


def test_deployed_optimizer_config_validates(repo_root: Path) -> None:
    config = load_optimizer(repo_root / "k8s/base/config/optimizer.yaml")
    assert config.command_points()
