"""A member's part of the map through the service: who may write and read what, dependencies and their rules,
providers deduplicated across members, shared infrastructure, and load_graph matching the store in a fixed
number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event

from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from nordcert.sectormap import dependencies, registry, shared
from nordcert.sectormap.graph import Node
from nordcert.sectormap.service import load_graph, provider_key
from tests.sectormap.conftest import CLOUD_LEI, World, build_sector, call, lei, node, row_counts


def test_a_member_keeps_its_own_part_and_others_cannot_touch_it(engine: Engine, world: World) -> None:
    w = world
    pay = node(engine, w.alpha, "process", name="Instant payments", category="payments", critical=True)
    assert pay["organisation"]["id"] == w.alpha.org_id and pay["critical"] and pay["depends_on"] == []
    hub = node(engine, w.alpha, "system", name="Payment hub", supports=[pay["node_id"]])
    assert hub["supports"] == [pay["node_id"]]
    assert call(engine, registry.get_node, w.alpha.reader, "process", pay["id"])["depends_on"] == [hub["node_id"]]

    changed = call(engine, registry.update_node, w.alpha.reader, "process", pay["id"],
                   changes={"name": "Instant payments (SEK)", "critical": False})
    assert changed["name"] == "Instant payments (SEK)" and not changed["critical"]
    assert changed["depends_on"] == [hub["node_id"]]  # edges kept when not given

    # Its reader reads, may not write; CERT staff and the authority read all, write none of it.
    assert call(engine, registry.get_node, w.alpha_reader.reader, "system", hub["id"])["name"] == "Payment hub"
    for m in (w.alpha_reader, w.admin, w.fsa, w.fsa_analyst, w.peer):
        with pytest.raises(Forbidden):
            call(engine, registry.create_node, m.reader, "process", values={"name": "X", "category": "payments"})
        with pytest.raises(Forbidden):
            call(engine, registry.update_node, m.reader, "system", hub["id"], changes={"name": "Y"})
    for m in (w.admin, w.fsa):
        assert call(engine, registry.get_node, m.reader, "system", hub["id"])["name"] == "Payment hub"
    # Another member, an authority's analyst and a peer: as if it did not exist.
    for m in (w.boreal, w.fsa_analyst, w.peer):
        with pytest.raises(NotFound, match=f"no system {hub['id']}"):
            call(engine, registry.get_node, m.reader, "system", hub["id"])
    with pytest.raises(NotFound, match=f"no system {hub['id']}"):
        call(engine, registry.update_node, w.boreal.reader, "system", hub["id"], changes={"name": "Y"})
    with pytest.raises(NotFound):
        call(engine, registry.delete_node, w.boreal.reader, "system", hub["id"])
    assert call(engine, registry.list_nodes, w.boreal.reader, "system") == []
    assert call(engine, registry.list_nodes, w.peer.reader, "system") == []
    with pytest.raises(NotFound):
        call(engine, registry.list_nodes, w.boreal.reader, "system", organisation_id=w.alpha.org_id)
    assert [s["name"] for s in call(engine, registry.list_nodes, w.fsa.reader, "system",
                                    organisation_id=w.alpha.org_id)] == ["Payment hub"]

    call(engine, registry.delete_node, w.alpha.reader, "system", hub["id"])
    assert call(engine, registry.get_node, w.alpha.reader, "process", pay["id"])["depends_on"] == []
    assert call(engine, dependencies.list_dependencies, w.admin.reader) == []


def test_names_are_unique_per_member_not_across_members(engine: Engine, world: World) -> None:
    node(engine, world.alpha, "system", name="Core banking")
    with pytest.raises(Conflict):
        node(engine, world.alpha, "system", name="  core   BANKING ")
    assert node(engine, world.boreal, "system", name="Core banking")["name"] == "Core banking"


def test_dependencies_follow_the_kinds_and_stay_within_the_member(engine: Engine, world: World) -> None:
    w = world
    rix = call(engine, shared.create_infrastructure, w.admin.reader, values={"name": "RIX", "kind": "payment_system"})
    pay = node(engine, w.alpha, "process", name="Payments", category="payments", critical=True)
    svc = node(engine, w.alpha, "service", provider={"name": "Nordic Cloud"}, service_type="S17")
    assert svc["name"] == "Nordic Cloud – Cloud: IaaS"
    other = node(engine, w.boreal, "system", name="Boreal core")
    before = row_counts(engine)
    for dependent, dependency, reason in [
        (pay["node_id"], other["node_id"], f"no system {other['id']}"),  # another member's: as if missing
        (pay["node_id"], "system:999999", "no system 999999"),
        (svc["node_id"], pay["node_id"], "a service depends on a infrastructure, not a process"),
        (pay["node_id"], "provider:1", "a process depends on a system or service or infrastructure, not a provider"),
        (pay["node_id"], "banana", "is not a node id"),
    ]:
        with pytest.raises(Invalid) as refused:
            call(engine, dependencies.add_dependency, w.alpha.reader, dependent=dependent, dependency=dependency)
        assert reason in str(refused.value.details) + refused.value.message
    with pytest.raises(NotFound):
        call(engine, dependencies.add_dependency, w.alpha.reader, dependent=other["node_id"], dependency=rix["node_id"])
    with pytest.raises(Invalid, match="not valid"):
        node(engine, w.alpha, "system", name="Loop", depends_on=[pay["node_id"], "system:999999"])
    assert row_counts(engine) == before

    edge = call(engine, dependencies.add_dependency, w.alpha.reader, dependent=pay["node_id"], dependency=rix["node_id"])
    assert edge == {"dependent": pay["node_id"], "dependency": rix["node_id"]}
    call(engine, dependencies.add_dependency, w.alpha.reader, dependent=pay["node_id"], dependency=rix["node_id"])
    call(engine, dependencies.add_dependency, w.alpha.reader, dependent=pay["node_id"], dependency=svc["node_id"])
    assert call(engine, dependencies.list_dependencies, w.alpha.reader) == [
        {"dependent": pay["node_id"], "dependency": rix["node_id"]},
        {"dependent": pay["node_id"], "dependency": svc["node_id"]}]
    # Removing shared infrastructure removes every member's dependency on it.
    call(engine, shared.delete_infrastructure, w.admin.reader, rix["id"])
    assert call(engine, dependencies.list_dependencies, w.alpha.reader) == [
        {"dependent": pay["node_id"], "dependency": svc["node_id"]}]
    call(engine, dependencies.remove_dependency, w.alpha.reader, dependent=pay["node_id"], dependency=svc["node_id"])
    with pytest.raises(NotFound):
        call(engine, dependencies.remove_dependency, w.alpha.reader, dependent=pay["node_id"],
             dependency=svc["node_id"])


def test_providers_are_one_per_lei_or_normalised_name_across_members(engine: Engine, world: World) -> None:
    w = world
    a = node(engine, w.alpha, "service", name="Hosting", provider={"name": "Nordic Cloud (publ) AB"})
    b = node(engine, w.boreal, "service", name="Tenancy", provider={"name": "NORDIC CLOUD", "lei": CLOUD_LEI,
                                                                     "country": "se"})
    c = node(engine, w.payco, "service", name="Cloud", provider={"lei": CLOUD_LEI, "country": "FI"})
    assert a["provider"]["id"] == b["provider"]["id"] == c["provider"]["id"]
    assert provider_key("Nordic Cloud (publ) AB") == provider_key("nordic cloud") == "nordic cloud"
    stored = call(engine, shared.get_provider, w.admin.reader, a["provider"]["id"])
    # Boreal filled in the LEI and country the row lacked; Payco could not change the country.
    assert (stored["name"], stored["lei"], stored["country"]) == ("Nordic Cloud (publ) AB", CLOUD_LEI, "SE")
    assert stored["usage"] == {"members": 3, "services": 3} and not stored["unknown"]

    with pytest.raises(Invalid, match="not valid") as refused:
        node(engine, w.alpha, "service", name="Other",
             provider={"name": "Nordic Cloud", "lei": lei("5299000OTHERCLOUD1")})
    assert "registered with LEI" in str(refused.value.details)
    with pytest.raises(Invalid) as refused:
        node(engine, w.alpha, "service", name="Bad", provider={"name": "X", "lei": CLOUD_LEI[:-2] + "00"})
    assert refused.value.details == [{"field": "provider.lei", "reason": f"LEI {CLOUD_LEI[:-2] + '00'!r} has wrong "
                                                                          "check digits"}]
    # A member lists the providers it uses, without what others do; staff correct them.
    mine = call(engine, shared.list_providers, w.alpha.reader)
    assert [p["name"] for p in mine] == ["Nordic Cloud (publ) AB"] and mine[0]["usage"] is None
    node(engine, w.boreal, "service", name="Only Boreal's", provider={"name": "Fjord Data AS"})
    assert [p["name"] for p in call(engine, shared.list_providers, w.alpha.reader)] == ["Nordic Cloud (publ) AB"]
    fjord = next(p for p in call(engine, shared.list_providers, w.admin.reader) if p["name"] == "Fjord Data AS")
    assert fjord["usage"] == {"members": 1, "services": 1} and fjord["unknown"]
    with pytest.raises(NotFound):
        call(engine, shared.get_provider, w.alpha.reader, fjord["id"])
    with pytest.raises(Forbidden):
        call(engine, shared.update_provider, w.alpha.reader, a["provider"]["id"], changes={"name": "Mine"})
    fixed = call(engine, shared.update_provider, w.admin.reader, a["provider"]["id"],
                 changes={"name": "Nordic Cloud AB"})
    assert fixed["name"] == "Nordic Cloud AB"
    assert call(engine, registry.get_node, w.alpha.reader, "service", a["id"])["provider"]["name"] == "Nordic Cloud AB"
    with pytest.raises(Conflict):
        call(engine, shared.delete_provider, w.admin.reader, a["provider"]["id"])


def test_shared_infrastructure_is_staff_maintained_and_readable_by_all(engine: Engine, world: World) -> None:
    w = world
    values = {"name": "Bankgirot", "kind": "payment_system", "operator": "Bankgirot AB", "country": "se"}
    for m in (w.alpha, w.fsa):
        with pytest.raises(Forbidden):
            call(engine, shared.create_infrastructure, m.reader, values=values)
    made = call(engine, shared.create_infrastructure, w.admin.reader, values=values)
    assert made["country"] == "SE" and made["members_depending"] == 0
    with pytest.raises(Conflict):
        call(engine, shared.create_infrastructure, w.admin.reader, values={**values, "name": "BANKGIROT"})
    with pytest.raises(Invalid) as refused:
        call(engine, shared.create_infrastructure, w.admin.reader, values={"name": "", "kind": "volcano"})
    assert {d["field"] for d in refused.value.details} == {"name", "kind"}
    seen = call(engine, shared.list_infrastructure, w.boreal.reader)
    assert [i["name"] for i in seen] == ["Bankgirot"] and seen[0]["members_depending"] is None
    assert call(engine, shared.list_infrastructure, w.peer.reader) == []
    node(engine, w.boreal, "system", name="Giro", depends_on=[made["node_id"]])
    assert call(engine, shared.get_infrastructure, w.fsa.reader, made["id"])["members_depending"] == 1


def test_refused_input_stores_nothing(engine: Engine, world: World) -> None:
    before = row_counts(engine)
    bad: list[tuple[str, dict[str, Any], set[str]]] = [
        ("process", {"name": "", "category": "gambling", "critical": "yes"}, {"name", "category", "critical"}),
        ("service", {"provider": {"name": "New Provider AB", "country": "Sweden"}, "service_type": "S99",
                     "substitutability": "trivial", "storage_locations": ["SE", "EU1"], "contract_end": "soon"},
         {"provider.country", "service_type", "substitutability", "storage_locations", "contract_end"}),
        ("system", {"name": "S", "supports": ["process:424242"]}, {"supports[0]"}),
    ]
    for kind, values, fields in bad:
        with pytest.raises(Invalid) as refused:
            call(engine, registry.create_node, world.alpha.reader, kind, values=values)
        assert {d["field"] for d in refused.value.details} == fields
    with pytest.raises(Invalid, match="cannot be set"):
        call(engine, registry.create_node, world.alpha.reader, "process", values={"name": "P", "category": "cash",
                                                                                   "organisation_id": 1})
    assert row_counts(engine) == before  # the provider the service would have registered is not kept


def test_load_graph_is_what_was_stored_in_a_fixed_number_of_queries(engine: Engine, world: World) -> None:
    w = world
    s = build_sector(engine, w).ids
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.connect() as conn:
            graph = load_graph(conn)
        small = len(statements)
        for n in range(25):  # many more rows, not one more query
            node(engine, w.boreal, "process", name=f"Extra {n}", category="other", depends_on=[s["b_cloud"]])
        statements.clear()
        with engine.connect() as conn:
            bigger = load_graph(conn)
        assert len(statements) == small == 6
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(bigger.nodes) == len(graph.nodes) + 25

    cloud = next(n for n in graph.nodes.values() if n.kind == "provider" and n.name == "Nordic Cloud AB")
    captive = next(n for n in graph.nodes.values() if n.kind == "provider" and n.name == "Alpha Group IT Oy")
    assert cloud == Node(cloud.id, "provider", "Nordic Cloud AB", None, False, None, False)
    assert captive.unknown  # named, no identifier yet
    assert graph.nodes[s["a_pay"]] == Node(s["a_pay"], "process", "Alpha instant payments", w.alpha.org_id, True,
                                           "payments")
    assert graph.nodes[s["b_cloud"]] == Node(s["b_cloud"], "service", "Boreal cloud tenancy", w.boreal.org_id, True,
                                             "S17")
    assert graph.nodes[s["rix"]] == Node(s["rix"], "infrastructure", "RIX-INST", None, False, "payment_system")
    edges = {(a, b) for a, deps in bigger.depends_on.items() for b in deps}
    stored = {(e["dependent"], e["dependency"]) for e in call(engine, dependencies.list_dependencies, w.admin.reader)}
    services = call(engine, registry.list_nodes, w.admin.reader, "service")
    assert edges == stored | {(v["node_id"], v["provider"]["node_id"]) for v in services}
    assert {(s["a_hub"], s["a_cloud"]), (s["a_hub"], s["rix"]), (s["a_pay"], s["a_hub"]), (s["a_card"], s["a_captive"]),
            (s["b_pay"], s["b_cloud"]), (s["b_cloud"], cloud.id), (s["p_cloud"], cloud.id),
            (s["p_engine"], s["p_ledger"]), (s["p_ledger"], s["p_engine"])} <= edges
    counts = row_counts(engine)
    assert len(bigger.nodes) == sum(counts[t] for t in ("sectormap_processes", "sectormap_systems",
                                                       "sectormap_services", "sectormap_providers",
                                                       "sectormap_infrastructure"))
