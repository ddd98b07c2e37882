"""What the observable exports share: the visible index rows, decay, sightings and warninglists.

Every read joins the observable index to ``stix_objects`` and filters it with
:func:`nordcert.sharing.policy.visible_clause`; staleness is :func:`nordcert.observables.service.decay`
itself (its cut-off found once per kind, since the score only falls with age); warninglists are the
matcher the lookup uses (:func:`nordcert.observables.warninglist_store.current_matcher`).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, func, select

from nordcert.accounts.tables import organisations
from nordcert.config import Settings
from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.observables.service import decay
from nordcert.observables.tables import observables, sighting_index
from nordcert.observables.warninglists import Matcher
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp

_o = observables
_s = stix_objects
_OLDEST = -(2**62)


def visible_rows(reader: Reader | None, kinds: Iterable[str], *, tlp_max: Tlp | None = None,
                 added_after: int | None = None, types: tuple[str, ...] = (), columns: tuple[Any, ...] = (),
                 with_creator: bool = False, postgres: bool = False) -> Select[Any]:
    """Index rows of ``kinds`` held by the latest, unrevoked versions the reader may see, by value.

    The value is the first column, then ``columns``; rows of one value are consecutive. On PostgreSQL
    the order is byte order (``COLLATE "C"``), as on SQLite, so both stores write the same files.
    """
    kinds = list(kinds)
    q = (select(_o.c.value, *columns)
         .select_from(_o.join(_s, _s.c.date_added == _o.c.date_added))
         .where(_o.c.kind.in_(kinds) if len(kinds) > 1 else _o.c.kind == kinds[0],
                _s.c.is_latest.is_(True), _s.c.revoked.is_(False),
                policy.visible_clause(reader, _s, object_recipients)))
    if with_creator:  # ``columns`` may then name ``organisations.c.short_name``
        q = q.outerjoin(organisations, organisations.c.id == _s.c.creator_org_id)
    if tlp_max is not None:
        q = q.where(_s.c.tlp <= int(tlp_max))
    if added_after is not None:
        q = q.where(_s.c.date_added > added_after)
    if types:
        q = q.where(_s.c.type.in_(types))
    value = _o.c.value.collate("C") if postgres else _o.c.value
    return q.order_by(_o.c.kind, value, _o.c.date_added) if len(kinds) > 1 else q.order_by(value, _o.c.date_added)


def sightings_seen(conn: Connection, reader: Reader | None) -> dict[str, tuple[int, int]]:
    """(count, last seen) of the sightings the reader may see, by sighted object id (as the lookup counts)."""
    i = sighting_index
    rows = conn.execute(
        select(i.c.sighting_of_ref, func.sum(i.c.count), func.max(i.c.last_seen))
        .select_from(i.join(_s, _s.c.date_added == i.c.date_added))
        .where(policy.visible_clause(reader, _s, object_recipients))
        .group_by(i.c.sighting_of_ref)
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


@dataclass(frozen=True)
class Staleness:
    """Decides staleness as of ``now`` with :func:`decay`, one cut-off per kind.

    ``decay`` only falls as ``last_seen`` grows older, so the oldest ``last_seen`` that is not stale
    is found once by bisection and each row costs one comparison.
    """

    now: int
    settings: Settings

    def cutoff(self, kind: str) -> int:
        """The oldest ``last_seen`` (µs) whose score is not stale."""
        def stale(last_seen: int) -> bool:
            return decay(kind, last_seen, None, self.now, self.settings)[1]

        if not stale(_OLDEST):
            return _OLDEST
        if stale(self.now):
            return self.now + 1
        lo, hi = _OLDEST, self.now  # stale(lo), not stale(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if stale(mid):
                lo = mid
            else:
                hi = mid
        return hi

    def score(self, kind: str, last_seen: int, valid_until: int | None) -> tuple[float, bool]:
        return decay(kind, last_seen, valid_until, self.now, self.settings)


def last_seen(modified: int | None, created: int | None, date_added: int, sighted: tuple[int, int] | None) -> int:
    """When a value was last reported or sighted: the object's version, or its latest visible sighting."""
    seen = modified or created or date_added
    return max(seen, sighted[1]) if sighted else seen


_digests: weakref.WeakKeyDictionary[Matcher, str] = weakref.WeakKeyDictionary()


def matcher_digest(matcher: Matcher) -> str:
    """A digest of the enabled warninglists a matcher was built from (their names, versions, entries)."""
    found = _digests.get(matcher)
    if found is None:
        h = hashlib.sha256()
        for wl in matcher.lists:
            h.update(f"{wl.name}\0{wl.version}\0{len(wl.entries)}\0".encode())
            for entry in wl.entries:
                h.update(entry.encode() + b"\0")
        found = _digests[matcher] = h.hexdigest()[:24]
    return found
