"""Dependencies between nodes of the map: a member's own edges, checked by kind (:data:`~.service.DEPENDS`) and
kept within the member: a node depends on the member's own systems and services or on shared infrastructure.
Another member's node is named as missing ("no system 7"), exactly like one that does not exist."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, delete, select

from nordcert.clock import now_us
from nordcert.db import upsert_insert
from nordcert.errors import Invalid, NotFound
from nordcert.sectormap.service import (
    DEPENDS,
    may_read,
    may_see_member,
    may_see_sector,
    node_id,
    parse_node_id,
    require_member_writer,
)
from nordcert.sectormap.tables import (
    sectormap_dependencies,
    sectormap_infrastructure,
    sectormap_processes,
    sectormap_services,
    sectormap_systems,
)
from nordcert.sharing.policy import Reader

KINDS = ("process", "system", "service")
TABLES: dict[str, Table] = {"process": sectormap_processes, "system": sectormap_systems,
                            "service": sectormap_services}
_FROM = {"process": "from_process_id", "system": "from_system_id", "service": "from_service_id"}
_TO = {"system": "to_system_id", "service": "to_service_id", "infrastructure": "to_infrastructure_id"}
_EDGES = ("depends_on", "supports")
_d = sectormap_dependencies


# --- edges one at a time ------------------------------------------------------------------------


def add_dependency(conn: Connection, reader: Reader, *, dependent: str, dependency: str) -> dict[str, Any]:
    """``dependent`` (the reader's organisation's node) depends on ``dependency``; adding it twice is harmless."""
    org = require_member_writer(conn, reader)
    from_kind, from_id = parse_node_id(dependent, "dependent")
    to_kind, to_id = parse_node_id(dependency, "dependency")
    if from_kind not in KINDS:
        raise Invalid(f"a {from_kind} depends on nothing here", details=[
            {"field": "dependent", "reason": "a process, system or service of yours"}])
    own_row(conn, from_kind, from_id, org)
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


# --- helpers of the registry and the CSV import -------------------------------------------------


def own_row(conn: Connection, kind: str, row_id: int, org: int) -> dict[str, Any]:
    table = TABLES[kind]
    row = conn.execute(select(table).where(table.c.id == row_id, table.c.organisation_id == org)).mappings().first()
    if row is None:
        raise NotFound(f"no {kind} {row_id}")
    return dict(row)



_Edge = tuple[str, int, str, int]


def edge_lists(conn: Connection, org: int, kind: str, row_id: int | None, values: Mapping[str, Any],
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


def replace_edges(conn: Connection, org: int, kind: str, row_id: int,
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
        stmt = upsert_insert(conn, _d).values(rows[start:start + 500])
        inserted = stmt.on_conflict_do_nothing(index_elements=["dependent", "dependency"]).returning(_d.c.dependent)
        added += len(conn.execute(inserted).all())  # RETURNING names the rows inserted (rowcount is -1 on psycopg)
    return added
