"""TAXII 2.1 server benchmark: nordcert against the OASIS reference server medallion, over HTTP on
127.0.0.1, and against the physical limits measured in the same run.

    python bench/taxii.py [--counts 10000,50000] [--repeat 1] [--json] [--medallion-max 600]
                          [--latency-budget 60] [--samples 500] [--batch 1000] [--limit 1000]
                          [--phase-timeout 1800]

For every N in ``--counts`` (distinct, realistic STIX 2.1 indicators from ``bench/_data.py``'s
generator, fixed seed) and each server, on a fresh server process (one server runs at a time):

1. add: POST the N objects as TAXII envelopes of ``--batch`` objects
   (``application/taxii+json;version=2.1``), one after the other on one keep-alive connection; a
   status that is not yet ``complete`` is polled until it is, inside the clock. Every object must be
   reported a success.
2. single-object GET: ``GET .../objects/{id}/`` of ``--samples`` random ids (or as many as fit in
   ``--latency-budget`` seconds), after one untimed warm-up GET: p50, p99 and requests/s of that loop.
3. read: ``GET .../objects/?limit=--limit`` following ``next`` (or ``added_after`` from
   ``X-TAXII-Date-Added-Last`` for a server without ``next``) until ``more`` is false; the ids read
   must be exactly the N added. medallion's read is cut after ``--medallion-max`` seconds; its rate is
   then reported as an upper bound, N divided by the seconds waited (its full read takes longer),
   next to the number of objects it had returned by then.
4. peak RSS of the server process (``VmHWM`` in ``/proc/<pid>/status``), read before it is stopped.

Servers: nordcert set up with its CLI (``init``, ``org add``, ``user add``, ``token create``,
``collection add Bench --kind sector --read-all --write-all``) on a durable SQLite store
(WAL, ``synchronous=FULL``) in a temporary folder and run with ``nordcert serve`` (uvicorn, one
process); medallion with its memory backend and a config file with one user and one read/write
collection, run with its own ``medallion`` script (Flask's threaded server, one process).

Physical limits, same run, same client loop: in-memory ``orjson`` serialisation of the same N
objects as pages of ``--limit`` (reads; the fastest of several passes); a bare Starlette app under
uvicorn (same uvicorn settings as ``nordcert serve``) answering a small JSON (request rate), a
pre-serialised page of ``--limit`` of the same objects (reads over HTTP), and a POST that parses
the envelope (adds over HTTP). The client is one synchronous ``httpx`` client in this process; its
generated objects are frozen out of its garbage collections so that they do not slow its loops.

Targets: nordcert at least 10x medallion on add and on read; at least a third of the physical limit.
With ``--repeat R`` every measurement is taken R times (fresh servers) and the medians are reported.
Every server this script starts is stopped when it ends, also on an error or Ctrl-C; each loop is
bounded in count and in time (``--phase-timeout``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.metadata
import os
import platform
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median, quantiles
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import SEED, indicator  # the benchmarks' generator
from _servers import BenchError, Server, memory_gib
from _taxii_report import compare, print_report
from _taxii_targets import TAXII, Target, start_bare, start_medallion, start_nordcert

SERVERS = ("medallion", "nordcert")


@dataclass
class Run:
    """One server's figures for one N in one round."""

    server: str
    objects: int
    add_seconds: float
    add_objects_per_s: float
    read_seconds: float
    read_objects: int
    read_complete: bool  # False: cut by the time budget (medallion)
    read_objects_per_s: float  # N / seconds; when cut, an upper bound (N / the seconds waited)
    read_rate_is_upper_bound: bool
    get_samples: int
    get_p50_ms: float
    get_p99_ms: float
    get_requests_per_s: float
    peak_rss_mib: float
    load_1min: float  # load average when this server's run began (a busy machine slows every figure)


def _deadline_timeout(deadline: float) -> httpx.Timeout:
    left = max(deadline - time.monotonic(), 0.001)
    return httpx.Timeout(left, connect=min(left, 10.0))


def measure_add(target: Target, batches: list[tuple[bytes, int]], count: int, timeout: float) -> float:
    """POST every batch; returns the seconds until the last one's status is complete."""
    deadline = time.monotonic() + timeout
    ok = 0
    headers = {"Content-Type": TAXII}
    with target.client() as client:
        gc.collect()
        started = time.perf_counter()
        for body, n in batches:
            r = client.post(target.objects_path, content=body, headers=headers, timeout=_deadline_timeout(deadline))
            if r.status_code != 202:
                raise BenchError(f"{target.name}: add answered {r.status_code}: {r.text[:500]}")
            status = orjson.loads(r.content)
            while status.get("status") != "complete":  # an asynchronous add: wait for it, on the clock
                if time.monotonic() > deadline:
                    raise BenchError(f"{target.name}: add still {status.get('status')!r} after {timeout:.0f} s")
                time.sleep(0.01)
                r = client.get(f"{target.status_path}{status['id']}/", timeout=_deadline_timeout(deadline))
                r.raise_for_status()
                status = orjson.loads(r.content)
            if status.get("success_count") != n or status.get("failure_count", 0):
                raise BenchError(f"{target.name}: {status.get('success_count')} of {n} objects added, "
                                 f"{status.get('failure_count')} failed: {str(status.get('failures'))[:500]}")
            ok += n
        seconds = time.perf_counter() - started
    if ok != count:
        raise BenchError(f"{target.name}: {ok} of {count} objects added")
    return seconds


def measure_get(target: Target, ids: list[str], budget: float) -> tuple[list[float], float]:
    """GET each id (until the budget is spent; a request started in time runs to its end)."""
    latencies: list[float] = []
    with target.client() as client:
        client.get(f"{target.objects_path}{ids[-1]}/")  # warm-up (connection, first-use caches), not timed
        gc.collect()
        started = time.perf_counter()
        end = started + budget
        for stix_id in ids:
            if time.perf_counter() > end:
                break
            t0 = time.perf_counter()
            r = client.get(f"{target.objects_path}{stix_id}/")
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise BenchError(f"{target.name}: GET {stix_id} answered {r.status_code}: {r.text[:300]}")
            found = orjson.loads(r.content).get("objects") or [{}]
            if found[0].get("id") != stix_id:
                raise BenchError(f"{target.name}: GET {stix_id} returned {found[0].get('id')}")
        total = time.perf_counter() - started
    return latencies, total


@dataclass
class Read:
    seconds: float
    objects: int
    complete: bool


def measure_read(target: Target, expected: set[str], limit: int, budget: float, cut_ok: bool) -> Read:
    """Page through the collection; ``cut_ok``: stop at the budget and report what was read."""
    max_pages = len(expected) // limit + 3
    seen: set[str] = set()
    n = 0
    params: dict[str, Any] = {"limit": limit}
    complete = False
    with target.client() as client:
        gc.collect()
        started = time.perf_counter()
        deadline = time.monotonic() + budget
        for _ in range(max_pages):
            try:
                r = client.get(target.objects_path, params=params, timeout=_deadline_timeout(deadline))
            except httpx.TimeoutException:
                if not cut_ok:
                    raise BenchError(f"{target.name}: the read took longer than {budget:.0f} s") from None
                break
            if r.status_code != 200:
                raise BenchError(f"{target.name}: GET objects answered {r.status_code}: {r.text[:300]}")
            envelope = orjson.loads(r.content)
            page = envelope.get("objects", [])
            n += len(page)
            seen.update(o["id"] for o in page)
            if not envelope.get("more"):
                complete = True
                break
            if envelope.get("next"):
                params = {"limit": limit, "next": envelope["next"]}
            elif r.headers.get("X-TAXII-Date-Added-Last"):
                params = {"limit": limit, "added_after": r.headers["X-TAXII-Date-Added-Last"]}
            else:
                raise BenchError(f"{target.name}: more=true without 'next' or X-TAXII-Date-Added-Last")
        seconds = time.perf_counter() - started
    if complete and (n != len(expected) or seen != expected):
        raise BenchError(f"{target.name}: read {n} objects ({len(seen)} distinct, "
                         f"{len(seen & expected)} of those added), expected {len(expected)}")
    if not complete and not cut_ok:
        raise BenchError(f"{target.name}: more than {max_pages} pages")
    if not complete and (n != len(seen) or not seen <= expected):
        raise BenchError(f"{target.name}: the partial read returned duplicates or unknown objects")
    return Read(seconds, n, complete)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[98]


def run_server(start: Callable[[contextlib.ExitStack, Path], Target], tmp: Path, objects: list[dict[str, Any]],
               batches: list[tuple[bytes, int]], args: argparse.Namespace, say: Callable[[str], None]) -> Run:
    count = len(objects)
    load = round(os.getloadavg()[0], 2)
    ids = [o["id"] for o in objects]
    sample = random.Random(SEED + count).sample(ids, min(args.samples, count))
    with contextlib.ExitStack() as stack:
        target = start(stack, tmp)
        name = target.name
        say(f"  {name}: adding {count:,} objects")
        add_s = measure_add(target, batches, count, args.phase_timeout)
        say(f"  {name}: {count / add_s:,.0f} objects/s added; single-object GETs")
        latencies, get_total = measure_get(target, sample, min(args.latency_budget, args.phase_timeout))
        say(f"  {name}: p50 {_ms(median(latencies))} ms over {len(latencies)} GETs; paginated read")
        cut_ok = name == "medallion"
        read = measure_read(target, set(ids), args.limit, args.medallion_max if cut_ok else args.phase_timeout, cut_ok)
        rss = target.server.peak_rss_mib()
        upper = not read.complete  # the full read takes longer than the seconds waited
        rate = count / read.seconds
        say(f"  {name}: read {read.objects:,} objects in {read.seconds:.1f} s"
            + ("" if read.complete else " (cut by --medallion-max)") + f"; peak RSS {rss} MiB")
        target.server.stop()
    return Run(name, count, round(add_s, 3), round(count / add_s, 1), round(read.seconds, 3), read.objects,
               read.complete, round(rate, 1), upper, len(latencies), _ms(median(latencies)), _ms(p99(latencies)),
               round(len(latencies) / get_total, 1), rss, load)


@dataclass
class Limits:
    """The physical limits: what no server can beat on this machine with this client."""

    hello_requests_per_s: float  # bare Starlette JSON endpoint, GET
    page_objects_per_s: float  # bare endpoint serving a pre-serialised page, GET + client parse
    add_objects_per_s: float  # bare endpoint parsing a POSTed envelope
    orjson_objects_per_s: dict[int, float] = field(default_factory=dict)  # in-memory page serialisation, per N


def measure_bare(server: Server, batches: list[tuple[bytes, int]], pages: int, limit: int, requests: int,
                 timeout: float) -> tuple[float, float, float]:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.base, headers={"Accept": TAXII}, timeout=60) as client:
        for _ in range(50):  # warm-up
            client.get("/hello")
        gc.collect()
        started, n = time.perf_counter(), 0
        for _ in range(requests):
            if time.monotonic() > deadline:
                break
            r = client.get("/hello")
            if r.status_code != 200 or orjson.loads(r.content) != {"hello": "world"}:
                raise BenchError(f"bare app answered {r.status_code}")
            n += 1
        hello = n / (time.perf_counter() - started)
        started, n = time.perf_counter(), 0
        for _ in range(pages):
            n += len(orjson.loads(client.get("/page").content)["objects"])
        page = n / (time.perf_counter() - started)
        if n != pages * limit:
            raise BenchError("bare app: short page")
        started, n = time.perf_counter(), 0
        for body, size in batches:
            r = client.post("/add", content=body, headers={"Content-Type": TAXII})
            if r.status_code != 202 or orjson.loads(r.content)["success_count"] != size:
                raise BenchError(f"bare app: add answered {r.status_code}")
            n += size
        add = n / (time.perf_counter() - started)
    return hello, page, add


def orjson_rate(objects: list[dict[str, Any]], limit: int, repeat: int = 5, min_seconds: float = 1.0) -> float:
    """In-memory serialisation of the objects as envelopes of ``limit`` (the read's physical limit): the
    fastest of at least ``repeat`` passes, repeated until ``min_seconds`` have passed in all."""
    pages = [objects[i:i + limit] for i in range(0, len(objects), limit)]
    times: list[float] = []
    while len(times) < repeat or sum(times) < min_seconds:
        gc.collect()
        started = time.perf_counter()
        for i, page in enumerate(pages):
            orjson.dumps({"more": i < len(pages) - 1, "objects": page})
        times.append(time.perf_counter() - started)
    return len(objects) / min(times)


# --- the report -------------------------------------------------------------------------------


def _median_run(runs: list[Run]) -> dict[str, Any]:
    first = runs[0]
    out: dict[str, Any] = {"server": first.server, "objects": first.objects, "rounds": len(runs)}
    for key, value in asdict(first).items():
        if key in ("server", "objects"):
            continue
        if isinstance(value, bool):
            out[key] = all(getattr(r, key) for r in runs) if key == "read_complete" else any(
                getattr(r, key) for r in runs)
        else:
            out[key] = round(median(getattr(r, key) for r in runs), 3)
    out["runs"] = [asdict(r) for r in runs]
    return out


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def versions() -> dict[str, str]:
    from nordcert import __version__ as nordcert_version

    out = {"python": platform.python_version(), "nordcert": nordcert_version, "sqlite": sqlite3.sqlite_version}
    for dist in ("medallion", "flask", "werkzeug", "uvicorn", "fastapi", "starlette", "sqlalchemy", "httpx", "orjson"):
        out[dist] = _version(dist)
    return out


def _counts(text: str) -> list[int]:
    try:
        counts = [int(p.replace("_", "")) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of counts: {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("counts must be positive")
    return counts


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so every server gets stopped."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--counts", type=_counts, default=[10_000, 50_000],
                        help="object counts, comma-separated (default 10000,50000)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds on fresh servers; medians are reported")
    parser.add_argument("--batch", type=int, default=1000, help="objects per POSTed envelope (default 1000)")
    parser.add_argument("--limit", type=int, default=1000, help="page size of the paginated read (default 1000)")
    parser.add_argument("--samples", type=int, default=500, help="single-object GETs per server (default 500)")
    parser.add_argument("--latency-budget", type=float, default=60.0,
                        help="seconds for the single-object GETs per server and count (default 60)")
    parser.add_argument("--medallion-max", type=float, default=600.0,
                        help="seconds medallion's paginated read may take before it is cut (default 600)")
    parser.add_argument("--phase-timeout", type=float, default=1800.0,
                        help="hard limit in seconds for any other phase; exceeding it is an error (default 1800)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.batch < 1 or not 1 <= args.limit <= 10_000 or args.samples < 1:
        parser.error("--repeat, --batch, --samples must be positive; --limit between 1 and 10000")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = os.getloadavg()
    info = versions()
    rng = random.Random(SEED)
    objects = [indicator(rng, i) for i in range(max(args.counts))]
    # The client's own data (up to 50k objects) is left out of its garbage collections, which would
    # otherwise walk it again and again while the client parses the pages it reads.
    gc.collect()
    gc.freeze()
    runs: dict[tuple[str, int], list[Run]] = {}
    bare: list[tuple[float, float, float]] = []
    orjson_rates: dict[int, list[float]] = {}
    with _sigterm_as_exit(), tempfile.TemporaryDirectory(prefix="nordcert-taxii-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for round_no in range(args.repeat):
            say(f"round {round_no + 1} of {args.repeat}")
            max_batches = [(orjson.dumps({"objects": objects[i:i + args.batch]}), len(objects[i:i + args.batch]))
                           for i in range(0, max(args.counts), args.batch)]
            with contextlib.ExitStack() as stack:
                page = orjson.dumps({"more": True, "next": "x", "objects": objects[:args.limit]})
                server = start_bare(stack, tmp, page)
                bare.append(measure_bare(server, max_batches, max(args.counts) // args.limit or 1,
                                         min(args.limit, len(objects)), 5000, args.phase_timeout))
                say(f"  bare uvicorn: {bare[-1][0]:,.0f} hello requests/s, {bare[-1][1]:,.0f} page objects/s, "
                    f"{bare[-1][2]:,.0f} parsed add objects/s")
            for count in args.counts:
                subset = objects[:count]
                orjson_rates.setdefault(count, []).append(orjson_rate(subset, args.limit))
                batches = [(orjson.dumps({"objects": subset[i:i + args.batch]}), len(subset[i:i + args.batch]))
                           for i in range(0, count, args.batch)]
                order = SERVERS if round_no % 2 == 0 else SERVERS[::-1]
                for name in order:
                    start = start_medallion if name == "medallion" else start_nordcert
                    runs.setdefault((name, count), []).append(run_server(start, tmp, subset, batches, args, say))
    limits = Limits(round(median(b[0] for b in bare), 1), round(median(b[1] for b in bare), 1),
                    round(median(b[2] for b in bare), 1),
                    {c: round(median(v), 1) for c, v in orjson_rates.items()})
    results = []
    for count in args.counts:
        m, n = _median_run(runs[("medallion", count)]), _median_run(runs[("nordcert", count)])
        lim = {"hello_requests_per_s": limits.hello_requests_per_s, "page_objects_per_s": limits.page_objects_per_s,
               "add_objects_per_s": limits.add_objects_per_s, "orjson_objects_per_s": limits.orjson_objects_per_s[count]}
        results.append({"objects": count, "medallion": m, "nordcert": n, "limits": lim, "comparison": compare(m, n, lim)})
    report = {
        "counts": args.counts,
        "repeat": args.repeat,
        "batch": args.batch,
        "limit": args.limit,
        "samples": args.samples,
        "latency_budget_s": args.latency_budget,
        "medallion_max_s": args.medallion_max,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {"cpus": os.cpu_count(), "memory_gib": memory_gib(),
                    "load_average_1min": {"start": round(load_before[0], 2), "end": round(os.getloadavg()[0], 2)}},
        "versions": info,
    }
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
