"""The sector-map analysis on hand-made graphs with known answers, and against a brute-force oracle (plain
depth-first reachability) on random small graphs with cycles."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nordcert.sectormap.analysis import (
    DEPENDENCY_KINDS,
    Concentration,
    concentration,
    cycles,
    hhi,
    hhi_reading,
    single_points_of_failure,
    unknown_dependencies,
    what_if,
)
from nordcert.sectormap.graph import KINDS, Graph, Node


def build(nodes: list[Node], edges: list[tuple[str, str]]) -> Graph:
    g = Graph()
    for n in nodes:
        g.add(n)
    for a, b in edges:
        g.link(a, b)
    return g


def fn(nid: str, org: int | None, category: str | None = None, critical: bool = True) -> Node:
    return Node(nid, "process", nid.title(), organisation_id=org, critical=critical, category=category)


def by_id(rows: list[Concentration]) -> dict[str, Concentration]:
    return {r.node_id: r for r in rows}


# --- hand-made graphs -------------------------------------------------------------------------


def chain() -> Graph:
    """pay → core system → hosting service → provider; the service also runs in a data centre."""
    return build(
        [fn("pay", 1), Node("core", "system", "Core", organisation_id=1),
         Node("hosting", "service", "Hosting", category="hosting"), Node("host-co", "provider", "HostCo"),
         Node("dc", "infrastructure", "DC 1")],
        [("pay", "core"), ("core", "hosting"), ("hosting", "host-co"), ("hosting", "dc")],
    )


def test_chain_every_link_carries_the_one_function() -> None:
    rows = by_id(concentration(chain()))
    assert set(rows) == {"core", "hosting", "host-co", "dc"}  # processes are not dependencies
    assert [(rows[n].functions, rows[n].members, rows[n].function_share) for n in rows] == [(1, 1, 1.0)] * 4
    assert rows["core"].direct_functions == 1 and rows["core"].direct_members == 1
    assert rows["dc"].direct_functions == 0 and rows["dc"].member_ids == (1,)


def test_chain_what_if() -> None:
    result = what_if(chain(), {"dc"})
    assert result.down == ("dc",)
    assert result.lost["infrastructure"] == ("dc",)
    assert result.lost["service"] == ("hosting",) and result.lost["system"] == ("core",)
    assert result.lost["provider"] == () and result.lost["process"] == ("pay",)
    assert result.functions == 1 and result.function_share == 1.0 and result.member_share == 1.0
    [member] = result.members
    assert (member.organisation_id, member.lost, member.functions, member.total_functions) == (1, ("pay",), 1, 1)
    # Losing the function itself loses nothing it depends on.
    alone = what_if(chain(), ["pay"])
    assert alone.functions == 1 and alone.lost["system"] == ()


def test_diamond_counts_a_function_once() -> None:
    g = build(
        [fn("pay", 1), Node("a", "system", "A", organisation_id=1), Node("b", "system", "B", organisation_id=1),
         Node("net", "infrastructure", "Network")],
        [("pay", "a"), ("pay", "b"), ("a", "net"), ("b", "net")],
    )
    rows = by_id(concentration(g))
    assert rows["net"].functions == 1 and rows["net"].direct_functions == 0
    assert rows["a"].direct_functions == 1
    result = what_if(g, {"net"})
    assert result.lost["system"] == ("a", "b") and result.functions == 1
    assert what_if(g, {"a"}).lost["system"] == ("a",)  # AND semantics: b alone does not save pay
    assert what_if(g, {"a"}).functions == 1


def payments_sector() -> Graph:
    """Two members sharing one hosting provider: 3 of the sector's 5 critical payment functions depend on it."""
    nodes = [
        fn("p1", 1, "payments"), fn("p2", 1, "payments"), fn("p3", 1, "payments"), fn("c1", 1, "cards"),
        fn("p4", 2, "payments"), fn("p5", 2, "payments"), fn("x2", 2, "payments", critical=False),
        Node("s1", "system", "Payments engine", organisation_id=1),
        Node("s2", "system", "Ledger", organisation_id=1),
        Node("s3", "system", "Clearing gateway", organisation_id=2),
        Node("s4", "system", "Mainframe", organisation_id=2),
        Node("cloud", "provider", "Nimbus Hosting"),
        Node("iaas", "service", "Nimbus IaaS", category="iaas"),
        Node("onprem", "infrastructure", "Own data centre", organisation_id=2),
    ]
    edges = [("p1", "s1"), ("p2", "s1"), ("c1", "s1"), ("p3", "s2"), ("p4", "s3"), ("p5", "s4"), ("x2", "s3"),
             ("s1", "iaas"), ("s3", "iaas"), ("iaas", "cloud"), ("s4", "onprem"), ("s2", "onprem")]
    return build(nodes, edges)


def test_sixty_percent_of_payment_functions_on_one_provider() -> None:
    g = payments_sector()
    rows = by_id(concentration(g, function_category="payments"))
    cloud = rows["cloud"]
    assert (cloud.functions, cloud.members, cloud.member_ids) == (3, 2, (1, 2))
    assert cloud.function_share == pytest.approx(0.6) and cloud.member_share == 1.0
    assert concentration(g, function_category="payments")[0].node_id in {"cloud", "iaas"}  # the top of the list
    # All critical functions: the cards function joins, the non-critical process never counts.
    everything = by_id(concentration(g))
    assert everything["cloud"].functions == 4 and everything["cloud"].function_share == pytest.approx(4 / 6)


def test_what_if_the_hosting_provider_is_down() -> None:
    result = what_if(payments_sector(), {"cloud"}, function_category="payments")
    assert result.functions == 3 and result.function_share == pytest.approx(0.6)
    assert [(m.organisation_id, m.lost, m.total_functions) for m in result.members] == [
        (1, ("p1", "p2"), 3), (2, ("p4",), 2)]
    assert result.member_share == 1.0
    assert result.lost["system"] == ("s1", "s3") and result.lost["service"] == ("iaas",)
    assert result.lost["process"] == ("c1", "p1", "p2", "p4", "x2")  # every lost process, critical or not
    assert what_if(payments_sector(), {"cloud"}).functions == 4


def test_cycles_and_what_a_cycle_takes_down() -> None:
    g = build(
        [fn("pay", 1), Node("s1", "system", "S1", organisation_id=1), Node("s2", "system", "S2", organisation_id=1),
         Node("s3", "system", "S3", organisation_id=1), Node("loop", "infrastructure", "Loop"),
         Node("free", "system", "Free", organisation_id=1)],
        [("pay", "s1"), ("s1", "s2"), ("s2", "s3"), ("s3", "s1"), ("loop", "loop"), ("s3", "free")],
    )
    assert cycles(g) == [["loop"], ["s1", "s2", "s3"]]
    rows = by_id(concentration(g))
    assert rows["s3"].functions == 1 and rows["free"].functions == 1 and rows["loop"].functions == 0
    assert what_if(g, {"s3"}).lost["system"] == ("s1", "s2", "s3")
    assert what_if(g, {"loop"}).lost["infrastructure"] == ("loop",) and what_if(g, {"loop"}).functions == 0
    assert cycles(chain()) == []


def test_a_critical_function_in_a_cycle_counts_for_its_cycle() -> None:
    g = build([fn("a", 1), fn("b", 2), Node("s", "system", "S")], [("a", "b"), ("b", "a"), ("b", "s"), ("s", "a")])
    assert cycles(g) == [["a", "b", "s"]]
    assert by_id(concentration(g))["s"].member_ids == (1, 2)
    assert what_if(g, {"s"}).functions == 2


def test_unknown_and_unmapped_dependencies() -> None:
    g = build(
        [fn("mapped", 1), fn("bare", 1), fn("on-process", 2), fn("idle", 2, critical=False),
         Node("sys", "system", "Sys", organisation_id=1), Node("vendor", "provider", "Some vendor", unknown=True)],
        [("mapped", "sys"), ("sys", "vendor"), ("on-process", "bare")],
    )
    assert [(r.node_id, r.reason, r.organisation_id) for r in unknown_dependencies(g)] == [
        ("bare", "unmapped", 1), ("on-process", "unmapped", 2), ("vendor", "unknown", None)]
    assert unknown_dependencies(chain()) == []


def test_single_points_of_failure_rank_by_functions_then_members() -> None:
    g = payments_sector()
    spofs = single_points_of_failure(g)
    assert [r.node_id for r in spofs[:2]] == ["cloud", "iaas"]  # 4 functions of 2 members each
    assert {r.node_id for r in spofs} == {"cloud", "iaas", "onprem", "s1", "s2", "s3", "s4"}
    assert all(r.functions > 0 for r in spofs)
    keys = [(-r.functions, -r.members, r.node_id) for r in spofs]
    assert keys == sorted(keys)
    lonely = build([Node("s", "system", "Unused")], [])
    assert single_points_of_failure(lonely) == [] and concentration(lonely)[0].functions == 0


def test_what_if_refuses_unknown_nodes_and_counts_empty_sectors() -> None:
    with pytest.raises(KeyError, match="nope"):
        what_if(chain(), {"dc", "nope"})
    empty = what_if(build([Node("s", "system", "S")], []), {"s"})
    assert (empty.functions, empty.function_share, empty.member_share, empty.members) == (0, 0.0, 0.0, ())


# --- HHI ----------------------------------------------------------------------------------------


def market(shares: dict[str, int], category: str = "iaas") -> Graph:
    """Providers each with one service of ``category`` and the given number of critical functions on it."""
    g = Graph()
    org = 0
    for provider, n in shares.items():
        g.add(Node(provider, "provider", provider.upper()))
        g.add(Node(f"{provider}-svc", "service", f"{provider} service", category=category))
        g.link(f"{provider}-svc", provider)
        for k in range(n):
            org += 1
            g.add(fn(f"{provider}-f{k}", org))
            g.link(f"{provider}-f{k}", f"{provider}-svc")
    return g


@pytest.mark.parametrize(("shares", "index", "reading"), [
    ({"a": 5, "b": 5}, 5_000, "highly concentrated"),
    ({"a": 1, "b": 1, "c": 1, "d": 1}, 2_500, "moderately concentrated"),
    ({"a": 7}, 10_000, "highly concentrated"),
    ({f"p{i}": 2 for i in range(10)}, 1_000, "unconcentrated"),
    ({"a": 3, "b": 1}, 6_250, "highly concentrated"),  # 75 % and 25 %
    # 15 %, 15 %, 10 % three times and 5 % eight times: 2 * 225 + 3 * 100 + 8 * 25
    ({"a": 3, "b": 3, "c": 2, "d": 2, "e": 2, **{f"s{i}": 1 for i in range(8)}}, 950, "unconcentrated"),
    ({"a": 2, "b": 1, "c": 1}, 3_750, "highly concentrated"),  # 50 %, 25 %, 25 %
])
def test_hhi_of_known_shares(shares: dict[str, int], index: float, reading: str) -> None:
    total = sum(shares.values())
    [row] = hhi(market(shares))
    assert row.hhi == pytest.approx(index)
    assert row.reading == reading and row.category == "iaas" and row.total == total
    assert sum(p.share for p in row.providers) == pytest.approx(100)
    assert [p.count for p in row.providers] == sorted(shares.values(), reverse=True)


def test_hhi_readings_at_the_2010_guidelines_bounds() -> None:
    assert [hhi_reading(v) for v in (0, 1_499.9, 1_500, 2_500, 2_500.1, 10_000)] == [
        "unconcentrated", "unconcentrated", "moderately concentrated", "moderately concentrated",
        "highly concentrated", "highly concentrated"]


def test_hhi_by_functions_or_by_members() -> None:
    g = market({"a": 0, "b": 0})
    for k in range(3):  # three functions of member 1 on a
        g.add(fn(f"m1-{k}", 1))
        g.link(f"m1-{k}", "a-svc")
    g.add(fn("m2", 2))
    g.link("m2", "b-svc")
    [by_functions] = hhi(g)
    [by_members] = hhi(g, basis="members")
    assert by_functions.hhi == pytest.approx(6_250) and by_members.hhi == pytest.approx(5_000)
    assert by_members.basis == "members" and [p.count for p in by_members.providers] == [1, 1]


def test_hhi_categories_and_attribution() -> None:
    g = Graph()
    for n in [fn("f1", 1), fn("f2", 1), fn("f3", 2), fn("f4", 2),
              Node("s1", "system", "S1"), Node("s2", "system", "S2"),
              Node("big", "provider", "Big Cloud", category="saas"), Node("small", "provider", "Small"),
              Node("big-iaas", "service", "Big IaaS", category="iaas"),
              Node("big-other", "service", "Big, category from the provider"),
              Node("orphan", "service", "Service without a provider", category="iaas"),
              Node("small-net", "service", "Small network", category="network")]:
        g.add(n)
    for a, b in [("f1", "s1"), ("s1", "big-iaas"), ("big-iaas", "big"), ("f2", "orphan"), ("f3", "big-other"),
                 ("big-other", "big"), ("f4", "s2"), ("s2", "big"), ("s2", "small-net"), ("small-net", "small")]:
        g.link(a, b)
    rows = {r.category: r for r in hhi(g)}
    assert set(rows) == {"iaas", "saas", "network"}
    assert {p.provider_id: p.count for p in rows["iaas"].providers} == {"big": 1, "orphan": 1}
    assert rows["iaas"].hhi == pytest.approx(5_000)
    # f3 through the uncategorised service, f4 through a system naming the provider directly.
    assert {p.provider_id: p.count for p in rows["saas"].providers} == {"big": 2}
    assert rows["network"].providers[0].name == "Small" and rows["network"].hhi == 10_000
    assert [r.category for r in hhi(g)][-1] == "iaas"  # highest first


def test_hhi_leaves_out_categories_nobody_relies_on() -> None:
    assert hhi(market({"a": 0})) == []


# --- properties against a brute-force oracle ------------------------------------------------------


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    n = draw(st.integers(1, 10))
    g = Graph()
    for i in range(n):
        kind = draw(st.sampled_from(KINDS))
        g.add(Node(
            f"n{i}", kind, f"Node {i}", organisation_id=draw(st.sampled_from([1, 2, 3, None])),
            critical=draw(st.booleans()), category=draw(st.sampled_from(["payments", "iaas", None])),
            unknown=draw(st.booleans()) and draw(st.booleans()),
        ))
    for a, b in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n)):
        g.link(f"n{a}", f"n{b}")
    return g


def reach(g: Graph, start: str) -> set[str]:
    """Every node ``start`` depends on through one edge or more (plain depth-first search)."""
    seen: set[str] = set()
    todo = list(g.depends_on[start])
    while todo:
        v = todo.pop()
        if v not in seen:
            seen.add(v)
            todo.extend(g.depends_on[v])
    return seen


def is_function(node: Node, category: str | None = None) -> bool:
    return node.kind == "process" and node.critical and category in (None, node.category)


@settings(max_examples=300, deadline=None)
@given(graphs(), st.sampled_from([None, "payments"]))
def test_concentration_matches_the_oracle(g: Graph, category: str | None) -> None:
    closure = {v: reach(g, v) for v in g.nodes}
    functions = [p for p, node in g.nodes.items() if is_function(node, category)]
    all_members = {g.nodes[p].organisation_id for p in functions} - {None}
    rows = concentration(g, function_category=category)
    assert {r.node_id for r in rows} == {v for v, node in g.nodes.items() if node.kind in DEPENDENCY_KINDS}
    for r in rows:
        fs = {p for p in functions if r.node_id in closure[p]}
        members = {g.nodes[p].organisation_id for p in fs} - {None}
        direct = {p for p in functions if r.node_id in g.depends_on[p]}
        assert (r.functions, r.members, r.member_ids) == (len(fs), len(members), tuple(sorted(members)))
        assert r.direct_functions == len(direct)
        assert r.direct_members == len({g.nodes[p].organisation_id for p in direct} - {None})
        assert r.function_share == (len(fs) / len(functions) if functions else 0)
        assert r.member_share == (len(members) / len(all_members) if all_members else 0)
    keys = [(-r.functions, -r.members, r.node_id) for r in rows]
    assert keys == sorted(keys)
    assert single_points_of_failure(g, function_category=category) == [r for r in rows if r.functions]


@settings(max_examples=300, deadline=None)
@given(graphs(), st.data())
def test_what_if_matches_the_oracle(g: Graph, data: st.DataObject) -> None:
    down = data.draw(st.sets(st.sampled_from(sorted(g.nodes)), min_size=1, max_size=3))
    category = data.draw(st.sampled_from([None, "payments"]))
    lost = {v for v in g.nodes if v in down or reach(g, v) & down}
    result = what_if(g, down, function_category=category)
    assert {v for ids in result.lost.values() for v in ids} == lost
    assert all(g.nodes[v].kind == kind for kind, ids in result.lost.items() for v in ids)
    functions = [p for p, node in g.nodes.items() if is_function(node, category)]
    lost_functions = {p for p in functions if p in lost}
    assert result.functions == len(lost_functions) == sum(m.functions for m in result.members)
    assert {p for m in result.members for p in m.lost} == lost_functions
    for m in result.members:
        assert all(g.nodes[p].organisation_id == m.organisation_id for p in m.lost)
        assert m.total_functions == sum(1 for p in functions if g.nodes[p].organisation_id == m.organisation_id)
    assert [m.functions for m in result.members] == sorted((m.functions for m in result.members), reverse=True)
    # Taking one node down loses exactly the functions concentration counts for it.
    for r in concentration(g, function_category=category):
        assert what_if(g, {r.node_id}, function_category=category).functions == r.functions


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_cycles_and_unknowns_match_the_oracle(g: Graph) -> None:
    closure = {v: reach(g, v) for v in g.nodes}
    cyclic = {v for v in g.nodes if v in closure[v]}
    expected = sorted({tuple(sorted(u for u in cyclic if u == v or (u in closure[v] and v in closure[u])))
                       for v in cyclic})
    assert [tuple(c) for c in cycles(g)] == expected
    unmapped = {p for p, node in g.nodes.items()
                if is_function(node) and all(g.nodes[v].kind == "process" for v in closure[p])}
    flagged = {v for v, node in g.nodes.items() if node.unknown}
    rows = unknown_dependencies(g)
    assert {r.node_id for r in rows if r.reason == "unknown"} == flagged
    assert {r.node_id for r in rows if r.reason == "unmapped"} == unmapped - flagged


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_hhi_matches_the_oracle(g: Graph) -> None:
    closure = {v: reach(g, v) for v in g.nodes}
    functions = [p for p, node in g.nodes.items() if is_function(node)]

    def relying(v: str) -> set[str]:
        return {p for p in functions if p == v or v in closure[p]}

    markets: dict[str, dict[str, set[str]]] = {}
    for v, node in g.nodes.items():
        providers = [d for d in g.depends_on[v] if g.nodes[d].kind == "provider"]
        if node.kind == "service":
            for p in providers or [v]:
                category = node.category or g.nodes[p].category
                if category:
                    markets.setdefault(category, {}).setdefault(p, set()).update(relying(v))
        elif node.kind != "provider":
            for p in providers:
                if g.nodes[p].category:
                    markets.setdefault(g.nodes[p].category or "", {}).setdefault(p, set()).update(relying(v))
    bases: tuple[Literal["functions", "members"], ...] = ("functions", "members")
    for basis in bases:
        expected = {}
        for category, providers in markets.items():
            counts = {p: len(fs) if basis == "functions" else len({g.nodes[f].organisation_id for f in fs} - {None})
                      for p, fs in providers.items()}
            total = sum(counts.values())
            if total:
                expected[category] = (total, sum((100 * n / total) ** 2 for n in counts.values()),
                                      {p: n for p, n in counts.items() if n})
        rows = hhi(g, basis=basis)
        assert {r.category: (r.total, pytest.approx(r.hhi), {s.provider_id: s.count for s in r.providers})
                for r in rows} == expected
        assert all(0 < r.hhi <= 10_000 for r in rows)
