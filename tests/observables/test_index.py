"""The observable and sighting indexes on the real store: written by ingest in its transaction,
for the latest unrevoked version only, and rebuilt identically by ``reindex``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from nordcert.config import Settings
from nordcert.db import is_postgres, transaction
from nordcert.errors import Invalid
from nordcert.intel import service as intel
from nordcert.intel.ingest import IngestResult, ingest
from nordcert.intel.submission import Submission, submission_for
from nordcert.intel.tables import stix_objects
from nordcert.observables import reindex, warninglist_store
from nordcert.observables.tables import observables, sighting_index
from nordcert.observables.warninglists import default_lists_dir
from tests.factories import Member, indicator, make_member, stix_id

PAN = "5500005555555559"  # a card-scheme test number (passes Luhn)
IBAN = "NO9386011117947"


def _submit(engine: Engine, member: Member, **sharing: Any) -> Submission:
    with transaction(engine, write=False) as conn:
        return submission_for(conn, member.reader, **sharing)


def _ingest(engine: Engine, objects: Iterable[Any], sub: Submission, settings: Settings) -> IngestResult:
    with transaction(engine) as conn:
        return ingest(conn, objects, sub, settings)


def _index(engine: Engine) -> set[tuple[str, str, str, str | None]]:
    """(kind, value, stix id, warninglists) of every observable index row."""
    o, s = observables, stix_objects
    with transaction(engine, write=False) as conn:
        return {(r.kind, r.value, r.stix_id, r.warninglists) for r in conn.execute(
            select(o.c.kind, o.c.value, s.c.stix_id, o.c.warninglists).join(s, s.c.date_added == o.c.date_added))}


def _raw_index(engine: Engine) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    with transaction(engine, write=False) as conn:
        return (set(map(tuple, conn.execute(select(observables)).all())),
                set(map(tuple, conn.execute(select(sighting_index)).all())))


def _sightings(engine: Engine) -> dict[str, tuple[str, int, int, int]]:
    """sighting id -> (sighting_of_ref, count, first_seen, last_seen)."""
    i, s = sighting_index, stix_objects
    with transaction(engine, write=False) as conn:
        return {r.stix_id: (r.sighting_of_ref, r.n, r.first_seen, r.last_seen) for r in conn.execute(
            select(s.c.stix_id, i.c.sighting_of_ref, i.c.count.label("n"), i.c.first_seen, i.c.last_seen)
            .join(s, s.c.date_added == i.c.date_added))}


def _count(engine: Engine, table: Any) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _version(obj: dict[str, Any], modified: str, **changes: Any) -> dict[str, Any]:
    return {**obj, "modified": modified, **changes}


def _sighting(of: str, **extra: Any) -> dict[str, Any]:
    return {"type": "sighting", "spec_version": "2.1", "id": stix_id("sighting"),
            "created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-02T10:00:00.000Z",
            "sighting_of_ref": of, **extra}


@pytest.fixture
def member(engine: Engine) -> Member:
    return make_member(engine)


@pytest.fixture
def sub(engine: Engine, member: Member) -> Submission:
    return _submit(engine, member, tlp="green")


def test_rows_are_written_for_the_latest_version_only(engine: Engine, settings: Settings, sub: Submission) -> None:
    v2 = indicator("185.220.101.2", modified="2026-02-01T00:00:00.000Z")
    older = _version(v2, "2026-01-01T00:00:00.000Z", pattern="[ipv4-addr:value = '185.220.101.1']")
    result = _ingest(engine, [v2], sub, settings)
    assert result.as_dict()["observables_indexed"] == 1
    # An older version arriving later is stored but not indexed.
    assert _ingest(engine, [older], sub, settings).indexed == 0
    assert _index(engine) == {("ipv4", "185.220.101.2", v2["id"], None)}
    assert _count(engine, stix_objects) == 2


def test_a_new_version_replaces_the_old_versions_rows(engine: Engine, settings: Settings, sub: Submission) -> None:
    v1 = indicator(pattern="[ipv4-addr:value = '185.220.101.1'] OR [domain-name:value = 'Old.Example']",
                   modified="2026-01-01T00:00:00.000Z")
    other = indicator("185.220.101.1")
    _ingest(engine, [v1, other], sub, settings)
    assert _index(engine) == {("ipv4", "185.220.101.1", v1["id"], None), ("domain", "old.example", v1["id"], None),
                              ("ipv4", "185.220.101.1", other["id"], None)}
    v2 = _version(v1, "2026-02-01T00:00:00.000Z", pattern="[url:value = 'https://New.Example/login']")
    _ingest(engine, [v2], sub, settings)
    assert _index(engine) == {("url", "https://new.example/login", v1["id"], None),
                              ("ipv4", "185.220.101.1", other["id"], None)}


@pytest.mark.parametrize("chunk", [2000, 2, 1])
def test_versions_in_one_batch_leave_the_newest_versions_rows(engine: Engine, settings: Settings, sub: Submission,
                                                              chunk: int) -> None:
    small = settings.model_copy(update={"ingest_chunk_size": chunk})
    base = indicator("185.220.101.3", modified="2026-01-03T00:00:00.000Z")
    order = ["2026-01-03T00:00:00.000Z", "2026-01-05T00:00:00.000Z", "2026-01-01T00:00:00.000Z",
             "2026-01-04T00:00:00.000Z"]
    batch = [_version(base, m, pattern=f"[ipv4-addr:value = '185.220.101.{10 + i}']") for i, m in enumerate(order)]
    plain = indicator("185.220.101.99")
    result = _ingest(engine, [*batch, plain], sub, small)
    assert (result.created, result.updated) == (2, 3)
    # 185.220.101.11 is the pattern of the newest version (2026-01-05)
    assert _index(engine) == {("ipv4", "185.220.101.11", base["id"], None),
                              ("ipv4", "185.220.101.99", plain["id"], None)}
    # One more version, newer, in a later batch, across chunks again.
    later = [indicator("185.220.101.98"), _version(base, "2026-01-06T00:00:00.000Z", pattern="[domain-name:value = "
                                                   "'six.example']"), indicator("185.220.101.97")]
    _ingest(engine, later, sub, small)
    assert {(k, v) for k, v, sid, _ in _index(engine) if sid == base["id"]} == {("domain", "six.example")}
    assert _count(engine, observables) == 4


def test_revocation_removes_the_rows(engine: Engine, settings: Settings, member: Member, sub: Submission) -> None:
    ind = indicator("185.220.101.4")
    seen = _sighting(ind["id"])
    keep = indicator("185.220.101.5")
    _ingest(engine, [ind, keep, seen], sub, settings)
    assert _count(engine, sighting_index) == 1
    with transaction(engine) as conn:
        out = intel.revoke(conn, member.reader, ind["id"], settings)
        intel.revoke(conn, member.reader, seen["id"], settings)
    assert out["meta"]["revoked"] is True
    assert _index(engine) == {("ipv4", "185.220.101.5", keep["id"], None)}
    assert _sightings(engine) == {}
    # A revoked version submitted directly is stored, never indexed.
    dead = indicator("185.220.101.6", revoked=True)
    assert _ingest(engine, [dead], sub, settings).indexed == 0
    assert _index(engine) == {("ipv4", "185.220.101.5", keep["id"], None)}


@pytest.mark.parametrize("chunk", [2000, 3])
def test_one_full_card_number_rejects_the_whole_batch(engine: Engine, settings: Settings, sub: Submission,
                                                      chunk: int) -> None:
    small = settings.model_copy(update={"ingest_chunk_size": chunk})
    _ingest(engine, [indicator("185.220.101.7")], sub, small)
    before = (_count(engine, stix_objects), _index(engine))
    batch: list[dict[str, Any]] = [indicator(f"185.220.102.{i}") for i in range(8)]
    batch[5] = indicator(pattern=f"[x-payment-card:number = '{PAN}']")
    batch.append({"type": "x-payment-card", "spec_version": "2.1", "id": stix_id("x-payment-card"),
                  "bin": "550000", "card_number": PAN[:4] + " " + PAN[4:8] + " " + PAN[8:12] + " " + PAN[12:]})
    with pytest.raises(Invalid) as err:
        _ingest(engine, batch, sub, small)
    assert err.value.message == "2 of 9 objects rejected; nothing was stored"
    assert [(d["index"], d["id"]) for d in err.value.details] == [(5, batch[5]["id"]), (8, batch[8]["id"])]
    assert all("full payment card number (PAN) is not accepted" in d["reason"] for d in err.value.details)
    assert PAN not in repr(err.value.details) and PAN[:12] not in repr(err.value.details)
    assert PAN not in str(err.value) and "5555" not in repr(err.value.details)
    assert (_count(engine, stix_objects), _index(engine)) == before


def test_values_not_indexed_are_warnings(engine: Engine, settings: Settings, sub: Submission) -> None:
    good = indicator(pattern=f"[x-bank-account:iban = '{IBAN}']")
    bad = indicator(pattern="[x-bank-account:iban = 'NO93 8601 1117 948'] OR [ipv4-addr:value = '185.220.101.8']")
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": stix_id("ipv4-addr"), "value": "999.1.1.1"}
    result = _ingest(engine, [good, bad, sco], sub, settings).as_dict()
    assert result["created"] == 3 and result["observables_indexed"] == 2
    assert result["warning_count"] == 2
    assert result["warnings"] == [
        {"index": 1, "id": bad["id"], "reason": "invalid iban: check digits do not match"},
        {"index": 2, "id": sco["id"], "reason": "invalid ipv4: an octet is greater than 255"},
    ]
    assert _index(engine) == {("iban", IBAN, good["id"], None), ("ipv4", "185.220.101.8", bad["id"], None)}
    capped = settings.model_copy(update={"max_reported_errors": 1})
    many = [indicator(pattern=f"[ipv4-addr:value = '300.0.0.{i}']") for i in range(3)]
    listed = _ingest(engine, many, sub, capped).as_dict()
    assert (listed["warning_count"], [w["index"] for w in listed["warnings"]]) == (3, [0])


def test_sightings_are_indexed_with_defaults(engine: Engine, settings: Settings, sub: Submission) -> None:
    ind = indicator("185.220.101.9")
    plain = _sighting(ind["id"])
    counted = _sighting(ind["id"], count=7, first_seen="2026-02-01T00:00:00Z", last_seen="2026-02-03T00:00:00Z")
    zero = _sighting(ind["id"], count=0, first_seen="2026-02-05T00:00:00Z")
    result = _ingest(engine, [ind, plain, counted, zero], sub, settings)
    assert result.created == 4
    day = 86_400 * 1_000_000
    mar1 = 1_772_359_200_000_000  # 2026-03-01T10:00:00Z
    feb1 = 1_769_904_000_000_000  # 2026-02-01T00:00:00Z
    assert _sightings(engine) == {
        plain["id"]: (ind["id"], 1, mar1, mar1 + day),  # created and modified stand in
        counted["id"]: (ind["id"], 7, feb1, feb1 + 2 * day),
        zero["id"]: (ind["id"], 0, feb1 + 4 * day, mar1 + day),  # last_seen: modified
    }
    # A newer version of a sighting replaces its row.
    _ingest(engine, [_version(plain, "2026-03-09T10:00:00.000Z", count=3)], sub, settings)
    assert _sightings(engine)[plain["id"]] == (ind["id"], 3, mar1, mar1 + 8 * day)
    assert len(_sightings(engine)) == 3


def test_warninglist_flags_are_stored_at_ingest(engine: Engine, settings: Settings, sub: Submission) -> None:
    with transaction(engine) as conn:
        loaded = warninglist_store.load(conn, [default_lists_dir()])
    assert {"rfc1918", "empty-hashes", "google"} <= {wl["name"] for wl in loaded}
    private = indicator("10.1.2.3")
    empty = {"type": "file", "spec_version": "2.1", "id": stix_id("file"),
             "hashes": {"MD5": "D41D8CD98F00B204E9800998ECF8427E"}}
    evil = indicator("185.220.101.10")
    _ingest(engine, [private, empty, evil], sub, settings)
    assert _index(engine) == {
        ("ipv4", "10.1.2.3", private["id"], "rfc1918,rfc5735"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e", empty["id"], "common-ioc-false-positive,empty-hashes"),
        ("ipv4", "185.220.101.10", evil["id"], None),
    }
    # A disabled list no longer flags new rows.
    with transaction(engine) as conn:
        warninglist_store.set_enabled(conn, "rfc5735", False)
    again = indicator("10.9.9.9")
    _ingest(engine, [again], sub, settings)
    assert ("ipv4", "10.9.9.9", again["id"], "rfc1918") in _index(engine)


def test_reindex_reproduces_what_ingest_wrote(engine: Engine, settings: Settings, member: Member,
                                              sub: Submission) -> None:
    with transaction(engine) as conn:
        warninglist_store.load(conn, [default_lists_dir()])
    v1 = indicator("185.220.101.11", modified="2026-01-01T00:00:00.000Z")
    doomed = indicator("185.220.101.12")
    objects: list[dict[str, Any]] = [
        v1, _version(v1, "2026-02-01T00:00:00.000Z", pattern="[ipv4-addr:value = '10.0.0.0/8']"), doomed,
        indicator(pattern=f"[x-bank-account:iban = '{IBAN}' AND x-bank-account:bic = 'DNBANOKK'] OR "
                          "[x-bank-account:iban = 'NO93 8601 1117 948']"),
        {"type": "file", "spec_version": "2.1", "id": stix_id("file"),
         "hashes": {"SHA-256": "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}},
        {"type": "x-phone-number", "spec_version": "2.1", "id": stix_id("x-phone-number"), "value": "+46 70 123 45 67"},
        _sighting(v1["id"], count=4), _sighting(doomed["id"]),
        {"type": "malware", "spec_version": "2.1", "id": stix_id("malware"), "created": "2026-01-01T00:00:00Z",
         "modified": "2026-01-01T00:00:00Z", "name": "Nordic banker", "is_family": True},
    ]
    _ingest(engine, objects, sub, settings.model_copy(update={"ingest_chunk_size": 3}))
    with transaction(engine) as conn:
        intel.revoke(conn, member.reader, doomed["id"], settings)
    written = _raw_index(engine)
    assert len(written[0]) == 5 and len(written[1]) == 2
    with transaction(engine) as conn:
        totals = reindex.rebuild(conn, settings)
    assert totals == {"objects": 7, "observables": 5, "sightings": 2, "warnings": 1}
    assert _raw_index(engine) == written


def test_reindex_flags_values_when_lists_are_loaded_later(engine: Engine, settings: Settings,
                                                          sub: Submission) -> None:
    private = indicator("192.168.1.1")
    google = indicator(pattern="[domain-name:value = 'google.com']")
    _ingest(engine, [private, google], sub, settings)
    assert {wl for *_, wl in _index(engine)} == {None}
    with transaction(engine) as conn:
        warninglist_store.load(conn, [default_lists_dir()])
        progress: list[int] = []
        reindex.rebuild(conn, settings, on_progress=progress.append)
    assert progress == [2]
    assert _index(engine) == {("ipv4", "192.168.1.1", private["id"], "rfc1918,rfc5735"),
                              ("domain", "google.com", google["id"], "cloudflare-top10k,google")}


# --- cost per object does not grow with the store --------------------------------------------------


@contextmanager
def _counting(conn: Connection) -> Iterator[list[str]]:
    """Every statement the connection's driver runs: SQLAlchemy's and those the hot paths run on the
    driver's own cursor (multi-row inserts, COPY, the versions of a chunk's ids)."""
    statements: list[str] = []
    dbapi_conn: Any = conn.connection.dbapi_connection
    if not is_postgres(conn):
        dbapi_conn.set_trace_callback(statements.append)
        try:
            yield statements
        finally:
            dbapi_conn.set_trace_callback(None)
        return
    previous = dbapi_conn.cursor_factory

    class Counting(previous):  # type: ignore[misc,valid-type]
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            statements.append(str(query))
            return super().execute(query, *args, **kwargs)

        def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            statements.append(str(query))
            return super().executemany(query, *args, **kwargs)

        def copy(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
            statements.append(str(statement))
            return super().copy(statement, *args, **kwargs)

    dbapi_conn.cursor_factory = Counting
    try:
        yield statements
    finally:
        dbapi_conn.cursor_factory = previous


def _statements_per_chunk(engine: Engine, settings: Settings, sub: Submission, tag: str) -> list[int]:
    """Ingest one batch of a fixed shape in chunks of 2 and count the statements of each chunk."""
    a = indicator(f"185.221.{tag}.1", modified="2026-01-01T00:00:00.000Z")
    b = indicator(f"185.221.{tag}.2", modified="2026-01-01T00:00:00.000Z")
    _ingest(engine, [a, b], sub, settings)
    c = indicator(f"185.221.{tag}.3")
    batch = [_version(a, "2026-02-01T00:00:00.000Z"), c, _version(b, "2026-02-01T00:00:00.000Z"),
             _sighting(c["id"]), indicator(f"185.221.{tag}.4"), indicator(f"185.221.{tag}.5")]
    small = settings.model_copy(update={"ingest_chunk_size": 2})
    marks: list[int] = []
    with transaction(engine) as conn, _counting(conn) as statements:
        warninglist_store._forget(conn)  # the matcher cache is time-based: start each run from the same state
        ingest(conn, batch, sub, small, on_progress=lambda _n: marks.append(len(statements)))
        marks.append(len(statements))
    return [after - before for before, after in zip([0, *marks], marks, strict=False)]


def test_statements_per_chunk_do_not_depend_on_the_store_size(engine: Engine, settings: Settings,
                                                              sub: Submission) -> None:
    empty_store = _statements_per_chunk(engine, settings, sub, "1")
    filler = [indicator(f"10.{i // 250}.{i % 250}.1") for i in range(5000)]
    filler += [_sighting(filler[i]["id"]) for i in range(0, 5000, 50)]
    _ingest(engine, filler, sub, settings)
    assert _count(engine, stix_objects) > 5000
    big_store = _statements_per_chunk(engine, settings, sub, "2")
    assert big_store == empty_store
    assert len(empty_store) == 5  # three chunks, the end of the input, and finishing
    assert min(empty_store[:3]) > 0
