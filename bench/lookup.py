"""Screening lookup benchmark: nordcert's /api/v1/lookup over HTTP against a bare hello-world
endpoint on the same server stack, in the same run.

    python bench/lookup.py [--observables 1000000] [--samples 3000] [--batch 1000] [--batches 40]
                           [--concurrency 4] [--duration 10] [--json] [--keep DIR]

1. Store: a fresh SQLite instance (WAL, synchronous=FULL) in a temporary folder, filled through
   nordcert's own ingest path with ``--observables`` observables: indicators from four members
   (TLP:GREEN, and TLP:AMBER for a sharing group the reader is in or not), each pattern holding four
   values of mixed kinds (ipv4, domain, url, sha256, iban, phone, wallet, cidr, and blinded IBANs:
   HMAC-SHA-256 digests under a sector key whose id the store has registered, docs/privacy.md).
   Ingest time and rate are printed too.
2. Servers, one at a time, each a separate process on 127.0.0.1 with the same uvicorn settings
   (one process, access log on, as ``nordcert serve`` runs): ``nordcert serve`` on the store, and a
   FastAPI app with one route ``GET /hello`` answering ``{"hello": "world"}`` (the physical limit
   for a request on this stack).
3. Client: a minimal HTTP/1.1 client on raw keep-alive sockets (so the client costs little next
   to the server), in this process.
   - latency: ``--samples`` sequential requests on one connection after a warm-up: single-value
     ``GET /api/v1/lookup?value=…`` (half stored values of every kind, half values never stored),
     and ``GET /hello``; p50, p99 and requests/s.
   - throughput: ``--concurrency`` connections (one thread each) for ``--duration`` seconds:
     single lookups and hello-world requests/s.
   - batches: ``--batches`` sequential ``POST /api/v1/lookup`` of ``--batch`` mixed values (half
     stored): requests/s, values/s and p50/p99.
   - blinded: the same three measurements with blinded values only (``kind=blinded``: a member's
     client blinds under every key of its ring; half stored, half never stored).
   Every answer is checked: the stored values must be found, the others not.
4. Prints the figures and the ratios lookup/hello-world. Targets, for clear and for blinded
   lookups alike: single lookup p99 < 5 ms; single-lookup requests/s at least 50 % of the
   hello-world rate.

Every server this script starts is stopped when it ends, also on an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import resource
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from statistics import median, quantiles
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import Server, free_port, running

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import make_engine, migrate, transaction
from nordcert.demo.values import iban, p2pkh
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import Submission
from nordcert.observables.kinds import Kind
from nordcert.privacy import keys as sector_keys
from nordcert.privacy.blinding import SectorKey, blind_normalised
from nordcert.sharing.tlp import Tlp

SEED = 20261123
TOKEN = "bench-lookup-token"
_NS = uuid.UUID("6d1f0b7a-9c7e-4f3e-8a8b-62656e63686c")
#: The sector key members blind with in this benchmark (its id is registered in the store).
SECTOR_KEY = SectorKey("bench-sector-1", hashlib.sha256(f"{SEED}:sector-key".encode()).digest())


# --- data --------------------------------------------------------------------------------------------


def _value(rng: random.Random, slot: int, i: int) -> tuple[str, str, str]:
    """(pattern path, value as stored in the pattern, the normalised value a lookup answers)."""
    kind = (i + slot) % 9
    if kind == 0:
        ip = f"{rng.randint(11, 99)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        return "ipv4-addr:value", ip, ip
    if kind == 1:
        d = f"{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}-{i}.example"
        return "domain-name:value", d, d
    if kind == 2:
        u = f"https://login-{i}.example/verify/{rng.getrandbits(40):x}"
        return "url:value", u, u
    if kind == 3:
        h = hashlib.sha256(f"{SEED}:{i}:{slot}".encode()).hexdigest()
        return "file:hashes.'SHA-256'", h, h
    if kind == 4:
        v = iban("NO", rng)
        return "x-bank-account:iban", v, v
    if kind == 5:
        v = f"+4670{i % 10_000_000:07d}"
        return "x-phone-number:value", v, v
    if kind == 6:
        v = p2pkh(bytes(rng.randrange(256) for _ in range(20)))
        return "x-cryptocurrency-wallet:value", v, v
    if kind == 8:
        b = blind_normalised(Kind.IBAN, iban("SE", rng), SECTOR_KEY)
        return "x-blinded-value:value", b, b
    net = f"{rng.randint(100, 199)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24"
    return "ipv4-addr:value", net, net


def indicators(count: int, per: int, rng: random.Random, stored: list[str]) -> Iterator[dict[str, Any]]:
    for i in range(count):
        parts = []
        for slot in range(per):
            path, raw, norm = _value(rng, slot, i)
            parts.append(f"[{path} = '{raw}']")
            if rng.random() < 0.02:
                stored.append(norm)
        ts = f"2026-{(i % 11) + 1:02d}-{(i % 27) + 1:02d}T10:00:00.000Z"
        yield {
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(_NS, str(i))}",
            "created": ts, "modified": ts, "name": f"bench indicator {i}", "pattern_type": "stix",
            "pattern": " OR ".join(parts), "valid_from": ts, "labels": ["fraud"], "confidence": 80,
        }


def build_store(home: Path, observables: int, per: int = 4) -> tuple[list[str], dict[str, Any]]:
    settings = Settings(home=home)
    engine = make_engine(settings)
    migrate(engine)
    with transaction(engine) as conn:
        orgs = [accounts.create_organisation(conn, name=f"Bench Bank {n}", country="SE", sector_type="bank",
                                             short_name=f"BB{n}")["id"] for n in range(4)]
        inner = accounts.create_group(conn, name="Bench fraud", members=orgs[:3])["id"]
        outer = accounts.create_group(conn, name="Bench others", members=orgs[2:])["id"]
        accounts.create_user(conn, email="soc@bb0.example", organisation=orgs[0], role="analyst")
        credentials.create_token(conn, user="soc@bb0.example", token=TOKEN)
        sector_keys.register_key(conn, reader=None, key_id=SECTOR_KEY.key_id, check_value=SECTOR_KEY.check_value)
    rng = random.Random(SEED)
    stored: list[str] = []
    count = observables // per
    started = time.perf_counter()
    chunk = 50_000
    shares = [(Tlp.GREEN, None), (Tlp.AMBER, inner), (Tlp.AMBER, outer), (Tlp.GREEN, None)]
    source = indicators(count, per, rng, stored)
    done = 0
    while done < count:
        n = min(chunk, count - done)
        org = orgs[(done // chunk) % 4]
        tlp, group = shares[(done // chunk) % 4]
        sub = Submission(creator_org_id=org, submitted_by=None, tlp=tlp, group_id=group, is_cert_staff=True)
        before = len(stored)
        with transaction(engine) as conn:
            ingest(conn, (next(source) for _ in range(n)), sub, settings)
        if group == outer:
            del stored[before:]  # the reader may not see these: they must not be expected as hits
        done += n
        print(f"  stored {done * per:,} observables", file=sys.stderr, end="\r")
    elapsed = time.perf_counter() - started
    with transaction(engine, write=False) as conn:
        indexed = conn.exec_driver_sql("SELECT count(*) FROM observables").scalar_one()
    engine.dispose()
    print(file=sys.stderr)
    return stored, {"objects": count, "observables": indexed, "seconds": round(elapsed, 1),
                              "objects_per_s": round(count / elapsed), "observables_per_s": round(indexed / elapsed)}


def misses(n: int, rng: random.Random) -> list[str]:
    out = []
    for i in range(n):
        k = i % 4
        if k == 0:
            out.append(f"{rng.randint(200, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
        elif k == 1:
            out.append(f"never-{rng.getrandbits(48):x}.example")
        elif k == 2:
            out.append(hashlib.sha256(f"miss:{i}".encode()).hexdigest())
        else:
            out.append(iban("NO", rng))
    return out


# --- servers -----------------------------------------------------------------------------------------

_HELLO = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/hello")
async def hello() -> dict:
    return {"hello": "world"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
"""


# --- client ------------------------------------------------------------------------------------------


class Client:
    """HTTP/1.1 on one keep-alive socket: just enough for these requests (Content-Length bodies)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.auth = f"Authorization: Bearer {TOKEN}\r\n".encode()

    def close(self) -> None:
        self.sock.close()

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + self.auth
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        self.sock.sendall(head + b"\r\n" + body)
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        header, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = header.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next(int(v) for k, _, v in (ln.partition(b":") for ln in lines[1:])
                      if k.strip().lower() == b"content-length")
        while len(rest) < length:
            self.buf = rest
            self._recv()
            rest = self.buf
        self.buf = rest[length:]
        return status, rest[:length]

    def _recv(self) -> None:
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data


def _pct(values: list[float], q: int) -> float:
    return quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def latency(port: int, paths: list[str], expect: list[bool] | None) -> dict[str, float]:
    client = Client(port)
    try:
        client.request("GET", paths[0])
        times = []
        for i, path in enumerate(paths):
            t0 = time.perf_counter()
            status, body = client.request("GET", path)
            times.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status} {body[:200]!r}")
            if expect is not None and orjson.loads(body)["results"][0]["found"] is not expect[i]:
                raise RuntimeError(f"{path}: found should be {expect[i]}")
    finally:
        client.close()
    ms = [t * 1000 for t in times]
    return {"p50_ms": round(median(ms), 3), "p99_ms": round(_pct(ms, 99), 3), "requests_per_s": round(len(ms) / sum(times))}


def throughput(port: int, paths: list[str], concurrency: int, duration: float) -> float:
    counts = [0] * concurrency
    stop = time.monotonic() + duration
    errors: list[BaseException] = []

    def work(k: int) -> None:
        client = Client(port)
        try:
            i = k
            while time.monotonic() < stop:
                status, _ = client.request("GET", paths[i % len(paths)])
                if status != 200:
                    raise RuntimeError(f"HTTP {status}")
                counts[k] += 1
                i += concurrency
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"throughput run failed: {errors[0]}")
    return sum(counts) / elapsed


def batches(port: int, hits: list[Any], miss: list[Any], size: int, n: int, rng: random.Random) -> dict[str, float]:
    client = Client(port)
    times = []
    try:
        for _ in range(n + 1):
            k = min(size // 2, len(hits))
            values = rng.sample(hits, k) + rng.sample(miss, size - k)
            body = orjson.dumps({"values": values})
            t0 = time.perf_counter()
            status, answer = client.request("POST", "/api/v1/lookup", body)
            elapsed = time.perf_counter() - t0
            if status != 200:
                raise RuntimeError(f"batch: HTTP {status} {answer[:300]!r}")
            found = sum(r.get("found", False) for r in orjson.loads(answer)["results"])
            if found < k:
                raise RuntimeError(f"batch: {found} of {k} stored values found")
            times.append(elapsed)
    finally:
        client.close()
    times = times[1:]  # the first batch warms the caches
    ms = [t * 1000 for t in times]
    return {"requests_per_s": round(len(times) / sum(times), 2), "values_per_s": round(size * len(times) / sum(times)),
            "p50_ms": round(median(ms), 1), "p99_ms": round(_pct(ms, 99), 1)}


# --- main --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--observables", type=int, default=1_000_000)
    p.add_argument("--samples", type=int, default=3000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--keep", type=Path, help="build the store in (or reuse it from) this folder")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="nordcert-bench-lookup-"))
    home = args.keep or tmp / "instance"
    try:
        marker = home / "bench-values.json"
        if args.keep and marker.exists():
            saved = orjson.loads(marker.read_bytes())
            stored, store_info = saved["stored"], saved["info"]
        else:
            print(f"building a store of {args.observables:,} observables …", file=sys.stderr)
            stored, store_info = build_store(home, args.observables)
            marker.write_bytes(orjson.dumps({"stored": stored, "info": store_info}))
        rng = random.Random(SEED + 1)
        miss = misses(max(2 * args.batch, args.samples), rng)
        hits = [v for v in dict.fromkeys(stored) if not _is_blinded(v)]
        blinded_hits = [v for v in dict.fromkeys(stored) if _is_blinded(v)]
        blinded_miss = [blind_normalised(Kind.IBAN, iban("DK", rng), SECTOR_KEY)
                        for _ in range(max(2 * args.batch, args.samples))]
        b_singles = [(v, True) for v in rng.sample(blinded_hits, min(len(blinded_hits), args.samples // 2))] + \
                    [(v, False) for v in rng.sample(blinded_miss, args.samples - args.samples // 2)]
        rng.shuffle(b_singles)
        b_paths = ["/api/v1/lookup?kind=blinded&value=" + _quote(v) for v, _ in b_singles]
        singles = [(v, True) for v in rng.sample(hits, args.samples // 2)] + \
                  [(v, False) for v in rng.sample(miss, args.samples - args.samples // 2)]
        rng.shuffle(singles)
        paths = ["/api/v1/lookup?value=" + _quote(v) for v, _ in singles]
        expect = [f for _, f in singles]
        report: dict[str, Any] = {"store": store_info}

        port = free_port()
        # One client at full speed measures capacity: the rate limits stay in the path (their cost is measured)
        # but set above anything this machine reaches.
        unlimited = ["NORDCERT_LOOKUP_RATE_PER_TOKEN=1e9", "NORDCERT_LOOKUP_RATE_PER_ADDRESS=1e9"]
        nordcert = Server("nordcert", ["env", *unlimited, sys.executable, "-m", "nordcert", "--instance", str(home),
                                       "serve", "--port", str(port)], tmp / "nordcert.log", port)
        with running(nordcert, "/healthz"):
            print("single lookups …", file=sys.stderr)
            report["lookup_single"] = latency(port, paths, expect)
            report["lookup_single"]["concurrent_requests_per_s"] = round(
                throughput(port, paths, args.concurrency, args.duration))
            print("batches …", file=sys.stderr)
            report["lookup_batch"] = batches(port, hits, miss, args.batch, args.batches, rng)
            print("blinded lookups …", file=sys.stderr)
            report["blinded_single"] = latency(port, b_paths, [f for _, f in b_singles])
            report["blinded_single"]["concurrent_requests_per_s"] = round(
                throughput(port, b_paths, args.concurrency, args.duration))
            report["blinded_batch"] = batches(port, [{"kind": "blinded", "value": v} for v in blinded_hits],
                                              [{"kind": "blinded", "value": v} for v in blinded_miss],
                                              args.batch, args.batches, rng)
            report["server_peak_rss_mib"] = nordcert.peak_rss_mib()
        port = free_port()
        with running(Server("hello", [sys.executable, "-c", _HELLO, str(port)], tmp / "hello.log", port), "/hello"):
            print("hello world …", file=sys.stderr)
            report["hello"] = latency(port, ["/hello"] * args.samples, None)
            report["hello"]["concurrent_requests_per_s"] = round(
                throughput(port, ["/hello"], args.concurrency, args.duration))
        s, h, bs = report["lookup_single"], report["hello"], report["blinded_single"]
        report["ratios"] = {
            "blinded_single_vs_hello_sequential": round(bs["requests_per_s"] / h["requests_per_s"], 3),
            "blinded_single_vs_hello_concurrent": round(bs["concurrent_requests_per_s"] / h["concurrent_requests_per_s"], 3),
            "blinded_single_vs_clear_concurrent": round(bs["concurrent_requests_per_s"] / s["concurrent_requests_per_s"], 3),
            "single_lookup_vs_hello_sequential": round(s["requests_per_s"] / h["requests_per_s"], 3),
            "single_lookup_vs_hello_concurrent": round(s["concurrent_requests_per_s"] / h["concurrent_requests_per_s"], 3),
            "batch_requests_vs_hello_sequential": round(report["lookup_batch"]["requests_per_s"] / h["requests_per_s"], 4),
        }
        report["targets"] = {
            "single_p99_under_5ms": s["p99_ms"] < 5.0,
            "single_rate_at_least_half_of_hello": report["ratios"]["single_lookup_vs_hello_concurrent"] >= 0.5,
            "blinded_p99_under_5ms": bs["p99_ms"] < 5.0,
            "blinded_rate_at_least_half_of_hello": report["ratios"]["blinded_single_vs_hello_concurrent"] >= 0.5,
        }
        report["machine"] = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                             "cpus": os.cpu_count(), "platform": platform.platform(),
                             "bench_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        if args.json:
            sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            print_report(report, args)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _is_blinded(value: str) -> bool:
    return value.startswith(SECTOR_KEY.key_id + ":")


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def print_report(r: dict[str, Any], args: argparse.Namespace) -> None:
    st, s, b, h, ratio = r["store"], r["lookup_single"], r["lookup_batch"], r["hello"], r["ratios"]
    print(f"store: {st['observables']:,} observables in {st['objects']:,} indicators, ingested in {st['seconds']} s "
          f"({st['objects_per_s']:,} objects/s, {st['observables_per_s']:,} observables/s)")
    print(f"{'':34}{'p50 ms':>10}{'p99 ms':>10}{'req/s seq':>12}{'req/s x' + str(args.concurrency):>12}")
    print(f"{'hello world (GET /hello)':34}{h['p50_ms']:>10}{h['p99_ms']:>10}{h['requests_per_s']:>12,}"
          f"{h['concurrent_requests_per_s']:>12,}")
    print(f"{'lookup, one value (GET)':34}{s['p50_ms']:>10}{s['p99_ms']:>10}{s['requests_per_s']:>12,}"
          f"{s['concurrent_requests_per_s']:>12,}")
    print(f"{f'lookup, {args.batch:,} values (POST)':34}{b['p50_ms']:>10}{b['p99_ms']:>10}{b['requests_per_s']:>12,}"
          f"{'':>12}   ({b['values_per_s']:,} values/s)")
    bs, bb = r["blinded_single"], r["blinded_batch"]
    print(f"{'blinded lookup, one value (GET)':34}{bs['p50_ms']:>10}{bs['p99_ms']:>10}{bs['requests_per_s']:>12,}"
          f"{bs['concurrent_requests_per_s']:>12,}")
    print(f"{f'blinded, {args.batch:,} values (POST)':34}{bb['p50_ms']:>10}{bb['p99_ms']:>10}{bb['requests_per_s']:>12,}"
          f"{'':>12}   ({bb['values_per_s']:,} values/s)")
    print(f"blinded/hello: sequential {ratio['blinded_single_vs_hello_sequential']:.0%}, {args.concurrency} connections "
          f"{ratio['blinded_single_vs_hello_concurrent']:.0%}; blinded/clear {ratio['blinded_single_vs_clear_concurrent']:.0%}")
    print(f"ratios lookup/hello: sequential {ratio['single_lookup_vs_hello_sequential']:.0%}, "
          f"{args.concurrency} connections {ratio['single_lookup_vs_hello_concurrent']:.0%}; "
          f"batch requests/hello {ratio['batch_requests_vs_hello_sequential']:.2%}")
    t = r["targets"]
    print(f"targets: single p99 < 5 ms: {'met' if t['single_p99_under_5ms'] else 'MISSED'}; "
          f"single lookup rate >= 50 % of hello world: {'met' if t['single_rate_at_least_half_of_hello'] else 'MISSED'}; "
          f"blinded p99 < 5 ms: {'met' if t['blinded_p99_under_5ms'] else 'MISSED'}; blinded rate >= 50 %: "
          f"{'met' if t['blinded_rate_at_least_half_of_hello'] else 'MISSED'}")
    print(f"server peak RSS {r['server_peak_rss_mib']} MiB; Python {r['machine']['python']}, "
          f"SQLite {r['machine']['sqlite']}, {r['machine']['cpus']} CPUs")


if __name__ == "__main__":
    sys.exit(main())
