"""The map as a graph to draw, and the analyses (:mod:`.analysis`) as each reader may see them.

CERT staff and authorities' risk officers get full results with names: which members depend on a node, which
functions a what-if loses. A member gets its own nodes by name and, about the rest of the sector, aggregates:

- a shared provider or infrastructure node is named with its counts ("supports N critical functions of M
  members") when at least :data:`~.service.SHARED_MIN_MEMBERS` members' critical functions depend on it, or the
  member's own do; never which members;
- HHI per service category with the shares of providers that many members rely on; the others are summed up as
  one "other providers" share;
- what-if: the functions lost counted by member type, and the member's own lost functions by name; it may take
  down its own nodes and the shared nodes it is shown;
- cycles and incomplete dependencies: its own, and sector-wide counts.

Counts by member type name no member, but a type with one member is that member: the same trade-off as the
crisis situation picture, accepted for the forum's members.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection

from nordcert.errors import Invalid, NotFound
from nordcert.sectormap import analysis
from nordcert.sectormap.graph import Graph, Node
from nordcert.sectormap.service import (
    INFRASTRUCTURE_KINDS,
    PROCESS_CATEGORIES,
    SERVICE_TYPES,
    SHARED_MIN_MEMBERS,
    load_graph,
    may_read,
    may_see_member,
    may_see_sector,
    organisations_by_id,
    parse_node_id,
)
from nordcert.sharing.policy import Reader

_SHARED = ("provider", "infrastructure")
MAX_DOWN = 100


def _scope(conn: Connection, reader: Reader) -> bool:
    """True for the sector view (names), False for a member's; NotFound for a federation peer."""
    if not may_read(reader):
        raise NotFound("no sector map")
    return may_see_sector(conn, reader)


def _category_name(node: Node) -> str | None:
    if node.category is None:
        return None
    names = {"process": PROCESS_CATEGORIES, "service": SERVICE_TYPES, "infrastructure": INFRASTRUCTURE_KINDS}
    return names.get(node.kind, {}).get(node.category, node.category)


def _node(node: Node, orgs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {"id": node.id, "kind": node.kind, "name": node.name,
            "organisation": orgs.get(node.organisation_id) if node.organisation_id is not None else None,
            "critical": node.critical, "category": node.category, "category_name": _category_name(node),
            "unknown": node.unknown}


# --- the graph to draw ----------------------------------------------------------------------------


def graph_view(conn: Connection, reader: Reader, *, organisation_id: int | None = None) -> dict[str, Any]:
    """Nodes and edges to draw: the whole map (CERT staff, authorities), or one member's part with the shared
    nodes it reaches (a member: its own)."""
    sector = _scope(conn, reader)
    if organisation_id is None and not sector:
        organisation_id = reader.organisation_id
    if organisation_id is not None and not may_see_member(conn, reader, organisation_id):
        raise NotFound(f"no organisation {organisation_id} in your view of the map")
    graph = load_graph(conn)
    keep = set(graph.nodes) if organisation_id is None else _part(graph, organisation_id)
    orgs = organisations_by_id(conn, {graph.nodes[n].organisation_id for n in keep})
    return {
        "organisation_id": organisation_id,
        "nodes": [_node(graph.nodes[n], orgs) for n in sorted(keep)],
        "edges": [{"dependent": a, "dependency": b} for a in sorted(keep)
                  for b in sorted(graph.depends_on[a]) if b in keep],
    }


def _part(graph: Graph, organisation_id: int) -> set[str]:
    """A member's nodes and every shared node they reach."""
    own = {n for n, node in graph.nodes.items() if node.organisation_id == organisation_id}
    keep, stack = set(own), list(own)
    while stack:
        for d in graph.depends_on[stack.pop()]:
            if d not in keep and graph.nodes[d].organisation_id in (None, organisation_id):
                keep.add(d)
                stack.append(d)
    return keep


# --- concentration and single points of failure ---------------------------------------------------


def concentration_view(conn: Connection, reader: Reader, *, function_category: str | None = None,
                       spof_only: bool = False, limit: int = 100) -> dict[str, Any]:
    """Nodes by the critical functions that depend on them, most first (``spof_only``: those whose loss alone
    loses a function). Sector view: every node, with the members depending; a member: see the module."""
    if function_category is not None and function_category not in PROCESS_CATEGORIES:
        raise Invalid(f"function_category {function_category!r} is not one of: {', '.join(PROCESS_CATEGORIES)}")
    if not 1 <= limit <= 10_000:
        raise Invalid("limit must be between 1 and 10000")
    sector = _scope(conn, reader)
    graph = load_graph(conn)
    rows = (analysis.single_points_of_failure if spof_only else analysis.concentration)(
        graph, function_category=function_category)
    if not sector:
        rows = [r for r in rows if _member_sees(r, reader.organisation_id)]
    rows = rows[:limit]
    wanted = {r.organisation_id for r in rows if r.organisation_id is not None}
    if sector:
        wanted |= {m for r in rows for m in r.member_ids}
    orgs = organisations_by_id(conn, wanted)
    functions = [n for n in graph.nodes.values() if n.kind == "process" and n.critical
                 and (function_category is None or n.category == function_category)]
    return {
        "scope": "sector" if sector else "member",
        "function_category": function_category,
        "critical_functions": len(functions),
        "members": len({n.organisation_id for n in functions}),
        "nodes": [{
            "node": _node(graph.nodes[r.node_id], orgs),
            "direct_functions": r.direct_functions, "direct_members": r.direct_members,
            "functions": r.functions, "members": r.members,
            "function_share": r.function_share, "member_share": r.member_share,
            "depending_members": [orgs[m] for m in r.member_ids] if sector else None,
            "you_depend": None if sector else reader.organisation_id in r.member_ids,
        } for r in rows],
    }


def _member_sees(row: analysis.Concentration, organisation_id: int) -> bool:
    if row.organisation_id is not None:
        return row.organisation_id == organisation_id
    return row.kind in _SHARED and (row.members >= SHARED_MIN_MEMBERS or organisation_id in row.member_ids)


def _visible_shared(graph: Graph, organisation_id: int) -> set[str]:
    """Shared nodes a member is shown: those its own or enough members' critical functions depend on."""
    return {r.node_id for r in analysis.concentration(graph)
            if r.organisation_id is None and _member_sees(r, organisation_id)}


# --- HHI ------------------------------------------------------------------------------------------


def hhi_view(conn: Connection, reader: Reader, *, basis: str = "functions") -> dict[str, Any]:
    """The HHI of reliance on providers per ICT service type, highest first, with each provider's share."""
    if basis not in ("functions", "members"):
        raise Invalid("basis is functions or members")
    sector = _scope(conn, reader)
    graph = load_graph(conn)
    results = analysis.hhi(graph, basis="members" if basis == "members" else "functions")
    by_members = {(c.category, p.provider_id): p.count for c in analysis.hhi(graph, basis="members")
                  for p in c.providers}
    out = []
    for c in results:
        shares: list[dict[str, Any]] = []
        other = {"count": 0, "share": 0.0, "providers": 0}
        for p in c.providers:
            node = graph.nodes[p.provider_id]
            members = by_members.get((c.category, p.provider_id), 0)
            if sector or (node.kind == "provider" and members >= SHARED_MIN_MEMBERS):
                shares.append({"provider": {"id": node.id, "kind": node.kind, "name": p.name,
                                            "unknown": node.unknown},
                               "count": p.count, "share": p.share, "members": members})
            else:
                other["count"] += p.count
                other["share"] += p.share
                other["providers"] += 1
        out.append({"category": c.category, "category_name": SERVICE_TYPES.get(c.category, c.category),
                    "basis": c.basis, "total": c.total, "hhi": c.hhi, "reading": c.reading,
                    "providers": shares, "other_providers": other if other["providers"] else None})
    return {"scope": "sector" if sector else "member", "basis": basis,
            "bands": {"moderate": analysis.HHI_MODERATE, "high": analysis.HHI_HIGH}, "categories": out}


# --- what-if --------------------------------------------------------------------------------------


def what_if_view(conn: Connection, reader: Reader, *, down: list[str], function_category: str | None = None
                 ) -> dict[str, Any]:
    """What is lost if the ``down`` nodes fail. A member may take down its own nodes and the shared ones it is
    shown; it learns the lost functions by member type, and its own by name."""
    if not down or len(down) > MAX_DOWN:
        raise Invalid(f"give 1 to {MAX_DOWN} node ids to take down", details=[{"field": "down",
                                                                               "reason": f"1 to {MAX_DOWN} ids"}])
    if function_category is not None and function_category not in PROCESS_CATEGORIES:
        raise Invalid(f"function_category {function_category!r} is not one of: {', '.join(PROCESS_CATEGORIES)}")
    sector = _scope(conn, reader)
    graph = load_graph(conn)
    allowed = None if sector else _visible_shared(graph, reader.organisation_id)
    problems: list[dict[str, str]] = []
    ids: list[str] = []
    for n, ref in enumerate(down):
        try:
            kind, row_id = parse_node_id(ref, f"down[{n}]")
        except Invalid as exc:
            problems += exc.details
            continue
        nid = f"{kind}:{row_id}"
        node = graph.nodes.get(nid)
        if node is None or not (sector or node.organisation_id == reader.organisation_id
                                or (allowed is not None and nid in allowed)):
            problems.append({"field": f"down[{n}]", "reason": f"no {kind} {row_id} in your view of the map"})
            continue
        ids.append(nid)
    if problems:
        raise Invalid("the what-if names nodes that are not in your view", details=problems)
    result = analysis.what_if(graph, ids, function_category=function_category)
    lost_orgs = {m.organisation_id for m in result.members if m.organisation_id is not None}
    orgs = organisations_by_id(conn, lost_orgs | {graph.nodes[d].organisation_id for d in ids})
    types: dict[str, dict[str, int]] = {}
    for m in result.members:
        if m.organisation_id is None:
            continue
        cell = types.setdefault(orgs[m.organisation_id]["sector_type"], {"members": 0, "functions": 0})
        cell["members"] += 1
        cell["functions"] += m.functions
    body: dict[str, Any] = {
        "scope": "sector" if sector else "member",
        "down": [_node(graph.nodes[d], orgs) for d in result.down],
        "function_category": function_category,
        "functions": result.functions, "function_share": result.function_share, "member_share": result.member_share,
        "by_member_type": [{"member_type": t, **c} for t, c in sorted(types.items())],
        "lost_counts": {kind: len(ids_) for kind, ids_ in result.lost.items()},
    }
    if sector:
        body["members"] = [{"organisation": orgs[m.organisation_id], "total_functions": m.total_functions,
                            "lost": [_node(graph.nodes[p], orgs) for p in m.lost]}
                           for m in result.members if m.organisation_id is not None]
        body["lost"] = {kind: [_node(graph.nodes[i], orgs) for i in ids_] for kind, ids_ in result.lost.items()}
        body["own"] = None
    else:
        mine = next((m for m in result.members if m.organisation_id == reader.organisation_id), None)
        own_orgs = organisations_by_id(conn, {reader.organisation_id})
        body["members"] = None
        body["lost"] = None
        body["own"] = {"total_functions": sum(1 for n in graph.nodes.values() if n.kind == "process" and n.critical
                                              and n.organisation_id == reader.organisation_id
                                              and (function_category is None or n.category == function_category)),
                       "lost": [_node(graph.nodes[p], own_orgs) for p in (mine.lost if mine else ())]}
    return body


# --- cycles and what needs completing -------------------------------------------------------------


def cycles_view(conn: Connection, reader: Reader) -> dict[str, Any]:
    """Dependency cycles (each as its nodes): every one for the sector view, a member's own and a count."""
    sector = _scope(conn, reader)
    graph = load_graph(conn)
    found = analysis.cycles(graph)
    mine = found if sector else [c for c in found if all(graph.nodes[n].organisation_id == reader.organisation_id
                                                         for n in c)]
    orgs = organisations_by_id(conn, {graph.nodes[n].organisation_id for c in mine for n in c})
    return {"scope": "sector" if sector else "member", "total": len(found),
            "cycles": [[_node(graph.nodes[n], orgs) for n in c] for c in mine]}


def unknown_view(conn: Connection, reader: Reader) -> dict[str, Any]:
    """Nodes flagged unknown (not yet described) and critical functions mapped to nothing: all for the sector
    view; a member its own and the providers it uses, and sector-wide counts by reason."""
    sector = _scope(conn, reader)
    graph = load_graph(conn)
    found = analysis.unknown_dependencies(graph)
    if sector:
        mine = found
    else:
        reach = _reached(graph, reader.organisation_id)
        mine = [i for i in found if i.organisation_id == reader.organisation_id
                or (i.organisation_id is None and i.node_id in reach)]
    orgs = organisations_by_id(conn, {i.organisation_id for i in mine})
    return {"scope": "sector" if sector else "member",
            "counts": dict(sorted(Counter(i.reason for i in found).items())),
            "items": [{"node": _node(graph.nodes[i.node_id], orgs), "reason": i.reason} for i in mine]}


def _reached(graph: Graph, organisation_id: int) -> set[str]:
    return {n for n in _part(graph, organisation_id) if graph.nodes[n].organisation_id is None}
