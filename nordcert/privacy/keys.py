"""The sector keys' public side: CERT staff register a key's id and check value, and retire it.

The platform never holds a secret. Registering a key id lets members submit values blinded under
it; retiring it refuses new submissions under it while lookups under it keep finding what was
blinded before, until that expires (rotation, docs/privacy.md).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, insert, select, update

from nordcert.accounts.service import require_cert_admin
from nordcert.audit.service import record
from nordcert.clock import iso, now_us
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.privacy.blinding import KeyringError, _check_key_id
from nordcert.privacy.tables import blinding_keys
from nordcert.sharing.policy import Reader

_CHECK_RE = re.compile(r"[0-9a-f]{16}")


def _out(r: Any) -> dict[str, Any]:
    return {"key_id": r.key_id, "check_value": r.check_value, "registered_at": iso(r.registered_at),
            "retired_at": iso(r.retired_at), "active": r.retired_at is None, "note": r.note}


def list_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every registered key id (any member may read them: they are public)."""
    return [_out(r) for r in conn.execute(select(blinding_keys).order_by(blinding_keys.c.registered_at))]


def register_key(conn: Connection, *, reader: Reader | None, key_id: str, check_value: str, note: str = "") -> dict[str, Any]:
    require_cert_admin(reader)
    try:
        _check_key_id(key_id)
    except KeyringError as exc:
        raise Invalid(str(exc), details=[{"field": "key_id", "message": str(exc)}]) from None
    if not _CHECK_RE.fullmatch(check_value):
        raise Invalid("the check value is 16 lower-case hex digits (nordcert blind keygen prints it)",
                      details=[{"field": "check_value", "message": "16 lower-case hex digits"}])
    if conn.execute(select(blinding_keys.c.key_id).where(blinding_keys.c.key_id == key_id)).first():
        raise Conflict(f"key {key_id!r} is registered already")
    conn.execute(insert(blinding_keys).values(key_id=key_id, check_value=check_value, registered_at=now_us(),
                                              retired_at=None, note=note[:300]))
    record(conn, actor=reader, action="blinding_key.registered", target=key_id, details={"check_value": check_value})
    return get_key(conn, key_id)


def retire_key(conn: Connection, *, reader: Reader | None, key_id: str) -> dict[str, Any]:
    require_cert_admin(reader)
    key = get_key(conn, key_id)
    if not key["active"]:
        raise Conflict(f"key {key_id!r} was retired at {key['retired_at']}")
    conn.execute(update(blinding_keys).where(blinding_keys.c.key_id == key_id).values(retired_at=now_us()))
    record(conn, actor=reader, action="blinding_key.retired", target=key_id)
    return get_key(conn, key_id)


def get_key(conn: Connection, key_id: str) -> dict[str, Any]:
    row = conn.execute(select(blinding_keys).where(blinding_keys.c.key_id == key_id)).first()
    if row is None:
        raise NotFound(f"no sector key {key_id!r} is registered")
    return _out(row)
