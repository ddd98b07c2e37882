"""Exports of what the caller may see: STIX 2.1 bundles, CSV, plain-text blocklists, a DNS RPZ zone.

One entry point per use: :func:`export_to` writes a file (the CLI), the ``*_chunks`` generators
stream a feed (``nordcert.formats.feeds_api``), :func:`write_blocklist` writes one blocklist. Every
read is filtered by :mod:`nordcert.sharing.policy`. :func:`feed_etag` names the state a feed's
body is made from, so that a client can ask "anything new?" without the body being produced.

    stix    nordcert.formats.stix_export   latest visible versions, as a bundle
    csv     nordcert.formats.csv_export    one row per indexed value and object
    txt     nordcert.formats.blocklist     one value per line, per kind
    rpz     nordcert.formats.blocklist     the domain blocklist as a DNS response-policy zone
    misp    nordcert.formats.misp_export   a MISP feed folder (written by its own module)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import IO, Any

import orjson
from sqlalchemy import Connection, case, func, select

from nordcert import __version__
from nordcert.config import Settings
from nordcert.errors import Invalid
from nordcert.formats._observed import matcher_digest
from nordcert.formats._stream import snapshot
from nordcert.formats.blocklist import (
    BLOCKLIST_KINDS,
    blocklist_chunks,
    blocklist_kinds,
    rpz_chunks,
    rpz_serial,
    write_blocklist,
    write_rpz,
)
from nordcert.formats.csv_export import COLUMNS, CsvFilter, csv_chunks, write_csv
from nordcert.formats.stix_export import StixFilter, bundle_chunks, write_bundle
from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.intel.validate import ObjectError, timestamp_us
from nordcert.observables.warninglists import Matcher
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp

__all__ = [
    "BLOCKLIST_KINDS", "COLUMNS", "DECAY_BUCKET_US", "FORMATS", "CsvFilter", "ExportRequest", "StixFilter",
    "blocklist_chunks", "bundle_chunks", "csv_chunks", "decay_moment", "export_to", "feed_etag", "feed_state", "parse_since",
    "rpz_chunks", "rpz_serial", "snapshot", "write_blocklist", "write_bundle", "write_csv", "write_rpz",
]

FORMATS = ("stix", "misp", "csv", "txt", "rpz")

#: Feeds judge staleness as of the start of the current hour (UTC), so a body, and its ETag, change
#: at most once an hour because of decay alone.
DECAY_BUCKET_US = 3600 * 1_000_000

#: Bumped when what a feed writes for the same state changes shape, so cached copies are refetched.
_FEED_VERSION = "1"


_RELATIVE = re.compile(r"([0-9]{1,6})([dh])")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_since(text: str, now: int) -> int:
    """``since`` as µs since the epoch: a STIX timestamp, a date (``2026-11-01``, midnight UTC), or
    an age (``7d``, ``12h``)."""
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        hours = int(relative.group(1)) * (24 if relative.group(2) == "d" else 1)
        return now - hours * 3600 * 1_000_000
    try:
        return timestamp_us(text + "T00:00:00Z" if _DATE.fullmatch(text) else text, "since")
    except ObjectError:
        raise Invalid(f"since {text!r} is not a timestamp (2026-11-01T00:00:00Z), a date (2026-11-01) "
                      "or an age (7d, 12h)") from None


def decay_moment(now: int) -> int:
    """The start of the decay bucket holding ``now`` (µs)."""
    return now - now % DECAY_BUCKET_US


@dataclass(frozen=True)
class ExportRequest:
    """One export: the format, and its filters (each applies where the format says)."""

    format: str
    kind: str | None = None  # txt: required; csv: optional; rpz: domain
    types: tuple[str, ...] = ()  # stix, csv
    added_after: int | None = None  # stix, csv
    labels: tuple[str, ...] = ()  # stix
    tlp_max: Tlp | None = None
    include_revoked: bool = False  # stix
    include_stale: bool = False  # csv, txt, rpz
    include_warninglisted: bool = False  # csv, txt, rpz
    formula_guard: bool = True  # csv

    def checked(self) -> ExportRequest:
        """The request with its format and kind checked; :class:`Invalid` says what is possible."""
        fmt = self.format.strip().lower()
        if fmt not in FORMATS:
            raise Invalid(f"unknown export format {self.format!r}; one of {', '.join(FORMATS)}")
        kind = self.kind.strip().lower() if self.kind else None
        if fmt == "txt" and kind is None:
            raise Invalid(f"a txt blocklist needs a kind: one of {', '.join(BLOCKLIST_KINDS)}")
        if fmt == "rpz" and kind not in (None, "domain"):
            raise Invalid("an RPZ zone holds domains: leave out the kind, or give 'domain'")
        if fmt in ("stix", "misp") and kind is not None:
            raise Invalid(f"a {fmt} export holds objects, not one kind of value: leave out the kind")
        if kind is not None:
            blocklist_kinds(kind)
        if fmt in ("txt", "rpz") and (self.types or self.added_after is not None):
            raise Invalid("a blocklist holds every value of its kind: types and since apply to stix and csv")
        return ExportRequest(**{**asdict(self), "format": fmt, "kind": "domain" if fmt == "rpz" else kind})


def export_to(conn: Connection, reader: Reader | None, settings: Settings, request: ExportRequest, out: IO[bytes],
              *, on_progress: Callable[[int], None] | None = None) -> int:
    """Write one export (not ``misp``, a folder) to ``out``; returns the objects, rows or lines written."""
    r = request.checked()
    if r.format == "stix":
        return write_bundle(conn, reader, settings, out, StixFilter(
            types=r.types, added_after=r.added_after, labels=r.labels, tlp_max=r.tlp_max,
            include_revoked=r.include_revoked), on_progress=on_progress)
    if r.format == "csv":
        return write_csv(conn, reader, settings, out, CsvFilter(
            kind=r.kind, types=r.types, added_after=r.added_after, tlp_max=r.tlp_max, include_stale=r.include_stale,
            include_warninglisted=r.include_warninglisted, formula_guard=r.formula_guard), on_progress=on_progress)
    if r.format == "rpz":
        return write_rpz(conn, reader, settings, out, include_stale=r.include_stale,
                         include_warninglisted=r.include_warninglisted, tlp_max=r.tlp_max, on_progress=on_progress)
    if r.format == "txt":
        assert r.kind is not None
        return write_blocklist(conn, reader, settings, r.kind, out, include_stale=r.include_stale,
                               include_warninglisted=r.include_warninglisted, tlp_max=r.tlp_max,
                               on_progress=on_progress)
    raise Invalid("a misp export is a folder of files: use nordcert.formats.misp_export.write_feed")


# --- what a feed's body is made from (its ETag) ------------------------------------------------------


def feed_state(conn: Connection, reader: Reader | None, settings: Settings, *, matcher: Matcher | None,
               decays: bool, now: int) -> dict[str, Any]:
    """Everything a feed body for ``reader`` depends on besides its query, read in ``conn``.

    The rows the reader may see (how many, the newest ``date_added``: a new object, a new version,
    a revocation or a deletion changes one of them; so does a change to the reader's groups), the
    reader's organisation, role and groups (what it may see, whose anonymity it sees through), the
    enabled warninglists (``matcher``), the decay settings and, for feeds that decay, the hour.
    """
    t = stix_objects
    count, newest, sensitive = conn.execute(
        select(func.count(), func.max(t.c.date_added), func.coalesce(func.sum(case((t.c.tlp >= int(Tlp.AMBER), 1),
                                                                              else_=0)), 0))
        .where(policy.visible_clause(reader, t, object_recipients))
    ).one()
    who = None if reader is None else [reader.organisation_id, reader.role.value, sorted(reader.group_ids)]
    state: dict[str, Any] = {
        "version": [__version__, _FEED_VERSION],
        "reader": who,
        # Versions visible, the newest date_added, and how many are TLP:AMBER or stricter (for the audit trail;
        # it changes only when the others do).
        "rows": [int(count), int(newest or 0), int(sensitive)],
        "instance": [settings.instance_name, settings.instance_identity_id],
    }
    if matcher is not None:
        state["warninglists"] = matcher_digest(matcher)
    if decays:
        state["decay"] = [decay_moment(now), sorted(settings.decay_half_life_days.items()),
                          settings.decay_stale_below]
    return state


def feed_etag(feed: str, params: dict[str, Any], state: dict[str, Any]) -> str:
    """A strong ETag (RFC 9110 §8.8.3): a digest of the feed, its parameters and its state."""
    raw = orjson.dumps([feed, sorted((k, str(v)) for k, v in params.items() if v not in (None, False, "", ())),
                        state], option=orjson.OPT_SORT_KEYS)
    return '"' + hashlib.sha256(raw).hexdigest()[:40] + '"'
