"""Validate the deployment files without a Docker engine or a cluster.

- k8s/: `kustomize build` of every overlay, piped to `kubeconform -strict` with the Kubernetes
  JSON schemas that the kubernetes-validate package ships (no schema download needed).
- docker-compose.yml: validated against the compose-spec JSON schema published in the
  compose-spec/compose-go module (the schema docker compose itself uses), fetched through the
  Go module proxy; plus Polis' own rules (healthchecks, non-root images, no inline secrets).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S_VERSION = "1.37.0"
COMPOSE_GO = "github.com/compose-spec/compose-go/v2@v2.9.1"
SCHEMA_CACHE = Path.home() / ".cache" / "polis" / f"k8s-schemas-{K8S_VERSION}"
SECRET_WORDS = ("TOKEN", "PASSWORD", "SECRET", "API_KEY")


def schema_location(manifests: str, cache: Path) -> str:
    """Standalone schemas for the kinds in ``manifests``, made from kubernetes-validate's.

    Its schemas point into a shared ``/api/_definitions.json`` that kubeconform cannot resolve
    from disk, so each needed schema is written out with the definitions inlined.
    """
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    folder = base / f"v{K8S_VERSION}-local-strict"
    if not folder.is_dir():
        raise SystemExit(f"no Kubernetes schemas for {K8S_VERSION} in {base}")
    definitions = json.loads((folder / "_definitions.json").read_text())
    cache.mkdir(parents=True, exist_ok=True)
    for doc in yaml.safe_load_all(manifests):
        if not doc:
            continue
        group_version = doc["apiVersion"].split("/")
        suffix = "-".join(part.split(".")[0] for part in group_version).lower()
        name = f"{doc['kind'].lower()}-{suffix}.json"
        target = cache / name
        if target.exists():
            continue
        text = (folder / name).read_text().replace('"/api/_definitions.json#/', '"#/')
        schema = json.loads(text)
        schema["$defs"] = definitions["$defs"]
        target.write_text(json.dumps(schema))
    return str(cache) + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"


def check_k8s(kustomize: str, kubeconform: str) -> list[str]:
    errors = []
    for overlay in sorted((ROOT / "k8s" / "overlays").iterdir()):
        built = subprocess.run(
            [kustomize, "build", str(overlay)], capture_output=True, text=True, check=False
        )
        if built.returncode != 0:
            errors.append(f"kustomize build {overlay.name}: {built.stderr.strip()}")
            continue
        checked = subprocess.run(
            [
                kubeconform,
                "-strict",
                "-summary",
                "-schema-location",
                schema_location(built.stdout, SCHEMA_CACHE),
                "-",
            ],
            input=built.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        print(f"k8s/overlays/{overlay.name}: {checked.stdout.strip()}")
        if checked.returncode != 0:
            errors.append(f"kubeconform {overlay.name}:\n{checked.stdout}{checked.stderr}")
        errors.extend(f"{overlay.name}: {e}" for e in pod_rules(yaml.safe_load_all(built.stdout)))
    return errors


def pod_rules(documents: object) -> list[str]:
    """Hardening the schemas cannot express: non-root, read-only root, probes, resources."""
    problems = []
    for doc in documents:  # type: ignore[attr-defined]
        if not doc or doc.get("kind") not in {"Deployment", "StatefulSet"}:
            continue
        name = doc["metadata"]["name"]
        pod = doc["spec"]["template"]["spec"]
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{name}: pod securityContext.runAsNonRoot must be true")
        for container in pod["containers"]:
            where = f"{name}/{container['name']}"
            security = container.get("securityContext", {})
            if not security.get("readOnlyRootFilesystem"):
                problems.append(f"{where}: readOnlyRootFilesystem must be true")
            if security.get("allowPrivilegeEscalation", True):
                problems.append(f"{where}: allowPrivilegeEscalation must be false")
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    problems.append(f"{where}: missing {probe}")
            resources = container.get("resources", {})
            if not resources.get("requests") or not resources.get("limits"):
                problems.append(f"{where}: resources.requests and resources.limits are required")
    return problems


def compose_schema() -> dict[str, object]:
    found = subprocess.run(
        ["go", "mod", "download", "-json", COMPOSE_GO],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "GOFLAGS": "-mod=mod"},
    )
    folder = Path(json.loads(found.stdout)["Dir"])
    return json.loads((folder / "schema" / "compose-spec.json").read_text())  # type: ignore[no-any-return]


def workspace_packages() -> set[str]:
    """Names of the uv workspace's member packages."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    return {
        tomllib.loads((ROOT / m / "pyproject.toml").read_text())["project"]["name"] for m in members
    }


def _build_problems(name: str, build: dict[str, Any]) -> list[str]:
    """Every service builds from the one Dockerfile, naming itself, and runs as non-root."""
    dockerfile = ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    problems = []
    if dockerfile != ROOT / "Dockerfile":
        problems.append(f"docker-compose.yml: services.{name} must build from ./Dockerfile")
    service = (build.get("args") or {}).get("SERVICE")
    package = ROOT / {
        "adapter": "building-adapter",
        "optimizer": "optimizer",
        "gateway": "gateway",
    }.get(str(service), f"services/{service}")
    if not (package / "pyproject.toml").is_file():
        problems.append(
            f"docker-compose.yml: services.{name}.build.args.SERVICE: no package {service!r}"
        )
    if "\nUSER " not in dockerfile.read_text():
        problems.append(f"{dockerfile.relative_to(ROOT)}: no non-root USER")
    return problems


def check_compose() -> list[str]:
    path = ROOT / "docker-compose.yml"
    document = yaml.safe_load(path.read_text())
    validator = jsonschema.Draft7Validator(compose_schema())
    errors = [
        f"docker-compose.yml: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]
    for name, service in document.get("services", {}).items():
        if "healthcheck" not in service:
            errors.append(f"docker-compose.yml: services.{name} has no healthcheck")
        for dependency, rule in (service.get("depends_on") or {}).items():
            if rule.get("condition") not in {"service_healthy", "service_completed_successfully"}:
                errors.append(
                    f"docker-compose.yml: services.{name}.depends_on.{dependency} must wait for "
                    "service_healthy"
                )
        environment = service.get("environment") or {}
        for key, value in environment.items():
            literal = value is not None and "${" not in str(value)
            if any(word in key for word in SECRET_WORDS) and literal:
                errors.append(f"docker-compose.yml: services.{name}.environment.{key} is inline")
        build = service.get("build")
        if build:
            errors.extend(_build_problems(name, build))
    print(f"docker-compose.yml: {len(document.get('services', {}))} services checked")
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kustomize", default="kustomize")
    parser.add_argument("--kubeconform", default="kubeconform")
    args = parser.parse_args()
    errors = check_k8s(args.kustomize, args.kubeconform) + check_compose()
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    print("deployment files valid" if not errors else f"{len(errors)} deployment problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
