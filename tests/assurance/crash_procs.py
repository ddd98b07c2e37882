"""The processes the crash tests kill: ``nordcert import`` in a terminal, ``nordcert serve`` fed by two clients.

Each runs as a process of its own (``python -m nordcert``) against the test's store, found through
``NORDCERT_HOME`` and ``NORDCERT_DATABASE_URL`` as an operator's would be, so that SIGKILL ends it at
whatever it is doing. ``nordcert import`` writes to a pseudo-terminal, as it does for an operator: its
progress bar is its first output, drawn once the import's transaction has begun, which tells the test
when the import started. ``nordcert serve`` listens on a free port of 127.0.0.1.
"""

from __future__ import annotations

import os
import pty
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import make_engine, migrate, transaction
from nordcert.taxii import collections
from tests.assurance.conftest import module_settings
from tests.assurance.crash_data import Batch

EMAIL = "analyst@alpha.example"
TAXII = "application/taxii+json;version=2.1"


@dataclass
class Instance:
    """A store, and the environment a process serving or importing into it runs with."""

    settings: Settings
    engine: Engine
    token: str  # the analyst's API token
    collection: str  # the sector collection's id, which the analyst may write
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {**os.environ, "NORDCERT_HOME": str(self.settings.home), "TERM": "xterm", "COLUMNS": "120"}
        if self.settings.database_url:
            self.env["NORDCERT_DATABASE_URL"] = self.settings.database_url


@contextmanager
def instance(home: Path) -> Iterator[Instance]:
    """A migrated store (a SQLite file in ``home`` or a PostgreSQL schema of its own) holding one member,
    its analyst and a sector collection everyone may write."""
    home.mkdir()
    with module_settings(home) as settings:
        engine = make_engine(settings)
        migrate(engine)
        try:
            with transaction(engine) as conn:
                accounts.create_organisation(conn, name="Alpha Bank", short_name="ALPHA", country="DK",
                                             sector_type="bank")
                accounts.create_user(conn, email=EMAIL, organisation="ALPHA", role="analyst")
                token = credentials.create_token(conn, user=EMAIL).token
                cid = collections.create_collection(conn, title="Sector", kind="sector", read_all=True,
                                                    write_all=True)["id"]
            yield Instance(settings, engine, token, cid)
        finally:
            engine.dispose()


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


class Import:
    """``nordcert import FILE`` running in a pseudo-terminal; :attr:`began` is set at its first output."""

    def __init__(self, inst: Instance, file: Path) -> None:
        master, slave = pty.openpty()
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "nordcert", "import", str(file), "--as", EMAIL],
                                     env=inst.env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
        os.close(slave)
        self.began = threading.Event()
        self.began_at: float | None = None
        self.ended_at: float | None = None  # when its terminal closed: it exited
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, args=(master,), daemon=True)
        self._reader.start()

    def _read(self, master: int) -> None:
        try:
            while chunk := os.read(master, 65536):  # the terminal must be drained, or the bar blocks the import
                if not self.began.is_set():
                    self.began_at = time.monotonic()
                    self.began.set()
                self.output += chunk
        except OSError:
            pass  # the process is gone (EIO)
        finally:
            self.ended_at = time.monotonic()
            os.close(master)

    def wait(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def text(self) -> str:
        return self.output.decode(errors="replace")


def run_import(inst: Instance, file: Path) -> dict[str, float]:
    """``nordcert import FILE`` in a terminal, to its end: how long it took to begin, and then to end."""
    run = Import(inst, file)
    code = run.wait()
    assert code == 0 and run.began_at is not None and run.ended_at is not None, (file.name, run.text()[-3000:])
    return {"start": run.began_at - run.started, "work": run.ended_at - run.began_at}


def import_json(inst: Instance, file: Path) -> dict[str, object]:
    """``nordcert import FILE --json`` to its end: the report."""
    done = subprocess.run([sys.executable, "-m", "nordcert", "import", str(file), "--as", EMAIL, "--json"],
                          env=inst.env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, (file.name, done.stdout[-2000:], done.stderr[-2000:])
    report: dict[str, object] = orjson.loads(done.stdout)
    return report


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``nordcert serve`` on a free loopback port, its output in ``log``."""

    def __init__(self, inst: Instance, log: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.started = time.monotonic()
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "nordcert", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(workers)],
                env=inst.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def wait_listening(self) -> float:
        """Wait until it accepts connections and has answered once (its first answer loads what it loads
        lazily); return how long it took to start."""
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nordcert serve did not start: {self.tail()}") from None
                time.sleep(0.02)
        took = time.monotonic() - self.started
        httpx.get(f"{self.url}/taxii2/", headers={"Accept": TAXII}, timeout=60)
        return took

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` and which have not exited (Linux ``/proc``)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


class Sender:
    """Two clients posting batches to a server at once, alternately as TAXII envelopes (to the sector
    collection) and REST bundles; it records the batches the server acknowledged as stored, and when."""

    def __init__(self, url: str, inst: Instance, batches: list[Batch]) -> None:
        self.url = url
        self.inst = inst
        self.queue = list(batches)
        self.lock = threading.Lock()
        self.acknowledged: dict[str, float] = {}
        self.refused: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]
        self.started = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        for t in self.threads:
            t.start()

    def join(self) -> None:
        for t in self.threads:
            t.join(timeout=120)

    def _next(self) -> Batch | None:
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.inst.token}"},
                          timeout=120) as http:
            while (batch := self._next()) is not None:
                try:
                    answer = self._post(http, batch)
                except httpx.TransportError:
                    return  # the server was killed: this batch is in doubt
                except Exception as exc:  # noqa: BLE001 - an answer that is no answer: the test fails on it
                    answer = repr(exc)
                with self.lock:
                    if answer is None:
                        self.acknowledged[batch.name] = time.monotonic()
                    else:
                        self.refused.append(f"{batch.name}: {answer}")

    def _post(self, http: httpx.Client, batch: Batch) -> str | None:
        """Send one batch; None if the answer says every object is stored, else the answer."""
        n = len(batch.objects)
        if int(batch.name.lstrip("e")) % 2 == 0:
            r = http.post(f"/taxii2/api/collections/{self.inst.collection}/objects/",
                          content=orjson.dumps({"objects": batch.objects}),
                          headers={"Content-Type": TAXII, "Accept": TAXII})
            ok = r.status_code == 202 and r.json()["success_count"] == n
        else:
            r = http.post("/api/v1/objects", content=orjson.dumps(batch.bundle()),
                          headers={"Content-Type": "application/json"})
            ok = r.status_code == 201 and r.json()["total"] == n
        return None if ok else f"{r.status_code} {r.text[:500]}"
