"""The end-to-end measurement of bench/sectormap.py: what-if answered from the store built by
bench/_sectormap_build.py, in-process and over HTTP (``nordcert serve`` with a bearer token), next to the
pure analysis, raw-cursor loads and a hello-world endpoint, in shuffled rounds."""

from __future__ import annotations

import gc
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import orjson
from _sectormap_build import Built, Plan, check_graph, raw_graph, raw_rows
from _servers import HOST, Server, free_port, running
from lookup import _HELLO, Client
from sqlalchemy import Connection, Engine

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.sectormap import analysis, views
from nordcert.sectormap.graph import KINDS
from nordcert.sectormap.service import load_graph

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
