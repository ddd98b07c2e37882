"""A member's own part of the map: its critical business processes, systems, and the ICT services it contracts
from third-party providers (DORA Art 28(3), the register of information); their edges are :mod:`.dependencies`.

The member's analysts and risk officers create, change and delete their own; its users, CERT staff and
authorities' risk officers read it (:mod:`.service` has the table). Another member's process, system or service
is answered exactly like one that does not exist (NotFound, or "no system 7" in a list of problems).

Every node may be given ``depends_on`` (node ids it depends on) and systems and services ``supports`` (the
node ids that depend on it); on change, a list given replaces the node's edges on that side. A node's
dependencies are its own organisation's systems and services, or shared infrastructure
(:data:`~.service.DEPENDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, or_, select, update

from nordcert.clock import iso, now_us
from nordcert.db import upsert_insert
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sectormap import shared
from nordcert.sectormap.dependencies import TABLES, edge_lists, own_row, replace_edges
from nordcert.sectormap.service import (
    PROCESS_CATEGORIES,
    SERVICE_TYPES,
    SUBSTITUTABILITY,
    clean_text,
    may_read,
    may_see_member,
    may_see_sector,
    name_key,
    node_id,
    organisations_by_id,
    parse_date,
    require_member_writer,
)
from nordcert.sectormap.tables import (
    sectormap_dependencies,
    sectormap_providers,
)
from nordcert.sharing.policy import Reader

_FIELDS = {
    "process": ("name", "category", "critical", "function_ref", "description"),
    "system": ("name", "description"),
    "service": ("name", "provider", "service_type", "critical", "substitutability", "storage_locations",
                "processing_locations", "contract_reference", "contract_end"),
}
_EDGES = ("depends_on", "supports")
_d = sectormap_dependencies


# --- create, change, delete -----------------------------------------------------------------------


def create_node(conn: Connection, reader: Reader, kind: str, *, values: Mapping[str, Any]) -> dict[str, Any]:
    """Add a process, system or service to the reader's organisation's part, with its edges if given."""
    org = require_member_writer(conn, reader)
    _known_fields(kind, values)
    problems: list[dict[str, str]] = []
    checked = check_values(conn, kind, dict(values), problems)
    edges = edge_lists(conn, org, kind, None, values, problems)
    if problems:
        raise Invalid(f"the {kind} is not valid", details=problems)
    _unique_name(conn, kind, org, checked["name_key"], None)
    stamp = now_us()
    table = TABLES[kind]
    made = conn.execute(upsert_insert(conn, table).values(
        **checked, organisation_id=org, created_at=stamp, updated_at=stamp,
    ).on_conflict_do_nothing().returning(table.c.id)).scalar()
    if made is None:  # the same name, created by a colleague at the same moment
        raise Conflict(f"your organisation has a {kind} of that name already")
    row_id = int(made)
    replace_edges(conn, org, kind, row_id, edges, stamp)
    return get_node(conn, reader, kind, row_id)


def update_node(conn: Connection, reader: Reader, kind: str, row_id: int, *, changes: Mapping[str, Any]
                ) -> dict[str, Any]:
    """Change fields of one of the reader's organisation's nodes; ``depends_on``/``supports`` replace edges."""
    org = require_member_writer(conn, reader)
    row = own_row(conn, kind, row_id, org)
    _known_fields(kind, changes)
    problems: list[dict[str, str]] = []
    fields = {k: v for k, v in changes.items() if k not in _EDGES}
    current = current_values(conn, kind, row)
    checked = check_values(conn, kind, {**current, **fields}, problems)
    edges = edge_lists(conn, org, kind, row_id, changes, problems)
    if problems:
        raise Invalid(f"the {kind} is not valid", details=problems)
    stamp = now_us()
    if any(checked[k] != row[k] for k in checked):
        _unique_name(conn, kind, org, checked["name_key"], row_id)
        conn.execute(update(TABLES[kind]).where(TABLES[kind].c.id == row_id).values(**checked, updated_at=stamp))
    replace_edges(conn, org, kind, row_id, edges, stamp)
    return get_node(conn, reader, kind, row_id)


def delete_node(conn: Connection, reader: Reader, kind: str, row_id: int) -> None:
    """Delete one of the reader's organisation's nodes; its edges go with it (the store cascades)."""
    org = require_member_writer(conn, reader)
    own_row(conn, kind, row_id, org)
    conn.execute(delete(TABLES[kind]).where(TABLES[kind].c.id == row_id))


# --- read -----------------------------------------------------------------------------------------


def get_node(conn: Connection, reader: Reader, kind: str, row_id: int) -> dict[str, Any]:
    table = TABLES[kind]
    org = conn.execute(select(table.c.organisation_id).where(table.c.id == row_id)).scalar()
    if org is None or not may_see_member(conn, reader, org):
        raise NotFound(f"no {kind} {row_id}")
    return list_nodes(conn, reader, kind, organisation_id=org, where=table.c.id == row_id)[0]


def list_nodes(conn: Connection, reader: Reader, kind: str, *, organisation_id: int | None = None,
               where: ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """The processes, systems or services the reader may see, by organisation and name: a member its own;
    CERT staff and authorities' risk officers every member's, or one's (``organisation_id``)."""
    table = TABLES[kind]
    if not may_read(reader):
        return []
    if organisation_id is None and not may_see_sector(conn, reader):
        organisation_id = reader.organisation_id
    if organisation_id is not None and not may_see_member(conn, reader, organisation_id):
        raise NotFound(f"no organisation {organisation_id} in your view of the map")
    q = select(table)
    if kind == "service":
        pr = sectormap_providers
        q = select(table, pr.c.name.label("provider_name"), pr.c.lei.label("provider_lei"),
                   pr.c.country.label("provider_country")).outerjoin(pr, pr.c.id == table.c.provider_id)
    if organisation_id is not None:
        q = q.where(table.c.organisation_id == organisation_id)
    if where is not None:
        q = q.where(where)
    rows = conn.execute(q.order_by(table.c.organisation_id, table.c.name_key, table.c.id)).mappings().all()
    if not rows:
        return []
    ids = [node_id(kind, r["id"]) for r in rows]
    out_edges: dict[str, list[str]] = {i: [] for i in ids}
    in_edges: dict[str, list[str]] = {i: [] for i in ids}
    for dependent, dependency in conn.execute(select(_d.c.dependent, _d.c.dependency).where(
            or_(_d.c.dependent.in_(ids), _d.c.dependency.in_(ids))).order_by(_d.c.dependent, _d.c.dependency)):
        if dependent in out_edges:
            out_edges[dependent].append(dependency)
        if dependency in in_edges:
            in_edges[dependency].append(dependent)
    orgs = organisations_by_id(conn, {r["organisation_id"] for r in rows})
    return [_out(kind, r, orgs[r["organisation_id"]], out_edges[node_id(kind, r["id"])],
                 in_edges[node_id(kind, r["id"])]) for r in rows]


def _out(kind: str, r: Any, org: dict[str, Any], depends_on: list[str], supports: list[str]
         ) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r["id"], "node_id": node_id(kind, r["id"]), "organisation": org, "name": r["name"]}
    if kind == "process":
        out |= {"category": r["category"], "critical": r["critical"], "function_ref": r["function_ref"],
                "description": r["description"]}
    elif kind == "system":
        out |= {"description": r["description"]}
    else:
        provider = None if r["provider_id"] is None else {
            "id": r["provider_id"], "node_id": node_id("provider", r["provider_id"]), "name": r["provider_name"],
            "lei": r["provider_lei"], "country": r["provider_country"]}
        out |= {"provider": provider, "service_type": r["service_type"],
                "service_type_name": SERVICE_TYPES.get(r["service_type"] or ""), "critical": r["critical"],
                "substitutability": r["substitutability"], "storage_locations": _codes(r["storage_locations"]),
                "processing_locations": _codes(r["processing_locations"]),
                "contract_reference": r["contract_reference"],
                "contract_end": r["contract_end"].isoformat() if r["contract_end"] else None}
    out |= {"depends_on": depends_on}
    if kind != "process":
        out |= {"supports": supports}
    return out | {"created_at": iso(r["created_at"]), "updated_at": iso(r["updated_at"])}


# --- checks and helpers shared with the CSV import ------------------------------------------------


def check_values(conn: Connection, kind: str, values: dict[str, Any], problems: list[dict[str, str]]
                 ) -> dict[str, Any]:
    """The node's columns as stored, appending each problem by field. Services resolve (and may register)
    their provider."""
    name = clean_text(values, "name", 300, problems, required=kind != "service")
    out: dict[str, Any] = {}
    if kind == "process":
        if values.get("category") not in PROCESS_CATEGORIES:
            problems.append({"field": "category", "reason": f"{str(values.get('category'))[:40]!r} is not one of: "
                                                            f"{', '.join(PROCESS_CATEGORIES)}"})
        out = {"category": values.get("category"), "critical": _flag(values, "critical", problems),
               "function_ref": clean_text(values, "function_ref", 100, problems, required=False),
               "description": clean_text(values, "description", 32767, problems, required=False) or ""}
    elif kind == "system":
        out = {"description": clean_text(values, "description", 32767, problems, required=False) or ""}
    else:
        out, name = _service_values(conn, values, name, problems)
    return {"name": name, "name_key": name_key(name or ""), **out}


def current_values(conn: Connection, kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored node as the input :func:`check_values` takes."""
    values = {k: row[k] for k in _FIELDS[kind] if k != "provider"}
    if kind == "service":
        values["provider"] = {"id": row["provider_id"]} if row["provider_id"] is not None else None
        values["storage_locations"] = _codes(row["storage_locations"])
        values["processing_locations"] = _codes(row["processing_locations"])
    return values


def service_name(provider: str | None, service_type: str | None, contract_reference: str | None) -> str:
    """The name a service gets when none is given: its provider, type and contract."""
    name = provider or "Unidentified provider"
    if service_type:
        name += f" – {SERVICE_TYPES[service_type]}"
    if contract_reference:
        name += f" ({contract_reference})"
    return name[:300]


def _service_values(conn: Connection, values: dict[str, Any], name: str | None, problems: list[dict[str, str]]
                    ) -> tuple[dict[str, Any], str | None]:
    provider_id = None
    if values.get("provider") is not None:
        if not isinstance(values["provider"], Mapping):
            problems.append({"field": "provider", "reason": "an object with the provider's id, lei or name"})
        else:
            provider_id = shared.resolve_provider(conn, values["provider"], problems)
    service_type = values.get("service_type") or None
    if service_type is not None and service_type not in SERVICE_TYPES:
        problems.append({"field": "service_type", "reason": f"{str(service_type)[:40]!r} is not an ICT service type "
                                                            "S01…S19"})
        service_type = None
    substitutability = values.get("substitutability") or None
    if substitutability is not None and substitutability not in SUBSTITUTABILITY:
        problems.append({"field": "substitutability", "reason": f"{str(substitutability)[:40]!r} is not one of: "
                                                                f"{', '.join(SUBSTITUTABILITY)}"})
    contract_reference = clean_text(values, "contract_reference", 100, problems, required=False)
    out = {"provider_id": provider_id, "service_type": service_type,
           "critical": _flag(values, "critical", problems), "substitutability": substitutability,
           "storage_locations": _locations(values, "storage_locations", problems),
           "processing_locations": _locations(values, "processing_locations", problems),
           "contract_reference": contract_reference,
           "contract_end": parse_date(values.get("contract_end"), "contract_end", problems)}
    if name is None:
        provider = None
        if provider_id is not None:
            provider = conn.execute(select(sectormap_providers.c.name)
                                    .where(sectormap_providers.c.id == provider_id)).scalar()
        elif values.get("provider") is None:
            problems.append({"field": "name", "reason": "a service without a provider needs a name"})
        name = service_name(provider, service_type, contract_reference)
    return out, name


def _flag(values: Mapping[str, Any], field: str, problems: list[dict[str, str]]) -> bool:
    value = values.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        problems.append({"field": field, "reason": "true or false"})
        return False
    return value


def _locations(values: Mapping[str, Any], field: str, problems: list[dict[str, str]]) -> str:
    given = values.get(field) or []
    if isinstance(given, str):
        given = [given]
    codes: set[str] = set()
    for code in given:
        code = str(code).strip().upper()
        if (why := shared.country_problem(code)) is not None:
            problems.append({"field": field, "reason": why})
        else:
            codes.add(code)
    joined = ",".join(sorted(codes))
    if len(joined) > 200:
        problems.append({"field": field, "reason": "at most 66 countries"})
    return joined


def _codes(text: str) -> list[str]:
    return [c for c in text.split(",") if c]


def _known_fields(kind: str, values: Mapping[str, Any]) -> None:
    allowed = set(_FIELDS[kind]) | {"depends_on"} | ({"supports"} if kind != "process" else set())
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise Invalid(f"these fields cannot be set on a {kind}: {', '.join(unknown)}")


def _unique_name(conn: Connection, kind: str, org: int, key: str, own_id: int | None) -> None:
    table = TABLES[kind]
    q = select(table.c.id).where(table.c.organisation_id == org, table.c.name_key == key)
    if own_id is not None:
        q = q.where(table.c.id != own_id)
    other = conn.execute(q).scalar()
    if other is not None:
        raise Conflict(f"your organisation has a {kind} of that name already ({node_id(kind, other)})")
