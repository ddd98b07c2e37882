"""Factories for organisations, users and STIX objects used across the tests."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.sharing.policy import Reader

_seq = itertools.count(1)


@dataclass
class Member:
    """An organisation with one user of the given role, and that user's token."""

    org_id: int
    org_name: str
    email: str
    token: str
    reader: Reader


def make_member(
    engine: Engine, *, name: str | None = None, role: str = "analyst", country: str = "DK",
    sector_type: str = "bank", org: str | None = None,
) -> Member:
    """A new organisation (or ``org``, an existing one) with one user and a token."""
    n = next(_seq)
    with transaction(engine) as conn:
        if org is None:
            o = accounts.create_organisation(conn, name=name or f"Test Bank {n}", country=country,
                                             sector_type=sector_type, short_name=f"TB{n}")
        else:
            o = accounts.get_organisation(conn, org)
        email = f"user{n}@{o['short_name'].lower()}.example"
        accounts.create_user(conn, email=email, organisation=o["id"], role=role)
        tok = credentials.create_token(conn, user=email)
        reader = accounts.reader_for(conn, email)
    return Member(org_id=o["id"], org_name=o["name"], email=email, token=tok.token, reader=reader)


def refresh(engine: Engine, member: Member) -> Member:
    """The member with its reader reloaded (after group membership changed)."""
    with transaction(engine, write=False) as conn:
        member.reader = accounts.reader_for(conn, member.email)
    return member


def stix_id(stype: str) -> str:
    return f"{stype}--{uuid.uuid4()}"


def indicator(value: str | None = None, *, modified: str = "2026-01-01T00:00:00.000Z", **extra: Any) -> dict[str, Any]:
    """A valid STIX 2.1 indicator for an IPv4 address."""
    value = value or f"198.51.100.{next(_seq) % 250 + 1}"
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id("indicator"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"C2 server {value}",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    obj.update(extra)
    return obj


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": stix_id("bundle"), "objects": list(objects)}
