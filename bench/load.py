"""Load benchmark: a mixed workload (ingest, TAXII add and read, lookup, search) against 2 API
processes and 1 worker on PostgreSQL, next to a bare hello-world app on the same stack, same run.

    python bench/load.py [--duration 60] [--concurrency 8] [--rate 0] [--mix lookup=50,...]
                         [--store postgres|sqlite] [--postgres-url URL] [--keep] [--json]

1. Store: a fresh PostgreSQL schema (``bench_<random>``; dropped at the end unless ``--keep``), or with
   ``--store sqlite`` a SQLite file, seeded through nordcert's own services (bench/_load_world.py):
   six organisations, a sharing group, analysts with API tokens in four of them, a TAXII collection
   every member reads and writes, and ``--indicators`` indicators with their observables (network
   and fraud values) under a TLP mix.
2. Servers on 127.0.0.1: ``nordcert serve --workers N`` (uvicorn's own worker processes on one
   socket; each builds its app and freezes its heap as ``nordcert serve`` does) and one ``nordcert
   worker``. The screening lookup's rate limits (per token, per address, counted per process) are
   raised for the run with NORDCERT_LOOKUP_RATE_PER_TOKEN and NORDCERT_LOOKUP_RATE_PER_ADDRESS: they
   stay in the path, above anything this machine reaches.
3. Load (bench/_load_client.py): ``--concurrency`` clients on one asyncio loop in this process, each on
   its own keep-alive connection, as the analysts of the four members in turn, each picking its next
   operation from ``--mix`` (weights): ``ingest`` (POST /api/v1/objects, a bundle of ``--ingest-batch``
   new indicators), ``taxii_add`` (an envelope of as many), ``taxii_read`` (pages of ``--page`` of the
   collection, following ``next``), ``lookup`` (one value), ``lookup_batch`` (``--lookup-batch``
   values), ``search`` (GET /api/v1/objects with filters or a common word), ``search_text`` (a
   fragment of one stored value: the whole store is read). A closed loop by default; with
   ``--rate R`` the clients start R requests a second on a schedule (latency counted from the
   scheduled start). ``--warmup`` seconds first, not counted. Every answer is checked (status, and
   the lookups' found/not found); anything else is an error.
4. Reference: a FastAPI app answering ``GET /hello`` under uvicorn with the same number of processes,
   driven by the same client loop at the same concurrency for ``--hello-duration`` seconds.
5. Prints per operation and overall: requests, requests/s, objects/s, p50/p95/p99/max, errors by
   status with a sample; the ratio to hello world; CPU seconds of the API processes, the worker, the
   PostgreSQL backends serving them, the client and the whole machine; the load average at start and
   end; PASS/FAIL against the target (no error; p99 < 100 ms for every operation).

Every process this script starts is stopped when it ends, also on an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load_client import OpStats, RunResult, run
from _load_ops import Hello, Ingest, Lookup, LookupBatch, Search, SearchText, TaxiiAdd, TaxiiRead
from _load_world import ORGANISATIONS, World, seed
from _servers import HOST, BenchError, Server, _die_with_parent, clean_env, free_port, memory_gib
from _stores import Stores
from sqlalchemy import text
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MIX = "lookup=45,lookup_batch=10,search=12,search_text=3,taxii_read=15,ingest=7,taxii_add=8"
APP_NAME = "nordcert-bench-load"
TARGET_P99_MS = 100.0
RATE_LIMITS = {"NORDCERT_LOOKUP_RATE_PER_TOKEN": "1000000", "NORDCERT_LOOKUP_RATE_PER_ADDRESS": "1000000"}

#: The reference app, served as ``nordcert serve`` serves: one process with uvicorn.run, or uvicorn's
#: worker processes on nordcert's listening socket.
_HELLO = """
import sys
import uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/hello")
async def hello() -> dict:
    return {"hello": "world"}
if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    if workers == 1:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="info", proxy_headers=False)
    else:
        from uvicorn.supervisors import Multiprocess
        from nordcert.cli.server import listening_socket
        config = uvicorn.Config("hello_app:app", host="127.0.0.1", port=port, workers=workers, log_level="info",
                                proxy_headers=False)
        Multiprocess(config, sockets=[listening_socket(config)]).run()
"""


# --- processes and their CPU ----------------------------------------------------------------------


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def _machine_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(f) - f[3] - f[4]) / hz, sum(f) / hz


class Sampler:
    """CPU seconds of the processes that matter, between ``start()`` and ``stop()``."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.before: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self.before = {k: sum(_cpu_s(p) for p in pids) for k, pids in self.groups.items()}
        self.machine0, self.wall0 = _machine_cpu_s(), time.perf_counter()

    def stop(self) -> None:
        self.used = {k: round(sum(_cpu_s(p) for p in pids) - self.before[k], 1) for k, pids in self.groups.items()}
        busy, total = _machine_cpu_s()
        self.used["machine busy"] = round(busy - self.machine0[0], 1)
        self.used["machine total"] = round(total - self.machine0[1], 1)
        self.wall = time.perf_counter() - self.wall0


def _ready(server: Server, processes: int, timeout: float = 120) -> None:
    """Wait until every uvicorn worker process has started its application."""
    deadline = time.monotonic() + timeout
    while server.log.read_text(errors="replace").count("Application startup complete") < processes:
        if server.proc is None or server.proc.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"{server.name}: {processes} processes did not start:\n{server.log_tail()}")
        time.sleep(0.2)


def _pg_backends(url: str) -> list[int]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :a "
                                                    "AND pid <> pg_backend_pid()"), {"a": APP_NAME})]
    finally:
        engine.dispose()


def _log_errors(*logs: Path) -> list[str]:
    out = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if re.search(r"\bERROR\b|Traceback", line):
                out.append(f"{log.name}: {line[:300]}")
    return out


# --- the run ---------------------------------------------------------------------------------------


def _mix(spec: str) -> dict[str, float]:
    mix = {}
    for part in spec.split(","):
        name, _, weight = part.partition("=")
        mix[name.strip()] = float(weight)
    return {k: v for k, v in mix.items() if v > 0}


def _operations(world: World, args: argparse.Namespace) -> dict[str, Any]:
    in_group = frozenset(i for i, org in enumerate(o for o in ORGANISATIONS if o[4]) if org[5])
    ops = {"ingest": Ingest(world, args.ingest_batch, in_group), "taxii_add": TaxiiAdd(world, args.ingest_batch),
           "taxii_read": TaxiiRead(world, args.page), "lookup": Lookup(world),
           "lookup_batch": LookupBatch(world, args.lookup_batch), "search": Search(world),
           "search_text": SearchText(world)}
    unknown = set(_mix(args.mix)) - set(ops)
    if unknown:
        raise SystemExit(f"--mix: unknown operations {sorted(unknown)}; known: {', '.join(ops)}")
    return ops


def _summary(result: RunResult) -> dict[str, Any]:
    ops = {name: st.summary(result.seconds) for name, st in result.stats.items()}
    overall = OpStats(latencies_ms=result.all_ms)
    for st in result.stats.values():
        overall.errors.update(st.errors)
        for k, v in st.samples.items():
            overall.samples.setdefault(k, v)
    total = overall.summary(result.seconds)
    total.pop("objects"), total.pop("objects_per_s")
    return {"operations": ops, "overall": total, "late_starts": result.late_starts,
            "client_cpu_s": round(result.client_cpu_s, 1)}


def measure_nordcert(args: argparse.Namespace, tmp: Path, stores: Stores, report: dict[str, Any]) -> None:
    pg_url = make_url(args.postgres_url).update_query_dict({"application_name": APP_NAME}).render_as_string(
        hide_password=False)
    stores.pg_url = pg_url
    store = stores.fresh(args.store)
    report["store"] = {"kind": args.store, "schema": store.schema}
    print(f"seeding {args.indicators:,} indicators ({args.store}) …", file=sys.stderr)
    world = seed(store, args.indicators)
    report["seed"] = world.seed_info
    store.engine.dispose()
    if args.keep:
        stores.live.remove(store)  # kept: not dropped by stores.close()
        report["store"]["kept"] = store.schema or str(store.settings.home)
    env = [f"{k}={v}" for k, v in RATE_LIMITS.items()] + [f"NORDCERT_HOME={store.settings.home}"]
    if store.settings.database_url:
        env.append(f"NORDCERT_DATABASE_URL={store.settings.database_url}")
    port = free_port()
    api = Server("nordcert", ["env", *env, sys.executable, "-m", "nordcert", "serve", "--host", HOST, "--port",
                              str(port), "--workers", str(args.processes)], tmp / "nordcert-serve.log", port)
    worker_log = tmp / "nordcert-worker.log"
    worker = None
    try:
        with worker_log.open("ab") as fh:  # first: its start-up is over before the load starts
            worker = subprocess.Popen(["env", *env, sys.executable, "-m", "nordcert", "worker"], stdin=subprocess.DEVNULL,
                                      stdout=fh, stderr=subprocess.STDOUT, env=clean_env(), start_new_session=True,
                                      preexec_fn=_die_with_parent)  # noqa: PLW1509 - no threads yet
        api.start("/healthz")
        _ready(api, args.processes)
        api_pids = [p for p in _tree(api.pid) if p != api.pid]
        groups = {"api processes": api_pids, "api supervisor": [api.pid], "worker": [worker.pid]}
        if args.store == "postgres":
            groups["postgres backends"] = []
        sampler = Sampler(groups)

        def started() -> None:  # after the warm-up: the pools hold their connections by now
            if args.store == "postgres":
                sampler.groups["postgres backends"] = _pg_backends(pg_url)
            sampler.start()

        mix = _mix(args.mix)
        ops = _operations(world, args)
        print(f"mixed load: {args.concurrency} clients, {args.warmup:g} s warm-up + {args.duration:g} s …", file=sys.stderr)
        result = run([ops[k] for k in mix], list(mix.values()), HOST, port, concurrency=args.concurrency,
                     duration=args.duration, warmup=args.warmup, rate=args.rate, seed=args.seed,
                     on_measure_start=started)
        sampler.stop()
        if worker.poll() is not None:
            raise BenchError(f"the worker exited with {worker.returncode}")
        report["nordcert"] = _summary(result)
        report["nordcert"]["cpu_s"] = sampler.used
        report["nordcert"]["cpu_wall_s"] = round(sampler.wall, 1)
        report["nordcert"]["api_peak_rss_mib"] = [_peak_rss(p) for p in api_pids]
        report["nordcert"]["postgres_backends"] = len(sampler.groups.get("postgres backends", ()))
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
        api.stop()
    report["nordcert"]["server_log_errors"] = _log_errors(api.log, worker_log)[:10]


def _peak_rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure_hello(args: argparse.Namespace, tmp: Path, report: dict[str, Any]) -> None:
    (tmp / "hello_app.py").write_text(_HELLO)
    port = free_port()
    hello = Server("hello", [sys.executable, "hello_app.py", str(port), str(args.processes)], tmp / "hello.log", port,
                   cwd=tmp)
    try:
        hello.start("/hello")
        _ready(hello, args.processes)
        sampler = Sampler({"api processes": [p for p in _tree(hello.pid) if p != hello.pid]})
        print(f"hello world: {args.concurrency} clients, {args.hello_duration:g} s …", file=sys.stderr)
        result = run([Hello()], [1.0], HOST, port, concurrency=args.concurrency, duration=args.hello_duration,
                     warmup=min(args.warmup, 2.0), seed=args.seed, on_measure_start=sampler.start)
        sampler.stop()
    finally:
        hello.stop()
    report["hello"] = _summary(result)
    report["hello"]["cpu_s"] = sampler.used


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--duration", type=float, default=60.0, help="measured seconds of mixed load")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    p.add_argument("--concurrency", type=int, default=8, help="clients, each with one keep-alive connection")
    p.add_argument("--rate", type=float, default=0.0, help="requests/s to offer on a schedule (0: closed loop)")
    p.add_argument("--mix", default=DEFAULT_MIX, help="operations and their weights")
    p.add_argument("--processes", type=int, default=2, help="API processes (nordcert serve --workers)")
    p.add_argument("--indicators", type=int, default=50_000, help="indicators seeded before the run")
    p.add_argument("--ingest-batch", type=int, default=100, help="objects per ingest bundle and TAXII envelope")
    p.add_argument("--lookup-batch", type=int, default=100, help="values per batch lookup")
    p.add_argument("--page", type=int, default=1000, help="objects per TAXII page (the server's default limit)")
    p.add_argument("--hello-duration", type=float, default=20.0, help="measured seconds of the hello-world reference")
    p.add_argument("--store", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    p.add_argument("--keep", action="store_true", help="keep the seeded store (its schema or folder is printed)")
    p.add_argument("--seed", type=int, default=1, help="seed of the clients' choices")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = p.parse_args(argv)
    if args.store == "sqlite" and args.processes > 1:
        print("SQLite serves from one process: --processes 1 (and one hello-world process)", file=sys.stderr)
        args.processes = 1

    report: dict[str, Any] = {"settings": {k: v for k, v in vars(args).items() if k not in ("json",)},
                              "load_average": {"start": [round(x, 2) for x in os.getloadavg()]}}
    report["settings"]["postgres_url"] = make_url(args.postgres_url).render_as_string(hide_password=True)
    tmp = Path(tempfile.mkdtemp(prefix="nordcert-bench-load-"))
    stores = Stores(tmp, args.postgres_url)
    try:
        if args.store == "postgres":
            report["postgres"] = stores.postgres_version()
        measure_nordcert(args, tmp, stores, report)
        measure_hello(args, tmp, report)
    finally:
        stores.close()
        if not (args.keep and args.store == "sqlite"):
            shutil.rmtree(tmp, ignore_errors=True)
    report["load_average"]["end"] = [round(x, 2) for x in os.getloadavg()]
    n, h = report["nordcert"], report["hello"]
    report["ratio_to_hello"] = round(n["overall"]["requests_per_s"] / h["overall"]["requests_per_s"], 3)
    report["target"] = {
        "no_errors": n["overall"]["errors"] == 0,
        "p99_under_100ms": {k: o.get("p99_ms", float("inf")) < TARGET_P99_MS for k, o in n["operations"].items()},
    }
    report["target"]["pass"] = report["target"]["no_errors"] and all(report["target"]["p99_under_100ms"].values())
    report["machine"] = {"cpus": os.cpu_count(), "memory_gib": memory_gib(), "python": platform.python_version(),
                         "platform": platform.platform()}
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_report(report, args)
    return 0 if report["target"]["pass"] else 1


def _row(name: str, o: dict[str, Any], objects: bool = True) -> str:
    obj = f"{o['objects_per_s']:>10,.0f}" if objects and o.get("objects") else f"{'':>10}"
    lat = "".join(f"{o.get(k, float('nan')):>9.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
    return f"{name:14}{o['requests']:>9,}{o['requests_per_s']:>9,.1f}{obj}{lat}{o['errors']:>8,}"


def print_report(r: dict[str, Any], args: argparse.Namespace) -> None:
    s, n, h = r["seed"], r["nordcert"], r["hello"]
    where = f"PostgreSQL {r.get('postgres', '')} schema {r['store']['schema']}" if args.store == "postgres" else "SQLite"
    print(f"store: {where}, {s['indicators']:,} indicators with {s['observables']:,} observables seeded in "
          f"{s['seconds']} s ({s['indicators_per_s']:,}/s), {s['organisations']} organisations, {s['tokens']} tokens")
    offered = (f"offered {args.rate:,.0f} req/s on a schedule ({n['late_starts']:,} requests started > 10 ms late)"
               if args.rate else "closed loop, no think time")
    print(f"load: {args.concurrency} clients on keep-alive connections, {offered}; {args.duration:g} s measured after "
          f"{args.warmup:g} s warm-up; {args.processes} API processes (nordcert serve --workers {args.processes}) + "
          f"1 nordcert worker; lookup rate limits raised to {RATE_LIMITS['NORDCERT_LOOKUP_RATE_PER_TOKEN']}/s; "
          f"mix {args.mix}; {args.ingest_batch} objects an ingest, {args.lookup_batch} values a batch lookup, "
          f"TAXII pages of {args.page}")
    print(f"{'operation':14}{'requests':>9}{'req/s':>9}{'objects/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'errors':>8}")
    for name, o in n["operations"].items():
        print(_row(name, o))
    print(_row("overall", n["overall"], objects=False))
    print(_row("hello world", h["overall"], objects=False) + f"   ({args.hello_duration:g} s, same clients)")
    print("objects/s: ingest and taxii_add objects added, taxii_read objects read, lookup(_batch) values screened, "
          "search objects listed")
    achieved = n["overall"]["requests_per_s"]
    print(f"achieved {achieved:,.1f} req/s = {r['ratio_to_hello']:.1%} of the hello-world rate "
          f"({h['overall']['requests_per_s']:,.1f} req/s) on the same stack and concurrency")
    for name, o in n["operations"].items():
        for status, count in o["errors_by_status"].items():
            print(f"  error {name} {status} x{count}: {o['error_samples'][status]}")
    for line in n["server_log_errors"]:
        print(f"  server log: {line}")
    cpu = n["cpu_s"]
    parts = ", ".join(f"{k} {v}" for k, v in cpu.items() if not k.startswith("machine"))
    print(f"CPU s over {n['cpu_wall_s']} s: {parts}, client (this process) {n['client_cpu_s']}; machine busy "
          f"{cpu['machine busy']} of {cpu['machine total']} (hello run: servers {h['cpu_s']['api processes']}, client "
          f"{h['client_cpu_s']})")
    print(f"API processes peak RSS (MiB): {', '.join(str(x) for x in n['api_peak_rss_mib'])}; "
          f"{n.get('postgres_backends', 0)} PostgreSQL backends")
    la = r["load_average"]
    print(f"load average {'/'.join(map(str, la['start']))} at start, {'/'.join(map(str, la['end']))} at end; "
          f"{r['machine']['cpus']} CPUs, {r['machine']['memory_gib']} GiB, Python {r['machine']['python']}")
    t = r["target"]
    missed = [k for k, ok in t["p99_under_100ms"].items() if not ok]
    print(f"target (no errors, p99 < {TARGET_P99_MS:.0f} ms per operation): {'PASS' if t['pass'] else 'FAIL'}"
          + ("" if t["no_errors"] else f"; {n['overall']['errors']} errors")
          + (f"; p99 over {TARGET_P99_MS:.0f} ms: {', '.join(missed)}" if missed else ""))


if __name__ == "__main__":
    sys.exit(main())
