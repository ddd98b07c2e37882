"""SQLite page size and the TAXII add: nordcert's ingest of envelopes of 1,000 indicators into stores
created with different page sizes, next to the physical limit of its commits.

    python bench/pages.py [--sizes 10000,300000] [--page-sizes 4096,8192,16384] [--rounds 2]
                          [--http 10000] [--json]

In-process (each size, each round, the page sizes alternating, a fresh store each run): the
``--sizes`` indicators from the benchmarks' generator are added in envelopes of 1,000 as a TAXII
add does (``nordcert.taxii.service.add_objects`` in one write transaction per envelope, commit
included). Printed per run: the median envelope and commit of the last five envelopes, the mean
envelope over the whole load, and for the last envelope the WAL frames its commit wrote.

Physical limit, same run: the same number of frames of the same page size appended to a plain file
with ``pwrite`` (a 24-byte header and the page, as SQLite writes a frame), then ``fdatasync``: what
the commit's writes cost without SQLite. Reference: the first page size listed (SQLite's default,
4096, by default); every run's ratio to it is printed.

``--http N``: also N objects over HTTP per page size, alternating: ``nordcert serve`` set up as
``bench/taxii.py`` does (fresh server for each run), envelopes POSTed one after the other on one
keep-alive connection, first envelope included; µs an object, and the CPU of each server thread.

The stores live in a temporary folder (``--tmp``), deleted at the end; every server started is stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import SEED, indicator  # the benchmarks' generator
from _servers import BenchError
from _stores import Stores
from _taxii_targets import TAXII, start_nordcert

ENVELOPE = 1000


@dataclass
class Run:
    page_size: int
    objects: int
    round: int
    last5_envelope_ms: float
    last5_commit_ms: float
    mean_envelope_ms: float
    #: Frames the last envelope's commit appended to the WAL (None: the log had restarted, so unknown)
    last_commit_frames: int | None
    raw_frames_ms: float | None  # the same frames appended to a plain file and fdatasync'd


def _wal_frames(path: Path, page_size: int) -> int:
    """Frames in a WAL file (its size: a 32-byte header, then frames of a 24-byte header and a page)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    return max(size - 32, 0) // (24 + page_size)


def raw_frames(folder: Path, frames: int, page_size: int) -> float:
    """ms to append ``frames`` frames to a new file with pwrite, then fdatasync: a commit's writes, bare."""
    path = folder / "frames.bin"
    header, page = os.urandom(24), os.urandom(page_size)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        started = time.perf_counter()
        offset = 32
        for _ in range(frames):
            os.pwrite(fd, header, offset)
            os.pwrite(fd, page, offset + 24)
            offset += 24 + page_size
        os.fdatasync(fd)
        return (time.perf_counter() - started) * 1e3
    finally:
        os.close(fd)
        path.unlink()


def in_process(stores: Stores, page_size: int, count: int, rnd: int) -> Run:
    from nordcert.accounts import service as accounts
    from nordcert.db import transaction
    from nordcert.taxii import collections, service

    store = stores.fresh("sqlite", sqlite_page_size=page_size)
    settings, engine = store.settings, store.engine
    try:
        with transaction(engine) as conn:
            reader = accounts.reader_for(conn, store.user_id)
            coll_id = str(collections.create_collection(conn, title="Bench", read_all=True, write_all=True)["id"])
        gc.collect()
        gc.freeze()  # as `nordcert serve` does
        rng = random.Random(SEED)
        envelopes, commits = [], []
        frames = 0
        wal = settings.sqlite_path.with_name(settings.sqlite_path.name + "-wal")
        for first in range(0, count, ENVELOPE):
            objects = [indicator(rng, i) for i in range(first, min(first + ENVELOPE, count))]
            before = _wal_frames(wal, page_size)
            started = time.perf_counter()
            with transaction(engine, write=True) as conn:
                coll = collections.get_for_reader(conn, reader, coll_id)
                sub = service.submission_for_collection(conn, reader, coll)
                status = service.add_objects(conn, reader, coll, {"objects": objects}, settings, sub)
                committing = time.perf_counter()
            done = time.perf_counter()
            if status["success_count"] != len(objects):
                raise BenchError(f"{status['success_count']} of {len(objects)} objects added")
            envelopes.append(done - started)
            commits.append(done - committing)
            frames = _wal_frames(wal, page_size) - before  # not above 0 if the log restarted: then unknown
        gc.unfreeze()
        last5 = slice(-5, None)
        known = frames if frames > 0 else None
        return Run(page_size, count, rnd, round(statistics.median(envelopes[last5]) * 1e3, 2),
                   round(statistics.median(commits[last5]) * 1e3, 2), round(statistics.mean(envelopes) * 1e3, 2),
                   known, round(raw_frames(settings.home, known, page_size), 2) if known else None)
    finally:
        stores.drop(store)


def _thread_cpu(pid: int) -> dict[str, int]:
    """CPU nanoseconds (with run-queue waits) of each thread of a process, by 'name:tid'."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            out[f"{name}:{tid}"] = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
    return out


def over_http(tmp: Path, page_size: int, count: int) -> dict[str, Any]:
    rng = random.Random(SEED)
    objects = [indicator(rng, i) for i in range(count)]
    bodies = [orjson.dumps({"objects": objects[i:i + ENVELOPE]}) for i in range(0, count, ENVELOPE)]
    with contextlib.ExitStack() as stack:
        target = start_nordcert(stack, tmp, env={"NORDCERT_SQLITE_PAGE_SIZE": str(page_size)})
        pid = target.server.pid
        with target.client() as client:
            before = _thread_cpu(pid)
            gc.collect()
            started = time.perf_counter()
            for body in bodies:
                r = client.post(target.objects_path, content=body, headers={"Content-Type": TAXII})
                if r.status_code != 202 or orjson.loads(r.content).get("failure_count"):
                    raise BenchError(f"add answered {r.status_code}: {r.text[:300]}")
            seconds = time.perf_counter() - started
            after = _thread_cpu(pid)
    threads = {name: round((ns - before.get(name, 0)) / 1e3 / count, 2) for name, ns in after.items()
               if ns - before.get(name, 0) > 1_000_000}
    return {"page_size": page_size, "objects": count, "us_per_object": round(seconds * 1e6 / count, 2),
            "objects_per_s": round(count / seconds), "thread_cpu_us_per_object": threads}


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_ints, default=[10_000, 300_000],
                        help="store sizes, objects, comma-separated (default 10000,300000)")
    parser.add_argument("--page-sizes", type=_ints, default=[4096, 8192, 16384],
                        help="page sizes to compare; the first is the reference (default 4096,8192,16384)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per size, page sizes alternating (default 2)")
    parser.add_argument("--http", type=int, default=0, metavar="N", help="also add N objects over HTTP per page size")
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the stores (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    args = parser.parse_args(argv)
    say = (lambda _text: None) if args.json else print
    runs: list[Run] = []
    http: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.tmp) as folder:
        tmp = Path(folder)
        stores = Stores(tmp, pg_url="")  # SQLite only
        for size in args.sizes:
            for rnd in range(1, args.rounds + 1):
                for page_size in args.page_sizes:
                    os.sync()  # the last run's writes are not left to the disk during this one
                    run = in_process(stores, page_size, size, rnd)
                    runs.append(run)
                    ref = next(r for r in runs if r.objects == size and r.round == rnd)
                    bare = ("the log had restarted" if run.raw_frames_ms is None else
                            f"{run.last_commit_frames} frames, bare {run.raw_frames_ms:.1f} ms: commit/bare "
                            f"x{run.last5_commit_ms / max(run.raw_frames_ms, 0.001):.1f}")
                    say(f"{size:>9,} objects, round {rnd}, {page_size:>5} B pages: last 5 envelopes "
                        f"{run.last5_envelope_ms:6.1f} ms (x{run.last5_envelope_ms / ref.last5_envelope_ms:.2f} "
                        f"of {ref.page_size} B), commit {run.last5_commit_ms:5.1f} ms; mean envelope "
                        f"{run.mean_envelope_ms:6.1f} ms (x{run.mean_envelope_ms / ref.mean_envelope_ms:.2f}); "
                        f"last commit: {bare}")
        if args.http:
            for rnd in range(1, args.rounds + 1):
                for page_size in args.page_sizes:
                    os.sync()
                    result = over_http(tmp, page_size, args.http)
                    http.append({"round": rnd, **result})
                    say(f"HTTP {args.http:,} objects, round {rnd}, {page_size:>5} B pages: "
                        f"{result['us_per_object']:.1f} µs an object ({result['objects_per_s']:,}/s); thread CPU "
                        f"µs/object {result['thread_cpu_us_per_object']}")
    if args.json:
        sys.stdout.write(orjson.dumps({"in_process": [asdict(r) for r in runs], "http": http},
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
