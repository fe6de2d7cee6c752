"""The committed generated code must match the .proto files (regenerated here and compared)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_generated_code_is_up_to_date(repo_root: Path, tmp_path: Path) -> None:
    subprocess.run(["bash", "scripts/gen-protos.sh", str(tmp_path)], cwd=repo_root, check=True)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert fresh, "no code was generated"
    stale = [
        str(rel)
        for rel in fresh
        if not (repo_root / "protos" / rel).exists()
        or (repo_root / "protos" / rel).read_bytes() != (tmp_path / rel).read_bytes()
    ]
    assert not stale, f"generated code is stale, run `make protos`: {stale}"


def test_contract_packages_mirror_import_paths(repo_root: Path) -> None:
    for proto in (repo_root / "protos").rglob("*.proto"):
        package = next(
            line.split()[1].rstrip(";")
            for line in proto.read_text().splitlines()
            if line.startswith("package ")
        )
        assert package == ".".join(proto.relative_to(repo_root / "protos").parent.parts), proto
