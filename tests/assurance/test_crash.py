"""Crash safety: bulk imports killed with SIGKILL at random points leave a consistent store, and run again
they complete, leaving the store an uninterrupted import leaves.

:data:`KILLS` kills in all (20; ``NORDCERT_CRASH_KILLS`` for more), in rounds of a server and (mostly)
two imports at once, at points drawn by a random generator seeded with :data:`SEED` (printed, named in every failure, and
replayed with ``NORDCERT_CRASH_SEED``):

- ``nordcert import FILE`` importing a STIX bundle of a few thousand objects (one transaction, with a
  progress bar in a terminal), killed during its start-up, while it parses and writes, or about when it
  commits (delays placed from the first output of its progress bar, scaled by an uninterrupted import
  of the same size timed first and by what later kills observe);
- ``nordcert serve`` receiving TAXII 2.1 envelopes and REST bundles from two clients at once, killed
  while it starts or while it stores them.

After every round :class:`~tests.assurance.crash_store.Checker` checks the store with SQL against the
batches drawn (no partial batch, no duplicate, the index consistent with the objects, no acknowledged
batch lost, no lock left behind). At the end every import and every envelope is run again to its end,
and the store must equal a reference store into which the same batches went without a kill.

On PostgreSQL a second test kills ``nordcert serve --workers 2``: its workers must stop on their own.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.formats import imports
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.observables.reindex import rebuild
from tests.assurance.crash_data import Batch, Intel
from tests.assurance.crash_procs import (
    EMAIL,
    Import,
    Instance,
    Sender,
    Server,
    children,
    import_json,
    instance,
    kill,
    run_import,
    running,
)
from tests.assurance.crash_store import Checker, differences, snapshot
from tests.conftest import POSTGRES_URL

KILLS = int(os.environ.get("NORDCERT_CRASH_KILLS", "20"))
SEED = int(os.environ.get("NORDCERT_CRASH_SEED") or random.SystemRandom().randrange(2**32))
#: Bundles ``nordcert import`` is killed importing (more for more kills, so that most kills catch a file
#: not stored yet rather than one imported again), and their size.
FILES, FILE_OBJECTS = max(6, KILLS // 3), 2500
#: Objects per TAXII envelope or REST bundle, and the batches a server is sent before it is killed.
ENVELOPE_OBJECTS, ENVELOPES_PER_RUN = 250, 6


def _in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run ``jobs`` at once; their results, or the first exception raised."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int, job: Callable[[], Any]) -> None:
        try:
            results[i] = job()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


@dataclass
class Course:
    """One crash test: the store, the batches drawn, the timings kills are placed by, what each kill hit.

    The timings start from an uninterrupted import and follow what the kills see (a machine's load
    changes them several fold): an import that ended before its kill tells how long imports now take,
    one killed later than that tells they take longer."""

    inst: Instance
    checker: Checker
    rng: random.Random
    intel: Intel
    files: list[tuple[Batch, Path]]
    tmp: Path
    import_start: float  # seconds from spawning `nordcert import` to its first output
    import_work: float  # seconds from its first output to its end
    server_start: float  # seconds from spawning `nordcert serve` to its listening
    per_batch: float  # seconds a server takes per batch
    procs: list[Any] = field(default_factory=list)
    envelopes: list[Batch] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    interrupted: int = 0  # imports killed after they began and before they ended
    log: list[str] = field(default_factory=list)

    def round(self, n: int, imports: int) -> None:
        """Start a server and ``imports`` imports (of files not stored yet, as far as they go) at once,
        kill each at its drawn point, then check the store."""
        pending = [f for f in self.files if f[0].name not in self.stored]
        chosen = pending[:imports]
        chosen += self.rng.sample([f for f in self.files if f not in chosen], imports - len(chosen))
        jobs: list[Callable[[], str]] = []
        for batch, path in chosen:
            mode, u = self.rng.choice(("start-up", "import", "import", "import", "commit")), self.rng.random()
            jobs.append(lambda b=batch, p=path, m=mode, x=u: self._kill_import(b, p, m, x))
        waiting = [b for b in self.envelopes if b.name not in self.stored]
        while len(waiting) < ENVELOPES_PER_RUN:
            drawn = self.intel.batch(f"e{len(self.envelopes)}", ENVELOPE_OBJECTS)
            self.checker.add(drawn)
            self.envelopes.append(drawn)
            waiting.append(drawn)
        early, v = self.rng.random() < 0.15, self.rng.random()
        jobs.append(lambda: self._kill_server(n, waiting, early, v))
        what = _in_threads(*jobs)
        context = f"seed {SEED} (NORDCERT_CRASH_SEED), round {n + 1}: " + "; ".join(what)
        self.stored = self.checker.check(acknowledged=self.acknowledged, context=context)
        lines = [f"{line}: {'stored' if batch.name in self.stored else 'not stored'}"
                 + (" (imported again)" if (batch, path) not in pending else "")
                 for (batch, path), line in zip(chosen, what, strict=False)]
        for line in [*lines, what[-1]]:
            self.log.append(f"{n + 1:2}. {line}")
            print(self.log[-1])

    def _kill_import(self, batch: Batch, path: Path, mode: str, u: float) -> str:
        """Kill an import before its first output (start-up), at a random point of its expected
        duration after it (import), or about its expected end (commit)."""
        run = Import(self.inst, path)
        self.procs.append(run.proc)
        if mode == "start-up":
            time.sleep(u * self.import_start)
        else:
            run.began.wait(timeout=120)
            time.sleep((u if mode == "import" else 0.8 + 0.4 * u) * self.import_work)
        killed_at = time.monotonic()
        code = run.proc.poll()
        kill(run.proc)
        run.wait()
        assert code in (None, 0), f"seed {SEED}: import {batch.name} failed before its kill: {run.text()[-3000:]}"
        if run.began_at is not None:
            self.import_start = run.began_at - run.started
        if run.began_at is None:
            return f"import {batch.name} killed {killed_at - run.started:.2f} s after it was started, before its output"
        if run.ended_at is not None and run.ended_at < killed_at:
            self.import_work = run.ended_at - run.began_at
            return f"import {batch.name} ({mode}) killed after it ended"
        self.interrupted += 1
        after = killed_at - run.began_at
        self.import_work = max(self.import_work, 1.25 * after)  # it takes longer than that now
        return f"import {batch.name} ({mode}) killed {after:.2f} s after its first output"

    def _kill_server(self, n: int, batches: list[Batch], early: bool, v: float) -> str:
        """Kill a server while it starts, or while it stores batches from two clients."""
        server = Server(self.inst, self.tmp / f"serve-{n + 1}.log")
        self.procs.append(server.proc)
        if early:
            delay = v * self.server_start
            time.sleep(delay)
            code = server.proc.poll()
            kill(server.proc)
            assert code is None, f"seed {SEED}: the server stopped before its kill: {server.tail()}"
            return f"server killed {delay:.2f} s after it was started"
        self.server_start = server.wait_listening()
        sender = Sender(server.url, self.inst, batches)
        delay = v * self.per_batch * len(batches)
        sender.start()
        time.sleep(delay)
        code = server.proc.poll()
        kill(server.proc)
        sender.join()
        assert code is None, f"seed {SEED}: the server stopped before its kill: {server.tail()}"
        assert not sender.refused, (f"seed {SEED}: batches refused", sender.refused, server.tail())
        acked = sender.acknowledged
        if acked:
            self.per_batch = (max(acked.values()) - sender.started) / len(acked)
        self.acknowledged |= set(acked)
        return f"server killed {delay:.2f} s into {len(batches)} batches, {len(acked)} acknowledged"


def _import_in_process(inst: Instance, path: Path) -> None:
    """What `nordcert import` does, in this process (the reference needs no kill)."""
    with transaction(inst.engine) as conn:
        sub = submission_for(conn, accounts.reader_for(conn, EMAIL))
        imports.run_import(conn, str(path), "stix", sub, inst.settings)


@pytest.mark.slow
def test_killed_imports_and_servers_leave_a_consistent_store_and_complete_when_run_again(tmp_path: Path) -> None:
    print(f"crash test: seed {SEED} (NORDCERT_CRASH_SEED={SEED} replays it), {KILLS} kills")
    started = time.monotonic()
    intel = Intel(SEED)
    rng = random.Random(f"{SEED}-kills")
    files = []
    for i in range(FILES):
        batch = intel.batch(f"f{i}", FILE_OBJECTS)
        path = tmp_path / f"{batch.name}.json"
        path.write_bytes(orjson.dumps(batch.bundle()))
        files.append((batch, path))
    procs: list[Any] = []
    try:
        with instance(tmp_path / "reference") as ref, instance(tmp_path / "store") as inst:
            # The reference: every file imported without a kill (the first by `nordcert import`, timed).
            timing = run_import(ref, files[0][1])
            for _batch, path in files[1:]:
                _import_in_process(ref, path)
            print(f"reference built at {time.monotonic() - started:.1f} s")
            checker = Checker(inst.engine, inst.settings)
            for batch, _path in files:
                checker.add(batch)
            course = Course(inst, checker, rng, intel, files, tmp_path, timing["start"], timing["work"],
                            2 * timing["start"], 2 * timing["work"] / FILE_OBJECTS * ENVELOPE_OBJECTS, procs)
            # A server killed in each round, with two imports (one in some rounds when the kills do not split).
            rounds = (KILLS + 2) // 3
            per_round = [(KILLS - rounds) // rounds] * rounds
            for extra in rng.sample(range(rounds), (KILLS - rounds) % rounds):
                per_round[extra] += 1
            for n, imports_ in enumerate(per_round):
                course.round(n, imports_)
            if KILLS - rounds >= 5:
                assert course.interrupted, f"seed {SEED}: no import was killed while it ran:\n" + "\n".join(course.log)

            print(f"{len(per_round)} rounds done at {time.monotonic() - started:.1f} s")
            # Run everything again to its end, at once: every file, and every batch to a server not killed.
            server = Server(inst, tmp_path / "serve-final.log")
            procs.append(server.proc)

            def send_all() -> Sender:
                server.wait_listening()
                sender = Sender(server.url, inst, course.envelopes)
                sender.start()
                sender.join()
                return sender

            *reports, sender = _in_threads(*(lambda p=p: import_json(inst, p) for _b, p in files), send_all)
            server.proc.terminate()
            server.proc.wait(timeout=30)
            assert set(sender.acknowledged) == {b.name for b in course.envelopes}, (sender.refused, server.tail())
            for (batch, _path), report in zip(files, reports, strict=True):
                assert report["total"] == len(batch.objects) and report["rejected"] == 0, report
                if batch.name in course.stored:  # stored before: found unchanged
                    assert report["created"] == report["updated"] == 0, (batch.name, report)
            every = set(checker.batches)
            assert checker.check(acknowledged=every, context=f"seed {SEED}: after running again") == every

            print(f"run again at {time.monotonic() - started:.1f} s")
            # The reference gets the same batches without a kill: both stores must hold the same.
            with transaction(ref.engine) as conn:
                sub = submission_for(conn, accounts.reader_for(conn, EMAIL))
            for batch in course.envelopes:
                with transaction(ref.engine) as conn:
                    ingest(conn, batch.objects, sub, ref.settings)
            got = snapshot(inst.engine)
            assert not (diff := differences(got, snapshot(ref.engine))), \
                f"seed {SEED}: the store differs from an uninterrupted import's: {diff}"
            # Rebuilding the index from the objects (`nordcert reindex`) finds it as it is.
            with inst.engine.connect() as conn, conn.begin() as tx:
                rebuild(conn, inst.settings)
                assert not (diff := differences(snapshot(conn), got)), \
                    f"seed {SEED}: the index differs from one rebuilt from the objects: {diff}"
                tx.rollback()
    finally:
        for proc in procs:
            kill(proc)
    print(f"{KILLS} kills, {len(files)} files, {len(course.envelopes)} envelopes, "
          f"{time.monotonic() - started:.1f} s")


@pytest.mark.skipif(not POSTGRES_URL, reason="several workers serve PostgreSQL stores only: `nordcert serve` "
                                             "refuses --workers on SQLite, which one process serves")
def test_a_multi_worker_server_killed_leaves_no_worker_behind_and_no_batch_half_stored(tmp_path: Path) -> None:
    """SIGKILL reaches `nordcert serve --workers 2` itself, not its workers: they must stop on their own
    (finishing the requests under way) and free the port, and the store must hold whole batches only."""
    rng = random.Random(f"{SEED}-workers")
    intel = Intel(SEED)
    batches = [intel.batch(f"e{i}", ENVELOPE_OBJECTS) for i in range(ENVELOPES_PER_RUN)]
    with instance(tmp_path / "store") as inst:
        checker = Checker(inst.engine, inst.settings)
        for batch in batches:
            checker.add(batch)
        server = Server(inst, tmp_path / "serve.log", workers=2)
        workers: set[int] = set()
        try:
            server.wait_listening()
            deadline = time.monotonic() + 60
            while len(workers := children(server.proc.pid)) < 3:  # two workers and multiprocessing's tracker
                assert time.monotonic() < deadline, (workers, server.tail())
                time.sleep(0.05)
            sender = Sender(server.url, inst, batches)
            sender.start()
            time.sleep(rng.uniform(0, 0.5))
            kill(server.proc)
            deadline = time.monotonic() + 30
            while alive := {pid for pid in workers if running(pid)}:
                assert time.monotonic() < deadline, f"seed {SEED}: workers {alive} still run without their server"
                time.sleep(0.05)
            sender.join()
            assert not sender.refused, (sender.refused, server.tail())
            checker.check(acknowledged=set(sender.acknowledged), context=f"seed {SEED}: workers stopped")
            with socket.socket() as again:  # as uvicorn binds: the port is free for the next server
                again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                again.bind(("127.0.0.1", server.port))
                again.listen()
        finally:
            kill(server.proc)
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
