"""CSV import of a member's register of information (DORA Art 28(3); CIR 2024/2956 templates B_02.02, B_05.01,
B_06.01, B_07.01 flattened to one row per function and ICT service).

One row says: this function (a critical business process) relies on this ICT service of this provider. Columns
are recognised by their header (:data:`HEADERS`, compared in lower case with spaces and dashes as ``_``) or named
by a mapping (``"Leverantör=provider"``, ``"3=lei"``: a header name or a 1-based column number), in the style of
:mod:`nordcert.formats.csv_import`. Every cell is optional but the provider (name or LEI) or a service name;
a new function needs its category.

The file is imported in one transaction: every line is checked first and one bad line refuses the file with each
problem named by its line, storing nothing. Re-importing a file changes nothing: functions, systems and services
are found by their names (a service without one is named after its provider, type and contract), providers by
LEI or normalised name, and a row that says what is stored already writes nothing. A column the file does not
have leaves what is stored; a column it has sets it (an empty cell clears an optional service field). With
``replace`` the member's services the file does not name are removed, so the file is the whole register.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from nordcert.accounts.tables import organisations
from nordcert.clock import now_us
from nordcert.errors import Invalid
from nordcert.sectormap import dependencies, registry, shared
from nordcert.sectormap.service import (
    PROCESS_CATEGORIES,
    SERVICE_TYPES,
    SUBSTITUTABILITY,
    name_key,
    require_member_writer,
)
from nordcert.sectormap.tables import (
    sectormap_processes,
    sectormap_providers,
    sectormap_services,
    sectormap_systems,
)
from nordcert.sharing.policy import Reader

#: Header names recognised without a mapping.
HEADERS: dict[str, str] = {
    **dict.fromkeys(["provider", "provider_name", "supplier", "vendor", "ict_third_party_service_provider",
                     "name_of_the_ict_third_party_service_provider"], "provider"),
    **dict.fromkeys(["lei", "provider_lei", "lei_of_the_provider"], "lei"),
    **dict.fromkeys(["provider_identifier", "identification_code", "other_identifier", "euid"], "other_id"),
    **dict.fromkeys(["identifier_type", "type_of_code", "identification_code_type"], "other_id_type"),
    **dict.fromkeys(["country", "provider_country", "headquarters_country", "country_of_headquarters"], "country"),
    **dict.fromkeys(["service_type", "ict_service_type", "type_of_ict_services", "type_of_ict_service"],
                    "service_type"),
    **dict.fromkeys(["service", "service_name", "ict_service"], "service"),
    **dict.fromkeys(["function", "function_name", "process", "business_function", "function_supported"],
                    "function"),
    **dict.fromkeys(["function_identifier", "function_id", "function_ref"], "function_ref"),
    **dict.fromkeys(["category", "function_category", "process_category"], "category"),
    **dict.fromkeys(["critical", "critical_or_important", "criticality", "critical_function"], "critical"),
    **dict.fromkeys(["substitutability", "substitutability_of_the_ict_third_party_service_provider"],
                    "substitutability"),
    **dict.fromkeys(["storage_locations", "data_storage_locations", "location_of_data_storage", "data_location"],
                    "storage_locations"),
    **dict.fromkeys(["processing_locations", "data_processing_locations", "location_of_data_processing"],
                    "processing_locations"),
    **dict.fromkeys(["contract_reference", "contract_reference_number", "contract", "contract_ref"],
                    "contract_reference"),
    **dict.fromkeys(["contract_end", "end_date", "contract_end_date"], "contract_end"),
    **dict.fromkeys(["system", "system_name", "application"], "system"),
}
FIELDS = frozenset(HEADERS.values())
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000

_YES = {"yes", "y", "true", "1", "critical", "important", "critical or important", "critical_or_important", "ja",
        "kyllä", "já"}
_NO = {"no", "n", "false", "0", "not critical", "not_critical", "not assessed", "not_assessed", "nej", "nei", "ei"}
_SUBSTITUTABILITY = {**{k: k for k in SUBSTITUTABILITY}, **{v.split(":")[1]: k for k, v in SUBSTITUTABILITY.items()},
                     **{v: k for k, v in SUBSTITUTABILITY.items()}, "not substitutable": "impossible",
                     "highly complex": "difficult", "medium complexity": "medium", "hard": "difficult"}
_SERVICE_ALIASES = {"iaas": "S17", "paas": "S18", "saas": "S19",
                    **{name_key(v): k for k, v in SERVICE_TYPES.items()}}
_CATEGORY_ALIASES = {**{name_key(v): k for k, v in PROCESS_CATEGORIES.items()},
                     **{k.replace("_", " "): k for k in PROCESS_CATEGORIES}, **{k: k for k in PROCESS_CATEGORIES}}
_SERVICE_FIELDS = ("service_type", "substitutability", "storage_locations", "processing_locations",
                   "contract_reference", "contract_end")


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``["COLUMN=FIELD", …]`` as {column: field}; Invalid for a malformed item or an unknown field."""
    given: dict[str, str] = {}
    for item in items:
        column, sep, target = item.partition("=")
        target = target.strip().lower()
        if not sep or not column.strip():
            raise Invalid(f"mapping {item!r} must be COLUMN=FIELD (e.g. Leverantör=provider or 2=lei)")
        if target not in FIELDS:
            raise Invalid(f"mapping {item!r}: unknown field {target!r}; fields are {', '.join(sorted(FIELDS))}")
        given[column.strip()] = target
    return given


@dataclass
class _Row:
    line: int
    cells: dict[str, str]
    provider: dict[str, str] = field(default_factory=dict)
    provider_id: int | None = None
    service_name: str = ""  # as given, or made from the stored provider's name, type and contract
    service: str = ""  # its name key
    values: dict[str, Any] = field(default_factory=dict)  # the service's fields the file sets
    critical: bool | None = None


def import_register(conn: Connection, reader: Reader, data: bytes, *, mapping: Iterable[str] = (),
                    delimiter: str | None = None, replace: bool = False) -> dict[str, Any]:
    """Import a CSV register of information into the reader's organisation's part of the map (all or nothing).

    Returns what happened: rows read, and per kind how many were created, updated and unchanged."""
    org = require_member_writer(conn, reader)
    # One import per member at a time (PostgreSQL): two of the same file must not both create its rows.
    conn.execute(select(organisations.c.id).where(organisations.c.id == org).with_for_update())
    if len(data) > MAX_BYTES:
        raise Invalid(f"the file is larger than {MAX_BYTES} bytes")
    given = parse_mapping(mapping)
    header, records = _records(data, delimiter)
    columns = _columns(header, given)
    problems: list[dict[str, Any]] = []
    parsed = [_parse(line, record, columns, problems) for line, record in records]
    rows = [r for r in parsed if r is not None]
    if not rows and not problems:
        raise Invalid("the file has a header but no rows")
    # Checks needing the store (providers, functions stored already) run on the good rows, so that one answer
    # names every bad line; a refusal rolls back the providers they registered with the rest.
    return _store(conn, org, rows, set(columns), replace, problems)


# --- reading --------------------------------------------------------------------------------------


def _records(data: bytes, delimiter: str | None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if b"\x00" in data[:65536]:
        raise Invalid("the file is not CSV text: it holds binary data (a NUL byte)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"the file is not UTF-8 text (byte {exc.start})") from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if delimiter is None:
        counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
        delimiter = max(counts, key=lambda d: counts[d]) if max(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    out: list[tuple[int, list[str]]] = []
    try:
        for record in reader:
            if not record or all(not c.strip() for c in record):
                continue
            if header is None:
                header = record
                continue
            out.append((reader.line_num, record))
            if len(out) > MAX_ROWS:
                raise Invalid(f"the file has more than {MAX_ROWS} rows")
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num}: {exc}", details=[{"line": reader.line_num, "reason": str(exc)}]
                      ) from None
    if header is None:
        raise Invalid("the file is empty: a header row and one row per function and service are expected")
    return header, out


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_").lstrip("#")


def _columns(header: list[str], given: dict[str, str]) -> dict[str, int]:
    names = [_key(h) for h in header]
    out: dict[str, int] = {}
    for column, target in given.items():
        if column.isdigit():
            index = int(column) - 1
            if not 0 <= index < len(header):
                raise Invalid(f"mapping {column}={target}: the file has {len(header)} columns")
        elif _key(column) in names:
            index = names.index(_key(column))
        else:
            raise Invalid(f"mapping {column}={target}: no column {column!r} in the header ({', '.join(header)})")
        out[target] = index
    for index, name in enumerate(names):
        known = HEADERS.get(name)
        if known is not None and known not in out and index not in out.values():
            out[known] = index
    if not {"provider", "lei", "service"} & set(out):
        raise Invalid("no provider column: name one with a mapping COLUMN=provider (the header has: "
                      f"{', '.join(header)})")
    return out


def _parse(line: int, record: list[str], columns: dict[str, int], problems: list[dict[str, Any]]) -> _Row | None:
    cells = {f: record[i].strip() for f, i in columns.items() if i < len(record)}
    row = _Row(line, cells)
    local: list[dict[str, str]] = []
    before = len(problems)
    for name, text in cells.items():
        if len(text) > 2000:
            problems.append({"line": line, "field": name, "reason": "at most 2000 characters"})
    row.provider = {k: cells[c] for k, c in (("name", "provider"), ("lei", "lei"), ("other_id", "other_id"),
                                             ("other_id_type", "other_id_type"), ("country", "country"))
                    if cells.get(c)}
    shared.provider_values(row.provider, local)
    if not row.provider.get("name") and not row.provider.get("lei") and not cells.get("service"):
        local.append({"field": "provider", "reason": "give the provider (name or LEI) or the service's name"})
    values: dict[str, Any] = {}
    if "service_type" in cells:
        values["service_type"] = _service_type(cells["service_type"], local)
    if "substitutability" in cells:
        text = cells["substitutability"].lower().removeprefix("eba_zz:")
        values["substitutability"] = _SUBSTITUTABILITY.get(text) if text else None
        if text and values["substitutability"] is None:
            local.append({"field": "substitutability", "reason": f"{cells['substitutability'][:40]!r} is not one "
                                                                 f"of: {', '.join(SUBSTITUTABILITY)}"})
    for name in ("storage_locations", "processing_locations"):
        if name in cells:
            codes = sorted({c.upper() for c in cells[name].replace(";", " ").replace(",", " ").replace("|", " ")
                            .split()})
            local += [{"field": name, "reason": why} for c in codes if (why := shared.country_problem(c))]
            values[name] = ",".join(codes)
    if "contract_reference" in cells:
        values["contract_reference"] = cells["contract_reference"][:100] or None
    if "contract_end" in cells:
        values["contract_end"] = None
        if cells["contract_end"]:
            try:
                values["contract_end"] = date.fromisoformat(cells["contract_end"])
            except ValueError:
                local.append({"field": "contract_end", "reason": f"{cells['contract_end'][:20]!r} is not a date "
                                                                 "(YYYY-MM-DD)"})
    if cells.get("critical"):
        flag = cells["critical"].strip().lower()
        row.critical = True if flag in _YES else False if flag in _NO else None
        if row.critical is None:
            local.append({"field": "critical", "reason": f"{cells['critical'][:40]!r} is not yes or no"})
    if cells.get("category") and _category(cells["category"]) is None:
        local.append({"field": "category", "reason": f"{cells['category'][:40]!r} is not one of: "
                                                     f"{', '.join(PROCESS_CATEGORIES)}"})
    for name, limit in (("function", 300), ("system", 300), ("service", 300), ("function_ref", 100)):
        if len(cells.get(name, "")) > limit:
            local.append({"field": name, "reason": f"at most {limit} characters"})
    problems += [{"line": line, **p} for p in local]
    if len(problems) > before:
        return None
    row.values = values
    return row


def _service_type(text: str, problems: list[dict[str, str]]) -> str | None:
    if not text:
        return None
    code = text.strip().upper().removeprefix("EBA_TA:")
    if code in SERVICE_TYPES:
        return code
    found = _SERVICE_ALIASES.get(name_key(text))
    if found is None:
        problems.append({"field": "service_type", "reason": f"{text[:40]!r} is not an ICT service type (S01…S19 "
                                                            "or its name)"})
    return found


def _category(text: str) -> str | None:
    return _CATEGORY_ALIASES.get(name_key(text).replace("-", " ").replace("_", " ")) or \
        _CATEGORY_ALIASES.get(name_key(text))


def _consistent(rows: list[_Row], problems: list[dict[str, Any]]) -> None:
    """Rows naming the same service, function or provider must not disagree on what they say about it."""
    seen: dict[tuple[str, str, str], tuple[int, Any]] = {}

    def agree(kind: str, key: str, name: str, value: Any, line: int) -> None:
        first = seen.setdefault((kind, key, name), (line, value))
        if first[1] != value:
            problems.append({"line": line, "field": name, "reason": f"says {value!r} where line {first[0]} says "
                                                                    f"{first[1]!r} about the same {kind}"})

    for r in rows:
        for name, value in r.values.items():
            agree("service", r.service, name, value, r.line)
        if r.provider:
            agree("service", r.service, "provider", r.provider_id, r.line)
        if r.cells.get("function"):
            fkey = name_key(r.cells["function"])
            for name in ("category", "function_ref"):
                if r.cells.get(name):
                    agree("function", fkey, name, _category(r.cells[name]) if name == "category"
                          else r.cells[name], r.line)
            if r.critical is not None:
                agree("function", fkey, "critical", r.critical, r.line)


# --- storing --------------------------------------------------------------------------------------


class _Tally:
    """What happened to each function, system and service the file names (once each, however many rows)."""

    def __init__(self) -> None:
        self.status: dict[tuple[str, str], str] = {}

    def note(self, kind: str, key: str, status: str) -> None:
        order = ("unchanged", "updated", "created")
        old = self.status.get((kind, key), "unchanged")
        self.status[(kind, key)] = max(old, status, key=order.index)

    def counts(self) -> dict[str, dict[str, int]]:
        out = {k: {"created": 0, "updated": 0, "unchanged": 0} for k in ("processes", "systems", "services")}
        for (kind, _key), status in self.status.items():
            out[kind][status] += 1
        return out


def _store(conn: Connection, org: int, rows: list[_Row], columns: set[str], replace: bool,
           problems: list[dict[str, Any]]) -> dict[str, Any]:
    stamp = now_us()
    names: dict[int, str] = {}
    for r in rows:
        if r.provider:
            local: list[dict[str, str]] = []
            r.provider_id = shared.resolve_provider(conn, r.provider, local, prefix="")
            problems += [{"line": r.line, **p} for p in local]
    if used := sorted({r.provider_id for r in rows if r.provider_id is not None}):
        names = {i: n for i, n in conn.execute(select(sectormap_providers.c.id, sectormap_providers.c.name)
                                                 .where(sectormap_providers.c.id.in_(used)))}
    for r in rows:  # a service without a name is named after its provider as registered, however the file spells it
        r.service_name = r.cells.get("service") or registry.service_name(
            names.get(r.provider_id) if r.provider_id is not None else None, r.values.get("service_type"),
            r.values.get("contract_reference"))
        r.service = name_key(r.service_name)
    _consistent(rows, problems)
    processes = _existing(conn, sectormap_processes, org)
    systems = _existing(conn, sectormap_systems, org)
    services = _existing(conn, sectormap_services, org)
    categorised = {name_key(r.cells["function"]) for r in rows if r.cells.get("function") and r.cells.get("category")}
    for r in rows:  # a new function needs its category
        fn = r.cells.get("function")
        if fn and name_key(fn) not in processes and name_key(fn) not in categorised:
            problems.append({"line": r.line, "field": "category", "reason": f"function {fn[:60]!r} is new: give its "
                                                                            "category"})
    if problems:
        raise Invalid(f"{len({p['line'] for p in problems})} line(s) of the file are not valid; nothing was "
                      "imported", details=sorted(problems, key=lambda p: p["line"]))
    tally = _Tally()
    critical: dict[str, bool] = {}
    for r in rows:
        critical[r.service] = critical.get(r.service, False) or bool(r.critical)
    service_ids: dict[str, int] = {}
    edges: list[tuple[str, int, str, int]] = []
    for r in rows:
        sid = service_ids.get(r.service)
        if sid is None:
            fields: dict[str, Any] = dict(r.values)
            if "critical" in columns:
                fields["critical"] = critical[r.service]
            if r.provider:
                fields["provider_id"] = r.provider_id
            sid = _upsert(conn, sectormap_services, org, r.service_name, fields, services, tally.note, "services",
                          stamp)
            service_ids[r.service] = sid
        target: tuple[str, int] = ("service", sid)
        if r.cells.get("system"):
            system = _upsert(conn, sectormap_systems, org, r.cells["system"], {}, systems, tally.note, "systems",
                             stamp)
            edges.append(("system", system, "service", sid))
            target = ("system", system)
        if r.cells.get("function"):
            fields = {k: v for k, v in (("category", _category(r.cells.get("category", ""))),
                                        ("critical", r.critical), ("function_ref", r.cells.get("function_ref") or None))
                      if v is not None}
            process = _upsert(conn, sectormap_processes, org, r.cells["function"], fields, processes, tally.note,
                              "processes", stamp)
            edges.append(("process", process, *target))
    edges = list(dict.fromkeys(edges))
    added = dependencies.insert_edges(conn, org, edges, stamp)
    removed = 0
    if replace:
        stale = [i for key, (i, _row) in services.items() if key not in service_ids]
        if stale:
            removed = conn.execute(delete(sectormap_services).where(sectormap_services.c.id.in_(stale))).rowcount
    return {"rows": len(rows), **tally.counts(), "dependencies": {"added": added, "existing": len(edges) - added},
            "services_removed": int(removed)}


_DEFAULTS: dict[str, dict[str, Any]] = {
    "sectormap_processes": {"description": "", "critical": False, "function_ref": None},
    "sectormap_systems": {"description": ""},
    "sectormap_services": {"provider_id": None, "service_type": None, "critical": False, "substitutability": None,
                           "storage_locations": "", "processing_locations": "", "contract_reference": None,
                           "contract_end": None},
}


def _existing(conn: Connection, table: Any, org: int) -> dict[str, tuple[int, dict[str, Any]]]:
    return {r["name_key"]: (r["id"], dict(r)) for r in conn.execute(
        select(table).where(table.c.organisation_id == org)).mappings()}


def _upsert(conn: Connection, table: Any, org: int, name: str, fields: dict[str, Any],
            existing: dict[str, tuple[int, dict[str, Any]]], note: Any, kind: str, stamp: int) -> int:
    """The id of the organisation's node of that name, inserted or changed to ``fields`` if need be."""
    key = name_key(name)
    found = existing.get(key)
    if found is None:
        values = {**_DEFAULTS[table.name], **fields, "name": name.strip(), "name_key": key}
        row_id = int(conn.execute(insert(table).values(**values, organisation_id=org, created_at=stamp,
                                                       updated_at=stamp).returning(table.c.id)).scalar_one())
        existing[key] = (row_id, values)
        note(kind, key, "created")
        return row_id
    row_id, stored = found
    changed = {k: v for k, v in fields.items() if stored.get(k) != v}
    if changed:
        conn.execute(update(table).where(table.c.id == row_id).values(**changed, updated_at=stamp))
        stored.update(changed)
    note(kind, key, "updated" if changed else "unchanged")
    return row_id
