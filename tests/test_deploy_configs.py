"""Every configuration Polis ships is one coherent municipality catalogue, read by every service.

The shipped catalogues are found where the deployments name them (the kustomize
``polis-catalogue`` ConfigMaps, the compose ``catalogue`` config) and in ``examples/``. Each must
be complete, and each service's view of it must agree with the adapter's: a load's command
point is a point the adapter reads, with write limits; the savings boundary meters are devices
the adapter polls; the tariffs every building names exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polis.adapter.config import iter_points, load_config
from polis.common.catalogue import Catalogue, load_catalogue, resolve_point_ref
from polis.optimizer.config import optimizer_view, uncommissioned
from polis.savings.catalogue_view import site_directory
from polis.simulator.catalogue import nameplate_catalogue
from polis.simulator.config import load_config as load_simulated
from polis.simulator.endpoints import endpoint_layout

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("adapter", "optimizer", "savings", "gateway")
# each file name is what a service once read instead of the catalogue
SIMULATOR_BASE_PORT = 47900  # the simulator component's --base-port
RETIRED = (
    "POLIS_OPTIMIZER_CONFIG",
    "POLIS_SAVINGS_SITES_FILE",
    "POLIS_CATALOGUE_METADATA",
    "sites.yaml",
    "config/optimizer.yaml",
    "polis/optimizer.yaml",
    "config-from-manifest",
)


def _kustomizations() -> list[Path]:
    return sorted(ROOT.glob("k8s/**/kustomization.yaml"))


def k8s_catalogues() -> list[Path]:
    """The files of every ``polis-catalogue`` ConfigMap generator, base and components."""
    found = []
    for path in _kustomizations():
        doc = yaml.safe_load(path.read_text())
        for generator in doc.get("configMapGenerator", []):
            if generator["name"] == "polis-catalogue":
                found += [path.parent / f.split("=")[-1] for f in generator.get("files", [])]
    return found


def compose() -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(doc, dict)
    return doc


def compose_catalogue() -> Path:
    spec = str(compose()["configs"]["catalogue"]["file"])  # ${POLIS_CATALOGUE_FILE:-default}
    return ROOT / spec.split(":-", 1)[1].rstrip("}")


def shipped() -> list[Path]:
    paths = {*k8s_catalogues(), compose_catalogue(), *ROOT.glob("examples/*.yaml")}
    return sorted(p.resolve() for p in paths)


def test_the_deployments_name_their_catalogues() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in shipped()}
    assert {
        "k8s/base/config/catalogue.yaml",
        "k8s/components/simulator/catalogue.yaml",
        "examples/catalogue.yaml",
        "examples/neighbourhood.yaml",
    } <= names


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_each_shipped_catalogue_is_complete_and_its_views_agree(path: Path) -> None:
    catalogue = load_catalogue(path, complete=True)
    adapter = {ref.point_id: ref.point for ref in iter_points(load_config(path))}
    optimizer = optimizer_view(catalogue)
    planned = [b.id for b in optimizer.buildings]
    modelled = [b.id for b in catalogue.buildings if any(not uncommissioned(x) for x in b.loads)]
    assert planned == modelled, "a building with a load to plan is not planned"
    # an uncommissioned load is learned from its points: the adapter must poll them too
    for b in catalogue.buildings:
        for load in b.loads:
            for field, ref in load.point_refs().items():
                pid = resolve_point_ref(ref, catalogue.municipality, b.id)
                assert pid in adapter, f"{b.id}/{load.id}.{field}: {pid}"
    for building in optimizer.buildings:
        assert building.meter_point in adapter, f"{building.id}: meter {building.meter_point}"
        for load in building.loads:
            for field, pid in load.point_refs().items():
                assert pid in adapter, f"{building.id}/{load.id}.{field}: {pid}"
                if field == "command_point":
                    assert adapter[pid].write is not None, f"{pid} has no write limits"
        assert building.tariff in {t.id for t in optimizer.tariffs}
    _savings_boundary_is_polled(catalogue, {pid.rsplit("/", 1)[0] for pid in adapter})


def _savings_boundary_is_polled(catalogue: Catalogue, devices: set[str]) -> None:
    sites = site_directory(catalogue)
    for building in catalogue.buildings:
        site = sites.site(building.id)
        assert site.meters is not None, f"{building.id} has no savings boundary"
        assert site.tariff is not None, f"{building.id} is valued at no tariff"
        named = [site.meters.main, site.meters.generation, *site.meters.excluded]
        for device in filter(None, [*named, *site.meters.storage]):
            assert f"{catalogue.municipality}/{building.id}/{device}" in devices


def _deployment(doc_path: Path) -> dict[str, Any] | None:
    for doc in yaml.safe_load_all(doc_path.read_text()):
        if doc and doc.get("kind") == "Deployment":
            return doc  # type: ignore[no-any-return]
    return None


def test_every_k8s_service_mounts_the_catalogue_where_polis_catalogue_points() -> None:
    base = yaml.safe_load((ROOT / "k8s/base/kustomization.yaml").read_text())
    env = dict(
        line.split("=", 1)
        for generator in base["configMapGenerator"]
        if generator["name"] == "polis-env"
        for line in generator["literals"]
    )
    target = Path(env["POLIS_CATALOGUE"])
    assert target.name in {p.name for p in k8s_catalogues()}
    for service in SERVICES:
        deployment = _deployment(ROOT / "k8s/base" / f"{service}.yaml")
        assert deployment is not None, service
        pod = deployment["spec"]["template"]["spec"]
        volumes = {
            v["name"]
            for v in pod["volumes"]
            if v.get("configMap", {}).get("name") == "polis-catalogue"
        }
        (container,) = pod["containers"]
        assert {"configMapRef": {"name": "polis-env"}} in container["envFrom"], service
        mounts = [m for m in container["volumeMounts"] if m["name"] in volumes]
        assert [m["mountPath"] for m in mounts] == [str(target.parent)], service


def test_every_compose_service_mounts_the_catalogue_where_polis_catalogue_points() -> None:
    doc = compose()
    assert compose_catalogue().is_file()
    for service in SERVICES:
        spec = doc["services"][service]
        target = spec["environment"]["POLIS_CATALOGUE"]
        assert [c["target"] for c in spec["configs"] if c["source"] == "catalogue"] == [target]


def test_no_service_reads_a_file_of_its_own_any_more() -> None:
    texts = {
        p.relative_to(ROOT).as_posix(): p.read_text()
        for p in [
            ROOT / "docker-compose.yml",
            ROOT / "scripts/demo.py",
            *ROOT.glob("k8s/**/*.yaml"),
        ]
    }
    for name, text in texts.items():
        for retired in RETIRED:
            assert retired not in text, f"{name} still names {retired}"


@pytest.mark.parametrize(
    ("path", "host", "polls"),
    [
        (
            "k8s/base/config/catalogue.yaml",
            "192.0.2.10",
            {"modbus_poll_s": 10, "bacnet_poll_s": 60},
        ),
        ("k8s/components/simulator/catalogue.yaml", "127.0.0.1", {}),
    ],
)
def test_the_larissa_catalogues_are_the_simulators_buildings(
    path: str, host: str, polls: dict[str, float]
) -> None:
    """Deployed and simulated Larissa are the same buildings, devices, points and loads; only
    addresses and poll intervals differ, and the simulator's model regenerates both, without
    its physics: what ships is uncommissioned, as a real deployment starts."""
    config = load_simulated()
    endpoints = endpoint_layout(config, host, SIMULATOR_BASE_PORT)
    polls = {"modbus_poll_s": 1.0, "bacnet_poll_s": 1.0, **polls}
    expected = nameplate_catalogue(config, endpoints, **polls)
    assert yaml.safe_load((ROOT / path).read_text()) == expected, (
        f"{path} is stale: regenerate it with the command in its header"
    )
