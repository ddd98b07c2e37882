"""Sector-wide entities of the map: ICT third-party providers and shared infrastructure.

Providers (register of information B_05.01) are one row per provider across the sector: a member naming a
provider by LEI, or else by name, finds the row another member created (:func:`resolve_provider`), so the
analysis sees one provider many members depend on. A member may fill in what the row lacks (its LEI, other
identifier, country) but never change what is there; CERT staff correct providers. The provider's own data
(name, identifiers, head-office country) is public-register information; which members use it is each member's
service row, which the provider listing shows to CERT staff and authorities only, and to a member for its own.

Shared infrastructure (payment and settlement systems, data centres, cloud regions, network providers) is
maintained by CERT staff and listed to everyone on the instance, so members can depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, insert, or_, select, update

from nordcert.clock import iso, now_us
from nordcert.db import upsert_insert
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sectormap.service import (
    INFRASTRUCTURE_KINDS,
    clean_text,
    lei_problem,
    may_read,
    may_see_sector,
    name_key,
    node_id,
    provider_key,
    require_staff,
)
from nordcert.sectormap.tables import (
    sectormap_dependencies,
    sectormap_infrastructure,
    sectormap_providers,
    sectormap_services,
)
from nordcert.sharing.policy import Reader

_pr = sectormap_providers
_in = sectormap_infrastructure
_PROVIDER_FIELDS = ("name", "lei", "other_id", "other_id_type", "country")
_INFRA_FIELDS = ("name", "kind", "operator", "country", "description")
MAX_LIST = 10_000


def country_problem(code: str) -> str | None:
    return None if len(code) == 2 and code.isascii() and code.isalpha() else \
        f"{code[:20]!r} is not an ISO 3166 two-letter country code"


# --- providers ------------------------------------------------------------------------------------


def provider_values(given: Mapping[str, Any], problems: list[dict[str, str]], prefix: str = "") -> dict[str, Any]:
    """A provider's fields as stored (upper-case LEI and country), each problem named ``prefix + field``."""
    out: dict[str, Any] = {}
    local: list[dict[str, str]] = []
    out["name"] = clean_text(dict(given), "name", 300, local, required=False)
    lei = clean_text(dict(given), "lei", 20, local, required=False)
    if lei is not None:
        lei = lei.upper().replace(" ", "")
        if (why := lei_problem(lei)) is not None:
            local.append({"field": "lei", "reason": why})
    out["lei"] = lei
    out["other_id"] = clean_text(dict(given), "other_id", 100, local, required=False)
    out["other_id_type"] = clean_text(dict(given), "other_id_type", 32, local, required=False)
    country = clean_text(dict(given), "country", 2, local, required=False)
    if country is not None:
        country = country.upper()
        if (why := country_problem(country)) is not None:
            local.append({"field": "country", "reason": why})
    out["country"] = country
    problems += [{"field": prefix + p["field"], "reason": p["reason"]} for p in local]
    return out


def resolve_provider(conn: Connection, given: Mapping[str, Any], problems: list[dict[str, str]], *,
                     prefix: str = "provider.", create: bool = True) -> int | None:
    """The provider ``given`` names (``id``, else ``lei``, else ``name``), created if new and ``create``.

    Fields the stored provider lacks are filled in from ``given``; a different LEI for a name already
    registered with one is a problem, as is an unknown id. Returns None when there are problems.
    """
    if given.get("id") is not None:
        found = conn.execute(select(_pr.c.id).where(_pr.c.id == given["id"])).scalar()
        if found is None:
            problems.append({"field": prefix + "id", "reason": f"no provider {given['id']}"})
        return int(found) if found is not None else None
    before = len(problems)
    values = provider_values(given, problems, prefix)
    if values["name"] is None and values["lei"] is None:
        problems.append({"field": prefix + "name", "reason": "a provider is named by its name or its LEI"})
    if len(problems) > before:
        return None
    row = None
    if values["lei"] is not None:
        row = conn.execute(select(_pr).where(_pr.c.lei == values["lei"])).mappings().first()
    if row is None and values["name"] is not None:
        row = conn.execute(select(_pr).where(_pr.c.name_key == provider_key(values["name"]))).mappings().first()
        if row is not None and row["lei"] and values["lei"] and row["lei"] != values["lei"]:
            problems.append({"field": prefix + "lei", "reason": f"provider {row['name']!r} is registered with LEI "
                                                                 f"{row['lei']}; give that LEI or another name"})
            return None
    if row is None:
        if values["name"] is None:
            problems.append({"field": prefix + "name", "reason": f"no provider with LEI {values['lei']} yet: give "
                                                                 "its name too"})
            return None
        if not create:
            problems.append({"field": prefix + "name", "reason": f"no provider {values['name']!r}"})
            return None
        stamp = now_us()
        made = conn.execute(upsert_insert(conn, _pr).values(
            **values, name_key=provider_key(values["name"]), created_at=stamp, updated_at=stamp,
        ).on_conflict_do_nothing().returning(_pr.c.id)).scalar()
        if made is not None:
            return int(made)
        # Another member registered it at the same moment (PostgreSQL): theirs is the provider.
        return resolve_provider(conn, given, problems, prefix=prefix, create=False)
    missing = {k: v for k, v in values.items() if k != "name" and v is not None and row[k] is None}
    if missing:
        conn.execute(update(_pr).where(_pr.c.id == row["id"]).values(**missing, updated_at=now_us()))
    return int(row["id"])


def create_provider(conn: Connection, reader: Reader, *, values: Mapping[str, Any]) -> dict[str, Any]:
    """Register a provider (CERT staff; members register theirs through their services)."""
    require_staff(reader, "register providers directly")
    problems: list[dict[str, str]] = []
    checked = provider_values(values, problems)
    if checked["name"] is None:
        problems.append({"field": "name", "reason": "required, 1 to 300 characters"})
    if problems:
        raise Invalid("the provider is not valid", details=problems)
    _provider_unique(conn, checked, None)
    stamp = now_us()
    provider_id = conn.execute(insert(_pr).values(**checked, name_key=provider_key(checked["name"]), created_at=stamp,
                                                  updated_at=stamp).returning(_pr.c.id)).scalar_one()
    return get_provider(conn, reader, provider_id)


def update_provider(conn: Connection, reader: Reader, provider_id: int, *, changes: Mapping[str, Any]
                    ) -> dict[str, Any]:
    """Correct a provider's name, identifiers or country (CERT staff); every member using it sees the change."""
    require_staff(reader, "change providers")
    row = conn.execute(select(_pr).where(_pr.c.id == provider_id)).mappings().first()
    if row is None:
        raise NotFound(f"no provider {provider_id}")
    _only(changes, _PROVIDER_FIELDS)
    problems: list[dict[str, str]] = []
    merged = {k: changes.get(k, row[k]) for k in _PROVIDER_FIELDS}
    checked = provider_values(merged, problems)
    if checked["name"] is None:
        problems.append({"field": "name", "reason": "required, 1 to 300 characters"})
    if problems:
        raise Invalid("the provider is not valid", details=problems)
    _provider_unique(conn, checked, provider_id)
    if any(checked[k] != row[k] for k in _PROVIDER_FIELDS):
        conn.execute(update(_pr).where(_pr.c.id == provider_id).values(
            **checked, name_key=provider_key(checked["name"]), updated_at=now_us()))
    return get_provider(conn, reader, provider_id)


def delete_provider(conn: Connection, reader: Reader, provider_id: int) -> None:
    """Remove a provider no member's service uses any more (CERT staff)."""
    require_staff(reader, "remove providers")
    if conn.execute(select(_pr.c.id).where(_pr.c.id == provider_id)).first() is None:
        raise NotFound(f"no provider {provider_id}")
    used = conn.execute(select(func.count()).select_from(sectormap_services)
                        .where(sectormap_services.c.provider_id == provider_id)).scalar_one()
    if used:
        raise Conflict(f"provider {provider_id} is used by {used} service(s); correct or merge those first")
    conn.execute(delete(_pr).where(_pr.c.id == provider_id))


def list_providers(conn: Connection, reader: Reader, *, limit: int = MAX_LIST) -> list[dict[str, Any]]:
    """Providers by name: every one with its usage for CERT staff and authorities; for a member those its own
    services use, without anything about other members."""
    if not may_read(reader):
        return []
    return _providers(conn, reader, None, limit)


def get_provider(conn: Connection, reader: Reader, provider_id: int) -> dict[str, Any]:
    found = _providers(conn, reader, _pr.c.id == provider_id, 1) if may_read(reader) else []
    if not found:
        raise NotFound(f"no provider {provider_id}")
    return found[0]


def _providers(conn: Connection, reader: Reader, where: ColumnElement[bool] | None, limit: int
               ) -> list[dict[str, Any]]:
    v = sectormap_services
    sector = may_see_sector(conn, reader)
    q = select(_pr).order_by(_pr.c.name_key, _pr.c.id).limit(limit)
    if where is not None:
        q = q.where(where)
    if not sector:
        q = q.where(_pr.c.id.in_(select(v.c.provider_id).where(v.c.organisation_id == reader.organisation_id)))
    rows = conn.execute(q).mappings().all()
    usage: dict[int, dict[str, int]] = {}
    if sector and rows:
        ids = [r["id"] for r in rows]
        for u in conn.execute(select(v.c.provider_id, func.count(func.distinct(v.c.organisation_id)).label("members"),
                                     func.count().label("services"))
                              .where(v.c.provider_id.in_(ids)).group_by(v.c.provider_id)):
            usage[u.provider_id] = {"members": u.members, "services": u.services}
    return [{
        "id": r["id"], "node_id": node_id("provider", r["id"]), "name": r["name"], "lei": r["lei"],
        "other_id": r["other_id"], "other_id_type": r["other_id_type"], "country": r["country"],
        "unknown": r["lei"] is None and r["other_id"] is None,
        "usage": usage.get(r["id"], {"members": 0, "services": 0}) if sector else None,
        "created_at": iso(r["created_at"]), "updated_at": iso(r["updated_at"]),
    } for r in rows]


def _provider_unique(conn: Connection, values: Mapping[str, Any], own_id: int | None) -> None:
    clash = [_pr.c.name_key == provider_key(values["name"])]
    if values["lei"] is not None:
        clash.append(_pr.c.lei == values["lei"])
    q = select(_pr.c.id, _pr.c.name).where(or_(*clash))
    if own_id is not None:
        q = q.where(_pr.c.id != own_id)
    other = conn.execute(q).first()
    if other is not None:
        raise Conflict(f"provider {other.id} ({other.name}) has that name or LEI already")


# --- shared infrastructure ------------------------------------------------------------------------


def create_infrastructure(conn: Connection, reader: Reader, *, values: Mapping[str, Any]) -> dict[str, Any]:
    """Add a shared infrastructure node members can depend on (CERT staff)."""
    require_staff(reader, "maintain shared infrastructure")
    _only(values, _INFRA_FIELDS)
    checked = _infra_values(values)
    _infra_unique(conn, checked, None)
    stamp = now_us()
    infra_id = conn.execute(insert(_in).values(**checked, created_at=stamp, updated_at=stamp)
                            .returning(_in.c.id)).scalar_one()
    return get_infrastructure(conn, reader, infra_id)


def update_infrastructure(conn: Connection, reader: Reader, infrastructure_id: int, *,
                          changes: Mapping[str, Any]) -> dict[str, Any]:
    require_staff(reader, "maintain shared infrastructure")
    row = conn.execute(select(_in).where(_in.c.id == infrastructure_id)).mappings().first()
    if row is None:
        raise NotFound(f"no shared infrastructure {infrastructure_id}")
    _only(changes, _INFRA_FIELDS)
    checked = _infra_values({**{k: row[k] for k in _INFRA_FIELDS}, **changes})
    if any(checked[k] != row[k] for k in checked):
        _infra_unique(conn, checked, infrastructure_id)
        conn.execute(update(_in).where(_in.c.id == infrastructure_id).values(**checked, updated_at=now_us()))
    return get_infrastructure(conn, reader, infrastructure_id)


def delete_infrastructure(conn: Connection, reader: Reader, infrastructure_id: int) -> None:
    """Remove a shared infrastructure node and every member's dependency on it (CERT staff)."""
    require_staff(reader, "maintain shared infrastructure")
    if conn.execute(delete(_in).where(_in.c.id == infrastructure_id)).rowcount == 0:
        raise NotFound(f"no shared infrastructure {infrastructure_id}")


def list_infrastructure(conn: Connection, reader: Reader) -> list[dict[str, Any]]:
    """Shared infrastructure by kind and name; how many members depend on each for CERT staff and authorities."""
    return _infrastructure(conn, reader, None) if may_read(reader) else []


def get_infrastructure(conn: Connection, reader: Reader, infrastructure_id: int) -> dict[str, Any]:
    found = _infrastructure(conn, reader, _in.c.id == infrastructure_id) if may_read(reader) else []
    if not found:
        raise NotFound(f"no shared infrastructure {infrastructure_id}")
    return found[0]


def _infrastructure(conn: Connection, reader: Reader, where: ColumnElement[bool] | None) -> list[dict[str, Any]]:
    q = select(_in).order_by(_in.c.kind, _in.c.name_key)
    if where is not None:
        q = q.where(where)
    rows = conn.execute(q).mappings().all()
    usage: dict[int, int] = {}
    sector = may_see_sector(conn, reader)
    if sector and rows:
        d = sectormap_dependencies
        for u in conn.execute(select(d.c.to_infrastructure_id, func.count(func.distinct(d.c.organisation_id)))
                              .where(d.c.to_infrastructure_id.in_([r["id"] for r in rows]))
                              .group_by(d.c.to_infrastructure_id)):
            usage[u[0]] = u[1]
    return [{
        "id": r["id"], "node_id": node_id("infrastructure", r["id"]), "name": r["name"], "kind": r["kind"],
        "kind_name": INFRASTRUCTURE_KINDS.get(r["kind"], r["kind"]), "operator": r["operator"],
        "country": r["country"], "description": r["description"],
        "members_depending": usage.get(r["id"], 0) if sector else None,
        "created_at": iso(r["created_at"]), "updated_at": iso(r["updated_at"]),
    } for r in rows]


def _infra_values(values: Mapping[str, Any]) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    given = dict(values)
    name = clean_text(given, "name", 300, problems)
    kind = str(given.get("kind") or "")
    if kind not in INFRASTRUCTURE_KINDS:
        problems.append({"field": "kind", "reason": f"{kind[:40]!r} is not one of: {', '.join(INFRASTRUCTURE_KINDS)}"})
    operator = clean_text(given, "operator", 300, problems, required=False) or ""
    country = clean_text(given, "country", 2, problems, required=False)
    if country is not None:
        country = country.upper()
        if (why := country_problem(country)) is not None:
            problems.append({"field": "country", "reason": why})
    description = clean_text(given, "description", 32767, problems, required=False) or ""
    if problems:
        raise Invalid("the shared infrastructure is not valid", details=problems)
    assert name is not None
    return {"name": name, "name_key": name_key(name), "kind": kind, "operator": operator, "country": country,
            "description": description}


def _infra_unique(conn: Connection, values: Mapping[str, Any], own_id: int | None) -> None:
    q = select(_in.c.id).where(_in.c.name_key == values["name_key"])
    if own_id is not None:
        q = q.where(_in.c.id != own_id)
    if conn.execute(q).first() is not None:
        raise Conflict(f"shared infrastructure named {values['name']!r} exists already")


def _only(values: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise Invalid(f"these fields cannot be set: {', '.join(unknown)}")
