"""Data-subject requests (GDPR Arts 15 and 17), for CERT staff: find, export, erase a person's data.

A request names one or more values: clear (``{"kind": "iban", "value": "NO93 8601 1117 947"}`` or a
bare value whose kind is detected) or blinded (``{"kind": "blinded", "value": "KEY:iban:…"}``, as a
key-holding member computes it; the platform cannot blind). Every stored version that holds one of
them is found, older versions included: the versions holding personal data (those with a
``personal_data`` record, written at ingest) are read and their observables extracted again, and
the observable index adds the latest versions of objects stored before records were kept.

Erasure deletes every version of every object found. The audit trail records each request with the
kinds asked, the objects found or deleted and the reason, never the values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
from sqlalchemy import Connection, select

from nordcert.accounts.service import require_cert_admin
from nordcert.accounts.tables import organisations
from nordcert.audit.service import record
from nordcert.clock import iso
from nordcert.config import Settings
from nordcert.errors import Invalid
from nordcert.intel.purge import delete_versions
from nordcert.intel.tables import stix_objects
from nordcert.intel.validate import format_timestamp
from nordcert.observables.extract import extract
from nordcert.observables.kinds import FullCardNumber, Kind, ObservableError, detect, normalise
from nordcert.observables.tables import observables
from nordcert.privacy.tables import personal_data
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp

_BATCH = 2000
MAX_VALUES = 100
_t = stix_objects


def parse_values(items: list[Any], settings: Settings) -> list[tuple[Kind, str]]:
    """The normalised values of a request; Invalid naming each bad item (never echoing it)."""
    if not items:
        raise Invalid("name at least one value")
    if len(items) > MAX_VALUES:
        raise Invalid(f"at most {MAX_VALUES} values in one request")
    out: list[tuple[Kind, str]] = []
    problems: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        try:
            if isinstance(item, str):
                found = detect(item, phone_region=settings.phone_region)
                if found is None:
                    raise ObservableError("not a value of any kind we index; give its kind")
            elif isinstance(item, dict) and isinstance(item.get("value"), (str, int)) and item.get("kind"):
                found = normalise(str(item["kind"]), item["value"], phone_region=settings.phone_region)
            else:
                raise ObservableError("each value is a string, or an object with 'kind' and 'value'")
        except (ObservableError, ValueError) as exc:
            problems.append({"index": i, "reason": str(exc)})
            continue
        out.append(found)
    if problems:
        raise Invalid(f"{len(problems)} of {len(items)} values are not valid", details=problems)
    return out


def _matching_versions(conn: Connection, wanted: set[tuple[Kind, str]], settings: Settings) -> Iterator[int]:
    """``date_added`` of every stored version holding one of ``wanted`` (streamed, bounded memory)."""
    seen: set[int] = set()
    after = -1
    while True:
        rows = conn.execute(
            select(_t.c.date_added, _t.c.body).join(personal_data, personal_data.c.date_added == _t.c.date_added)
            .where(_t.c.date_added > after).order_by(_t.c.date_added).limit(_BATCH)
        ).all()
        if not rows:
            break
        for r in rows:
            try:
                found = extract(orjson.loads(r.body), phone_region=settings.phone_region).observables
            except FullCardNumber:
                continue
            if wanted.intersection(found):
                seen.add(r.date_added)
                yield r.date_added
        after = rows[-1].date_added
    for kind, value in wanted:
        for (key,) in conn.execute(select(observables.c.date_added).where(observables.c.kind == kind.value,
                                                                           observables.c.value == value)):
            if key not in seen:
                seen.add(key)
                yield key


def find(conn: Connection, *, reader: Reader | None, values: list[Any], settings: Settings,
         audit: bool = True) -> dict[str, Any]:
    """Every object holding one of ``values``, each with all its versions (those holding the value marked)."""
    require_cert_admin(reader)
    wanted = set(parse_values(values, settings))
    holding = set(_matching_versions(conn, wanted, settings))
    ids = sorted({sid for (sid,) in conn.execute(select(_t.c.stix_id).where(_t.c.date_added.in_(holding)))}) \
        if holding else []
    objects = list(_describe(conn, ids, holding))
    if audit:
        record(conn, actor=reader, action="data_subject.search", target="data-subject request",
               details={"kinds": sorted({k.value for k, _v in wanted}), "values": len(wanted),
                        "objects": ids, "versions": len(holding)})
    return {"values": len(wanted), "objects": objects,
            "versions": sum(len(o["versions"]) for o in objects), "holding": len(holding)}


def _describe(conn: Connection, ids: list[str], holding: set[int]) -> Iterator[dict[str, Any]]:
    names = dict(conn.execute(select(organisations.c.id, organisations.c.name)).all())
    rows: list[Any] = []
    for start in range(0, len(ids), 500):
        rows += conn.execute(
            select(_t.c.stix_id, _t.c.type, _t.c.date_added, _t.c.modified, _t.c.is_latest, _t.c.tlp,
                   _t.c.creator_org_id, _t.c.name, personal_data.c.legal_basis, personal_data.c.expires_at,
                   personal_data.c.kinds)
            .outerjoin(personal_data, personal_data.c.date_added == _t.c.date_added)
            .where(_t.c.stix_id.in_(ids[start:start + 500])).order_by(_t.c.stix_id, _t.c.modified)
        ).all()
    by_id: dict[str, list[Any]] = {}
    for r in rows:
        by_id.setdefault(r.stix_id, []).append(r)
    for sid in ids:
        versions = by_id.get(sid, [])
        first = versions[0] if versions else None
        yield {
            "id": sid,
            "type": first.type if first else None,
            "creator": names.get(first.creator_org_id) if first else None,
            "versions": [{"modified": format_timestamp(v.modified), "date_added": format_timestamp(v.date_added),
                          "latest": bool(v.is_latest), "holds_value": v.date_added in holding,
                          "tlp": Tlp(v.tlp).label, "legal_basis": v.legal_basis, "kinds": v.kinds,
                          "expires_at": iso(v.expires_at)} for v in versions],
        }


def export(conn: Connection, *, reader: Reader | None, values: list[Any], settings: Settings) -> dict[str, Any]:
    """A STIX bundle of every version of every object found (access request, GDPR Art 15)."""
    found = find(conn, reader=reader, values=values, settings=settings, audit=False)
    ids = [o["id"] for o in found["objects"]]
    bodies: list[Any] = []
    for start in range(0, len(ids), 500):
        bodies += [orjson.loads(b) for (b,) in conn.execute(
            select(_t.c.body).where(_t.c.stix_id.in_(ids[start:start + 500])).order_by(_t.c.stix_id, _t.c.modified))]
    record(conn, actor=reader, action="data_subject.export", target="data-subject request",
           details={"objects": ids, "versions": len(bodies)})
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": bodies}


def erase(conn: Connection, *, reader: Reader | None, values: list[Any], settings: Settings, reason: str
          ) -> dict[str, Any]:
    """Delete every version of every object found (erasure, GDPR Art 17); the reason is recorded."""
    if not reason or not reason.strip():
        raise Invalid("say why the data is erased (the request's reference)", details=[{"field": "reason",
                                                                                        "message": "required"}])
    found = find(conn, reader=reader, values=values, settings=settings, audit=False)
    ids = [o["id"] for o in found["objects"]]
    keys: list[int] = []
    for start in range(0, len(ids), 500):
        keys += [k for (k,) in conn.execute(select(_t.c.date_added).where(_t.c.stix_id.in_(ids[start:start + 500])))]
    delete_versions(conn, keys, phone_region=settings.phone_region)
    record(conn, actor=reader, action="data_subject.erase", target="data-subject request",
           details={"reason": reason.strip()[:500], "objects": ids, "versions": len(keys)})
    return {"objects": ids, "versions": len(keys)}
