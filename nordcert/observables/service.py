"""Screening lookup and correlation: what the index knows about values, as the reader may see it.

A lookup answers, per value asked, the visible objects that hold it (or, for an address, a range
that contains it; for a domain asked with ``subdomains``, a parent domain; for a URL, its host),
how many members reported it, and the warninglists it is on. Correlation answers the same for
every observable of one object. Objects the reader may not see are never shown and their creators
never named; where :func:`policy.countable` allows, they add to the count of reporting members.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection

from nordcert.audit import buffered as audited
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.errors import Invalid
from nordcert.intel.validate import ObjectError, format_timestamp, timestamp_us
from nordcert.observables.hits import Hit, hits_for, hits_of_object, latest_visible
from nordcert.observables.index import known_prefixes
from nordcert.observables.kinds import (
    FullCardNumber,
    Kind,
    ObservableError,
    detect,
    ip_supernets,
    normalise,
    parent_domains,
    url_host,
)
from nordcert.observables.sightings import SightingSummary, summarise
from nordcert.observables.warninglist_store import current_matcher
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader

_DAY_US = 86_400 * 1_000_000
_IP_KINDS = (Kind.IPV4, Kind.IPV6, Kind.CIDR)


@dataclass
class _Query:
    """One value asked about: its normalised form and the index keys that match it."""

    index: int
    given: Any
    kind: Kind | None = None
    value: str | None = None
    error: str | None = None
    keys: list[tuple[str, str]] = field(default_factory=list)


def _mask(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"{digits[:6]}…{digits[-4:]}" if len(digits) >= 10 else "…"


def _parse(index: int, item: Any, settings: Settings, subdomains: bool, prefixes: Prefixes) -> _Query:
    q = _Query(index=index, given=item)
    try:
        if isinstance(item, str):
            found = detect(item.strip(), phone_region=settings.phone_region)
            if found is None:
                raise ObservableError("not a value of any kind we index (give its kind to see why)")
        elif isinstance(item, dict) and isinstance(item.get("value"), (str, int)) and item.get("kind"):
            try:
                kind = Kind(str(item["kind"]).lower())
            except ValueError:
                raise ObservableError(f"unknown kind {item['kind']!r}; one of {', '.join(k.value for k in Kind)}")
            found = normalise(kind, item["value"], phone_region=settings.phone_region)
        else:
            raise ObservableError("each value is a string, or an object with 'kind' and 'value'")
    except FullCardNumber as exc:
        q.given = _mask(str(item.get("value") if isinstance(item, dict) else item))
        q.error = str(exc)
        return q
    except ObservableError as exc:
        q.error = str(exc)
        return q
    q.kind, q.value = found
    q.keys = _keys(found[0], found[1], subdomains, prefixes)
    return q


#: Prefix lengths of the stored CIDR values, by address family (4, 6).
Prefixes = dict[int, set[int]]


def _prefixes(conn: Connection) -> Prefixes:
    out: Prefixes = {4: set(), 6: set()}
    for family, prefix in known_prefixes(conn):
        out.setdefault(family, set()).add(prefix)
    return out


def _ranges(kind: Kind, value: str, prefixes: Prefixes) -> list[tuple[str, str]]:
    lengths = prefixes.get(6 if ":" in value else 4)
    if not lengths:
        return []
    return [(Kind.CIDR.value, net) for net in ip_supernets(kind, value, lengths)]


def _keys(kind: Kind, value: str, subdomains: bool, prefixes: Prefixes) -> list[tuple[str, str]]:
    """The index keys that answer for a value: itself, containing ranges, its host, parent domains."""
    keys = [(kind.value, value)]
    if kind in _IP_KINDS:
        keys.extend(_ranges(kind, value, prefixes))
    host = url_host(value) if kind is Kind.URL else None
    if host is not None:
        keys.append((host[0].value, host[1]))
        if host[0] is Kind.DOMAIN and subdomains:
            keys.extend((Kind.DOMAIN.value, p) for p in parent_domains(host[1]))
        elif host[0] in _IP_KINDS:
            keys.extend(_ranges(host[0], host[1], prefixes))
    if kind is Kind.DOMAIN and subdomains:
        keys.extend((Kind.DOMAIN.value, p) for p in parent_domains(value))
    if kind is Kind.EMAIL and subdomains:
        domain = value.rpartition("@")[2]
        keys.append((Kind.DOMAIN.value, domain))
        keys.extend((Kind.DOMAIN.value, p) for p in parent_domains(domain))
    return keys


def decay(kind: str, last_seen: int, valid_until: int | None, now: int, settings: Settings) -> tuple[float, bool]:
    """(score, stale): the score halves every ``half_life_days(kind)`` since ``last_seen``."""
    age_days = max(0, now - last_seen) / _DAY_US
    score = round(0.5 ** (age_days / settings.half_life_days(kind)), 3)
    stale = (valid_until is not None and valid_until <= now) or score < settings.decay_stale_below
    return score, stale


def _describe(hit: Hit, reader: Reader | None, settings: Settings, sighted: SightingSummary | None,
              asked: tuple[str, str] | None, now: int) -> dict[str, Any]:
    obj = orjson.loads(hit.body)
    first_seen = _first_seen(obj, hit)
    last_seen = max(hit.modified or hit.created or hit.date_added, sighted.last_seen if sighted else 0)
    score, stale = decay(hit.kind, last_seen, hit.valid_until, now, settings)
    out: dict[str, Any] = {
        "id": hit.stix_id,
        "type": hit.type,
        "name": obj.get("name"),
        "tlp": hit.sharing.tlp.label,
        "confidence": obj.get("confidence"),
        "labels": obj.get("labels", []),
        "creator": (hit.creator_short or settings.instance_name)
        if policy.creator_visible(hit.sharing, reader) else "anonymous member",
        "first_seen": format_timestamp(first_seen),
        "last_seen": format_timestamp(last_seen),
        "valid_until": format_timestamp(hit.valid_until) if hit.valid_until else None,
        "sightings": sighted.count if sighted else 0,
        "decay_score": score,
        "stale": stale,
    }
    if asked is not None and (hit.kind, hit.value) != asked:
        out["matched"] = {"kind": hit.kind, "value": hit.value}
    return out


def _first_seen(obj: dict[str, Any], hit: Hit) -> int:
    for prop in ("valid_from", "first_seen", "first_observed"):
        if prop in obj:
            try:
                return timestamp_us(obj[prop])
            except ObjectError:
                pass
    return hit.created or hit.date_added


def _shown(hits: list[Hit], reader: Reader, settings: Settings, sighted: dict[str, SightingSummary],
           asked: tuple[str, str], now: int) -> list[dict[str, Any]]:
    """The hits the reader may see, each object once, described."""
    shown = []
    done: set[str] = set()
    for h in hits:
        if h.stix_id in done or not policy.visible(h.sharing, reader):
            continue
        done.add(h.stix_id)
        shown.append(_describe(h, reader, settings, sighted.get(h.stix_id), asked, now))
    return shown


def _by_key(conn: Connection, wanted: dict[str, set[str]]) -> dict[tuple[str, str], list[Hit]]:
    """Index rows for the wanted values, grouped by (kind, value)."""
    by_key: dict[tuple[str, str], list[Hit]] = defaultdict(list)
    for hit in hits_for(conn, wanted) if wanted else ():
        by_key[(hit.kind, hit.value)].append(hit)
    return by_key


def _members(hits: list[Hit], reader: Reader) -> dict[str, Any]:
    """Distinct reporting organisations of ``hits``: counted where the policy allows, never named here."""
    seen: set[int | None] = set()
    visible_orgs: set[int | None] = set()
    for h in hits:
        if policy.visible(h.sharing, reader):
            visible_orgs.add(h.sharing.creator_org_id)
            seen.add(h.sharing.creator_org_id)
        elif policy.countable(h.sharing, reader):
            seen.add(h.sharing.creator_org_id)
    return {
        "reporting_members": len(seen),
        "other_members": len(seen - visible_orgs),
        "reported_by_you": reader.organisation_id in seen,
    }


def lookup(conn: Connection, reader: Reader, settings: Settings, values: list[Any], *,
           subdomains: bool = False, include_stale: bool = True) -> dict[str, Any]:
    """Screen ``values`` (strings to detect, or {kind, value}) against everything the reader may see."""
    if not values:
        raise Invalid("give at least one value to look up")
    if len(values) > settings.max_lookup_values:
        raise Invalid(f"at most {settings.max_lookup_values} values per lookup, not {len(values)}")
    prefixes = _prefixes(conn)
    queries = [_parse(i, v, settings, subdomains, prefixes) for i, v in enumerate(values)]
    wanted: dict[str, set[str]] = defaultdict(set)
    for q in queries:
        for kind, value in q.keys:
            wanted[kind].add(value)
    by_key = _by_key(conn, wanted)
    visible_ids = {h.stix_id for hs in by_key.values() for h in hs if policy.visible(h.sharing, reader)}
    now = now_us()
    sighted = summarise(conn, reader, visible_ids, now) if visible_ids else {}
    matcher = current_matcher(conn)
    results = []
    matched = 0
    for q in queries:
        entry: dict[str, Any] = {"index": q.index, "input": q.given}
        if q.error is not None:
            entry["error"] = q.error
            results.append(entry)
            continue
        assert q.kind is not None and q.value is not None
        hits = [h for key in q.keys for h in by_key.get(key, ())]
        shown = [d for d in _shown(hits, reader, settings, sighted, (q.kind.value, q.value), now)
                 if include_stale or not d["stale"]]
        shown.sort(key=lambda d: d["last_seen"], reverse=True)
        matched += bool(shown)
        entry.update({"kind": q.kind.value, "value": q.value, "found": bool(shown),
                      "warninglists": matcher.match(q.kind, q.value), "matches": shown, **_members(hits, reader)})
        results.append(entry)
    if matched:
        hit_of = {h.stix_id: h for hs in by_key.values() for h in hs}
        shown_ids = {m["id"] for r in results for m in r.get("matches", ())}
        audited.note_reads(conn.engine, reader, "lookup.match", "lookup",
                           ((i, hit_of[i].modified, int(hit_of[i].sharing.tlp)) for i in sorted(shown_ids)))
    return {"results": results,
            "summary": {"values": len(queries), "matched": matched,
                        "errors": sum(1 for q in queries if q.error is not None)}}


def correlations(conn: Connection, reader: Reader, settings: Settings, stix_id: str) -> dict[str, Any]:
    """For each observable of ``stix_id`` (latest version): the other objects holding it, and who reported it."""
    own = hits_of_object(conn, latest_visible(conn, reader, stix_id)["date_added"])
    keys_of: dict[tuple[str, str], list[tuple[str, str]]] = {}
    wanted: dict[str, set[str]] = defaultdict(set)
    prefixes = _prefixes(conn)
    for kind, value, _wl in own:
        keys = _keys(Kind(kind), value, False, prefixes)
        keys_of[(kind, value)] = keys
        for k, v in keys:
            wanted[k].add(v)
    by_key = _by_key(conn, wanted)
    now = now_us()
    others_visible = {h.stix_id for hs in by_key.values() for h in hs
                      if h.stix_id != stix_id and policy.visible(h.sharing, reader)}
    sighted = summarise(conn, reader, others_visible, now) if others_visible else {}
    out = []
    matcher = current_matcher(conn)
    for kind, value, _wl in own:
        hits = [h for key in keys_of[(kind, value)] for h in by_key.get(key, ())]
        shown = _shown([h for h in hits if h.stix_id != stix_id], reader, settings, sighted, (kind, value), now)
        out.append({"kind": kind, "value": value, "warninglists": matcher.match(Kind(kind), value),
                    "objects": shown, **_members(hits, reader)})
    out.sort(key=lambda d: (-d["reporting_members"], -len(d["objects"]), d["kind"], d["value"]))
    return {"id": stix_id, "observables": out,
            "correlated": sum(1 for d in out if d["objects"] or d["other_members"])}


def observables_of(conn: Connection, reader: Reader | None, stix_id: str) -> list[dict[str, Any]]:
    """The indexed observables of an object the reader may see, with the warninglists they are on now
    (as every answer here: the flag stored at ingest records what the lists said then)."""
    key = latest_visible(conn, reader, stix_id)["date_added"]
    matcher = current_matcher(conn)
    return [{"kind": k, "value": v, "warninglists": matcher.match(Kind(k), v)}
            for k, v, _wl in hits_of_object(conn, key)]

