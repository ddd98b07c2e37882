"""The end-to-end part of bench/sectormap.py, first half: the synthetic sector built in a real store through
nordcert's own service functions, checked against the plan, and load_graph's rows fetched raw for reference
(bench/_sectormap_measure.py measures).

The store's rules shape the sector a little differently from the pure build (same node counts by kind):

- an ICT service is a member's contract with a provider (``sectormap_services.organisation_id``), so the 900
  services are 15 per member, each with a provider drawn by the same Zipf popularity; a system relies on 1-2 of
  its member's services, picked evenly (their providers were drawn by popularity already);
- a service depends only on infrastructure (regions for the 5 largest providers, else data centres), and shared
  infrastructure depends on nothing, so the pure build's service → service edges (and their 3-cycles) and
  infrastructure → infrastructure edges have no counterpart; the members' sites are shared infrastructure
  nodes named after their member;
- "unknown" is a provider without an LEI (5 of 150) or a service without a provider (about 3 %).

Everything else follows the pure build: 22 processes and 38 systems per member, 1-3 systems per process, half
the payment and card functions also on a payment system, 1 % of processes mapped to nothing, 30 % of systems on
one of their member's sites, 10 % on another system, two systems needing each other in about 15 % of members.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Engine

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.db import fetch_all, transaction
from nordcert.sectormap import csv_import, dependencies, registry, shared
from nordcert.sectormap.graph import Graph
from nordcert.sectormap.service import graph_of_rows

# --- the sector's shape: bench/sectormap.py's constants, in the store's vocabulary ---------------------------

#: The store's vocabulary for the pure build's names (the register has no payments or card processing type:
#: computation and non-cloud data storage stand in).
PROCESS_CATEGORY = {"payments": "payments", "cards": "card_processing", "online-banking": "online_banking",
                    "cash": "cash", "trading": "securities", "lending": "lending", "customer-service": "other",
                    "reporting": "other"}
SERVICE_TYPE = {"iaas": "S17", "paas": "S18", "saas": "S19", "hosting": "S07", "network": "S11",
                "payments-processing": "S08", "data-provision": "S05", "security-management": "S04",
                "software-licensing": "S13", "ict-operations": "S14", "help-desk": "S03", "card-processing": "S09"}
SECTOR_TYPES = ("bank", "bank", "bank", "mortgage", "payment_system", "insurer")


def lei(prefix18: str) -> str:
    """A valid LEI: 18 characters and the ISO 7064 MOD 97-10 check digits."""
    number = int("".join(str(int(c, 36)) for c in prefix18 + "00"))
    return f"{prefix18}{98 - number % 97:02d}"


# --- the plan -----------------------------------------------------------------------------------------------


@dataclass
class Member:
    n: int
    sector_type: str
    services: list[dict[str, Any]] = field(default_factory=list)  # name, provider (index|None), type, infra
    systems: list[dict[str, Any]] = field(default_factory=list)  # name, services, sites, systems (indices)
    processes: list[dict[str, Any]] = field(default_factory=list)  # name, category, critical, systems, infra


@dataclass
class Plan:
    infrastructure: list[tuple[str, str]]  # (name, kind)
    providers: list[dict[str, Any]]  # name, lei (or None), country
    members: list[Member]


def plan_sector(shape: ModuleType, members: int, seed: int) -> Plan:
    """The synthetic sector as the store holds it (see the module docstring), from a fixed seed; ``shape`` is
    bench/sectormap.py, whose constants (PROCESSES, SYSTEMS, AREAS, …) the pure build uses too."""
    PROCESSES, SYSTEMS, PROVIDERS, SERVICES, INFRASTRUCTURE = (
        shape.PROCESSES, shape.SYSTEMS, shape.PROVIDERS, shape.SERVICES, shape.INFRASTRUCTURE)
    rng = random.Random(seed)
    infra = [(f"Carrier {i}", "network_provider") for i in range(20)]
    centres = list(range(len(infra), len(infra) + 60))
    infra += [(f"Data centre {i}", "data_centre") for i in range(60)]
    regions = list(range(len(infra), len(infra) + 12))
    infra += [(f"Cloud region {i}", "cloud_region") for i in range(12)]
    fmis = list(range(len(infra), len(infra) + len(shape.FMIS)))
    infra += [(name, "settlement_system" if "settlement" in name else "payment_system") for name in shape.FMIS]
    own_per_member = max(1, (INFRASTRUCTURE - len(infra)) // members)
    sites = {m: list(range(len(infra) + (m - 1) * own_per_member, len(infra) + m * own_per_member))
             for m in range(1, members + 1)}
    infra += [(f"Member {m} site {j}", "data_centre") for m in range(1, members + 1) for j in range(own_per_member)]
    infra += [(f"Shared site {i}", "other") for i in range(INFRASTRUCTURE - len(infra))]
    weights = [1 / (i + 1) ** 1.1 for i in range(PROVIDERS)]
    providers = [{"name": f"Provider {i} AB", "lei": None if i % 30 == 29 else lei(f"5299BENCH{i:09d}"),
                  "country": ("SE", "NO", "DK", "FI", "IE", "US")[i % 6]} for i in range(PROVIDERS)]
    per_member = SERVICES // members
    plan = Plan(infra, providers, [])
    for m in range(1, members + 1):
        member = Member(m, SECTOR_TYPES[(m - 1) % len(SECTOR_TYPES)])
        drawn = rng.choices(range(PROVIDERS), weights, k=per_member)
        for j, p in enumerate(drawn):
            category = rng.choice(shape.CATEGORIES[:4] if p < 5 and rng.random() < 0.7 else shape.CATEGORIES)
            member.services.append({"name": f"Member {m} service {j}", "provider": None if rng.random() < 0.03 else p,
                                    "type": SERVICE_TYPE[category],
                                    "infra": rng.sample(regions if p < 5 else centres, rng.randint(1, 2))})
        for j in range(SYSTEMS):  # the services were drawn by popularity: a system picks among them evenly
            member.systems.append({"name": f"Member {m} system {j}",
                                   "services": sorted(set(rng.choices(range(per_member), k=rng.randint(1, 2)))),
                                   "sites": [rng.choice(sites[m])] if rng.random() < 0.3 else [],
                                   "systems": [(j + rng.randint(1, SYSTEMS - 1)) % SYSTEMS]
                                   if rng.random() < 0.1 else []})
        if rng.random() < 0.15:  # two systems that need each other
            a, b = rng.sample(range(SYSTEMS), 2)
            member.systems[a]["systems"] = sorted({*member.systems[a]["systems"], b})
            member.systems[b]["systems"] = sorted({*member.systems[b]["systems"], a})
        for j in range(PROCESSES):
            area, critical_odds = shape.AREAS[j % len(shape.AREAS)]
            proc = {"name": f"Member {m} {area} {j}", "category": PROCESS_CATEGORY[area],
                    "critical": rng.random() < critical_odds * 0.8, "systems": [], "infra": []}
            if rng.random() >= 0.01:  # else a process nobody has mapped yet
                proc["systems"] = sorted(rng.sample(range(SYSTEMS), rng.randint(1, 3)))
                if area in ("payments", "cards") and rng.random() < 0.5:
                    proc["infra"] = [rng.choice(fmis)]
            member.processes.append(proc)
        plan.members.append(member)
    return plan


def register_csv(plan: Plan, member: Member) -> bytes:
    """The member's register of information: one row per function, system and service it relies on; then the
    systems no function uses and the services no system uses."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["function", "category", "critical", "system", "service", "provider", "lei", "service_type"])

    def service(j: int) -> list[str]:
        s = member.services[j]
        p = plan.providers[s["provider"]] if s["provider"] is not None else {"name": "", "lei": None}
        return [s["name"], p["name"], p["lei"] or "", s["type"]]

    systems_used: set[int] = set()
    services_used: set[int] = set()
    for proc in member.processes:
        for k in proc["systems"]:
            systems_used.add(k)
            for j in member.systems[k]["services"]:
                services_used.add(j)
                writer.writerow([proc["name"], proc["category"], "yes" if proc["critical"] else "no",
                                 member.systems[k]["name"], *service(j)])
    for k, system in enumerate(member.systems):
        if k not in systems_used:
            for j in system["services"]:
                services_used.add(j)
                writer.writerow(["", "", "", system["name"], *service(j)])
    for j in range(len(member.services)):
        if j not in services_used:
            writer.writerow(["", "", "", "", *service(j)])
    return out.getvalue().encode()


# --- building it through nordcert ---------------------------------------------------------------------------


@dataclass
class Built:
    admin_email: str
    member_emails: dict[int, str]
    tokens: dict[str, str]  # email -> bearer token
    infrastructure: list[str]  # node ids by plan index
    providers: list[str]
    nodes: dict[tuple[int, str, int], str]  # (member, kind, index) -> node id
    org_ids: dict[int, int]
    phases: dict[str, dict[str, float]] = field(default_factory=dict)  # phase -> seconds, calls


def build_store(engine: Engine, plan: Plan, measured_member: int = 1) -> Built:
    """The plan stored as its people would: organisations and users (accounts service); CERT staff register
    the shared infrastructure and the providers, one request's transaction per node; each member imports its
    register CSV (one transaction), adds the functions it has not mapped, then the edges a register does not
    hold (on infrastructure, between systems) one transaction each."""
    built = Built("cert-admin@bench.example", {}, {}, [], [], {}, {})

    def phase(name: str, started: float, calls: int) -> None:
        built.phases[name] = {"seconds": round(time.perf_counter() - started, 2), "calls": calls}
        print(f"  {name}: {built.phases[name]['seconds']} s", file=sys.stderr)

    started = time.perf_counter()
    with transaction(engine) as conn:
        cert = accounts.create_organisation(conn, name="Bench Financial CERT", short_name="BFCERT", country="SE",
                                            sector_type="cert")
        accounts.create_user(conn, email=built.admin_email, organisation=cert["id"], role="cert_admin")
        built.tokens[built.admin_email] = credentials.create_token(conn, user=built.admin_email).token
    for member in plan.members:
        email = f"risk@member{member.n}.example"
        with transaction(engine) as conn:
            org = accounts.create_organisation(conn, name=f"Bench Member {member.n}", short_name=f"BM{member.n}",
                                               country="SE", sector_type=member.sector_type)
            accounts.create_user(conn, email=email, organisation=org["id"], role="risk_officer")
            if member.n == measured_member:
                built.tokens[email] = credentials.create_token(conn, user=email).token
        built.member_emails[member.n], built.org_ids[member.n] = email, org["id"]
    phase("organisations and users", started, 1 + len(plan.members))

    started = time.perf_counter()
    with transaction(engine, write=False) as conn:
        admin = accounts.reader_for(conn, built.admin_email)
    for name, kind in plan.infrastructure:
        with transaction(engine) as conn:
            built.infrastructure.append(
                shared.create_infrastructure(conn, admin, values={"name": name, "kind": kind})["node_id"])
    for p in plan.providers:
        with transaction(engine) as conn:
            built.providers.append(shared.create_provider(conn, admin, values=p)["node_id"])
    phase("shared infrastructure and providers (CERT staff)", started, len(plan.infrastructure) + len(plan.providers))

    started, calls = time.perf_counter(), 0
    for member in plan.members:
        with transaction(engine, write=False) as conn:
            reader = accounts.reader_for(conn, built.member_emails[member.n])
        with transaction(engine) as conn:
            csv_import.import_register(conn, reader, register_csv(plan, member))
        calls += 1
        for proc in member.processes:
            if not proc["systems"]:
                with transaction(engine) as conn:
                    registry.create_node(conn, reader, "process", values={
                        "name": proc["name"], "category": proc["category"], "critical": proc["critical"]})
                calls += 1
    phase("register CSV imports and unmapped functions (members)", started, calls)

    readers = {}
    for member in plan.members:  # the store's ids of the imported nodes, by name (not timed)
        with transaction(engine, write=False) as conn:
            readers[member.n] = reader = accounts.reader_for(conn, built.member_emails[member.n])
            for kind, items in (("process", member.processes), ("system", member.systems),
                                ("service", member.services)):
                by_name = {n["name"]: n["node_id"] for n in registry.list_nodes(conn, reader, kind)}
                for i, item in enumerate(items):
                    built.nodes[(member.n, kind, i)] = by_name[item["name"]]
    started, calls = time.perf_counter(), 0
    for member in plan.members:
        reader = readers[member.n]
        for dependent, dependency in _extra_edges(built, member):
            with transaction(engine) as conn:
                dependencies.add_dependency(conn, reader, dependent=dependent, dependency=dependency)
            calls += 1
    phase("dependencies on infrastructure and between systems (members)", started, calls)
    return built


def _extra_edges(built: Built, member: Member) -> list[tuple[str, str]]:
    """The edges a register CSV does not hold: on shared infrastructure, and between a member's systems."""
    node, infra = built.nodes, built.infrastructure
    out = [(node[(member.n, "service", j)], infra[i]) for j, s in enumerate(member.services) for i in s["infra"]]
    for k, s in enumerate(member.systems):
        out += [(node[(member.n, "system", k)], infra[i]) for i in s["sites"]]
        out += [(node[(member.n, "system", k)], node[(member.n, "system", o)]) for o in s["systems"]]
    for j, p in enumerate(member.processes):
        out += [(node[(member.n, "process", j)], infra[i]) for i in p["infra"]]
    return out


def check_graph(graph: Graph, plan: Plan, built: Built) -> None:
    """The graph loaded from the store is the plan: every node with its kind and member, critical functions,
    and every edge (raises SystemExit otherwise)."""
    expected: dict[str, tuple[str, int | None, bool]] = {i: ("infrastructure", None, False)
                                                         for i in built.infrastructure}
    expected |= {p: ("provider", None, False) for p in built.providers}
    edges: set[tuple[str, str]] = set()
    node = built.nodes
    for member in plan.members:
        org = built.org_ids[member.n]
        for j, s in enumerate(member.services):
            me = node[(member.n, "service", j)]
            expected[me] = ("service", org, False)
            edges |= {(me, built.infrastructure[i]) for i in s["infra"]}
            if s["provider"] is not None:
                edges.add((me, built.providers[s["provider"]]))
        for k, s in enumerate(member.systems):
            me = node[(member.n, "system", k)]
            expected[me] = ("system", org, False)
            edges |= {(me, node[(member.n, "service", j)]) for j in s["services"]}
            edges |= {(me, built.infrastructure[i]) for i in s["sites"]}
            edges |= {(me, node[(member.n, "system", o)]) for o in s["systems"]}
        for j, p in enumerate(member.processes):
            me = node[(member.n, "process", j)]
            expected[me] = ("process", org, p["critical"])
            edges |= {(me, node[(member.n, "system", k)]) for k in p["systems"]}
            edges |= {(me, built.infrastructure[i]) for i in p["infra"]}
    loaded = {n.id: (n.kind, n.organisation_id, n.critical and n.kind == "process") for n in graph.nodes.values()}
    stored = {(a, b) for a, deps in graph.depends_on.items() for b in deps}
    if loaded != expected or stored != edges:
        raise SystemExit(f"the store's graph is not the plan: {len(set(loaded.items()) ^ set(expected.items()))} "
                         f"nodes and {len(stored ^ edges)} edges differ")


# --- references for load_graph -----------------------------------------------------------------------------

#: load_graph's six queries, as SQL for the driver.
QUERIES = (
    "SELECT id, organisation_id, name, critical, category FROM sectormap_processes",
    "SELECT id, organisation_id, name FROM sectormap_systems",
    "SELECT id, name, lei, other_id FROM sectormap_providers",
    "SELECT id, name, kind FROM sectormap_infrastructure",
    "SELECT id, organisation_id, name, critical, service_type, provider_id FROM sectormap_services",
    "SELECT dependent, dependency FROM sectormap_dependencies",
)


def raw_rows(conn: Connection) -> list[list[Any]]:
    """The rows of load_graph's queries, fetched on the driver's cursor (no SQLAlchemy result, no Graph)."""
    return [fetch_all(conn, sql) for sql in QUERIES]


def raw_graph(conn: Connection) -> Graph:
    """The Graph load_graph builds, from :func:`raw_rows`: what a load costs without SQLAlchemy's row handling."""
    return graph_of_rows(*raw_rows(conn))
