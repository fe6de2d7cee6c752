"""Append-only audit trail of every command write and relinquish (JSON lines + log)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polis.common.logging import get_logger

log = get_logger("polis.adapter.audit")


class AuditLog:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, action: str, **fields: Any) -> str:
        """Write one record durably (fsync) and return its id."""
        audit_id = uuid.uuid4().hex
        entry = {
            "audit_id": audit_id,
            "at": datetime.now(UTC).isoformat(),
            "action": action,
            **fields,
        }
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        log.info("audit", **entry)
        return audit_id

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
