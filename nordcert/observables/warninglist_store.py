"""Warninglists in the store: loaded from MISP-format files, enabled or disabled by CERT staff.

Every process builds one :class:`~nordcert.observables.warninglists.Matcher` from the enabled lists
and keeps it until the lists change: a change made in this process is seen at once, one made by
another process within :data:`RECHECK_SECONDS`.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from nordcert.audit.service import record_change
from nordcert.clock import now_us
from nordcert.errors import Invalid, NotFound
from nordcert.observables.kinds import Kind
from nordcert.observables.tables import warninglists as wl_table
from nordcert.observables.warninglists import Matcher, Warninglist, WarninglistError, load_dir, load_file
from nordcert.sharing.policy import Reader

RECHECK_SECONDS = 2.0

_lock = threading.Lock()
# engine -> (generation, matcher, time checked)
_cache: weakref.WeakKeyDictionary[Engine, tuple[tuple[Any, ...], Matcher, float]] = weakref.WeakKeyDictionary()


def _generation(conn: Connection) -> tuple[Any, ...]:
    row = conn.execute(select(func.count(), func.max(wl_table.c.loaded_at), func.sum(wl_table.c.entries_count))
                       .select_from(wl_table)).one()
    return tuple(row)


def _build(conn: Connection) -> Matcher:
    rows = conn.execute(select(wl_table).where(wl_table.c.enabled.is_(True)).order_by(wl_table.c.name)).all()
    lists = [
        Warninglist(name=r.name, version=r.version, description=r.description, type=r.list_type,
                    kinds=frozenset(Kind(k) for k in r.kinds.split(",") if k),
                    entries=tuple(orjson.loads(r.entries)))
        for r in rows
    ]
    return Matcher(lists)


def current_matcher(conn: Connection) -> Matcher:
    """The matcher of the enabled warninglists, rebuilt only when they changed."""
    engine = conn.engine
    now = time.monotonic()
    cached = _cache.get(engine)
    if cached is not None and now - cached[2] < RECHECK_SECONDS:
        return cached[1]
    generation = _generation(conn)
    if cached is not None and cached[0] == generation:
        _cache[engine] = (generation, cached[1], now)
        return cached[1]
    matcher = _build(conn)
    with _lock:
        _cache[engine] = (generation, matcher, now)
    return matcher


def current_check(conn: Connection) -> Any:
    """``match(kind, value) -> [list names]`` of the current matcher, or None when no list is enabled."""
    matcher = current_matcher(conn)
    return matcher.match if matcher.lists else None


def _forget(conn: Connection) -> None:
    with _lock:
        _cache.pop(conn.engine, None)


def load(conn: Connection, paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Load (or replace, by name) the warninglists in ``paths`` (list.json files or folders of them)."""
    lists: list[Warninglist] = []
    for path in paths:
        try:
            lists.extend(load_dir(path) if path.is_dir() else [load_file(path)])
        except WarninglistError as exc:
            raise Invalid(str(exc)) from None
        except OSError as exc:
            raise Invalid(f"{path}: {exc.strerror or exc}") from None
    if not lists:
        raise Invalid("no warninglist found in " + ", ".join(str(p) for p in paths))
    stamp = now_us()
    out = []
    for wl in lists:
        values = {"version": str(wl.version), "description": wl.description, "list_type": wl.type,
                  "kinds": ",".join(sorted(str(k) for k in wl.kinds)),
                  "entries": orjson.dumps(list(wl.entries)).decode(), "entries_count": len(wl.entries),
                  "loaded_at": stamp}
        done = conn.execute(update(wl_table).where(wl_table.c.name == wl.name).values(**values)).rowcount
        if not done:
            conn.execute(insert(wl_table).values(name=wl.name, enabled=True, **values))
        out.append({"name": wl.name, "version": str(wl.version), "type": wl.type,
                    "kinds": sorted(str(k) for k in wl.kinds), "entries": len(wl.entries)})
    _forget(conn)
    return out


def list_all(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(wl_table.c.name, wl_table.c.version, wl_table.c.list_type, wl_table.c.kinds,
                               wl_table.c.enabled, wl_table.c.description, wl_table.c.entries_count)
                        .order_by(wl_table.c.name)).all()
    return [{"name": r.name, "version": r.version, "type": r.list_type, "kinds": [k for k in r.kinds.split(",") if k],
             "enabled": r.enabled, "entries": r.entries_count, "description": r.description}
            for r in rows]


def set_enabled(conn: Connection, name: str, enabled: bool, *, actor: Reader | None = None) -> None:
    done = conn.execute(update(wl_table).where(wl_table.c.name == name)
                        .values(enabled=enabled, loaded_at=now_us())).rowcount
    if not done:
        raise NotFound(f"no warninglist {name!r}")
    record_change(conn, actor, "warninglist.enabled" if enabled else "warninglist.disabled", name)
    _forget(conn)


def remove(conn: Connection, name: str, *, actor: Reader | None = None) -> None:
    if not conn.execute(delete(wl_table).where(wl_table.c.name == name)).rowcount:
        raise NotFound(f"no warninglist {name!r}")
    record_change(conn, actor, "warninglist.removed", name)
    _forget(conn)
