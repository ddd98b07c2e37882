"""Sector map benchmark: concentration, HHI, cycles and what-if on a synthetic sector of 5,000 nodes, next to
plain breadth-first searches over the same graph in the same run (the physical-ish limit of a pure-Python
traversal); then the same sector in a real store, what-if answered end to end (store, service, HTTP).

    python bench/sectormap.py [--members 60] [--repeat 5] [--random 100] [--seed 20261124] [--json]
                              [--store sqlite|postgres|none] [--postgres-url URL] [--runs 20]

1. Sector (fixed seed, no database): ``--members`` members, each with 22 business processes (about 40 %
   critical, by business area: payments, cards, online banking, …) and 38 systems; 150 ICT providers whose
   popularity follows a Zipf law (exponent 1.1: the first draws 22 % of all reliances), 900
   provider services in 12 categories (more for the popular providers), and 350 infrastructure nodes
   (carriers, data centres, cloud regions, payment and settlement systems, members' own sites). Processes
   depend on 1-3 of their member's systems (half the payment and card functions also on a payment system; 1 %
   on nothing), systems on 1-2 provider services (provider drawn by popularity), 30 % on one of their
   member's sites and 10 % on another system; services on their provider and 1-2 regions (the 5 largest
   providers) or data centres, some on another provider's service; sites on a carrier. Cycles: three
   3-cycles of services and, in about 15 % of members, two systems that need each other. About 3 % of
   services are flagged unknown. With the defaults: 5,000 nodes, about 9,800 edges, 510 critical functions,
   the largest provider carrying 54 % of them.
2. Analyses, each timed ``--repeat`` times (medians): ``concentration``, ``hhi``, ``single_points_of_failure``,
   ``cycles``, ``unknown_dependencies``.
3. ``what_if`` of one node down, for the 10 nodes with the most critical functions and ``--random`` nodes
   drawn at random, each ``--repeat`` times: median and max ms. References from the same start nodes:
   a plain BFS over a prebuilt reverse adjacency (dict of lists) — the least work an answer needs — and the
   same BFS after building the reverse edges from the :class:`Graph` (what ``what_if`` has to do per call).
4. The reference for the whole-graph analyses is one traversal touching every node and edge once; and, run
   once, the naive way of computing concentration (one reverse BFS per node), which also checks the figures.
5. End to end (``--store``, default sqlite: a fresh, durable SQLite store; postgres: a fresh schema, dropped
   afterwards): the sector as the store's rules shape it (bench/_sectormap_build.py: same node counts by kind)
   built through nordcert's service functions, timed by phase: organisations and users (accounts service),
   shared infrastructure and providers (CERT staff, one transaction each), each member's register of
   information as a CSV import, then the dependencies a register does not hold (``add_dependency``, one
   transaction each). The graph ``load_graph`` reads back must be the plan, node for node and edge for edge.
   Then, ``--runs`` times each (median, mean and max): ``load_graph`` alone, and references for it (its six
   queries' rows on the driver's cursor; the same Graph built from them); ``what_if_view`` as CERT staff and as
   a member (a bank) for the node with the most critical functions and for ``--runs`` random nodes it may take
   down, each call in a read transaction of its own, next to the pure ``what_if`` on the loaded graph for the
   same nodes; and ``POST /api/v1/sectormap/analysis/what-if`` with a bearer token to ``nordcert serve`` in a
   child process (with the server's CPU per request, from /proc schedstat), next to bench/lookup.py's
   hello-world FastAPI endpoint on the same stack (uvicorn, one process, access log), 25 requests a round.
   The series run in rounds, one call of each per round in a shuffled order, so a busy spell or a garbage
   collection hits them alike. Every answer is checked against the pure analysis. The issue's bar: what-if
   answers in under 1 s.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import orjson
from _servers import memory_gib

from nordcert.sectormap.analysis import (
    DEPENDENCY_KINDS,
    concentration,
    cycles,
    hhi,
    single_points_of_failure,
    unknown_dependencies,
    what_if,
)
from nordcert.sectormap.graph import KINDS, Graph, Node

SEED = 20261124
PROCESSES, SYSTEMS, PROVIDERS, SERVICES, INFRASTRUCTURE = 22, 38, 150, 900, 350
AREAS = (("payments", 0.8), ("cards", 0.7), ("online-banking", 0.6), ("cash", 0.5), ("trading", 0.4),
         ("lending", 0.3), ("customer-service", 0.2), ("reporting", 0.2))
CATEGORIES = ("iaas", "paas", "saas", "hosting", "network", "payments-processing", "data-provision",
              "security-management", "software-licensing", "ict-operations", "help-desk", "card-processing")
FMIS = ("Instant payments", "RTGS", "Card switch", "Securities settlement", "ACH", "FX settlement")
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# --- the synthetic sector ---------------------------------------------------------------------


def build_sector(members: int, seed: int = SEED) -> Graph:
    rng = random.Random(seed)
    g = Graph()

    def add(nid: str, kind: str, name: str, **kw: Any) -> str:
        g.add(Node(nid, kind, name, **kw))
        return nid

    # Shared infrastructure: carriers, data centres, cloud regions on data centres, payment systems.
    carriers = [add(f"infra:carrier-{i}", "infrastructure", f"Carrier {i}") for i in range(20)]
    centres = [add(f"infra:dc-{i}", "infrastructure", f"Data centre {i}") for i in range(60)]
    regions = [add(f"infra:region-{i}", "infrastructure", f"Cloud region {i}") for i in range(12)]
    fmis = [add(f"infra:fmi-{i}", "infrastructure", name) for i, name in enumerate(FMIS)]
    shared = 20 + 60 + 12 + 6
    own_per_member = max(1, (INFRASTRUCTURE - shared) // members)
    for dc in centres:
        g.link(dc, rng.choice(carriers))
    for r, dc in zip(regions, centres, strict=False):  # a region's own campus
        g.link(r, dc)
    for f in fmis:
        g.link(f, rng.choice(centres))
        g.link(f, rng.choice(carriers))
    # Providers with Zipf popularity; the popular ones also offer more services.
    weights = [1 / (i + 1) ** 1.1 for i in range(PROVIDERS)]
    providers = [add(f"provider:{i}", "provider", f"Provider {i}") for i in range(PROVIDERS)]
    per_provider = [1] * PROVIDERS
    for i in rng.choices(range(PROVIDERS), weights, k=SERVICES - PROVIDERS):
        per_provider[i] += 1
    services: list[list[str]] = []
    k = 0
    for i, p in enumerate(providers):
        own = []
        for _ in range(per_provider[i]):
            category = rng.choice(CATEGORIES[:4] if i < 5 and rng.random() < 0.7 else CATEGORIES)
            s = add(f"service:{k}", "service", f"Service {k}", category=category, unknown=rng.random() < 0.03)
            g.link(s, p)
            for loc in rng.sample(regions if i < 5 else centres, rng.randint(1, 2)):
                g.link(s, loc)
            own.append(s)
            k += 1
        services.append(own)
    # Some services rely on other providers' services, and a few of those loops close (monitoring runs on
    # hosting, which is monitored by it).
    flat = [s for own in services for s in own]
    for s in rng.sample(flat, 30):
        g.link(s, rng.choice([t for t in flat if t != s]))
    for _ in range(3):
        a, b, c = rng.sample(flat[len(flat) // 2:], 3)
        for x, y in ((a, b), (b, c), (c, a)):
            g.link(x, y)
    # Members: own data centres and networks, systems, processes.
    for m in range(1, members + 1):
        own_infra = [add(f"infra:m{m}-{j}", "infrastructure", f"Member {m} site {j}", organisation_id=m)
                     for j in range(own_per_member)]
        for o in own_infra:
            g.link(o, rng.choice(carriers))
        systems = [add(f"system:m{m}-{j}", "system", f"Member {m} system {j}", organisation_id=m,
                       critical=rng.random() < 0.5) for j in range(SYSTEMS)]
        for j, s in enumerate(systems):
            for pi in rng.choices(range(PROVIDERS), weights, k=rng.randint(1, 2)):
                g.link(s, rng.choice(services[pi]))
            if rng.random() < 0.3:
                g.link(s, rng.choice(own_infra))
            if rng.random() < 0.1:
                g.link(s, systems[(j + rng.randint(1, SYSTEMS - 1)) % SYSTEMS])
        if rng.random() < 0.15:  # two systems that need each other
            a, b = rng.sample(systems, 2)
            g.link(a, b)
            g.link(b, a)
        for j in range(PROCESSES):
            area, critical_odds = AREAS[j % len(AREAS)]
            proc = add(f"process:m{m}-{j}", "process", f"Member {m} {area} {j}", organisation_id=m,
                    critical=rng.random() < critical_odds * 0.8, category=area)
            if rng.random() < 0.01:
                continue  # a process nobody has mapped yet
            for s in rng.sample(systems, rng.randint(1, 3)):
                g.link(proc, s)
            if area in ("payments", "cards") and rng.random() < 0.5:
                g.link(proc, rng.choice(fmis))
    # Top up with member infrastructure to land on exactly the node count the docs state.
    target = members * (PROCESSES + SYSTEMS) + PROVIDERS + SERVICES + INFRASTRUCTURE
    i = 0
    while len(g.nodes) < target:
        add(f"infra:extra-{i}", "infrastructure", f"Shared site {i}")
        g.link(f"infra:extra-{i}", rng.choice(carriers))
        i += 1
    return g


# --- references -------------------------------------------------------------------------------


def reverse_lists(g: Graph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n: [] for n in g.nodes}
    for a, deps in g.depends_on.items():
        for b in deps:
            out[b].append(a)
    return out


def bfs(reverse: dict[str, list[str]], start: str) -> set[str]:
    """Plain BFS over the reverse edges: every node that depends on ``start``, and ``start``."""
    seen = {start}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for u in reverse[v]:
                if u not in seen:
                    seen.add(u)
                    nxt.append(u)
        frontier = nxt
    return seen


def full_traversal(g: Graph) -> int:
    """One traversal touching every node and edge once (BFS from every unvisited node)."""
    seen: set[str] = set()
    for root in g.nodes:
        if root in seen:
            continue
        seen.add(root)
        frontier = [root]
        while frontier:
            nxt = []
            for v in frontier:
                for u in g.depends_on[v]:
                    if u not in seen:
                        seen.add(u)
                        nxt.append(u)
            frontier = nxt
    return len(seen)


def naive_concentration(g: Graph) -> dict[str, tuple[int, int]]:
    """Critical functions and members per dependency node, one reverse BFS per node."""
    reverse = reverse_lists(g)
    out = {}
    for n, node in g.nodes.items():
        if node.kind in DEPENDENCY_KINDS:
            functions = [v for v in bfs(reverse, n) if g.nodes[v].kind == "process" and g.nodes[v].critical]
            out[n] = (len(functions), len({g.nodes[v].organisation_id for v in functions} - {None}))
    return out


# --- measuring --------------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each of ``repeat`` calls (garbage collected before each)."""
    out = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def per_node(fn: Callable[[str], object], nodes: list[str], repeat: int) -> dict[str, float]:
    runs = []
    for n in nodes:
        for _ in range(repeat):
            started = time.perf_counter()
            fn(n)
            runs.append((time.perf_counter() - started) * 1000)
    return {"median_ms": median(runs), "max_ms": max(runs), "calls": len(runs)}


def run(members: int, repeat: int, n_random: int, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    g = build_sector(members, seed)
    build_s = time.perf_counter() - started
    edges = sum(len(d) for d in g.depends_on.values())
    critical = sum(1 for n in g.nodes.values() if n.kind == "process" and n.critical)

    analyses: dict[str, dict[str, float]] = {}
    for name, call in (("concentration", lambda: concentration(g)), ("hhi", lambda: hhi(g)),
                       ("single_points_of_failure", lambda: single_points_of_failure(g)),
                       ("cycles", lambda: cycles(g)), ("unknown_dependencies", lambda: unknown_dependencies(g)),
                       ("full traversal (reference)", lambda: full_traversal(g))):
        runs = timed(call, repeat)
        analyses[name] = {"median_ms": round(median(runs), 2), "max_ms": round(max(runs), 2)}
    reference = analyses["full traversal (reference)"]["median_ms"]
    for name, row in analyses.items():
        row["x_reference"] = round(row["median_ms"] / reference, 1)

    rows = concentration(g)
    started = time.perf_counter()
    naive = naive_concentration(g)
    naive_ms = (time.perf_counter() - started) * 1000
    if any(naive[r.node_id] != (r.functions, r.members) for r in rows):
        raise SystemExit("concentration and the per-node BFS disagree")

    top = [r.node_id for r in rows[:10]]
    rng = random.Random(seed + 1)
    sample = rng.sample(sorted(g.nodes), n_random)
    reverse = reverse_lists(g)
    for n in top:
        if what_if(g, {n}).functions != next(r.functions for r in rows if r.node_id == n):
            raise SystemExit(f"what_if({n}) and concentration disagree")
    groups = {}
    for label, nodes in (("top-10 concentration nodes", top), (f"{n_random} random nodes", sample)):
        w = per_node(lambda n: what_if(g, {n}), nodes, repeat)
        b = per_node(lambda n: bfs(reverse, n), nodes, repeat)
        rb = per_node(lambda n: bfs(reverse_lists(g), n), nodes, repeat)
        groups[label] = {"x_bfs": round(w["median_ms"] / b["median_ms"], 1),
                         "x_reverse_and_bfs": round(w["median_ms"] / rb["median_ms"], 2),
                         "lost_nodes_median": median(len(bfs(reverse, n)) for n in nodes),
                         **{name: {k: round(v, 4) for k, v in t.items()}
                            for name, t in (("what_if", w), ("bfs", b), ("reverse_and_bfs", rb))}}

    head = rows[0]
    categories = hhi(g)
    return {
        "sector": {"members": members, "nodes": len(g.nodes), "edges": edges, "critical_functions": critical,
                   "by_kind": {k: sum(1 for n in g.nodes.values() if n.kind == k) for k in KINDS},
                   "cycles": len(cycles(g)), "largest_cycle": max((len(c) for c in cycles(g)), default=0),
                   "unknown_or_unmapped": len(unknown_dependencies(g)), "build_s": round(build_s, 2),
                   "top_node": {"id": head.node_id, "kind": head.kind, "functions": head.functions,
                                "function_share": round(head.function_share, 3), "members": head.members},
                   "hhi": {c.category: round(c.hhi) for c in categories}},
        "analyses": analyses,
        "naive_concentration_ms": round(naive_ms, 1),
        "what_if": groups,
        "repeat": repeat,
        "seed": seed,
    }


# --- end to end -------------------------------------------------------------------------------


def run_store(args: argparse.Namespace) -> dict[str, Any]:
    """Build the sector in a fresh store, measure what-if from it (bench/_sectormap_build.py, bench/_sectormap_measure.py), drop the store.

    Imported here, not above: the store's, the web stack's and nordcert's modules would make every garbage
    collection of the pure measurements slower (their maxima are collection pauses)."""
    from _sectormap_build import build_store, plan_sector
    from _sectormap_measure import measure_store
    from _stores import Stores

    with tempfile.TemporaryDirectory(prefix="nordcert-bench-sectormap-") as tmp_name:
        tmp, stores = Path(tmp_name), Stores(Path(tmp_name), args.postgres_url)
        version = stores.postgres_version() if args.store == "postgres" else sqlite3.sqlite_version
        try:
            store = stores.fresh(args.store)
            plan = plan_sector(sys.modules[__name__], args.members, args.seed)
            print(f"building the sector in a fresh {args.store} store …", file=sys.stderr)
            started = time.perf_counter()
            built = build_store(store.engine, plan)
            build_s = time.perf_counter() - started
            print("measuring …", file=sys.stderr)
            out = measure_store(store.engine, plan, built, runs=args.runs, seed=args.seed, home=store.settings.home,
                                database_url=store.settings.database_url, tmp=tmp)
        finally:
            stores.close()
    return {"store": args.store, "version": version, "build_s": round(build_s, 1), "build": built.phases,
            "runs": args.runs, **out}


def print_store_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))
    e = report["end_to_end"]
    console.print(f"\nEnd to end on {e['store']} {e['version']}: {e['nodes']:,} nodes "
                  f"({', '.join(f'{v:,} {k}' for k, v in e['by_kind'].items())}), {e['edges']:,} edges, "
                  f"{e['critical_functions']:,} critical functions, {e['cycles']} cycles; built through nordcert in "
                  f"{e['build_s']} s: " + "; ".join(f"{k} {v['seconds']} s ({v['calls']:,} calls)"
                                                    for k, v in e["build"].items()))
    t = e["top_node"]
    console.print(f"Top node {t['id']} ({t['name']}): {t['functions']:,} critical functions ({t['function_share']:.0%}) "
                  f"of {t['members']} members; the member (a {e['member']['sector_type']}) may take down "
                  f"{e['member']['may_take_down']:,} nodes")
    lg, conc, hello = e["load_graph"], e["concentration (member view's visibility)"], e["hello world (GET /hello)"]
    table = Table(title=f"what-if of one node down, end to end (ms; {e['runs']} calls each)")
    for col in ("reader, nodes", "pure what_if median / max", "what_if_view median / max",
                "HTTP median / mean / max", "server CPU (median)", "answer KiB", "view / pure", "view / load_graph",
                "HTTP / view (means)", "HTTP / hello"):
        table.add_column(col, justify="left" if col == "reader, nodes" else "right")
    for label, c in e["cases"].items():
        p, v, h = c["what_if (pure, loaded graph)"], c["what_if_view"], c["HTTP POST what-if"]
        table.add_row(label, f"{p['median_ms']:.2f} / {p['max_ms']:.2f}", f"{v['median_ms']:.1f} / {v['max_ms']:.1f}",
                      f"{h['median_ms']:.1f} / {h['mean_ms']:.1f} / {h['max_ms']:.1f}", f"{h['server_cpu_ms_median']:.1f}",
                      f"{h['answer_kib_median']:,.1f}",
                      f"{v['median_ms'] / p['median_ms']:.0f}×", f"{v['median_ms'] / lg['median_ms']:.2f}×",
                      f"{h['mean_ms'] / v['mean_ms']:.2f}×", f"{h['median_ms'] / hello['median_ms']:.0f}×")
    console.print(table)
    rows, raw = e["raw rows (driver cursor)"], e["raw rows + Graph"]
    console.print(f"load_graph alone: {lg['median_ms']:.1f} / {lg['max_ms']:.1f} ms (median / max); its six queries' "
                  f"rows on the driver's cursor {rows['median_ms']:.1f} / {rows['max_ms']:.1f} ms, and with the same "
                  f"Graph built {raw['median_ms']:.1f} / {raw['max_ms']:.1f} ms (load_graph "
                  f"{lg['median_ms'] / raw['median_ms']:.2f}× that); concentration (the member view's visibility "
                  f"check, pure): {conc['median_ms']:.1f} / {conc['max_ms']:.1f} ms; hello world over HTTP: "
                  f"{hello['median_ms']:.3f} / {hello['max_ms']:.2f} ms ({hello['calls']} requests, server CPU "
                  f"{hello['server_cpu_ms_median']:.3f} ms each); nordcert's peak RSS "
                  f"{e['server_peak_rss_mib']} MiB; a full garbage collection in this process "
                  f"({e['tracked_objects']:,} objects tracked) took {e['full_collection_ms']} ms")
    bar = e["bar"]
    verdict = (f"MET — {bar['limit_ms'] / bar['worst_ms']:.0f}× under the limit" if bar["met"] else
               f"MISSED — {bar['worst_ms'] / bar['limit_ms']:.1f}× the limit")
    console.print(f"Bar (issue): what-if on a {e['nodes']:,}-node graph answers in under 1 s: {verdict}; the slowest "
                  f"answer, in-process or over HTTP, took {bar['worst_ms']:.1f} ms")


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))
    s = report["sector"]
    console.print(f"Sector: {s['members']} members, {s['nodes']:,} nodes ({', '.join(f'{v:,} {k}' for k, v in s['by_kind'].items())}), "
                  f"{s['edges']:,} edges, {s['critical_functions']:,} critical functions; {s['cycles']} cycles "
                  f"(largest {s['largest_cycle']} nodes), {s['unknown_or_unmapped']} unknown or unmapped; "
                  f"built in {s['build_s']} s")
    t = s["top_node"]
    console.print(f"Most relied on: {t['id']} ({t['kind']}), {t['functions']:,} critical functions "
                  f"({t['function_share']:.0%}) of {t['members']} members; HHI "
                  + ", ".join(f"{k} {v:,}" for k, v in sorted(s["hhi"].items(), key=lambda kv: -kv[1])))
    table = Table(title=f"Whole-graph analyses (medians of {report['repeat']} runs)")
    for col in ("analysis", "median ms", "max ms", "× full traversal"):
        table.add_column(col, justify="left" if col == "analysis" else "right")
    for name, row in report["analyses"].items():
        table.add_row(name, f"{row['median_ms']:.2f}", f"{row['max_ms']:.2f}", f"{row['x_reference']:.1f}")
    console.print(table)
    console.print(f"naive concentration (one reverse BFS per node, run once): {report['naive_concentration_ms']:,.0f} ms "
                  f"({report['naive_concentration_ms'] / report['analyses']['concentration']['median_ms']:.1f}× "
                  "concentration); the figures agree")
    table = Table(title="what_if of one node down (ms per call)")
    for col in ("nodes", "lost (median)", "what_if median / max", "BFS median / max", "reverse + BFS median / max",
                "what_if / BFS", "what_if / reverse + BFS"):
        table.add_column(col, justify="left" if col == "nodes" else "right")
    for label, g in report["what_if"].items():
        table.add_row(label, f"{g['lost_nodes_median']:,.0f}",
                      f"{g['what_if']['median_ms']:.2f} / {g['what_if']['max_ms']:.2f}",
                      f"{g['bfs']['median_ms']:.2f} / {g['bfs']['max_ms']:.2f}",
                      f"{g['reverse_and_bfs']['median_ms']:.2f} / {g['reverse_and_bfs']['max_ms']:.2f}",
                      f"{g['x_bfs']:.1f}×", f"{g['x_reverse_and_bfs']:.2f}×")
    console.print(table)
    m = report["machine"]
    console.print(f"Python {report['python']}; machine: {m['cpus']} CPUs, {m['memory_gib']} GiB, load average (1 min) "
                  f"{m['load_average_1min']['start']} at start, {m['load_average_1min']['end']} at end")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=60, help="members in the sector (default 60: 5,000 nodes)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement (default 5)")
    parser.add_argument("--random", type=int, default=100, help="random nodes for what_if (default 100)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"default {SEED}")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--store", choices=("sqlite", "postgres", "none"), default="sqlite",
                        help="store for the end-to-end part (default sqlite; none skips it)")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    parser.add_argument("--runs", type=int, default=20,
                        help="end to end: calls per measurement, and random nodes per reader (default 20)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    report = run(args.members, args.repeat, args.random, args.seed)
    if args.store != "none":
        report["end_to_end"] = run_store(args)
    report["python"] = platform.python_version()
    report["machine"] = {"cpus": os.cpu_count(), "memory_gib": memory_gib(),
                         "load_average_1min": {"start": round(load_before[0], 2), "end": round(os.getloadavg()[0], 2)}}
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_report(report)
        if "end_to_end" in report:
            print_store_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
