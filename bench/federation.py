"""Federation benchmark: objects/s replicated between two nordcert instances over HTTP, against the
write limit, the read limit and nordcert's own ingest, all measured in the same run.

    python bench/federation.py [--count 50000] [--amber 0.2] [--store sqlite|postgres]
                               [--postgres-url URL] [--repeat 1] [--json] [--profile]

Instance A (a fresh store) gets ``--count`` indicators from bench/_data.py: TLP:GREEN, a share
``--amber`` TLP:AMBER in the group "Nordic fraud" that A and B share; created with nordcert's ingest in
transactions of one federation page (1,000), the ``ingest`` reference (in-process, no HTTP). A runs
``nordcert serve`` in a child process. Then, each on a fresh B (its own store and child server):
push, A's ``sync_peer`` in this process POSTs batches of 1,000 to B's federation collection; pull,
B's ``sync_peer`` in this process pages through A's. After each, B must hold exactly ``--count`` rows
in stix_objects (the AMBER ones in its group) and a second sync must move nothing. Other references:
``raw``, SQLAlchemy Core executemany of the rows a receiver writes (stix_objects, object_labels,
observables, object_provenance) into a fresh store in one transaction (the write limit); ``orjson``,
the objects serialised as envelopes of 1,000 in memory, best of 3 (the read limit). SQLite stores are
durable (WAL, synchronous=FULL); PostgreSQL stores are fresh schemas, dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import resource
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

import orjson
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import ORG_NAME, SEED, indicator
from _servers import HOST, Server, free_port, memory_gib
from _stores import Store, Stores, raw_rows

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.federation import peers
from nordcert.federation.sync import sync_peer
from nordcert.federation.tables import object_provenance
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import Submission
from nordcert.intel.tables import object_labels, stix_objects
from nordcert.observables.tables import observables
from nordcert.sharing.tlp import Tlp

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GROUP = "Nordic fraud"


def instance(stores: Stores, kind: str, name: str) -> tuple[Store, int]:
    """A fresh store named ``name`` whose organisation is in GROUP; (store, group id)."""
    store = stores.fresh(kind)
    store.settings = store.settings.model_copy(update={"instance_name": name})
    with transaction(store.engine) as conn:
        group = accounts.create_group(conn, name=GROUP, members=[store.org_id])
    return store, int(group["id"])


def serve(store: Store, tmp: Path) -> Server:
    """``nordcert serve`` of ``store`` in a child process (its settings passed through ``env``)."""
    env = [f"NORDCERT_INSTANCE_NAME={store.settings.instance_name}"]
    if store.settings.database_url:
        env.append(f"NORDCERT_DATABASE_URL={store.settings.database_url}")
    port, name = free_port(), store.settings.instance_name
    server = Server(name, ["env", *env, sys.executable, "-m", "nordcert", "--instance", str(store.settings.home),
                           "serve", "--host", HOST, "--port", str(port)], tmp / f"{name}.log", port)
    server.start("/taxii2/")
    return server


def link(a: Store, a_url: str, b: Store, b_url: str, b_peer: str, direction: str) -> None:
    """A and B configure each other as peers sharing GROUP, exchanging their inbound tokens."""
    with transaction(a.engine) as conn:
        on_a = peers.add_peer(conn, a.settings, name=b_peer, url=f"{b_url}/taxii2/", country="SE", groups=[GROUP],
                              instance_name=b.settings.instance_name, direction=direction)
    with transaction(b.engine) as conn:
        on_b = peers.add_peer(conn, b.settings, name="a", url=f"{a_url}/taxii2/", country="NO", groups=[GROUP],
                              instance_name=a.settings.instance_name, direction=direction,
                              token=on_a["inbound_token"])
    with transaction(a.engine) as conn:
        peers.update_peer(conn, b_peer, token=on_b["inbound_token"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_ingest(store: Store, group_id: int, objects: list[dict[str, Any]], amber: set[str]) -> float:
    """nordcert's ingest in-process, one transaction per page of 1,000 (GREEN and AMBER submissions)."""
    green = Submission(store.org_id, store.user_id, Tlp.GREEN)
    ambr = Submission(store.org_id, store.user_id, Tlp.AMBER, group_id=group_id)
    n = store.settings.federation_page_size
    copies = orjson.loads(orjson.dumps(objects))  # ingest may touch its objects: never the shared ones
    pages = [([o for o in copies[i:i + n] if o["id"] not in amber], [o for o in copies[i:i + n] if o["id"] in amber])
             for i in range(0, len(copies), n)]
    gc.collect()
    started = time.perf_counter()
    for green_part, amber_part in pages:
        with transaction(store.engine) as conn:
            ingest(conn, green_part, green, store.settings)
            ingest(conn, amber_part, ambr, store.settings)
    return time.perf_counter() - started


def run_raw(store: Store, group_id: int, objects: list[dict[str, Any]], amber: set[str], origin: str) -> float:
    """The write limit: SQLAlchemy Core executemany of the receiver's rows, one transaction, commit included."""
    rows, extra = raw_rows(objects, store)
    for r in rows:
        if r["stix_id"] in amber:
            r["tlp"], r["group_id"] = int(Tlp.AMBER), group_id
    path, now = orjson.dumps([origin]).decode(), time.time_ns() // 1000
    tables = [(stix_objects, rows), (object_labels, [r for r in extra if "_obs" not in r]),
              (observables, [{k: v for k, v in r.items() if k != "_obs"} for r in extra if "_obs" in r]),
              (object_provenance, [{"date_added": r["date_added"], "origin_instance": origin,
                                    "origin_instance_name": "nordcert-a", "origin_org_name": ORG_NAME,
                                    "received_from": None, "path": path, "received_at": now} for r in rows])]
    gc.collect()
    started = time.perf_counter()
    with transaction(store.engine) as conn:
        for table, data in tables:
            conn.execute(insert(table), data)
    return time.perf_counter() - started


def run_orjson(objects: list[dict[str, Any]], page: int) -> float:
    """The read limit: the objects serialised as envelopes of ``page`` in memory, best of 3."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for i in range(0, len(objects), page):
            orjson.dumps({"objects": objects[i:i + page]})
        best = min(best, time.perf_counter() - started)
    return best


def replicate(syncer: Store, peer: str, receiver: Store, child: Server, count: int, n_amber: int,
              profiler: cProfile.Profile | None = None) -> dict[str, float]:
    """One sync from scratch, timed; then the checks: every version arrived, a second sync moves nothing."""
    moved: list[int] = []
    sync = partial(sync_peer, syncer.engine, syncer.settings, peer, on_progress=lambda _d, n: moved.append(n))
    gc.collect()
    child_cpu, cpu, started = cpu_seconds(child.pid), time.process_time(), time.perf_counter()
    result = profiler.runcall(sync) if profiler else sync()
    wall, cpu, child_cpu = time.perf_counter() - started, time.process_time() - cpu, cpu_seconds(child.pid) - child_cpu
    if not result.ok:
        raise SystemExit(f"sync with {peer} failed: {result.error}\n{child.log_tail()}")
    t = stix_objects.c
    with transaction(receiver.engine, write=False) as conn:
        stored = conn.execute(select(func.count()).select_from(stix_objects)).scalar_one()
        stored_amber = conn.execute(select(func.count()).where(t.tlp == int(Tlp.AMBER), t.group_id.is_not(None))
                                    ).scalar_one()
    if (sum(moved), stored, stored_amber) != (count, count, n_amber):
        raise SystemExit(f"{peer}: moved {sum(moved)}, B holds {stored} versions ({stored_amber} AMBER in the group); "
                         f"expected {count} ({n_amber})")
    moved.clear()
    again = sync()
    if not again.ok or sum(moved) + again.sent + sum(again.received.values()):
        raise SystemExit(f"{peer}: the second sync was not empty: {again.as_dict()}, moved {sum(moved)}")
    return {"seconds": round(wall, 3), "objects_per_s": round(count / wall), "cpu_s": round(cpu, 2),
            "child_cpu_s": round(child_cpu, 2), "child_peak_rss_mib": child.peak_rss_mib()}


def sync_fresh_b(stores: Stores, args: argparse.Namespace, tmp: Path, a: Store, a_server: Server, direction: str,
                 n: int, n_amber: int, profiler: cProfile.Profile | None = None) -> dict[str, float]:
    """A fresh instance B with its own server, linked with A; one ``replicate`` in ``direction``."""
    b, _ = instance(stores, args.store, f"nordcert-b{n}")
    b_server = serve(b, tmp)
    try:
        link(a, a_server.base, b, b_server.base, f"b{n}", direction)
        if direction == "push":
            return replicate(a, f"b{n}", b, b_server, args.count, n_amber, profiler)
        return replicate(b, "a", b, a_server, args.count, n_amber, profiler)
    finally:
        b_server.stop()
        stores.drop(b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=50_000, help="indicators on instance A (default 50000)")
    parser.add_argument("--amber", type=float, default=0.2, help="share of them TLP:AMBER in the shared group (0.2)")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every measurement; medians (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--profile", action="store_true",
                        help="then one more push and pull under cProfile (this process's side; to stderr)")
    args = parser.parse_args(argv)
    load = [round(os.getloadavg()[0], 2)]
    rng = random.Random(SEED)
    objects = [indicator(rng, i) for i in range(args.count)]
    amber = {o["id"] for i, o in enumerate(objects) if int((i + 1) * args.amber) > int(i * args.amber)}
    for o in objects:
        if o["id"] in amber:
            o["object_marking_refs"] = [Tlp.AMBER.marking_id]
    runs: dict[str, list[Any]] = {}
    profiles = io.StringIO()

    with tempfile.TemporaryDirectory(prefix="nordcert-bench-") as tmp_name:
        tmp, stores = Path(tmp_name), Stores(Path(tmp_name), args.postgres_url)
        if args.store == "postgres":
            stores.postgres_version()
        a_server = None
        try:
            a, a_group = instance(stores, args.store, "nordcert-a")
            for r in range(args.repeat):  # every reference on a fresh store; the first ingest run builds A
                store, group = (a, a_group) if r == 0 else instance(stores, args.store, f"nordcert-i{r}")
                runs.setdefault("ingest", []).append(run_ingest(store, group, objects, amber))
                if r:
                    stores.drop(store)
                store, group = instance(stores, args.store, "nordcert-raw")
                runs.setdefault("raw", []).append(run_raw(store, group, objects, amber, a.settings.instance_identity_id))
                stores.drop(store)
                runs.setdefault("orjson", []).append(run_orjson(objects, a.settings.federation_page_size))
                a_server = a_server or serve(a, tmp)
                for i, direction in enumerate(("push", "pull")):
                    runs.setdefault(direction, []).append(
                        sync_fresh_b(stores, args, tmp, a, a_server, direction, 2 * r + i + 1, len(amber)))
            for i, direction in enumerate(("push", "pull") if args.profile else ()):
                assert a_server is not None
                profiler = cProfile.Profile()
                got = sync_fresh_b(stores, args, tmp, a, a_server, direction, 1000 + i, len(amber), profiler)
                profiles.write(f"\n=== cProfile of {direction}, this process's side ({got['seconds']} s profiled) ===\n")
                stats = pstats.Stats(profiler, stream=profiles)
                stats.sort_stats("tottime").print_stats(25)
                stats.sort_stats("cumulative").print_stats(25)
        finally:
            if a_server:
                a_server.stop()
            stores.close()

    load.append(round(os.getloadavg()[0], 2))
    rate = {k: round(args.count / median(runs[k])) for k in ("raw", "orjson", "ingest")}
    for d in ("push", "pull"):
        rate[d] = round(args.count / median(r["seconds"] for r in runs[d]))
    report = {
        "store": args.store, "count": args.count, "amber": len(amber), "repeat": args.repeat,
        "objects_per_s": rate,
        "ratios": {f"{d}/{ref}": round(rate[d] / rate[ref], 3) for d in ("push", "pull") for ref in ("raw", "ingest")},
        "runs": runs,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {"cpus": os.cpu_count(), "memory_gib": memory_gib(), "load_average_1min": load},
    }
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_report(report)
    sys.stderr.write(profiles.getvalue())
    return 0


def print_report(r: dict[str, Any]) -> None:
    rate = r["objects_per_s"]
    print(f"Federation of {r['count']:,} indicators ({r['amber']:,} TLP:AMBER in a shared group) on {r['store']}, "
          f"medians of {r['repeat']} round(s); server = the child process (B on push, A on pull)")
    labels = {"push": "push A -> B over HTTP", "pull": "pull B <- A over HTTP", "raw": "raw executemany (write limit)",
              "orjson": "orjson in memory (read limit)", "ingest": "nordcert ingest in-process"}
    print(f"{'':34}{'objects/s':>12}{'seconds':>10}{'sync CPU s':>12}{'server CPU s':>14}{'server RSS MiB':>16}")
    for key, label in labels.items():
        runs = r["runs"][key]
        if key in ("push", "pull"):
            print(f"{label:34}{rate[key]:>12,}{median(x['seconds'] for x in runs):>10.2f}"
                  f"{median(x['cpu_s'] for x in runs):>12.2f}{median(x['child_cpu_s'] for x in runs):>14.2f}"
                  f"{max(x['child_peak_rss_mib'] for x in runs):>16.1f}")
        else:
            print(f"{label:34}{rate[key]:>12,}{median(runs):>10.2f}")
    print("ratios: " + ", ".join(f"{k} {v:.0%}" for k, v in r["ratios"].items()))
    m = r["machine"]
    print(f"peak RSS of this process {r['peak_rss_mib']} MiB; {m['cpus']} CPUs, {m['memory_gib']} GiB, "
          f"load average (1 min) {m['load_average_1min'][0]} at start, {m['load_average_1min'][1]} at end")


if __name__ == "__main__":
    sys.exit(main())
