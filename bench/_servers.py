"""Server processes for the benchmarks: each on 127.0.0.1, stopped when the benchmark ends (also when it
is killed: on Linux the child gets SIGTERM when its parent dies)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

HOST = "127.0.0.1"


class BenchError(RuntimeError):
    pass


# --- server processes -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM if this script dies without cleaning up (e.g. SIGKILL)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def clean_env() -> dict[str, str]:
    """The environment for child processes, without NORDCERT_* settings a developer may have set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORDCERT_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Server:
    """One server process on 127.0.0.1; ``stop()`` ends it (idempotent)."""

    def __init__(self, name: str, argv: list[str], log: Path, port: int, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.argv, self.log, self.port, self.cwd = name, argv, log, port, cwd
        self.env = env or {}  # on top of clean_env()
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://{HOST}:{port}"

    def start(self, probe: str, timeout: float = 60.0) -> None:
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                         cwd=self.cwd, env={**clean_env(), **self.env}, start_new_session=True,
                                         # this script starts no threads, so preexec_fn is safe here
                                         preexec_fn=_die_with_parent if sys.platform == "linux" else None)  # noqa: PLW1509
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base, timeout=5) as client:
            while True:
                if self.proc.poll() is not None:
                    raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    client.get(probe)
                    return  # any HTTP answer (401 included) means it is serving
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise BenchError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")
                    time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def peak_rss_mib(self) -> float:
        """The process's peak resident set (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise BenchError(f"no VmHWM for {self.name} (pid {self.pid})")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait(10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def running(server: Server, probe: str) -> Iterator[Server]:
    """``server`` started (answering ``probe``) for the block, and stopped after it."""
    try:
        server.start(probe)
        yield server
    finally:
        server.stop()


def memory_gib() -> float:
    """This machine's memory, for the reports."""
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
