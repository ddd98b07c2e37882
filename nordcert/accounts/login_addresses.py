"""Failed web log-ins per client address, counted in the store.

An address that fails ``max_failures`` log-ins (to any accounts, known or not) within a window of
``window_minutes`` may not log in again until that window ends. The count lives in the store, so every
API process refuses the address at once, and a restart forgets nothing. A successful log-in does not
reset it (one valid account must not buy unlimited guesses at others). The per-account lockout is
:func:`nordcert.accounts.credentials.log_in`'s.
"""

from __future__ import annotations

from sqlalchemy import Connection, case, delete, select

from nordcert.accounts.tables import login_address_failures as failures_table
from nordcert.clock import now_us
from nordcert.db import upsert_insert

_US_PER_MINUTE = 60_000_000


def refused_for(conn: Connection, address: str, *, max_failures: int, window_minutes: float) -> float | None:
    """Seconds until ``address`` may try again, or None if it may now."""
    row = conn.execute(select(failures_table.c.window_started_at, failures_table.c.failures)
                       .where(failures_table.c.address == address[:64])).first()
    if row is None or row.failures < max_failures:
        return None
    ends = row.window_started_at + int(window_minutes * _US_PER_MINUTE)
    now = now_us()
    return (ends - now) / 1_000_000 if ends > now else None


def record_failure(conn: Connection, address: str, *, window_minutes: float) -> int:
    """Count one failed log-in from ``address``; returns the failures of its current window."""
    now = now_us()
    window_start = now - int(window_minutes * _US_PER_MINUTE)
    conn.execute(delete(failures_table).where(failures_table.c.window_started_at < window_start,
                                              failures_table.c.address != address[:64]))
    stale = failures_table.c.window_started_at < window_start
    stmt = upsert_insert(conn, failures_table).values(address=address[:64], window_started_at=now, failures=1)
    stmt = stmt.on_conflict_do_update(index_elements=["address"], set_={
        "failures": case((stale, 1), else_=failures_table.c.failures + 1),
        "window_started_at": case((stale, now), else_=failures_table.c.window_started_at),
    })
    conn.execute(stmt)
    count: int = conn.execute(select(failures_table.c.failures)
                              .where(failures_table.c.address == address[:64])).scalar_one()
    return count
