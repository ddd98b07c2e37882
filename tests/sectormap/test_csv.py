"""CSV import of a member's register of information: a good file, bad lines named with nothing stored, a
re-import that changes nothing, mappings, changes, and replace."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from nordcert.db import transaction
from nordcert.errors import Forbidden, Invalid
from nordcert.sectormap import registry, shared
from nordcert.sectormap.csv_import import import_register
from nordcert.sectormap.tables import sectormap_processes, sectormap_providers, sectormap_services, sectormap_systems
from tests.factories import Member
from tests.sectormap.conftest import CLOUD_LEI, CORE_LEI, World, call, node, row_counts

REGISTER = f"""Function,Function identifier,Category,Critical or important,Provider,LEI,Country,ICT service type,\
Substitutability,Data storage locations,Data processing locations,Contract reference,Contract end,System
Instant payments,F1,Payments,Yes,Nordic Cloud AB,{CLOUD_LEI},SE,S17,difficult,SE;FI,SE,C-2024-01,2027-12-31,\
Payment hub
Card issuing,F2,card processing,yes,Nordic Cloud AB,{CLOUD_LEI},SE,S17,difficult,SE;FI,SE,C-2024-01,2027-12-31,
Mortgage lending,F3,lending,no,CoreBank Systems Oy,{CORE_LEI},FI,SaaS,impossible,FI,FI,C-2019-07,,Loan engine
Instant payments,F1,payments,yes,Netcom Nordic,,DK,S10,easy,,,,,Payment hub
""".encode()


def _import(engine: Engine, m: Member, data: bytes, **kwargs: Any) -> dict[str, Any]:
    return call(engine, import_register, m.reader, data, **kwargs)  # type: ignore[no-any-return]


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with transaction(engine, write=False) as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t)))
                for t in (sectormap_processes, sectormap_systems, sectormap_services, sectormap_providers)}


def test_a_register_imports_into_the_members_part(engine: Engine, world: World) -> None:
    w = world
    # Another member registered the cloud provider already, by name only.
    node(engine, w.boreal, "service", name="Boreal hosting", provider={"name": "nordic cloud"})
    done = _import(engine, w.alpha, REGISTER)
    assert done == {"rows": 4, "processes": {"created": 3, "updated": 0, "unchanged": 0},
                    "systems": {"created": 2, "updated": 0, "unchanged": 0},
                    "services": {"created": 3, "updated": 0, "unchanged": 0},
                    "dependencies": {"added": 6, "existing": 0}, "services_removed": 0}
    processes = {p["name"]: p for p in call(engine, registry.list_nodes, w.alpha.reader, "process")}
    assert {n: (p["category"], p["critical"], p["function_ref"]) for n, p in processes.items()} == {
        "Instant payments": ("payments", True, "F1"), "Card issuing": ("card_processing", True, "F2"),
        "Mortgage lending": ("lending", False, "F3")}
    services = {s["name"]: s for s in call(engine, registry.list_nodes, w.alpha.reader, "service")}
    cloud = services["nordic cloud – Cloud: IaaS (C-2024-01)"]  # named after the provider as registered
    assert (cloud["critical"], cloud["substitutability"], cloud["storage_locations"], cloud["processing_locations"],
            cloud["contract_end"], cloud["provider"]["lei"]) == (True, "difficult", ["FI", "SE"], ["SE"],
                                                                   "2027-12-31", CLOUD_LEI)
    core = services["CoreBank Systems Oy – Cloud: SaaS (C-2019-07)"]
    assert (core["service_type"], core["critical"], core["substitutability"]) == ("S19", False, "impossible")
    net = services["Netcom Nordic – Telecom carrier"]
    assert net["provider"]["lei"] is None
    # The cloud provider is the one Boreal registered; it now has the LEI and country.
    providers = call(engine, shared.list_providers, w.admin.reader)
    assert sorted(p["name"] for p in providers) == ["CoreBank Systems Oy", "Netcom Nordic", "nordic cloud"]
    stored_cloud = next(p for p in providers if p["name"] == "nordic cloud")
    assert (stored_cloud["lei"], stored_cloud["country"], stored_cloud["usage"]) == (
        CLOUD_LEI, "SE", {"members": 2, "services": 2})
    # Functions depend on the system named in the row, or on the service; the system on the service.
    hub = next(s for s in call(engine, registry.list_nodes, w.alpha.reader, "system") if s["name"] == "Payment hub")
    assert sorted(hub["depends_on"]) == sorted([cloud["node_id"], net["node_id"]])
    assert hub["supports"] == [processes["Instant payments"]["node_id"]]
    assert processes["Card issuing"]["depends_on"] == [cloud["node_id"]]


def test_a_reimport_changes_nothing_and_a_changed_row_changes_only_that(engine: Engine, world: World) -> None:
    _import(engine, world.alpha, REGISTER)
    before = _snapshot(engine)
    again = _import(engine, world.alpha, REGISTER)
    assert again["processes"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again["systems"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert again["services"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again["dependencies"] == {"added": 0, "existing": 6}
    assert _snapshot(engine) == before  # not even updated_at moved

    changed = REGISTER.replace(b"CoreBank Systems Oy,", b"Corebank Systems,").replace(b"impossible", b"medium")
    result = _import(engine, world.alpha, changed)
    assert result["services"] == {"created": 0, "updated": 1, "unchanged": 2}
    services = {s["name"]: s for s in call(engine, registry.list_nodes, world.alpha.reader, "service")}
    assert services["CoreBank Systems Oy – Cloud: SaaS (C-2019-07)"]["substitutability"] == "medium"


def test_bad_lines_are_named_and_nothing_is_stored(engine: Engine, world: World) -> None:
    before = row_counts(engine)
    bad = REGISTER + (
        f"Cash logistics,F4,cash,maybe,Armoured IT,{CLOUD_LEI[:-2]}00,Sweden,S99,trivial,SE;XX1,,,31/12/2027,\n"
        ",,,,,,,,,,,,,\n"  # blank: skipped
        "Brand new function,F5,,yes,Nordic Cloud AB,,SE,S17,easy,SE,SE,C-2024-01,2027-12-31,\n"
        ",,,,,,,,,,,,,Orphan system\n"
    ).encode()
    with pytest.raises(Invalid) as refused:
        _import(engine, world.alpha, bad)
    details = refused.value.details
    assert {d["line"] for d in details} == {6, 8, 9}
    assert "nothing was imported" in refused.value.message
    line6 = {d["field"]: d["reason"] for d in details if d["line"] == 6}
    assert set(line6) == {"critical", "lei", "country", "service_type", "substitutability", "storage_locations",
                          "contract_end"}
    assert "wrong check digits" in line6["lei"]
    # Line 8 names the service of lines 2 and 3 but disagrees with them, and its function is new without a category.
    line8 = {d["field"]: d["reason"] for d in details if d["line"] == 8}
    assert line8 == {"substitutability": "says 'easy' where line 2 says 'difficult' about the same service",
                     "storage_locations": "says 'SE' where line 2 says 'FI,SE' about the same service",
                     "category": "function 'Brand new function' is new: give its category"}
    assert [d["field"] for d in details if d["line"] == 9] == ["provider"]
    assert row_counts(engine) == before

    # A row that is fine alone but names a new function without its category: refused after the providers
    # were looked up, still nothing stored (the provider it would have registered included).
    with pytest.raises(Invalid) as refused:
        _import(engine, world.alpha, b"Function,Provider,Service type\nNew thing,Fresh Provider AB,S19\n")
    assert refused.value.details == [{"line": 2, "field": "category",
                                      "reason": "function 'New thing' is new: give its category"}]
    assert row_counts(engine) == before


def test_files_that_are_not_a_register_are_refused(engine: Engine, world: World) -> None:
    for data, message in [
        (b"", "empty"),
        (b"Function,Provider\n", "no rows"),
        (b"\x00\x01binary", "binary"),
        (b"Function,Provider\n\xff\xfe,x\n", "UTF-8"),
        (b"Function,Category\nPayments,payments\n", "no provider column"),
    ]:
        with pytest.raises(Invalid, match=message):
            _import(engine, world.alpha, data)
    with pytest.raises(Invalid, match="unknown field"):
        _import(engine, world.alpha, REGISTER, mapping=["Function=colour"])
    with pytest.raises(Invalid, match="no column 'Leverantör'"):
        _import(engine, world.alpha, REGISTER, mapping=["Leverantör=provider"])
    with pytest.raises(Forbidden):
        _import(engine, world.alpha_reader, REGISTER)
    with pytest.raises(Forbidden):
        _import(engine, world.admin, REGISTER)


def test_columns_are_named_by_a_mapping_and_replace_makes_the_file_the_register(engine: Engine,
                                                                               world: World) -> None:
    swedish = (f"Funktion;Kategori;Kritisk;Leverantör;LEI;Tjänstetyp\n"
               f"Betalningar;payments;ja;Nordic Cloud AB;{CLOUD_LEI};S17\n"
               f"Utlåning;lending;nej;CoreBank Systems Oy;{CORE_LEI};S19\n").encode()
    done = _import(engine, world.boreal, swedish, mapping=["Funktion=function", "Kategori=category",
                                                           "Kritisk=critical", "Leverantör=provider",
                                                           "6=service_type"])
    assert done["services"]["created"] == 2 and done["processes"]["created"] == 2
    critical = {p["name"]: p["critical"] for p in call(engine, registry.list_nodes, world.boreal.reader, "process")}
    assert critical == {"Betalningar": True, "Utlåning": False}

    kept = (f"Function,Category,Critical,Provider,LEI,Service type\n"
            f"Betalningar,payments,yes,Nordic Cloud AB,{CLOUD_LEI},S17\n").encode()
    result = _import(engine, world.boreal, kept, replace=True)
    assert result["services_removed"] == 1
    services = call(engine, registry.list_nodes, world.boreal.reader, "service")
    assert [s["name"] for s in services] == ["Nordic Cloud AB – Cloud: IaaS"]
    utlaning = next(p for p in call(engine, registry.list_nodes, world.boreal.reader, "process")
                    if p["name"] == "Utlåning")
    assert utlaning["depends_on"] == []  # its edge went with the removed service
