"""STIX objects for federation tests."""

from __future__ import annotations

import uuid
from typing import Any


def indicator(value: str, *, modified: str = "2026-11-01T00:00:00.000Z", **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-01T00:00:00.000Z", "modified": modified, "name": value,
        "pattern": f"[domain-name:value = '{value}']", "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z", **extra,
    }


def new_version(obj: dict[str, Any], modified: str, **changes: Any) -> dict[str, Any]:
    return {**obj, "modified": modified, **changes}
