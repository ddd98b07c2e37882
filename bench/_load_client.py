"""The load generator of bench/load.py: a closed loop of ``concurrency`` clients on one asyncio event
loop, each with its own keep-alive HTTP/1.1 connection, picking operations from a weighted mix.

The HTTP client is a minimal one on asyncio streams (Content-Length and chunked bodies): httpx costs
several hundred microseconds of CPU a request, which on a 2-core machine shared with the servers
would be taken from them. With ``rate`` the clients start their requests on a schedule (client k
sends its i-th request at (i * concurrency + k) / rate seconds) and a request's latency counts from
its scheduled start, so time spent waiting behind a slow answer is not hidden (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import quantiles
from typing import Any, Protocol


class Answer(Exception):
    """A request whose answer was wrong: an HTTP status other than expected, or a wrong body."""

    def __init__(self, status: int | str, message: str) -> None:
        super().__init__(message)
        self.status = status


class Connection:
    """One keep-alive HTTP/1.1 connection, opened (again) when needed."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, target: str, headers: bytes, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 22)
        assert self.reader is not None
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n".encode() + headers
        if body:
            head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        try:
            self.writer.write(head + b"\r\n" + body)
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            fields = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:] if ln)}
            if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
                answer = await self._chunked()
            else:
                answer = await self.reader.readexactly(int(fields.get(b"content-length", b"0")))
            if fields.get(b"connection", b"").lower() == b"close":
                await self.close()
            return status, answer
        except BaseException:
            await self.close()
            raise

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer, self.reader = None, None


class Operation(Protocol):
    """One kind of request of the mix. ``run`` makes one request and checks its answer; it returns
    the number of objects (or values) the request carried, and raises ``Answer`` when it was wrong."""

    name: str

    async def run(self, conn: Connection, client: int, rng: random.Random) -> int: ...


@dataclass
class OpStats:
    latencies_ms: list[float] = field(default_factory=list)
    objects: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)

    def error(self, status: str, message: str) -> None:
        self.errors[status] += 1
        self.samples.setdefault(status, message[:300])

    def summary(self, seconds: float) -> dict[str, Any]:
        ms = sorted(self.latencies_ms)
        n = len(ms)
        errors = sum(self.errors.values())
        out: dict[str, Any] = {"requests": n + errors, "ok": n, "errors": errors,
                               "requests_per_s": round((n + errors) / seconds, 1),
                               "objects": self.objects, "objects_per_s": round(self.objects / seconds, 1)}
        if n:
            cuts = quantiles(ms, n=1000, method="inclusive") if n > 1 else [ms[0]] * 999
            out.update(p50_ms=round(cuts[499], 2), p95_ms=round(cuts[949], 2), p99_ms=round(cuts[989], 2),
                       max_ms=round(ms[-1], 2), mean_ms=round(sum(ms) / n, 2))
        out["errors_by_status"] = dict(self.errors)
        out["error_samples"] = self.samples
        return out


@dataclass
class RunResult:
    seconds: float
    stats: dict[str, OpStats]
    all_ms: list[float]
    late_starts: int  # paced runs: requests started more than 10 ms after their scheduled time
    client_cpu_s: float


async def _client(k: int, ops: Sequence[Operation], weights: Sequence[float], host: str, port: int,
                  measure_from: float, stop_at: float, concurrency: int, rate: float,
                  stats: dict[str, OpStats], all_ms: list[float], late: list[int], seed: int) -> None:
    rng = random.Random(seed * 1000 + k)
    conn = Connection(host, port)
    i = 0
    start = time.perf_counter()
    try:
        while True:
            if rate:
                scheduled = start + (i * concurrency + k) / rate
                now = time.perf_counter()
                if scheduled > now:
                    await asyncio.sleep(scheduled - now)
                elif now - scheduled > 0.010 and scheduled >= measure_from:
                    late[0] += 1
                i += 1
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            origin = scheduled if rate else t0
            op = rng.choices(ops, weights)[0]
            st = stats[op.name]
            try:
                n = await op.run(conn, k, rng)
            except Answer as exc:
                if origin >= measure_from:
                    st.error(str(exc.status), str(exc))
                continue
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                if origin >= measure_from:
                    st.error(type(exc).__name__, repr(exc))
                continue
            t1 = time.perf_counter()
            if origin >= measure_from and t1 <= stop_at + 30:
                ms = (t1 - origin) * 1000
                st.latencies_ms.append(ms)
                all_ms.append(ms)
                st.objects += n
    finally:
        await conn.close()


def run(ops: Sequence[Operation], weights: Sequence[float], host: str, port: int, *, concurrency: int,
        duration: float, warmup: float, rate: float = 0.0, seed: int = 1,
        on_measure_start: Callable[[], None] | None = None) -> RunResult:
    """The mix for ``warmup`` + ``duration`` seconds; only requests started after the warm-up count.
    A request started before the end is waited for (its latency counts; the rates use ``duration``)."""
    stats = {op.name: OpStats() for op in ops}
    all_ms: list[float] = []
    late = [0]

    cpu = [0.0]

    async def main() -> None:
        now = time.perf_counter()
        measure_from, stop_at = now + warmup, now + warmup + duration
        tasks = [asyncio.create_task(_client(k, ops, weights, host, port, measure_from, stop_at, concurrency, rate,
                                             stats, all_ms, late, seed)) for k in range(concurrency)]
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        cpu[0] = time.process_time()
        if on_measure_start is not None:
            on_measure_start()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    # rates are per second of the measured window (``duration``): the requests started in it
    return RunResult(duration, stats, all_ms, late[0], time.process_time() - cpu[0])
