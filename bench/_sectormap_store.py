"""The end-to-end part of bench/sectormap.py: the synthetic sector built in a real store through nordcert's own
service functions, then what-if answered from the store, in-process and over HTTP.

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
import gc
import io
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from types import ModuleType
from typing import Any

import orjson
from _servers import HOST, Server, free_port, running
from lookup import _HELLO, Client
from sqlalchemy import Connection, Engine

from nordcert.accounts import service as accounts
from nordcert.db import fetch_all, transaction
from nordcert.sectormap import analysis, csv_import, dependencies, registry, shared, views
from nordcert.sectormap.graph import KINDS, Graph, Node
from nordcert.sectormap.service import load_graph

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
        built.tokens[built.admin_email] = accounts.create_token(conn, user=built.admin_email).token
    for member in plan.members:
        email = f"risk@member{member.n}.example"
        with transaction(engine) as conn:
            org = accounts.create_organisation(conn, name=f"Bench Member {member.n}", short_name=f"BM{member.n}",
                                               country="SE", sector_type=member.sector_type)
            accounts.create_user(conn, email=email, organisation=org["id"], role="risk_officer")
            if member.n == measured_member:
                built.tokens[email] = accounts.create_token(conn, user=email).token
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
    processes, systems, providers, infrastructure, services, edges = raw_rows(conn)
    g = Graph()
    for pid, org, name, critical, category in processes:
        g.add(Node(f"process:{pid}", "process", name, org, bool(critical), category))
    for sid, org, name in systems:
        g.add(Node(f"system:{sid}", "system", name, org))
    for prid, name, lei_, other_id in providers:
        g.add(Node(f"provider:{prid}", "provider", name, None, unknown=lei_ is None and other_id is None))
    for iid, name, kind in infrastructure:
        g.add(Node(f"infrastructure:{iid}", "infrastructure", name, None, category=kind))
    for vid, org, name, critical, service_type, provider_id in services:
        g.add(Node(f"service:{vid}", "service", name, org, bool(critical), service_type, unknown=provider_id is None))
        if provider_id is not None:
            g.link(f"service:{vid}", f"provider:{provider_id}")
    for dependent, dependency in edges:
        g.link(dependent, dependency)
    return g


# --- serving ------------------------------------------------------------------------------------------------


def serve(home: Path, database_url: str | None, log: Path) -> Server:
    """``nordcert serve`` of the store in a child process (a PostgreSQL store's URL passed in its environment)."""
    port = free_port()
    env = [f"NORDCERT_DATABASE_URL={database_url}"] if database_url else []
    return Server("nordcert", ["env", *env, sys.executable, "-m", "nordcert", "--instance", str(home), "serve",
                               "--host", HOST, "--port", str(port)], log, port)


# --- measuring ----------------------------------------------------------------------------------------------
# Every series is measured in rounds, one call of each per round, so that a busy spell on this shared machine
# slows all of them alike and the ratios hold. The collector is left alone, as in a server: a maximum may hold
# a full collection (tens of ms with a graph in memory).

WHAT_IF = "/api/v1/sectormap/analysis/what-if"
Call = Callable[[int], object]  # the call of round i; it may return its own milliseconds (a float)


def stats(runs: list[float]) -> dict[str, float]:
    return {"median_ms": round(median(runs), 2), "mean_ms": round(sum(runs) / len(runs), 2),
            "max_ms": round(max(runs), 2), "calls": len(runs)}


def rounds(calls: dict[str, Call], n: int) -> dict[str, list[float]]:
    """Milliseconds of each call in each of ``n`` rounds (what it returns, if a float: its own timing). The
    order is shuffled in every round: in a fixed order, a collection due every few calls (in this process or
    the server) would fall on the same series every time."""
    runs: dict[str, list[float]] = {k: [] for k in calls}
    order = list(calls.items())
    shuffle = random.Random(n).shuffle
    gc.collect()
    for i in range(n):
        shuffle(order)
        for label, call in order:
            started = time.perf_counter()
            own = call(i)
            runs[label].append(own if isinstance(own, float) else (time.perf_counter() - started) * 1000)
    return runs


def in_transaction(engine: Engine, fn: Callable[[Connection, int], object]) -> Call:
    """``fn(conn, i)`` in a read transaction of its own, as a request has; the timer runs in ``rounds``, so
    opening and committing it is timed too."""
    def call(i: int) -> object:
        with transaction(engine, write=False) as conn:
            return fn(conn, i)
    return call


def http_client(port: int, token: str | None) -> Client:
    """bench/lookup.py's client: HTTP/1.1 on one keep-alive socket, costing little next to the server."""
    client = Client(port)
    client.auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""
    return client


def cpu_ms(pid: int) -> float:
    """CPU time of every thread of a process so far, in ms (Linux schedstat: nanoseconds, not clock ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError):  # a worker thread that just ended
            continue
    return total / 1e6


def http_call(client: Client, server: Server, method: str, path: str, bodies: list[bytes] | None,
              check: Callable[[int, bytes], None], sizes: list[int], cpu: list[float]) -> Call:
    """One request of round i (with ``bodies[i]``): its answer checked, its size and the server's CPU kept; the
    milliseconds from sending to the last byte (the CPU readings outside them)."""
    def call(i: int) -> float:
        before = cpu_ms(server.pid)
        started = time.perf_counter()
        status, answer = client.request(method, path, bodies[i] if bodies else b"")
        elapsed = (time.perf_counter() - started) * 1000
        cpu.append(cpu_ms(server.pid) - before)
        if status != 200:
            raise SystemExit(f"{method} {path}: HTTP {status} {answer[:300]!r}")
        check(i, answer)
        sizes.append(len(answer))
        return elapsed
    return call


def measure_store(engine: Engine, plan: Plan, built: Built, *, runs: int, seed: int, home: Path,
                  database_url: str | None, tmp: Path, hello_per_round: int = 25) -> dict[str, Any]:
    """load_graph (and its raw references), what_if_view as CERT staff and as a member (the top node ``runs``
    times, ``runs`` random nodes), the pure analysis on the loaded graph for the same nodes; then the HTTP route
    and a hello-world endpoint, both servers up, in rounds."""
    with transaction(engine, write=False) as conn:
        graph = load_graph(conn)
        check_graph(graph, plan, built)
        if raw_graph(conn) != graph:
            raise SystemExit("the raw load's graph differs from load_graph's")
        staff = accounts.reader_for(conn, built.admin_email)
        member_email = built.member_emails[1]
        member = accounts.reader_for(conn, member_email)
        top = analysis.concentration(graph)[0]
        # What member 1 may take down: its own nodes and the shared nodes its view names.
        shown = {r["node"]["id"] for r in views.concentration_view(conn, member, limit=10_000)["nodes"]}
    own = {n for n, node in graph.nodes.items() if node.organisation_id == member.organisation_id}
    rng = random.Random(seed + 2)
    cases = {
        "CERT staff, top node": (staff, built.admin_email, [top.node_id] * runs),
        f"CERT staff, {runs} random nodes": (staff, built.admin_email, rng.sample(sorted(graph.nodes), runs)),
        "member, top node": (member, member_email, [top.node_id] * runs),
        f"member, {runs} random nodes": (member, member_email, rng.sample(sorted(own | shown), runs)),
    }
    expected = {n: analysis.what_if(graph, [n]).functions for _, _, nodes in cases.values() for n in nodes}

    calls: dict[str, Call] = {
        "load_graph": in_transaction(engine, lambda conn, _: load_graph(conn)),
        "raw rows (driver cursor)": in_transaction(engine, lambda conn, _: raw_rows(conn)),
        "raw rows + Graph": in_transaction(engine, lambda conn, _: raw_graph(conn)),
        "concentration (member view's visibility)": lambda _: analysis.concentration(graph),
    }
    for label, (reader, _, nodes) in cases.items():
        def view(conn: Connection, i: int, reader: Any = reader, nodes: list[str] = nodes) -> None:
            if views.what_if_view(conn, reader, down=[nodes[i]])["functions"] != expected[nodes[i]]:
                raise SystemExit(f"what_if_view({nodes[i]}) and what_if disagree")

        def pure(i: int, nodes: list[str] = nodes) -> object:
            return analysis.what_if(graph, [nodes[i]])
        calls[f"{label}: pure"] = pure
        calls[f"{label}: view"] = in_transaction(engine, view)
    timed = rounds(calls, runs)
    started = time.perf_counter()
    gc.collect()
    full_collection_ms = round((time.perf_counter() - started) * 1000, 1)

    server = serve(home, database_url, tmp / "nordcert.log")
    hello_port = free_port()
    hello = Server("hello", [sys.executable, "-c", _HELLO, str(hello_port)], tmp / "hello.log", hello_port)
    sizes: dict[str, list[int]] = {}
    cpu: dict[str, list[float]] = {}
    with running(server, "/healthz"), running(hello, "/hello"):
        clients = [http_client(server.port, built.tokens[email]) for _, email, _ in cases.values()]
        clients.append(http_client(hello_port, None))
        try:
            http: dict[str, Call] = {}
            for (label, (_, _, nodes)), client in zip(cases.items(), clients, strict=False):
                def check(i: int, answer: bytes, nodes: list[str] = nodes) -> None:
                    if orjson.loads(answer)["functions"] != expected[nodes[i]]:
                        raise SystemExit(f"the HTTP what-if of {nodes[i]} disagrees with what_if")
                bodies = [orjson.dumps({"down": [n]}) for n in nodes]
                http[f"{label}: HTTP"] = http_call(client, server, "POST", WHAT_IF, bodies, check,
                                                   sizes.setdefault(label, []), cpu.setdefault(label, []))
            say_hello = http_call(clients[-1], hello, "GET", "/hello", None, lambda i, a: None, [],
                                  cpu.setdefault("hello", []))
            for i in range(hello_per_round):
                http[f"hello {i}"] = say_hello
            for call in http.values():  # warm-up: one call each, not timed
                call(0)
            for size in sizes.values():
                size.clear()
            for spent in cpu.values():
                spent.clear()
            timed |= rounds(http, runs)
            peak_rss = server.peak_rss_mib()
        finally:
            for client in clients:
                client.close()

    hello_runs = [ms for k, v in timed.items() if k.startswith("hello ") for ms in v]
    out: dict[str, Any] = {
        "nodes": len(graph.nodes), "edges": sum(len(d) for d in graph.depends_on.values()),
        "by_kind": {k: sum(1 for n in graph.nodes.values() if n.kind == k) for k in KINDS},
        "critical_functions": sum(1 for n in graph.nodes.values() if n.kind == "process" and n.critical),
        "cycles": len(analysis.cycles(graph)),
        "top_node": {"id": top.node_id, "name": top.name, "functions": top.functions,
                     "function_share": round(top.function_share, 3), "members": top.members},
        "member": {"sector_type": plan.members[0].sector_type, "may_take_down": len(own | shown)},
        **{k: stats(timed[k]) for k in list(calls)[:4]},
        "hello world (GET /hello)": {**stats(hello_runs), "server_cpu_ms_median": round(median(cpu["hello"]), 3)},
        "server_peak_rss_mib": peak_rss,
        "full_collection_ms": full_collection_ms, "tracked_objects": len(gc.get_objects()),
        "cases": {label: {"what_if (pure, loaded graph)": stats(timed[f"{label}: pure"]),
                          "what_if_view": stats(timed[f"{label}: view"]),
                          "HTTP POST what-if": {**stats(timed[f"{label}: HTTP"]),
                                                "server_cpu_ms_median": round(median(cpu[label]), 2),
                                                "answer_kib_median": round(median(sizes[label]) / 1024, 1)}}
                  for label in cases},
    }
    worst = max(c[k]["max_ms"] for c in out["cases"].values() for k in ("what_if_view", "HTTP POST what-if"))
    out["bar"] = {"limit_ms": 1000, "worst_ms": worst, "met": worst < 1000}
    return out
