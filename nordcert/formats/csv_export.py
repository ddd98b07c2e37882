"""CSV of the observable index (RFC 4180): one row per indexed value and object holding it.

For a SIEM analyst: what the value is, which object holds it, its sharing, how fresh it is and why
it may be benign. The rows are those the reader may see (latest, unrevoked versions), sorted by
kind, value and date added. Stale rows and warninglisted values are left out unless asked for, as
in the blocklists.

Spreadsheets run a cell that begins with ``=``, ``+``, ``-``, ``@``, TAB or CR as a formula. Such a
cell (and one beginning with an apostrophe) gets one leading apostrophe, unless it is a plain
number such as an E.164 phone number (``+46701234567``), which a spreadsheet reads as a number and
never runs. A machine gets the exact value back by dropping one leading apostrophe; normalised IPs,
domains, URLs, hashes, IBANs and phone numbers never begin with one, so only rare e-mail addresses
are affected. ``formula_guard=False`` writes every cell as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson
from sqlalchemy import Connection

from nordcert.accounts.tables import organisations
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import is_postgres
from nordcert.formats._observed import Staleness, last_seen, sightings_seen, visible_rows
from nordcert.formats._stream import stream_rows
from nordcert.formats.blocklist import blocklist_kinds
from nordcert.intel.tables import stix_objects
from nordcert.intel.validate import ObjectError, format_timestamp, timestamp_us
from nordcert.observables.kinds import Kind
from nordcert.observables.tables import observables
from nordcert.observables.warninglist_store import current_matcher
from nordcert.observables.warninglists import Matcher
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Sharing
from nordcert.sharing.tlp import Tlp

_s = stix_objects

#: The columns, in order (documented in docs/formats.md).
COLUMNS = (
    "kind", "value", "stix_id", "type", "name", "tlp", "confidence", "labels", "creator", "first_seen",
    "last_seen", "valid_until", "sightings", "decay_score", "stale", "warninglists", "date_added",
)

_FORMULA_START = frozenset("=+-@\t\r'")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def guard(cell: str) -> str:
    """The cell as a spreadsheet may open it safely (see the module's docstring)."""
    if cell and cell[0] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


@dataclass(frozen=True)
class CsvFilter:
    """Which rows the CSV holds; every filter is optional."""

    kind: str | None = None  # a blocklist name (ip, domain, hash, …); None: every kind
    types: tuple[str, ...] = ()
    added_after: int | None = None
    tlp_max: Tlp | None = None
    include_stale: bool = False
    include_warninglisted: bool = False
    formula_guard: bool = True


def _first_seen(obj: dict[str, Any], created: int | None, date_added: int) -> int:
    for prop in ("valid_from", "first_seen", "first_observed"):
        if isinstance(obj.get(prop), str):
            try:
                return timestamp_us(obj[prop])
            except ObjectError:
                pass
    return created or date_added


def _ts(value: int | None) -> str:
    return format_timestamp(value) if value else ""


def csv_chunks(conn: Connection, reader: Reader | None, settings: Settings, filters: CsvFilter = CsvFilter(), *,
               as_of: int | None = None, matcher: Matcher | None = None,
               counter: list[int] | None = None) -> Iterator[bytes]:
    """The CSV as UTF-8 bytes (header first, CRLF line ends), in chunks; ``counter[0]`` counts rows."""
    kinds = [k.value for k in blocklist_kinds(filters.kind)] if filters.kind else [k.value for k in Kind]
    family = {"ipv4": ".", "ipv6": ":"}.get((filters.kind or "").lower())
    staleness = Staleness(as_of if as_of is not None else now_us(), settings)
    sighted = sightings_seen(conn, reader)
    match = (matcher or current_matcher(conn)).match
    columns = (observables.c.kind, _s.c.stix_id, _s.c.type, _s.c.name, _s.c.tlp, _s.c.body, organisations.c.short_name,
               _s.c.creator_org_id, _s.c.anonymous, _s.c.modified, _s.c.created, _s.c.date_added, _s.c.valid_until)
    stmt = visible_rows(reader, kinds, tlp_max=filters.tlp_max, added_after=filters.added_after, types=filters.types,
                        columns=columns, with_creator=True, postgres=is_postgres(conn))
    cell = guard if filters.formula_guard else str
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    lists_of: tuple[str, str, list[str]] = ("", "", [])
    for rows in stream_rows(conn, stmt, batch=2000):
        for (value, kind, stix_id, stype, name, tlp, body, creator_short, creator_id, anonymous, modified, created,
             date_added, valid_until) in rows:
            if family is not None and kind == Kind.CIDR.value and family not in value:
                continue
            if (kind, value) != lists_of[:2]:
                lists_of = (kind, value, match(Kind(kind), value))
            if lists_of[2] and not filters.include_warninglisted:
                continue
            seen = sighted.get(stix_id)
            score, stale = staleness.score(kind, last_seen(modified, created, date_added, seen), valid_until)
            if stale and not filters.include_stale:
                continue
            obj = orjson.loads(body)
            sharing = Sharing(creator_org_id=creator_id, tlp=Tlp(tlp), anonymous=bool(anonymous))
            creator = ((creator_short or settings.instance_name) if policy.creator_visible(sharing, reader)
                       else "anonymous member")
            labels = obj.get("labels") if isinstance(obj.get("labels"), list) else []
            confidence = obj.get("confidence")
            writer.writerow([cell(c) for c in (
                kind, value, stix_id, stype, name or "", Tlp(tlp).label,
                "" if not isinstance(confidence, int) else str(confidence),
                ";".join(str(x) for x in labels), creator,
                _ts(_first_seen(obj, created, date_added)), _ts(last_seen(modified, created, date_added, seen)),
                _ts(valid_until), str(seen[0] if seen else 0), f"{score:.3f}", "true" if stale else "false",
                ";".join(lists_of[2]), _ts(date_added),
            )])
            if counter is not None:
                counter[0] += 1
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail.encode()


def write_csv(conn: Connection, reader: Reader | None, settings: Settings, out: IO[bytes],
              filters: CsvFilter = CsvFilter(), *, as_of: int | None = None,
              on_progress: Callable[[int], None] | None = None) -> int:
    """Write the CSV to ``out``; returns the number of rows (without the header)."""
    counter = [0]
    for chunk in csv_chunks(conn, reader, settings, filters, as_of=as_of, counter=counter):
        out.write(chunk)
        if on_progress is not None:
            on_progress(counter[0])
    return counter[0]
