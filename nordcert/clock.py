"""Wall-clock time in the one unit the store uses: integer microseconds since the epoch (UTC)."""

from __future__ import annotations

import time


def now_us() -> int:
    return time.time_ns() // 1000
