"""A member's own part of the map: its critical business processes, systems, the ICT services it contracts from
third-party providers (DORA Art 28(3), the register of information), and what depends on what.

The member's analysts and risk officers create, change and delete their own; its users, CERT staff and
authorities' risk officers read it (:mod:`.service` has the table). Another member's process, system or service
is answered exactly like one that does not exist (NotFound, or "no system 7" in a list of problems).

Every node may be given ``depends_on`` (node ids it depends on) and systems and services ``supports`` (the
node ids that depend on it); on change, a list given replaces the node's edges on that side. A node's
dependencies are its own organisation's systems and services, or shared infrastructure (:data:`DEPENDS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from nordcert.clock import now_us
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sectormap import shared
from nordcert.sectormap.service import (
    DEPENDS,
    PROCESS_CATEGORIES,
    SERVICE_TYPES,
    SUBSTITUTABILITY,
    clean_text,
    iso,
    may_read,
    may_see_member,
    may_see_sector,
    name_key,
    node_id,
    organisations_by_id,
    parse_date,
    parse_node_id,
    require_member_writer,
)
from nordcert.sectormap.tables import (
    sectormap_dependencies,
    sectormap_infrastructure,
    sectormap_processes,
    sectormap_providers,
    sectormap_services,
    sectormap_systems,
)
from nordcert.sharing.policy import Reader

KINDS = ("process", "system", "service")
TABLES: dict[str, Table] = {"process": sectormap_processes, "system": sectormap_systems,
                            "service": sectormap_services}
_FROM = {"process": "from_process_id", "system": "from_system_id", "service": "from_service_id"}
_TO = {"system": "to_system_id", "service": "to_service_id", "infrastructure": "to_infrastructure_id"}
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
    edges = _edge_lists(conn, org, kind, None, values, problems)
    if problems:
        raise Invalid(f"the {kind} is not valid", details=problems)
    _unique_name(conn, kind, org, checked["name_key"], None)
    stamp = now_us()
    table = TABLES[kind]
    row_id = int(conn.execute(insert(table).values(**checked, organisation_id=org, created_at=stamp,
                                                   updated_at=stamp).returning(table.c.id)).scalar_one())
    _replace_edges(conn, org, kind, row_id, edges, stamp)
    return get_node(conn, reader, kind, row_id)


def update_node(conn: Connection, reader: Reader, kind: str, row_id: int, *, changes: Mapping[str, Any]
                ) -> dict[str, Any]:
    """Change fields of one of the reader's organisation's nodes; ``depends_on``/``supports`` replace edges."""
    org = require_member_writer(conn, reader)
    row = _own_row(conn, kind, row_id, org)
    _known_fields(kind, changes)
    problems: list[dict[str, str]] = []
    fields = {k: v for k, v in changes.items() if k not in _EDGES}
    current = current_values(conn, kind, row)
    checked = check_values(conn, kind, {**current, **fields}, problems)
    edges = _edge_lists(conn, org, kind, row_id, changes, problems)
    if problems:
        raise Invalid(f"the {kind} is not valid", details=problems)
    stamp = now_us()
    if any(checked[k] != row[k] for k in checked):
        _unique_name(conn, kind, org, checked["name_key"], row_id)
        conn.execute(update(TABLES[kind]).where(TABLES[kind].c.id == row_id).values(**checked, updated_at=stamp))
    _replace_edges(conn, org, kind, row_id, edges, stamp)
    return get_node(conn, reader, kind, row_id)


def delete_node(conn: Connection, reader: Reader, kind: str, row_id: int) -> None:
    """Delete one of the reader's organisation's nodes; its edges go with it (the store cascades)."""
    org = require_member_writer(conn, reader)
    _own_row(conn, kind, row_id, org)
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


# --- dependencies ---------------------------------------------------------------------------------


def add_dependency(conn: Connection, reader: Reader, *, dependent: str, dependency: str) -> dict[str, Any]:
    """``dependent`` (the reader's organisation's node) depends on ``dependency``; adding it twice is harmless."""
    org = require_member_writer(conn, reader)
    from_kind, from_id = parse_node_id(dependent, "dependent")
    to_kind, to_id = parse_node_id(dependency, "dependency")
    if from_kind not in KINDS:
        raise Invalid(f"a {from_kind} depends on nothing here", details=[
            {"field": "dependent", "reason": "a process, system or service of yours"}])
    _own_row(conn, from_kind, from_id, org)
    problems: list[dict[str, str]] = []
    target = _target(conn, org, from_kind, from_id, dependency, "dependency", problems)
    if problems or target is None:
        raise Invalid("the dependency is not valid", details=problems)
    insert_edges(conn, org, [(from_kind, from_id, to_kind, to_id)], now_us())
    return {"dependent": node_id(from_kind, from_id), "dependency": node_id(to_kind, to_id)}


def remove_dependency(conn: Connection, reader: Reader, *, dependent: str, dependency: str) -> None:
    org = require_member_writer(conn, reader)
    parse_node_id(dependent, "dependent")
    parse_node_id(dependency, "dependency")
    gone = conn.execute(delete(_d).where(_d.c.dependent == dependent.strip(), _d.c.dependency == dependency.strip(),
                                         _d.c.organisation_id == org)).rowcount
    if not gone:
        raise NotFound(f"no dependency {dependent} -> {dependency}")


def list_dependencies(conn: Connection, reader: Reader, *, organisation_id: int | None = None
                      ) -> list[dict[str, str]]:
    """Edges the reader may see: a member's own; CERT staff and authorities' risk officers all, or one member's."""
    if not may_read(reader):
        return []
    if organisation_id is None and not may_see_sector(conn, reader):
        organisation_id = reader.organisation_id
    if organisation_id is not None and not may_see_member(conn, reader, organisation_id):
        raise NotFound(f"no organisation {organisation_id} in your view of the map")
    q = select(_d.c.dependent, _d.c.dependency, _d.c.organisation_id).order_by(_d.c.dependent, _d.c.dependency)
    if organisation_id is not None:
        q = q.where(_d.c.organisation_id == organisation_id)
    return [{"dependent": r.dependent, "dependency": r.dependency} for r in conn.execute(q)]


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


def _own_row(conn: Connection, kind: str, row_id: int, org: int) -> dict[str, Any]:
    table = TABLES[kind]
    row = conn.execute(select(table).where(table.c.id == row_id, table.c.organisation_id == org)).mappings().first()
    if row is None:
        raise NotFound(f"no {kind} {row_id}")
    return dict(row)


def _unique_name(conn: Connection, kind: str, org: int, key: str, own_id: int | None) -> None:
    table = TABLES[kind]
    q = select(table.c.id).where(table.c.organisation_id == org, table.c.name_key == key)
    if own_id is not None:
        q = q.where(table.c.id != own_id)
    other = conn.execute(q).scalar()
    if other is not None:
        raise Conflict(f"your organisation has a {kind} of that name already ({node_id(kind, other)})")


_Edge = tuple[str, int, str, int]


def _edge_lists(conn: Connection, org: int, kind: str, row_id: int | None, values: Mapping[str, Any],
                problems: list[dict[str, str]]) -> dict[str, list[tuple[str, int]] | None]:
    """The checked ``depends_on`` and ``supports`` lists given (None: not given, keep the edges)."""
    out: dict[str, list[tuple[str, int]] | None] = {"depends_on": None, "supports": None}
    for side in _EDGES:
        given = values.get(side)
        if given is None:
            continue
        if isinstance(given, str) or not isinstance(given, Iterable):
            problems.append({"field": side, "reason": "a list of node ids"})
            continue
        found: list[tuple[str, int]] = []
        for n, ref in enumerate(given):
            field = f"{side}[{n}]"
            if side == "depends_on":
                target = _target(conn, org, kind, row_id, str(ref), field, problems)
            else:
                target = _supporter(conn, org, kind, row_id, str(ref), field, problems)
            if target is not None and target not in found:
                found.append(target)
        out[side] = found
    return out


def _target(conn: Connection, org: int, kind: str, row_id: int | None, ref: str, field: str,
            problems: list[dict[str, str]]) -> tuple[str, int] | None:
    """A dependency ``kind`` may have: the organisation's own system or service, or shared infrastructure."""
    try:
        to_kind, to_id = parse_node_id(ref, field)
    except Invalid as exc:
        problems += exc.details
        return None
    if to_kind not in DEPENDS[kind]:
        problems.append({"field": field, "reason": f"a {kind} depends on a {' or '.join(DEPENDS[kind])}, not a "
                                                   f"{to_kind}"})
        return None
    if to_kind == kind and to_id == row_id:
        problems.append({"field": field, "reason": "a node does not depend on itself"})
        return None
    if to_kind == "infrastructure":
        exists = conn.execute(select(sectormap_infrastructure.c.id)
                              .where(sectormap_infrastructure.c.id == to_id)).first()
    else:
        table = TABLES[to_kind]
        exists = conn.execute(select(table.c.id).where(table.c.id == to_id, table.c.organisation_id == org)).first()
    if exists is None:
        problems.append({"field": field, "reason": f"no {to_kind} {to_id}"})
        return None
    return to_kind, to_id


def _supporter(conn: Connection, org: int, kind: str, row_id: int | None, ref: str, field: str,
               problems: list[dict[str, str]]) -> tuple[str, int] | None:
    """A node of the organisation that may depend on a ``kind``."""
    try:
        from_kind, from_id = parse_node_id(ref, field)
    except Invalid as exc:
        problems += exc.details
        return None
    if from_kind not in KINDS or kind not in DEPENDS[from_kind]:
        problems.append({"field": field, "reason": f"a {from_kind} does not depend on a {kind}"})
        return None
    if from_kind == kind and from_id == row_id:
        problems.append({"field": field, "reason": "a node does not depend on itself"})
        return None
    table = TABLES[from_kind]
    if conn.execute(select(table.c.id).where(table.c.id == from_id, table.c.organisation_id == org)).first() is None:
        problems.append({"field": field, "reason": f"no {from_kind} {from_id}"})
        return None
    return from_kind, from_id


def _replace_edges(conn: Connection, org: int, kind: str, row_id: int,
                   edges: Mapping[str, list[tuple[str, int]] | None], stamp: int) -> None:
    me = node_id(kind, row_id)
    new: list[_Edge] = []
    if edges["depends_on"] is not None:
        conn.execute(delete(_d).where(_d.c.dependent == me))
        new += [(kind, row_id, k, i) for k, i in edges["depends_on"]]
    if edges["supports"] is not None:
        conn.execute(delete(_d).where(_d.c.dependency == me))
        new += [(k, i, kind, row_id) for k, i in edges["supports"]]
    insert_edges(conn, org, new, stamp)


def insert_edges(conn: Connection, org: int, edges: list[_Edge], stamp: int) -> int:
    """Store edges (from kind, id, to kind, id) of ``org``, skipping those stored already; the number added."""
    rows = [{"dependent": node_id(fk, fi), "dependency": node_id(tk, ti), "organisation_id": org,
             **{c: None for c in (*_FROM.values(), *_TO.values())}, _FROM[fk]: fi, _TO[tk]: ti, "created_at": stamp}
            for fk, fi, tk, ti in dict.fromkeys(edges)]
    added = 0
    for start in range(0, len(rows), 500):  # SQLite binds at most 32,766 values per statement
        stmt = (postgresql.insert(_d) if conn.dialect.name == "postgresql" else sqlite.insert(_d)).values(
            rows[start:start + 500])
        inserted = stmt.on_conflict_do_nothing(index_elements=["dependent", "dependency"]).returning(_d.c.dependent)
        added += len(conn.execute(inserted).all())  # RETURNING names the rows inserted (rowcount is -1 on psycopg)
    return added
