"""Token buckets, one per key (a token, an address): ``rate`` per second refills up to ``burst``.

In-process and approximate on purpose: they guard one process's capacity, cost a dictionary lookup,
and never touch the store. With N API processes behind a load balancer a client gets up to N times the
rate; limits that must hold across processes are kept in the store (log-in failures).
"""

from __future__ import annotations

import math
from collections.abc import Hashable


class Buckets:
    def __init__(self, rate: float, burst: float, *, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.max_keys = max_keys
        self._state: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens left, when)

    def take(self, key: Hashable, now: float) -> float:
        """Take one token for ``key``: 0.0 if there was one, else the seconds until there is."""
        tokens, when = self._state.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        if tokens >= 1.0:
            if len(self._state) >= self.max_keys and key not in self._state:
                self._forget_idle(now)
            self._state[key] = (tokens - 1.0, now)
            return 0.0
        self._state[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        """Drop keys whose bucket has refilled (they would start full anyway); if none has, the oldest half."""
        full = [k for k, (t, w) in self._state.items() if t + (now - w) * self.rate >= self.burst]
        for key in full:
            del self._state[key]
        if len(self._state) >= self.max_keys:
            for key in sorted(self._state, key=lambda k: self._state[k][1])[: len(self._state) // 2]:
                del self._state[key]


def retry_after(seconds: float) -> str:
    """The ``Retry-After`` value (RFC 9110 §10.2.3): whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
