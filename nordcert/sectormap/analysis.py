"""Concentration risk and what-if impact on the sector map: pure functions of a :class:`Graph`, no database.

Concentration risk as DORA Art 29 asks it (several critical or important functions on the same provider); the
critical functions are the register of information's B_06.01 functions marked critical or important.

The model, stated once:

- An edge ``a → b`` reads "a depends on b". A **critical function** is a ``process`` node with ``critical`` set;
  its **member** is the process's ``organisation_id``.
- Dependencies are conjunctive (AND): a node needs every one of its direct dependencies, so losing a node loses
  everything that depends on it, directly or transitively. :class:`Node` has no attribute for redundancy, so
  there are no alternatives; under this model every node a critical function depends on is a single point of
  failure. A cycle means every node in it depends on every other one.
- A provider's **services** are the ``service`` nodes that depend on it (``service → provider``: the service is
  down when its provider is). A system may also depend on a provider directly when the service is not known.

Everything runs in time linear in nodes and edges: strongly connected components (Tarjan, iterative) condense the
cycles, then one pass over the condensed graph, dependents before dependencies, carries the set of critical
functions (and of members) that depend on each component as Python ints used as bitsets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from nordcert.sectormap.graph import KINDS, Graph

#: The kinds concentration is measured for: everything a critical function can depend on.
DEPENDENCY_KINDS = ("system", "provider", "service", "infrastructure")

#: HHI readings of the US DoJ/FTC Horizontal Merger Guidelines (19 Aug 2010) §5.3: below 1,500 unconcentrated,
#: 1,500 to 2,500 moderately concentrated, above 2,500 highly concentrated. The 2023 Merger Guidelines replaced
#: them (highly concentrated above 1,800); we keep the 2010 bands as a reading aid for reliance, not a legal test.
HHI_MODERATE = 1_500
HHI_HIGH = 2_500


# --- results ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Concentration:
    """How many critical functions, of how many members, one node carries."""

    node_id: str
    kind: str
    name: str
    organisation_id: int | None  # who maintains the node (None for shared nodes)
    category: str | None
    direct_functions: int  # critical functions with an edge to this node
    direct_members: int
    functions: int  # critical functions that depend on it, directly or transitively
    members: int  # distinct members those functions belong to
    function_share: float  # functions / all critical functions in the sector (0-1)
    member_share: float  # members / all members with a critical function (0-1)
    member_ids: tuple[int, ...]  # those members' organisation ids, ascending (for the caller to anonymise)


@dataclass(slots=True)
class ProviderShare:
    provider_id: str  # a provider node, or a service node that names no provider
    name: str
    count: int  # critical functions (or members, per the basis) relying on it in the category
    share: float  # percent of the category's total (0-100)


@dataclass(slots=True)
class CategoryHHI:
    category: str
    basis: str  # "functions" or "members"
    total: int  # sum of the providers' counts: one per (function or member, provider) reliance
    hhi: float  # sum of squared percentage shares, 10,000 / providers to 10,000
    reading: str  # "unconcentrated", "moderately concentrated" or "highly concentrated"
    providers: tuple[ProviderShare, ...]  # largest share first


@dataclass(slots=True)
class MemberImpact:
    organisation_id: int | None
    lost: tuple[str, ...]  # the member's critical functions lost (process ids, ascending)
    total_functions: int  # the member's critical functions in all

    @property
    def functions(self) -> int:
        return len(self.lost)


@dataclass(slots=True)
class WhatIf:
    down: tuple[str, ...]
    functions: int  # critical functions lost across the sector
    function_share: float  # of all critical functions (0-1)
    members: tuple[MemberImpact, ...]  # most functions lost first
    member_share: float  # members losing a function / all members with a critical function (0-1)
    lost: dict[str, tuple[str, ...]]  # every kind -> the node ids lost (the down nodes included), ascending


@dataclass(slots=True)
class Incomplete:
    node_id: str
    kind: str
    name: str
    organisation_id: int | None
    reason: str  # "unknown": flagged as not yet described; "unmapped": a critical function reaching no system


# --- the analyses -----------------------------------------------------------------------------


def concentration(graph: Graph, *, function_category: str | None = None) -> list[Concentration]:
    """Every system, provider, service and infrastructure node with the critical functions that depend on it,
    most functions first (then most members, then id). ``function_category`` counts only the critical
    functions (process nodes) of that category, e.g. ``"payments"``, shares included."""
    cl = _closure(graph, function_category)
    direct_f: dict[str, int] = {}
    direct_m: dict[str, set[int]] = {}
    for pid in cl.function_ids:
        org = graph.nodes[pid].organisation_id
        for dep in graph.depends_on[pid]:
            direct_f[dep] = direct_f.get(dep, 0) + 1
            if org is not None:
                direct_m.setdefault(dep, set()).add(org)
    decoded: dict[int, tuple[int, ...]] = {}
    out = []
    for i, nid in enumerate(cl.ids):
        node = graph.nodes[nid]
        if node.kind not in DEPENDENCY_KINDS:
            continue
        c = cl.comp[i]
        f, m = cl.functions[c], cl.members[c]
        if m not in decoded:
            decoded[m] = tuple(sorted(cl.member_ids[b] for b in _bits(m)))
        n_f, n_m = f.bit_count(), m.bit_count()
        out.append(Concentration(
            nid, node.kind, node.name, node.organisation_id, node.category,
            direct_f.get(nid, 0), len(direct_m.get(nid, ())), n_f, n_m,
            _ratio(n_f, len(cl.function_ids)), _ratio(n_m, len(cl.member_ids)), decoded[m],
        ))
    out.sort(key=lambda r: (-r.functions, -r.members, r.node_id))
    return out


def single_points_of_failure(graph: Graph, *, function_category: str | None = None) -> list[Concentration]:
    """Nodes whose loss alone takes down at least one critical function, most functions (then members) first.

    Under the AND model every non-process node a critical function depends on, directly or transitively, is
    one; the function exists so that callers keep working when alternatives (redundancy) are modelled."""
    return [r for r in concentration(graph, function_category=function_category) if r.functions]


def hhi(graph: Graph, *, basis: Literal["functions", "members"] = "functions") -> list[CategoryHHI]:
    """The Herfindahl–Hirschman index of reliance on providers, per service category, highest first.

    A provider's count in a category is the number of critical functions (``basis="functions"``) or of members
    (``basis="members"``) that depend, directly or transitively, on one of its services of that category; a
    service without a category takes its provider's. Nodes other than services and providers that depend on a
    provider directly (service not known) count in the provider's own category, if it has one; a provider
    depending on another (subcontracting) is not a share of the market. A service naming no provider stands
    for itself. Shares are counts over the category's sum of counts (a function relying on two providers counts
    for both), so they add up to 100 % and the HHI, the sum of squared percentage shares, lies between
    10,000 / providers and 10,000. Categories no critical function relies on are left out."""
    cl = _closure(graph, None)
    bits = cl.functions if basis == "functions" else cl.members
    index = {nid: i for i, nid in enumerate(cl.ids)}
    markets: dict[str, dict[str, int]] = {}

    def add(category: str | None, provider: str, dependent: str) -> None:
        if category is not None:
            market = markets.setdefault(category, {})
            market[provider] = market.get(provider, 0) | bits[cl.comp[index[dependent]]]

    for nid, node in graph.nodes.items():
        deps = graph.depends_on[nid]
        if node.kind == "service":
            providers = [d for d in deps if graph.nodes[d].kind == "provider"]
            for p in providers or [nid]:
                add(node.category or graph.nodes[p].category, p, nid)
        elif node.kind != "provider":  # a direct reliance on a provider, service unknown
            for d in deps:
                if graph.nodes[d].kind == "provider":
                    add(graph.nodes[d].category, d, nid)
    out = []
    for category, market in markets.items():
        counts = {p: b.bit_count() for p, b in market.items() if b}
        total = sum(counts.values())
        if not total:
            continue
        index_value = 10_000 * sum(n * n for n in counts.values()) / total**2
        shares = sorted(
            (ProviderShare(p, graph.nodes[p].name, n, 100 * n / total) for p, n in counts.items()),
            key=lambda s: (-s.count, s.provider_id),
        )
        out.append(CategoryHHI(category, basis, total, index_value, hhi_reading(index_value), tuple(shares)))
    out.sort(key=lambda r: (-r.hhi, r.category))
    return out


def hhi_reading(value: float) -> str:
    """The 2010 Horizontal Merger Guidelines' band of an HHI value (see :data:`HHI_MODERATE`)."""
    if value < HHI_MODERATE:
        return "unconcentrated"
    return "moderately concentrated" if value <= HHI_HIGH else "highly concentrated"


def what_if(graph: Graph, down: Iterable[str], *, function_category: str | None = None) -> WhatIf:
    """Take the ``down`` nodes out: everything that depends on them, directly or transitively, is lost.

    Returns the critical functions lost (only those of ``function_category`` if given) by member, the member
    losing most first, and every lost node by kind. Raises :class:`KeyError` for an id that is not a node."""
    down_ids = sorted(set(down))
    unknown = [d for d in down_ids if d not in graph.nodes]
    if unknown:
        raise KeyError(f"not in the sector map: {', '.join(unknown)}")
    dependents = _dependents(graph)
    lost = set(down_ids)
    stack = list(down_ids)
    while stack:
        for u in dependents[stack.pop()]:
            if u not in lost:
                lost.add(u)
                stack.append(u)
    by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    by_member: dict[int | None, list[str]] = {}
    for nid in lost:
        node = graph.nodes[nid]
        by_kind.setdefault(node.kind, []).append(nid)
        if _is_function(node.kind, node.critical, node.category, function_category):
            by_member.setdefault(node.organisation_id, []).append(nid)
    totals: dict[int | None, int] = {}
    for node in graph.nodes.values():
        if _is_function(node.kind, node.critical, node.category, function_category):
            totals[node.organisation_id] = totals.get(node.organisation_id, 0) + 1
    members = sorted(
        (MemberImpact(org, tuple(sorted(ids)), totals[org]) for org, ids in by_member.items()),
        key=lambda m: (-len(m.lost), m.organisation_id is None, m.organisation_id or 0),
    )
    n_lost = sum(len(m.lost) for m in members)
    n_members = sum(1 for m in members if m.organisation_id is not None)
    return WhatIf(
        tuple(down_ids), n_lost, _ratio(n_lost, sum(totals.values())), tuple(members),
        _ratio(n_members, sum(1 for org in totals if org is not None)),
        {kind: tuple(sorted(ids)) for kind, ids in by_kind.items()},
    )


def cycles(graph: Graph) -> list[list[str]]:
    """The dependency cycles: strongly connected components of more than one node, and nodes depending on
    themselves; each as its sorted node ids, the list sorted by first id."""
    ids, succ = _int_graph(graph)
    comp, n_comp = _strongly_connected(succ)
    groups: list[list[str]] = [[] for _ in range(n_comp)]
    for i, c in enumerate(comp):
        groups[c].append(ids[i])
    out = [sorted(g) for g in groups if len(g) > 1 or g[0] in graph.depends_on[g[0]]]
    out.sort()
    return out


def unknown_dependencies(graph: Graph) -> list[Incomplete]:
    """What needs completing: nodes flagged ``unknown``, and critical functions that reach no system, provider,
    service or infrastructure node (no dependencies mapped, or only other processes). By member, then id."""
    ids, succ = _int_graph(graph)
    comp, n_comp = _strongly_connected(succ)
    reaches = [False] * n_comp  # the component holds or depends on a non-process node
    order: list[list[int]] = [[] for _ in range(n_comp)]
    for i, c in enumerate(comp):
        order[c].append(i)
    for c in range(n_comp):  # dependencies close first in Tarjan's order, so theirs are final
        reaches[c] = any(graph.nodes[ids[i]].kind != "process" or any(reaches[comp[j]] for j in succ[i])
                         for i in order[c])
    out = []
    for i, nid in enumerate(ids):
        node = graph.nodes[nid]
        if node.unknown:
            reason = "unknown"
        elif node.kind == "process" and node.critical and not reaches[comp[i]]:
            reason = "unmapped"
        else:
            continue
        out.append(Incomplete(nid, node.kind, node.name, node.organisation_id, reason))
    out.sort(key=lambda r: (r.organisation_id is None, r.organisation_id or 0, r.node_id))
    return out


# --- the machinery ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Closure:
    ids: list[str]  # node index -> id
    comp: list[int]  # node index -> component
    functions: list[int]  # component -> bitset of the critical functions depending on it (its own included)
    members: list[int]  # component -> bitset of those functions' members
    function_ids: list[str]  # function bit -> process id
    member_ids: list[int]  # member bit -> organisation id


def _closure(graph: Graph, function_category: str | None) -> _Closure:
    ids, succ = _int_graph(graph)
    comp, n_comp = _strongly_connected(succ)
    functions, members = [0] * n_comp, [0] * n_comp
    function_ids: list[str] = []
    member_bit: dict[int, int] = {}
    for i, nid in enumerate(ids):
        node = graph.nodes[nid]
        if _is_function(node.kind, node.critical, node.category, function_category):
            functions[comp[i]] |= 1 << len(function_ids)
            function_ids.append(nid)
            if node.organisation_id is not None:
                bit = member_bit.setdefault(node.organisation_id, len(member_bit))
                members[comp[i]] |= 1 << bit
    by_comp: list[list[int]] = [[] for _ in range(n_comp)]
    for i, c in enumerate(comp):
        by_comp[c].append(i)
    # Tarjan closes a component after all it depends on, so walking the numbers down visits every dependent
    # component before its dependencies: each one's sets are final when they are passed on.
    for c in range(n_comp - 1, -1, -1):
        f, m = functions[c], members[c]
        if not f:
            continue
        for i in by_comp[c]:
            for j in succ[i]:
                d = comp[j]
                if d != c:
                    functions[d] |= f
                    members[d] |= m
    return _Closure(ids, comp, functions, members, function_ids, list(member_bit))


def _strongly_connected(succ: list[list[int]]) -> tuple[list[int], int]:
    """Tarjan's algorithm without recursion: each node's component, numbered in the order they close (a
    component's dependencies get lower numbers), and the number of components."""
    n = len(succ)
    index, low, comp = [-1] * n, [0] * n, [-1] * n
    on_stack = [False] * n
    stack: list[int] = []
    counter = n_comp = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        path, iters = [root], [iter(succ[root])]
        while path:
            v = path[-1]
            for w in iters[-1]:
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    path.append(w)
                    iters.append(iter(succ[w]))
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:
                path.pop()
                iters.pop()
                if path and low[v] < low[path[-1]]:
                    low[path[-1]] = low[v]
                if low[v] == index[v]:
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        comp[w] = n_comp
                        if w == v:
                            break
                    n_comp += 1
    return comp, n_comp


def _int_graph(graph: Graph) -> tuple[list[str], list[list[int]]]:
    ids = list(graph.nodes)
    index = {nid: i for i, nid in enumerate(ids)}
    return ids, [[index[d] for d in graph.depends_on.get(nid, ())] for nid in ids]


def _dependents(graph: Graph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for a, deps in graph.depends_on.items():
        for b in deps:
            out[b].append(a)
    return out


def _is_function(kind: str, critical: bool, category: str | None, wanted: str | None) -> bool:
    return kind == "process" and critical and (wanted is None or category == wanted)


def _bits(x: int) -> list[int]:
    out = []
    while x:
        low = x & -x
        out.append(low.bit_length() - 1)
        x ^= low
    return out


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
