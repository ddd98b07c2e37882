"""CSV import: spreadsheets and firewall exports become STIX 2.1 indicators.

One row holds one observable. Columns are recognised by their header (``value``/``indicator``/
``ioc``, ``type``/``kind``, ``description``/``comment``, ``tags``/``labels``, ``confidence``,
``first_seen``/``valid_from``, ``valid_until``/``expires``, ``name``/``title``, ``tlp``) or named
by a mapping (``--map ioc=value --map 3=kind``: a header name or a 1-based column number). A row's
kind comes from its kind column (nordcert's kind names and the usual MISP and feed aliases), from
``--kind`` for the whole file, or is detected from the value.

Re-importing a file changes nothing: a row becomes a new indicator only when its organisation has
no latest indicator with the same pattern; an existing one gets a new version only when one of
the row's fields differs from what is stored. The ids are random, so they reveal nothing about
who submitted (an id derived from the organisation would unmask anonymous submissions).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from sqlalchemy import Connection

from nordcert.clock import now_us
from nordcert.db import in_values, values_param
from nordcert.errors import Invalid
from nordcert.intel.validate import format_timestamp, timestamp_us
from nordcert.observables.kinds import FullCardNumber, Kind, ObservableError, as_kind, detect, normalise
from nordcert.sharing.tlp import Tlp

#: Header names recognised without a mapping (compared in lower case, spaces and dashes as '_').
HEADERS: dict[str, str] = {
    **dict.fromkeys(["value", "indicator", "ioc", "observable", "ioc_value", "indicator_value"], "value"),
    **dict.fromkeys(["kind", "type", "ioc_type", "indicator_type", "attribute_type"], "kind"),
    **dict.fromkeys(["name", "title"], "name"),
    **dict.fromkeys(["description", "comment", "comments", "note", "notes"], "description"),
    **dict.fromkeys(["labels", "label", "tags", "tag"], "labels"),
    **dict.fromkeys(["confidence", "score"], "confidence"),
    **dict.fromkeys(["valid_from", "first_seen", "firstseen", "date", "date_added", "created"], "valid_from"),
    **dict.fromkeys(["valid_until", "expires", "expiry", "expiration"], "valid_until"),
    "tlp": "tlp",
}
FIELDS = frozenset(HEADERS.values())

#: Kind names used by MISP attribute types and common feeds, beyond nordcert's own.
KIND_ALIASES: dict[str, Kind] = {
    "ip": Kind.IPV4, "ip-dst": Kind.IPV4, "ip-src": Kind.IPV4, "ipv4-addr": Kind.IPV4, "ipv6-addr": Kind.IPV6,
    "ip_address": Kind.IPV4, "cidr4": Kind.CIDR, "network": Kind.CIDR,
    "hostname": Kind.DOMAIN, "domain-name": Kind.DOMAIN, "fqdn": Kind.DOMAIN,
    "link": Kind.URL, "uri": Kind.URL,
    "email-src": Kind.EMAIL, "email-dst": Kind.EMAIL, "email-addr": Kind.EMAIL, "email_address": Kind.EMAIL,
    "sha-1": Kind.SHA1, "sha-256": Kind.SHA256, "sha-512": Kind.SHA512,
    "bank-account-nr": Kind.IBAN, "swift": Kind.BIC, "bin-number": Kind.BIN,
    "btc": Kind.WALLET, "xmr": Kind.WALLET, "eth": Kind.WALLET, "cryptocurrency-wallet": Kind.WALLET,
    "phone-number": Kind.PHONE, "phone_number": Kind.PHONE, "msisdn": Kind.PHONE, "as": Kind.ASN,
}

#: The pattern that names each kind (docs/observables.md lists the custom fraud types).
_PATTERN: dict[Kind, str] = {
    Kind.IPV4: "ipv4-addr:value", Kind.IPV6: "ipv6-addr:value", Kind.DOMAIN: "domain-name:value",
    Kind.URL: "url:value", Kind.EMAIL: "email-addr:value", Kind.MD5: "file:hashes.MD5",
    Kind.SHA1: "file:hashes.'SHA-1'", Kind.SHA256: "file:hashes.'SHA-256'", Kind.SHA512: "file:hashes.'SHA-512'",
    Kind.IBAN: "x-bank-account:iban", Kind.BIC: "x-bank-account:bic", Kind.BIN: "x-payment-card:bin",
    Kind.WALLET: "x-cryptocurrency-wallet:value", Kind.PHONE: "x-phone-number:value",
    Kind.CARD: "x-payment-card:masked_number", Kind.BLINDED: "x-blinded-value:value",
}
_DESCRIBED = {Kind.IPV4: "IP address", Kind.IPV6: "IP address", Kind.CIDR: "network", Kind.DOMAIN: "domain",
              Kind.URL: "URL", Kind.EMAIL: "e-mail address", Kind.IBAN: "IBAN", Kind.BIC: "BIC", Kind.BIN: "card BIN",
              Kind.WALLET: "wallet", Kind.PHONE: "phone number", Kind.ASN: "autonomous system",
              Kind.CARD: "card (BIN and last 4 digits)", Kind.BLINDED: "blinded value"}
#: Fields of a stored version compared with a row's to decide whether the row changes anything.
_COMPARED = ("pattern", "name", "description", "labels", "confidence", "valid_until")

MAX_FIELD_CHARS = 100_000
_SNIFF_BYTES = 64 * 1024


def pattern_for(kind: Kind, value: str) -> str:
    """The STIX pattern of one normalised observable."""
    if kind is Kind.ASN:
        return f"[autonomous-system:number = {int(value.removeprefix('AS'))}]"
    if kind is Kind.CIDR:
        prop = "ipv6-addr:value" if ":" in value else "ipv4-addr:value"
    else:
        prop = _PATTERN[kind]
    literal = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{prop} = '{literal}']"


def kind_named(text: str) -> Kind:
    key = text.strip().lower()
    if key in KIND_ALIASES:
        return KIND_ALIASES[key]
    return as_kind(key)


@dataclass
class Mapping:
    """Which column holds which field: by header name or 1-based number, as given or recognised."""

    given: dict[str, str] = field(default_factory=dict)  # column (name or number) -> field
    header: bool = True
    kind: Kind | None = None  # every row's kind
    delimiter: str | None = None

    @classmethod
    def parse(cls, items: list[str], *, header: bool = True, kind: str | None = None,
              delimiter: str | None = None) -> Mapping:
        given: dict[str, str] = {}
        for item in items:
            column, sep, target = item.partition("=")
            target = target.strip().lower()
            if not sep or not column.strip():
                raise Invalid(f"mapping {item!r} must be COLUMN=FIELD (e.g. ioc=value or 2=kind)")
            if target not in FIELDS:
                raise Invalid(f"mapping {item!r}: unknown field {target!r}; fields are {', '.join(sorted(FIELDS))}")
            given[column.strip()] = target
        if not header and any(not c.isdigit() for c in given):
            raise Invalid("without a header row, map columns by number (e.g. --map 1=value)")
        try:
            parsed_kind = kind_named(kind) if kind else None
        except ObservableError as exc:
            raise Invalid(str(exc)) from None
        return cls(given, header, parsed_kind, delimiter)

    def columns(self, header: list[str] | None, width: int) -> dict[str, int]:
        """Field -> column index for this file."""
        out: dict[str, int] = {}
        names = [_key(h) for h in header] if header is not None else []
        for column, target in self.given.items():
            if column.isdigit():
                index = int(column) - 1
                if not 0 <= index < width:
                    raise Invalid(f"mapping {column}={target}: the file has {width} columns")
            else:
                if _key(column) not in names:
                    raise Invalid(f"mapping {column}={target}: no column {column!r} in the header "
                                  f"({', '.join(header or [])})")
                index = names.index(_key(column))
            out[target] = index
        if header is not None:
            for index, name in enumerate(names):
                known = HEADERS.get(name)
                if known is not None and known not in out and index not in out.values():
                    out[known] = index
        if "value" not in out:
            if header is not None:
                raise Invalid(f"no value column: name one with --map COLUMN=value (the header has: {', '.join(header)})")
            raise Invalid("no value column: name one with --map NUMBER=value")
        return out


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_").lstrip("#")


@dataclass
class Row:
    line: int
    kind: Kind
    value: str
    fields: dict[str, str]


def read_rows(fh: IO[bytes], mapping: Mapping, *, phone_region: str | None = None,
              problems: list[dict[str, Any]] | None = None) -> Iterator[Row | dict[str, Any]]:
    """The rows of a CSV file as normalised observables, streamed; a bad row yields its problem
    (a dict with the line and the reason) instead. Raises :class:`Invalid` for a file that is not CSV text."""
    head = fh.read(_SNIFF_BYTES)
    if b"\x00" in head:
        raise Invalid("the file is not CSV text: it holds binary data (a NUL byte)")
    rest = fh
    text = io.TextIOWrapper(io.BufferedReader(_Prefixed(head, rest)), encoding="utf-8-sig", newline="")
    try:
        sample = head.decode("utf-8-sig", errors="ignore")
        delimiter = mapping.delimiter or _sniff(sample)
        reader = csv.reader(text, delimiter=delimiter)
        header: list[str] | None = None
        columns: dict[str, int] | None = None
        for record in reader:
            line = reader.line_num
            if not record or all(not c.strip() for c in record):
                continue
            if record[0].lstrip().startswith("#") and columns is None and not mapping.header:
                continue  # a comment line of a plain list
            if columns is None:
                if mapping.header:
                    header = record
                    columns = mapping.columns(header, len(record))
                    continue
                columns = mapping.columns(None, len(record))
            yield _row(record, line, columns, mapping, phone_region)
    except UnicodeDecodeError as exc:
        raise Invalid(f"the file is not UTF-8 text (byte {exc.start} of a block near line "
                      f"{getattr(reader, 'line_num', 0) + 1})") from None
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num}: {exc}") from None


def _sniff(sample: str) -> str:
    lines = [line for line in sample.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    first = lines[0] if lines else ""
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _row(record: list[str], line: int, columns: dict[str, int], mapping: Mapping,
         phone_region: str | None) -> Row | dict[str, Any]:
    got = {f: record[i].strip() for f, i in columns.items() if i < len(record)}
    for name, text in got.items():
        if len(text) > MAX_FIELD_CHARS:
            return {"line": line, "reason": f"{name} is {len(text):,} characters long; at most "
                                            f"{MAX_FIELD_CHARS:,} are accepted"}
    raw = got.get("value", "")
    if not raw:
        return {"line": line, "reason": "the value is empty"}
    try:
        if mapping.kind is not None:
            kind, value = normalise(mapping.kind, raw, phone_region=phone_region)
        elif got.get("kind"):
            kind, value = normalise(kind_named(got["kind"]), raw, phone_region=phone_region)
        else:
            found = detect(raw, phone_region=phone_region)
            if found is None:
                return {"line": line, "reason": "the value is of no known kind; give a kind column or --kind"}
            kind, value = found
    except FullCardNumber as exc:
        return {"line": line, "reason": str(exc)}
    except ObservableError as exc:
        return {"line": line, "reason": str(exc)}
    return Row(line, kind, value, got)


class _Prefixed(io.RawIOBase):
    """The bytes already read for sniffing, then the rest of the file."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class Builder:
    """Turns rows into indicators, reusing the organisation's existing indicator of the same pattern."""

    def __init__(self, conn: Connection, creator_org_id: int | None, identity_id: str | None) -> None:
        self.conn = conn
        self.creator = creator_org_id
        self.identity_id = identity_id
        self.seen: dict[str, int] = {}  # pattern -> line of its first row in this file
        self._sql = (
            "SELECT s.stix_id, s.body FROM observables o "  # nosec B608 # constants and placeholders only
            "JOIN stix_objects s ON s.date_added = o.date_added "
            f"WHERE o.value {in_values(conn)} AND s.type = 'indicator' AND s.is_latest AND NOT s.revoked "
            + ("AND s.creator_org_id = %s" if conn.dialect.name == "postgresql" else "AND s.creator_org_id = ?")
        )

    def objects(self, rows: list[Row]) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]],
                                                list[dict[str, Any]]]:
        """(line and object to ingest, notes on repeated rows, bad rows) for one chunk of rows."""
        stored = self._stored([r.value for r in rows])
        now = format_timestamp(now_us())
        out: list[tuple[int, dict[str, Any]]] = []
        notes: list[dict[str, Any]] = []
        bad: list[dict[str, Any]] = []
        for row in rows:
            try:
                obj = self._indicator(row, now)
            except _RowError as exc:
                bad.append({"line": exc.line, "reason": exc.reason})
                continue
            first = self.seen.get(obj["pattern"])
            if first is not None:
                notes.append({"line": row.line, "reason": f"repeats the value of line {first}; skipped"})
                continue
            self.seen[obj["pattern"]] = row.line
            old = stored.get(obj["pattern"])
            if old is not None:
                obj["id"], obj["created"] = old["id"], old["created"]
                if not row.fields.get("valid_from"):
                    obj["valid_from"] = old["valid_from"]
                marked = _tlp_of(obj)
                if all(obj.get(k) == old.get(k) for k in _COMPARED) and obj["valid_from"] == old["valid_from"] \
                        and (marked is None or marked <= (_tlp_of(old) or marked)):
                    obj = old  # unchanged: ingest finds this version stored and counts it so
                else:
                    obj["modified"] = _after(old["modified"], now)
            out.append((row.line, obj))
        return out, notes, bad

    def _stored(self, values: list[str]) -> dict[str, dict[str, Any]]:
        if not values:
            return {}
        params = (values_param(self.conn, sorted(set(values))), self.creator)
        found: dict[str, dict[str, Any]] = {}
        for _sid, body in self.conn.exec_driver_sql(self._sql, params):
            obj = orjson.loads(body)
            found.setdefault(obj.get("pattern", ""), obj)
        return found

    def _indicator(self, row: Row, now: str) -> dict[str, Any]:
        f = row.fields
        valid_from = _timestamp(f.get("valid_from"), row.line, "valid_from") or now
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": now,
            "modified": now,
            "name": f.get("name") or f"{_DESCRIBED.get(row.kind, row.kind.value.upper())} {row.value}",
            "pattern": pattern_for(row.kind, row.value),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": valid_from,
        }
        if self.identity_id:
            obj["created_by_ref"] = self.identity_id
        if f.get("description"):
            obj["description"] = f["description"]
        labels = _labels(f.get("labels", ""))
        if labels:
            obj["labels"] = labels
        if f.get("confidence"):
            obj["confidence"] = _confidence(f["confidence"], row.line)
        until = _timestamp(f.get("valid_until"), row.line, "valid_until")
        if until:
            obj["valid_until"] = until
        if f.get("tlp"):
            try:
                obj["object_marking_refs"] = [Tlp.parse(f["tlp"]).marking_id]
            except Invalid:
                raise _RowError(row.line, f"tlp {f['tlp']!r} is not a TLP level (clear, green, amber, "
                                          "amber+strict, red)") from None
        return obj


class _RowError(Invalid):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}", details=[{"line": line, "reason": reason}])
        self.line = line
        self.reason = reason


def _labels(text: str) -> list[str]:
    parts = [p.strip() for p in text.replace(";", ",").replace("|", ",").split(",")]
    return list(dict.fromkeys(p for p in parts if p))


def _confidence(text: str, line: int) -> int:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise _RowError(line, f"confidence {text[:40]!r} is not a number from 0 to 100") from None
    if not 0 <= value <= 100:
        raise _RowError(line, f"confidence {text[:40]!r} is not a number from 0 to 100")
    return round(value)


def _timestamp(text: str | None, line: int, name: str) -> str | None:
    """A STIX timestamp from an ISO 8601 date or date-time (UTC when no offset is given)."""
    if not text:
        return None
    from datetime import UTC, datetime

    value = text.strip().replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _RowError(line, f"{name} {text[:40]!r} is not an ISO 8601 date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    micros = int(moment.timestamp() * 1_000_000)
    return format_timestamp(micros)


def _tlp_of(obj: dict[str, Any]) -> Tlp | None:
    from nordcert.sharing.tlp import tlp_of_markings

    refs = obj.get("object_marking_refs")
    return tlp_of_markings(tuple(refs)) if refs else None


def _after(stored: str, now: str) -> str:
    """A ``modified`` later than the stored version's, normally now."""
    if timestamp_us(now) > timestamp_us(stored):
        return now
    return format_timestamp(timestamp_us(stored) + 1000)
