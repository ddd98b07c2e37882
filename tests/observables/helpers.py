"""Helpers shared by the lookup, correlation and sighting API tests."""

from __future__ import annotations

from typing import Any

import httpx

from nordcert.clock import now_us
from nordcert.intel.validate import format_timestamp
from tests.factories import Member, bundle, indicator

DAY_US = 86_400 * 1_000_000
IBAN = "NO9386011117947"


def auth(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def ago(days: float) -> str:
    return format_timestamp((now_us() - int(days * DAY_US)) // 1000 * 1000)


def fresh(pattern: str, *, days: float = 1, **extra: Any) -> dict[str, Any]:
    """An indicator created and last modified ``days`` ago."""
    stamp = ago(days)
    return indicator(pattern=pattern, created=stamp, modified=stamp, valid_from=stamp, **extra)


def submit(http: httpx.Client, m: Member, *objects: dict[str, Any], **params: Any) -> None:
    r = http.post("/api/v1/objects", json=bundle(*objects), headers=auth(m), params=params)
    assert r.status_code == 201, r.text
