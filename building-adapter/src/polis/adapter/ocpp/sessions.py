"""Charging sessions as JSON lines, and the key of the id tag pseudonyms."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from pathlib import Path
from typing import Any

from polis.common.logging import get_logger

log = get_logger("polis.adapter.ocpp.sessions")


class SessionLog:
    """``state_dir/ocpp-sessions.jsonl``: one line per session start and end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, action: str, **fields: Any) -> str:
        record_id = uuid.uuid4().hex
        entry = {"record_id": record_id, "action": action, **fields}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
        log.info("charging session", **entry)
        return record_id

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]


def id_tag_key(configured: str | None, path: Path) -> bytes:
    """The configured key, or one made once and kept (0600) so pseudonyms stay stable."""
    if configured:
        return configured.encode("utf-8")
    if path.exists():
        return path.read_bytes()
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
