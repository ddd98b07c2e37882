"""Organisations for sector map tests, and a small sector: three members sharing a cloud provider and a payment
system, each with names of its own that no other member may ever read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from nordcert.db import import_all_tables, transaction
from nordcert.sectormap import dependencies, registry, shared
from tests.factories import Member, make_member


def lei(prefix18: str) -> str:
    """A valid LEI: 18 characters and the ISO 7064 MOD 97-10 check digits."""
    number = int("".join(str(int(c, 36)) for c in prefix18 + "00"))
    return f"{prefix18}{98 - number % 97:02d}"


CLOUD_LEI = lei("5299000NORDCLOUD01")
CORE_LEI = lei("5299000COREBANKSYS")


@dataclass
class World:
    admin: Member  # CERT staff
    alpha: Member  # risk officer of a bank
    alpha_reader: Member
    boreal: Member  # analyst of another bank
    payco: Member  # risk officer of a payment institution
    fsa: Member  # risk officer of the supervisory authority
    fsa_analyst: Member
    peer: Member  # a federation peer's service account
    names: dict[int, set[str]] = field(default_factory=dict)  # organisation id -> names only it may read

    def members(self) -> list[Member]:
        return [self.alpha, self.boreal, self.payco]


@pytest.fixture
def world(engine: Engine) -> World:
    alpha = make_member(engine, name="Alpha Bank", role="risk_officer")
    fsa = make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority")
    return World(
        admin=make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert"),
        alpha=alpha,
        alpha_reader=make_member(engine, org=alpha.org_name, role="reader"),
        boreal=make_member(engine, name="Boreal Bank", role="analyst", country="NO"),
        payco=make_member(engine, name="Payco Payments", role="risk_officer", sector_type="payment_system"),
        fsa=fsa,
        fsa_analyst=make_member(engine, org=fsa.org_name, role="analyst"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
    )


def call(engine: Engine, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(conn, *args, **kwargs)`` in one transaction of its own."""
    with transaction(engine) as conn:
        return fn(conn, *args, **kwargs)


def node(engine: Engine, m: Member, kind: str, **values: Any) -> dict[str, Any]:
    return call(engine, registry.create_node, m.reader, kind, values=values)  # type: ignore[no-any-return]


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every sector map table: what a refused request must leave as it was."""
    tables = [t for t in import_all_tables().sorted_tables if t.name.startswith("sectormap_")]
    with transaction(engine, write=False) as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables}


@dataclass
class Sector:
    """The map :func:`build_sector` made: node ids by a short label."""

    ids: dict[str, str]


def build_sector(engine: Engine, w: World) -> Sector:
    """Shared infrastructure (RIX-INST, a data centre nobody uses), one cloud provider all three members use,
    and per member names of its own: Alpha's captive provider "Alpha Group IT" used by Alpha only."""
    ids: dict[str, str] = {}
    ids["rix"] = call(engine, shared.create_infrastructure, w.admin.reader, values={
        "name": "RIX-INST", "kind": "payment_system", "operator": "Sveriges Riksbank", "country": "SE"})["node_id"]
    ids["dc"] = call(engine, shared.create_infrastructure, w.admin.reader, values={
        "name": "Unused data centre", "kind": "data_centre"})["node_id"]
    cloud = {"name": "Nordic Cloud AB", "lei": CLOUD_LEI, "country": "SE"}

    # Alpha: payments on a hub on the cloud and RIX; card issuing on its captive IT provider.
    a = w.alpha
    ids["a_pay"] = node(engine, a, "process", name="Alpha instant payments", category="payments",
                        critical=True)["node_id"]
    ids["a_card"] = node(engine, a, "process", name="Alpha card issuing", category="card_processing",
                         critical=True)["node_id"]
    ids["a_cloud"] = node(engine, a, "service", name="Alpha hosting contract", provider=cloud, service_type="S17",
                          critical=True)["node_id"]
    ids["a_captive"] = node(engine, a, "service", name="Alpha card outsourcing",
                            provider={"name": "Alpha Group IT Oy"}, service_type="S14", critical=True)["node_id"]
    ids["a_hub"] = node(engine, a, "system", name="Alpha payment hub", supports=[ids["a_pay"]],
                        depends_on=[ids["a_cloud"], ids["rix"]])["node_id"]
    registry_link(engine, a, ids["a_card"], ids["a_captive"])

    # Boreal: payments straight on the cloud (same provider by name only, another spelling).
    b = w.boreal
    ids["b_pay"] = node(engine, b, "process", name="Boreal giro payments", category="payments",
                        critical=True)["node_id"]
    ids["b_loans"] = node(engine, b, "process", name="Boreal mortgage lending", category="lending",
                          critical=False)["node_id"]
    ids["b_cloud"] = node(engine, b, "service", name="Boreal cloud tenancy", provider={"name": "nordic cloud"},
                          service_type="S17", critical=True, supports=[ids["b_pay"], ids["b_loans"]])["node_id"]

    # Payco: settlement on the cloud and RIX; a cycle between two systems of its own.
    p = w.payco
    ids["p_settle"] = node(engine, p, "process", name="Payco clearing and settlement", category="payments",
                           critical=True)["node_id"]
    ids["p_cloud"] = node(engine, p, "service", name="Payco cloud", provider={"lei": CLOUD_LEI},
                          service_type="S17", critical=True)["node_id"]
    ids["p_engine"] = node(engine, p, "system", name="Payco settlement engine", supports=[ids["p_settle"]],
                           depends_on=[ids["p_cloud"], ids["rix"]])["node_id"]
    ids["p_ledger"] = node(engine, p, "system", name="Payco ledger", depends_on=[ids["p_engine"]],
                           supports=[ids["p_engine"]])["node_id"]

    w.names = {
        a.org_id: {"Alpha Bank", "Alpha instant payments", "Alpha card issuing", "Alpha hosting contract",
                   "Alpha card outsourcing", "Alpha payment hub", "Alpha Group IT"},
        b.org_id: {"Boreal Bank", "Boreal giro payments", "Boreal mortgage lending", "Boreal cloud tenancy"},
        p.org_id: {"Payco Payments", "Payco clearing and settlement", "Payco cloud", "Payco settlement engine",
                   "Payco ledger"},
    }
    return Sector(ids)


def registry_link(engine: Engine, m: Member, dependent: str, dependency: str) -> None:
    call(engine, dependencies.add_dependency, m.reader, dependent=dependent, dependency=dependency)


def leaks(document: Any, w: World, reader: Member) -> list[str]:
    """The names of other members (organisations and their own nodes) ``document`` contains."""
    import orjson

    text = orjson.dumps(document).decode()
    return sorted(name for org, names in w.names.items() if org != reader.org_id for name in names if name in text)
