"""Bulk ingest on the real store (SQLite, or PostgreSQL with NORDCERT_TEST_POSTGRES_URL).

Counts, versions, the all-or-nothing rule, who may submit and add versions, TLP and sharing
attributes, labels, and complete imports of real public STIX data.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Forbidden, Invalid, NotFound
from nordcert.intel.bundle import iter_objects_from_file, objects_from_bytes
from nordcert.intel.ingest import IngestResult, ingest
from nordcert.intel.submission import Submission, submission_for
from nordcert.intel.tables import ingest_clock, object_labels, object_recipients, stix_objects
from nordcert.sharing.tlp import TLP1_MARKING_IDS, TLP2_MARKING_IDS, Tlp
from tests.factories import Member, bundle, indicator, make_member, refresh, stix_id

DATA = Path(__file__).resolve().parent.parent / "data"
APT1 = DATA / "oasis-stix2-examples" / "threat-reports" / "apt1.json"
POISONIVY = DATA / "oasis-stix2-examples" / "threat-reports" / "poisonivy.json"
SCO_EXAMPLES = DATA / "cti-python-stix2" / "sco-examples-bundle.json"
BAD_MALWARE = (DATA / "cti-python-stix2" / "filesystem-store-v21" / "malware"
               / "malware--b42378e0-f147-496f-992a-26a49705395b" / "20170531213215263882.json")
TLP_FILES = sorted((DATA / "oasis-stix-common-objects-tlp2").rglob("marking-definition*.json")) + sorted(
    (DATA / "oasis-stix-common-objects-tlp2" / "tlp-2.0-examples").glob("tlp-*.json")
)
STATEMENT_MARKINGS = {
    "marking-definition--3cd55916-d34b-4747-a8e0-dedec14b711b",
    "marking-definition--62fd3f9b-15f3-4ebc-802c-91fce9536bcf",
}
BAD_PATTERN = "[ipv4-addr:value = '198.51.100.1'"


# --- helpers -------------------------------------------------------------------------------------


def submit(engine: Engine, member: Member, **sharing: Any) -> Submission:
    with transaction(engine, write=False) as conn:
        return submission_for(conn, member.reader, **sharing)


def run(engine: Engine, objects: Iterable[Any], sub: Submission, settings: Settings, **kw: Any) -> IngestResult:
    with transaction(engine) as conn:
        return ingest(conn, objects, sub, settings, **kw)


def rejected(engine: Engine, objects: Iterable[Any], sub: Submission, settings: Settings) -> Invalid:
    with pytest.raises(Invalid) as err:
        run(engine, objects, sub, settings)
    return err.value


def count(engine: Engine, table: Table) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def counts(engine: Engine) -> tuple[int, int, int]:
    return count(engine, stix_objects), count(engine, object_labels), count(engine, object_recipients)


def rows(engine: Engine, sid: str | None = None) -> list[dict[str, Any]]:
    q = select(stix_objects).order_by(stix_objects.c.date_added)
    if sid is not None:
        q = q.where(stix_objects.c.stix_id == sid)
    with transaction(engine, write=False) as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def row(engine: Engine, sid: str) -> dict[str, Any]:
    (only,) = rows(engine, sid)
    return only


def body(r: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(r["body"])
    return loaded


def labels_of(engine: Engine, date_added: int) -> set[str]:
    with transaction(engine, write=False) as conn:
        return set(conn.execute(select(object_labels.c.label).where(object_labels.c.date_added == date_added)).scalars())


def recipients_of(engine: Engine, date_added: int) -> set[int]:
    with transaction(engine, write=False) as conn:
        return set(conn.execute(
            select(object_recipients.c.organisation_id).where(object_recipients.c.date_added == date_added)
        ).scalars())


def assert_one_latest_per_object(engine: Engine) -> None:
    with transaction(engine, write=False) as conn:
        all_ids = set(conn.execute(select(stix_objects.c.stix_id)).scalars())
        latest = Counter(conn.execute(select(stix_objects.c.stix_id).where(stix_objects.c.is_latest)).scalars())
    assert set(latest) == all_ids
    assert all(n == 1 for n in latest.values()), {k: n for k, n in latest.items() if n != 1}


def latest_modified(engine: Engine, sid: str) -> int:
    (r,) = [r for r in rows(engine, sid) if r["is_latest"]]
    return int(r["modified"])


def version(obj: dict[str, Any], modified: str, **changes: Any) -> dict[str, Any]:
    return {**obj, "modified": modified, **changes}


def make_group(engine: Engine, name: str, *members: Member) -> int:
    with transaction(engine) as conn:
        g = accounts.create_group(conn, name=name, members=[m.org_id for m in members])
    for m in members:
        refresh(engine, m)
    return int(g["id"])


def load(path: Path) -> list[Any]:
    with path.open("rb") as fh:
        return list(iter_objects_from_file(fh))


@pytest.fixture
def analyst(engine: Engine) -> Member:
    return make_member(engine, role="analyst")


@pytest.fixture
def sub(engine: Engine, analyst: Member) -> Submission:
    return submit(engine, analyst)


# --- counts and idempotence ------------------------------------------------------------------------


def test_created_updated_unchanged_counts(engine: Engine, settings: Settings, sub: Submission) -> None:
    a, b, c = indicator(), indicator(), indicator()
    first = run(engine, [a, b], sub, settings)
    assert (first.created, first.updated, first.unchanged, first.total) == (2, 0, 0, 2)
    assert first.as_dict() == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0, "total": 2, "rejections": [],
                               "observables_indexed": 2, "warning_count": 0, "warnings": []}
    assert first.first_date_added is not None and first.last_date_added is not None
    assert first.last_date_added - first.first_date_added == 1

    second = run(engine, [a, version(a, "2026-01-02T00:00:00.000Z"), c], sub, settings)
    assert (second.created, second.updated, second.unchanged) == (1, 1, 1)
    assert second.first_date_added is not None and second.first_date_added > first.last_date_added
    assert count(engine, stix_objects) == 4
    dates = [r["date_added"] for r in rows(engine)]
    assert dates == sorted(set(dates))


def test_empty_batch_stores_nothing(engine: Engine, settings: Settings, sub: Submission) -> None:
    result = run(engine, [], sub, settings)
    assert result.total == 0 and result.first_date_added is None
    assert counts(engine) == (0, 0, 0)


def test_the_same_object_twice_in_one_batch_is_stored_once(engine: Engine, settings: Settings, sub: Submission) -> None:
    a = indicator()
    result = run(engine, [a, dict(a)], sub, settings)
    assert (result.created, result.unchanged) == (1, 1)
    assert count(engine, stix_objects) == 1


def test_reimport_is_idempotent(engine: Engine, settings: Settings, sub: Submission) -> None:
    first = run(engine, load(APT1), sub, settings)
    assert (first.created, first.updated, first.unchanged) == (76, 0, 0)
    stored = rows(engine)
    again = run(engine, load(APT1), sub, settings)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 76)
    assert again.first_date_added is None
    assert rows(engine) == stored


def test_keep_ids_lists_the_stored_ids(engine: Engine, settings: Settings, sub: Submission) -> None:
    objs = [indicator() for _ in range(3)]
    result = run(engine, objs, sub, settings, keep_ids=True)
    assert result.ids == [o["id"] for o in objs]


# --- versions ------------------------------------------------------------------------------------


def test_newer_version_becomes_latest(engine: Engine, settings: Settings, sub: Submission) -> None:
    v1 = indicator(modified="2026-01-01T00:00:00.000Z")
    run(engine, [v1], sub, settings)
    result = run(engine, [version(v1, "2026-02-01T00:00:00.000Z", name="v2")], sub, settings)
    assert result.updated == 1
    old, new = rows(engine, v1["id"])
    assert (old["is_latest"], new["is_latest"]) == (False, True)
    assert body(new)["name"] == "v2"
    assert_one_latest_per_object(engine)


def test_older_version_is_stored_but_not_latest(engine: Engine, settings: Settings, sub: Submission) -> None:
    v2 = indicator(modified="2026-02-01T00:00:00.000Z")
    run(engine, [v2], sub, settings)
    result = run(engine, [version(v2, "2026-01-15T00:00:00.000Z")], sub, settings)
    assert result.updated == 1
    stored = {r["modified"]: r["is_latest"] for r in rows(engine, v2["id"])}
    assert len(stored) == 2
    assert stored[max(stored)] is True and stored[min(stored)] is False
    assert_one_latest_per_object(engine)


@pytest.mark.parametrize("chunk", [1, 2, 2000])
def test_versions_in_any_order_within_and_across_chunks(engine: Engine, settings: Settings, sub: Submission,
                                                        chunk: int) -> None:
    small = settings.model_copy(update={"ingest_chunk_size": chunk})
    base = indicator(created="2025-01-01T00:00:00.000Z", modified="2026-01-01T00:00:00.000Z")
    other = indicator(modified="2026-01-01T00:00:00.000Z")
    mods = ["2026-01-03T00:00:00.000Z", "2026-01-01T00:00:00.000Z", "2026-01-05T00:00:00.000Z",
            "2026-01-02T00:00:00.000Z", "2026-01-04T00:00:00.000Z"]
    result = run(engine, [version(base, m) for m in mods] + [other], sub, small)
    assert (result.created, result.updated, result.unchanged) == (2, 4, 0)
    assert len(rows(engine, base["id"])) == 5
    newest = max(r["modified"] for r in rows(engine, base["id"]))
    assert latest_modified(engine, base["id"]) == newest
    assert_one_latest_per_object(engine)
    # An older and a newer version later: only the newest stays latest.
    run(engine, [version(base, "2025-12-31T00:00:00.000Z"), version(base, "2026-01-06T00:00:00.000Z")], sub, small)
    assert body(next(r for r in rows(engine, base["id"]) if r["is_latest"]))["modified"] == "2026-01-06T00:00:00.000Z"
    assert_one_latest_per_object(engine)


def test_objects_without_versions_are_stored_once(engine: Engine, settings: Settings, sub: Submission) -> None:
    ip = {"type": "ipv4-addr", "id": stix_id("ipv4-addr"), "value": "198.51.100.5"}
    assert run(engine, [ip], sub, settings).created == 1
    assert run(engine, [dict(ip)], sub, settings).unchanged == 1
    r = row(engine, ip["id"])
    assert (r["modified"], r["created"], r["spec_version"], r["is_latest"]) == (0, None, "2.1", True)


def test_stored_columns(engine: Engine, settings: Settings, analyst: Member) -> None:
    sub = submit(engine, analyst, anonymous=True)
    obj = indicator(valid_until="2026-06-01T00:00:00Z", revoked=True, description="seen on the wire")
    run(engine, [obj], sub, settings)
    r = row(engine, obj["id"])
    assert r["type"] == "indicator" and r["spec_version"] == "2.1"
    assert r["creator_org_id"] == analyst.org_id and r["submitted_by"] == analyst.reader.user_id
    assert r["anonymous"] is True and r["revoked"] is True
    assert r["name"] == obj["name"] and r["description"] == "seen on the wire"
    assert r["valid_until"] == 1_780_272_000_000_000
    assert body(r)["pattern"] == obj["pattern"]


# --- all or nothing ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [2000, 100])
def test_one_invalid_object_rejects_the_whole_batch(engine: Engine, settings: Settings, sub: Submission,
                                                    chunk: int) -> None:
    settings = settings.model_copy(update={"ingest_chunk_size": chunk})
    run(engine, [indicator(labels=["seed"]) for _ in range(5)], sub, settings)
    before = counts(engine)
    with transaction(engine, write=False) as conn:
        clock_before = conn.execute(select(ingest_clock.c.last_date_added)).scalar_one()
    batch = [indicator(labels=["bulk", f"n{i}"]) for i in range(1000)]
    batch[537]["pattern"] = BAD_PATTERN
    bad_id = batch[537]["id"]

    err = rejected(engine, batch, sub, settings)

    assert err.message == "1 of 1000 objects rejected; nothing was stored"
    assert len(err.details) == 1
    (problem,) = err.details
    assert problem["index"] == 537 and problem["id"] == bad_id
    assert "invalid STIX pattern" in problem["reason"] and BAD_PATTERN in problem["reason"]
    assert counts(engine) == before
    assert before[0] == 5 and before[1] == 5
    with transaction(engine, write=False) as conn:
        assert conn.execute(select(ingest_clock.c.last_date_added)).scalar_one() == clock_before
        assert conn.execute(select(func.count()).select_from(stix_objects).where(
            stix_objects.c.stix_id.in_([o["id"] for o in batch]))).scalar_one() == 0


def test_every_invalid_object_is_listed(engine: Engine, settings: Settings, sub: Submission) -> None:
    batch: list[Any] = [indicator() for _ in range(20)]
    batch[2]["created"] = "2026-02-30T00:00:00Z"
    del batch[5]["spec_version"]
    batch[9]["confidence"] = 101
    batch[11] = "not an object"
    batch[19]["valid_until"] = batch[19]["valid_from"]

    err = rejected(engine, batch, sub, settings)

    assert err.message == "5 of 20 objects rejected; nothing was stored"
    assert [(d["index"], d["id"]) for d in err.details] == [
        (2, batch[2]["id"]), (5, batch[5]["id"]), (9, batch[9]["id"]), (11, None), (19, batch[19]["id"]),
    ]
    reasons = [d["reason"] for d in err.details]
    assert "not a valid date/time" in reasons[0]
    assert "spec_version is missing" in reasons[1]
    assert "confidence" in reasons[2]
    assert reasons[3] == "not a JSON object"
    assert "valid_until" in reasons[4]
    assert counts(engine) == (0, 0, 0)


def test_pattern_crashing_the_grammar_is_listed_as_invalid(engine: Engine, settings: Settings,
                                                           sub: Submission) -> None:
    """stix2-patterns raises AttributeError on a negative list index: the object is refused, not the request."""
    batch = [indicator(), indicator(pattern="[network-traffic:protocols[-1] = 'tcp']")]
    err = rejected(engine, batch, sub, settings)
    assert [(d["index"], d["id"]) for d in err.details] == [(1, batch[1]["id"])]
    assert "invalid STIX pattern" in err.details[0]["reason"]
    assert counts(engine) == (0, 0, 0)


def test_listed_problems_are_capped_but_counted(engine: Engine, settings: Settings, sub: Submission) -> None:
    capped = settings.model_copy(update={"max_reported_errors": 2})
    batch = [indicator(pattern=BAD_PATTERN) for _ in range(7)]
    err = rejected(engine, batch, sub, capped)
    assert err.message.startswith("7 of 7 objects rejected")
    assert [d["index"] for d in err.details] == [0, 1]


# --- who may add versions ------------------------------------------------------------------------


def test_other_organisation_may_not_add_a_version(engine: Engine, settings: Settings, analyst: Member) -> None:
    owner_sub = submit(engine, analyst)
    obj = indicator()
    run(engine, [obj], owner_sub, settings)
    intruder = make_member(engine, role="analyst")
    before = counts(engine)
    fresh = indicator()

    err = rejected(engine, [fresh, version(obj, "2026-03-01T00:00:00.000Z", name="hijacked")],
                   submit(engine, intruder), settings)

    assert [(d["index"], d["id"]) for d in err.details] == [(1, obj["id"])]
    assert "only the organisation that created this object may add versions" in err.details[0]["reason"]
    assert counts(engine) == before
    assert rows(engine, fresh["id"]) == []
    assert body(row(engine, obj["id"]))["name"] == obj["name"]


def test_other_organisation_resubmitting_a_stored_version_changes_nothing(
    engine: Engine, settings: Settings, sub: Submission,
) -> None:
    obj = indicator()
    run(engine, [obj], sub, settings)
    other = submit(engine, make_member(engine, role="analyst"))
    assert run(engine, [dict(obj)], other, settings).unchanged == 1
    assert row(engine, obj["id"])["creator_org_id"] == sub.creator_org_id


def test_cert_admin_may_add_a_version(engine: Engine, settings: Settings, sub: Submission) -> None:
    obj = indicator()
    run(engine, [obj], sub, settings)
    admin = make_member(engine, role="cert_admin")
    result = run(engine, [version(obj, "2026-03-01T00:00:00.000Z", name="corrected")], submit(engine, admin), settings)
    assert result.updated == 1
    assert [r["is_latest"] for r in rows(engine, obj["id"])] == [False, True]
    assert body(rows(engine, obj["id"])[-1])["name"] == "corrected"
    assert_one_latest_per_object(engine)


def test_creator_may_add_versions_after_cert_admin_added_some(
    engine: Engine, settings: Settings, sub: Submission,
) -> None:
    """Versions added by CERT staff keep the object's creator; the creator may still add versions."""
    obj = indicator(created="2025-01-01T00:00:00.000Z", modified="2026-02-01T00:00:00.000Z")
    run(engine, [obj], sub, settings)
    admin = submit(engine, make_member(engine, role="cert_admin"))
    run(engine, [version(obj, "2026-01-15T00:00:00.000Z"), version(obj, "2026-03-01T00:00:00.000Z")], admin, settings)
    assert run(engine, [version(obj, "2026-04-01T00:00:00.000Z")], sub, settings).updated == 1
    stored = rows(engine, obj["id"])
    assert len(stored) == 4
    assert {r["creator_org_id"] for r in stored} == {sub.creator_org_id}
    assert {r["submitted_by"] for r in stored} == {sub.submitted_by, admin.submitted_by}
    intruder = submit(engine, make_member(engine, role="analyst"))
    with pytest.raises(Invalid):
        run(engine, [version(obj, "2026-05-01T00:00:00.000Z")], intruder, settings)
    assert_one_latest_per_object(engine)


# --- who may submit ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["reader", "risk_officer"])
def test_roles_without_submit_right_are_forbidden(engine: Engine, role: str) -> None:
    member = make_member(engine, role=role)
    with pytest.raises(Forbidden, match=f"role {role} may not submit"):
        submit(engine, member)


def test_submitting_to_a_group_the_organisation_is_not_in_is_forbidden(engine: Engine, settings: Settings,
                                                                       analyst: Member) -> None:
    outsider = make_member(engine, role="analyst")
    gid = make_group(engine, "Nordic banks", analyst)
    with pytest.raises(Forbidden, match="not a member of the sharing group 'Nordic banks'"):
        submit(engine, outsider, group="Nordic banks")
    with pytest.raises(Forbidden):
        submit(engine, outsider, group=gid)
    assert submit(engine, analyst, group="nordic banks").group_id == gid
    admin = make_member(engine, role="cert_admin")
    assert submit(engine, admin, group=gid).group_id == gid  # CERT staff may use any group
    with pytest.raises(NotFound):
        submit(engine, analyst, group="no such group")


def test_unknown_recipient_or_tlp_is_refused(engine: Engine, analyst: Member) -> None:
    with pytest.raises(NotFound):
        submit(engine, analyst, recipients=["No Such Bank"])
    with pytest.raises(Invalid, match="unknown TLP"):
        submit(engine, analyst, tlp="purple")


# --- TLP -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("marking", "expected"), [
    (TLP2_MARKING_IDS[Tlp.CLEAR], Tlp.CLEAR),
    (TLP2_MARKING_IDS[Tlp.GREEN], Tlp.GREEN),
    (TLP2_MARKING_IDS[Tlp.AMBER], Tlp.AMBER),
    (TLP2_MARKING_IDS[Tlp.AMBER_STRICT], Tlp.AMBER_STRICT),
    (TLP2_MARKING_IDS[Tlp.RED], Tlp.RED),
    (TLP1_MARKING_IDS[Tlp.CLEAR], Tlp.CLEAR),
    (TLP1_MARKING_IDS[Tlp.GREEN], Tlp.GREEN),
    (TLP1_MARKING_IDS[Tlp.AMBER], Tlp.AMBER),
    (TLP1_MARKING_IDS[Tlp.RED], Tlp.RED),
])
def test_tlp_from_object_marking_refs(engine: Engine, settings: Settings, sub: Submission, marking: str,
                                      expected: Tlp) -> None:
    obj = indicator(object_marking_refs=[marking])
    run(engine, [obj], sub, settings)
    r = row(engine, obj["id"])
    assert Tlp(r["tlp"]) is expected
    assert body(r)["object_marking_refs"] == [expected.marking_id]


def test_strictest_marking_wins(engine: Engine, settings: Settings, sub: Submission) -> None:
    obj = indicator(object_marking_refs=[TLP2_MARKING_IDS[Tlp.GREEN], TLP1_MARKING_IDS[Tlp.RED]])
    run(engine, [obj], sub, settings)
    assert Tlp(row(engine, obj["id"])["tlp"]) is Tlp.RED


@pytest.mark.parametrize(("marked", "asked", "expected"), [
    (Tlp.GREEN, "amber", Tlp.AMBER),
    (Tlp.RED, "green", Tlp.RED),
    (Tlp.AMBER, "amber+strict", Tlp.AMBER_STRICT),
    (Tlp.CLEAR, "clear", Tlp.CLEAR),
    (Tlp.AMBER_STRICT, "TLP:AMBER", Tlp.AMBER_STRICT),
    (None, "green", Tlp.GREEN),
    (None, "white", Tlp.CLEAR),
])
def test_strictest_of_marking_and_submission(engine: Engine, settings: Settings, analyst: Member,
                                             marked: Tlp | None, asked: str, expected: Tlp) -> None:
    extra: dict[str, Any] = {"object_marking_refs": [marked.marking_id]} if marked is not None else {}
    obj = indicator(**extra)
    run(engine, [obj], submit(engine, analyst, tlp=asked), settings)
    r = row(engine, obj["id"])
    assert Tlp(r["tlp"]) is expected
    assert body(r)["object_marking_refs"][0] == expected.marking_id


def test_default_tlp_when_neither_marks_it(engine: Engine, settings: Settings, sub: Submission) -> None:
    assert settings.default_tlp == "amber"
    obj = indicator()
    run(engine, [obj], sub, settings)
    r = row(engine, obj["id"])
    assert Tlp(r["tlp"]) is Tlp.AMBER
    assert body(r)["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.AMBER]]
    assert r["group_id"] is None and r["has_recipients"] is False


def test_configured_default_tlp(engine: Engine, settings: Settings, sub: Submission) -> None:
    obj = indicator()
    run(engine, [obj], sub, settings.model_copy(update={"default_tlp": "green"}))
    assert Tlp(row(engine, obj["id"])["tlp"]) is Tlp.GREEN


def test_other_markings_are_kept_and_tlp_comes_first(engine: Engine, settings: Settings, sub: Submission) -> None:
    statement = "marking-definition--62fd3f9b-15f3-4ebc-802c-91fce9536bcf"
    obj = indicator(object_marking_refs=[statement, TLP1_MARKING_IDS[Tlp.GREEN]])
    run(engine, [obj], sub, settings)
    assert body(row(engine, obj["id"]))["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.GREEN], statement]
    unmarked_statement = indicator(object_marking_refs=[statement])
    run(engine, [unmarked_statement], sub, settings)
    r = row(engine, unmarked_statement["id"])
    assert Tlp(r["tlp"]) is Tlp.AMBER
    assert body(r)["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.AMBER], statement]


@pytest.mark.parametrize(("marked", "expected"), [
    (None, Tlp.AMBER),
    (Tlp.CLEAR, Tlp.AMBER),
    (Tlp.GREEN, Tlp.AMBER),
    (Tlp.AMBER_STRICT, Tlp.AMBER_STRICT),
    (Tlp.RED, Tlp.RED),
])
def test_group_implies_at_least_amber(engine: Engine, settings: Settings, analyst: Member,
                                      marked: Tlp | None, expected: Tlp) -> None:
    gid = make_group(engine, "Payments ISAC", analyst)
    extra: dict[str, Any] = {"object_marking_refs": [marked.marking_id]} if marked is not None else {}
    obj = indicator(**extra)
    sub = submit(engine, analyst, group="Payments ISAC")
    run(engine, [obj], sub, settings.model_copy(update={"default_tlp": "clear"}))
    r = row(engine, obj["id"])
    assert Tlp(r["tlp"]) is expected
    assert body(r)["object_marking_refs"][0] == expected.marking_id
    if expected in (Tlp.AMBER, Tlp.AMBER_STRICT):
        assert r["group_id"] == gid


def test_recipients_imply_red(engine: Engine, settings: Settings, analyst: Member) -> None:
    a = make_member(engine, role="reader")
    b = make_member(engine, role="reader")
    sub = submit(engine, analyst, tlp="green", recipients=[a.org_name, b.org_id])
    assert sub.recipients == frozenset({a.org_id, b.org_id})
    objs = [indicator(object_marking_refs=[TLP2_MARKING_IDS[Tlp.CLEAR]]), indicator()]
    run(engine, objs, sub, settings)
    for obj in objs:
        r = row(engine, obj["id"])
        assert Tlp(r["tlp"]) is Tlp.RED
        assert r["has_recipients"] is True
        assert body(r)["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.RED]]
        assert recipients_of(engine, r["date_added"]) == {a.org_id, b.org_id}
    assert count(engine, object_recipients) == 4


def test_tlp_marking_definitions_are_stored_as_clear(engine: Engine, settings: Settings, analyst: Member) -> None:
    reader = make_member(engine, role="reader")
    gid = make_group(engine, "Banks", analyst)
    markings = [o for path in TLP_FILES for o in load(path) if o["id"] not in STATEMENT_MARKINGS]
    assert {o["id"] for o in markings} == set(TLP2_MARKING_IDS.values())
    sub = submit(engine, analyst, tlp="red", group=gid, recipients=[reader.org_id])
    run(engine, markings, sub, settings)
    for obj in markings:
        r = row(engine, obj["id"])
        assert Tlp(r["tlp"]) is Tlp.CLEAR
        assert r["group_id"] is None and r["has_recipients"] is False
        assert "object_marking_refs" not in body(r)


def test_clear_marking_definitions_get_no_recipient_rows(engine: Engine, settings: Settings, analyst: Member) -> None:
    reader = make_member(engine, role="reader")
    objects = [o for path in TLP_FILES for o in load(path)]
    run(engine, [*objects, indicator()], submit(engine, analyst, recipients=[reader.org_id]), settings)
    for r in rows(engine):
        expected = set() if r["stix_id"] in TLP2_MARKING_IDS.values() else {reader.org_id}
        assert recipients_of(engine, r["date_added"]) == expected, r["stix_id"]
        assert r["has_recipients"] is bool(expected)
    assert count(engine, object_recipients) == len(STATEMENT_MARKINGS) + 1


# --- labels --------------------------------------------------------------------------------------


def test_labels_are_stored(engine: Engine, settings: Settings, sub: Submission) -> None:
    long = "x" * 300
    obj = indicator(labels=["malicious-activity", "c2", "malicious-activity", long])
    unlabelled = indicator()
    run(engine, [obj, unlabelled], sub, settings)
    r = row(engine, obj["id"])
    assert labels_of(engine, r["date_added"]) == {"malicious-activity", "c2", "x" * 250}
    assert labels_of(engine, row(engine, unlabelled["id"])["date_added"]) == set()
    assert body(r)["labels"] == obj["labels"]  # the object itself is kept as it is
    run(engine, [version(obj, "2026-05-01T00:00:00.000Z", labels=["phishing"])], sub, settings)
    newest = rows(engine, obj["id"])[-1]
    assert labels_of(engine, newest["date_added"]) == {"phishing"}
    assert count(engine, object_labels) == 4


# --- real public data ----------------------------------------------------------------------------


def test_apt1_report_imports_completely(engine: Engine, settings: Settings, sub: Submission) -> None:
    objects = load(APT1)
    result = run(engine, objects, sub, settings)
    assert (result.created, result.updated, result.unchanged) == (76, 0, 0)
    with transaction(engine, write=False) as conn:
        by_type: dict[str, int] = dict(conn.execute(select(stix_objects.c.type, func.count()).group_by(stix_objects.c.type)).all())
    assert by_type == {"relationship": 30, "indicator": 12, "tool": 10, "attack-pattern": 7, "malware": 6,
                       "threat-actor": 5, "identity": 4, "intrusion-set": 1, "report": 1}
    assert {r["stix_id"] for r in rows(engine)} == {o["id"] for o in objects}
    assert_one_latest_per_object(engine)


def test_poisonivy_report_imports_completely(engine: Engine, settings: Settings, sub: Submission) -> None:
    result = run(engine, load(POISONIVY), sub, settings)
    assert (result.created, result.updated, result.unchanged) == (155, 0, 0)
    assert count(engine, stix_objects) == 155
    assert_one_latest_per_object(engine)


def test_both_reports_import_in_one_transaction(engine: Engine, settings: Settings, sub: Submission) -> None:
    result = run(engine, [*load(APT1), *load(POISONIVY)], sub, settings.model_copy(update={"ingest_chunk_size": 50}))
    assert result.created == 231
    assert count(engine, stix_objects) == 231


def test_tlp2_marking_files_import_completely(engine: Engine, settings: Settings, sub: Submission) -> None:
    objects = [o for path in TLP_FILES for o in load(path)]
    # tlp-2.0-examples/tlp-amber+strict.json holds the same object as its file under objects/
    assert len(TLP_FILES) == 8 and len(objects) == 8
    result = run(engine, objects, sub, settings)
    assert (result.created, result.unchanged) == (7, 1)
    stored = {r["stix_id"]: Tlp(r["tlp"]) for r in rows(engine)}
    assert {sid for sid, tlp in stored.items() if tlp is Tlp.CLEAR} == set(TLP2_MARKING_IDS.values())
    assert {sid: tlp for sid, tlp in stored.items() if sid in STATEMENT_MARKINGS} == dict.fromkeys(
        STATEMENT_MARKINGS, Tlp.AMBER)
    assert run(engine, objects, sub, settings).unchanged == 8


def test_sco_examples_are_rejected_naming_exactly_the_three_artifacts(engine: Engine, settings: Settings,
                                                                       sub: Submission) -> None:
    objects = load(SCO_EXAMPLES)
    assert len(objects) == 82
    err = rejected(engine, objects, sub, settings)
    assert err.message == "3 of 82 objects rejected; nothing was stored"
    assert [(d["index"], d["id"]) for d in err.details] == [
        (6, "artifact--ca17bcf8-9846-5ab4-8662-75c1bf6e63ee"),
        (7, "artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641"),
        (20, "artifact--4cce66f8-6eaa-53cb-85d5-3a85fca3a6c5"),
    ]
    assert all(d["reason"] == "payload_bin is not valid base64" for d in err.details)
    assert counts(engine) == (0, 0, 0)
    good = [o for o in objects if o["type"] != "artifact"]
    # 79 objects, 67 distinct ids: SCOs have deterministic ids and no versions, repeats are unchanged.
    result = run(engine, good, sub, settings)
    assert (len(good), result.created, result.unchanged) == (79, 67, 12)
    assert count(engine, stix_objects) == 67


def test_malware_without_spec_version_is_rejected(engine: Engine, settings: Settings, sub: Submission) -> None:
    objects = load(BAD_MALWARE)
    err = rejected(engine, objects, sub, settings)
    assert err.details == [{"index": 0, "id": "malware--b42378e0-f147-496f-992a-26a49705395b",
                            "reason": "spec_version is missing: only STIX 2.1 objects are accepted"}]
    assert counts(engine) == (0, 0, 0)


# --- reading files -------------------------------------------------------------------------------


def stream(data: bytes) -> list[Any]:
    return list(iter_objects_from_file(io.BytesIO(data)))


def test_bundle_file_is_streamed(engine: Engine, settings: Settings, sub: Submission) -> None:
    with APT1.open("rb") as fh:
        result = run(engine, iter_objects_from_file(fh), sub, settings)
    assert result.created == 76


def test_json_array_file() -> None:
    objs = [indicator(), indicator()]
    assert stream(json.dumps(objs).encode()) == objs
    assert len(load(SCO_EXAMPLES)) == 82


def test_single_object_file() -> None:
    obj = indicator(confidence=50, x_score=1.5)
    (read,) = stream(b"\n  " + json.dumps(obj).encode())
    assert read == obj
    assert isinstance(read["confidence"], int) and isinstance(read["x_score"], float)


@pytest.mark.parametrize("doc", [
    {"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "objects": []},
    {"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"},
    [],
])
def test_empty_documents(engine: Engine, settings: Settings, sub: Submission, doc: Any) -> None:
    assert stream(json.dumps(doc).encode()) == []
    assert objects_from_bytes(json.dumps(doc).encode()) == []
    assert run(engine, stream(json.dumps(doc).encode()), sub, settings).total == 0


def test_taxii_envelope_file() -> None:
    objs = [indicator()]
    assert stream(json.dumps({"more": False, "objects": objs}).encode()) == objs


@pytest.mark.parametrize("data", [
    b"",
    b"   ",
    b"not json",
    b"{",
    b"[{\"type\": \"indicator\"",
    b"{\"type\": \"bundle\", \"objects\": [",
    b"{\"type\": \"bundle\", \"objects\": [{\"a\": 1}]] ",
    b"{\"type\": \"indicator\", }",
    b"\"a string\"",
    b"42",
])
def test_invalid_json_gives_invalid(data: bytes) -> None:
    with pytest.raises(Invalid):
        stream(data)


@pytest.mark.parametrize("data", [b"", b"not json", b"{", b"42", b"\"x\"", b"{\"no\": \"type\"}"])
def test_invalid_bodies_give_invalid(data: bytes) -> None:
    with pytest.raises(Invalid):
        objects_from_bytes(data)


def test_truncated_file_stores_nothing(engine: Engine, settings: Settings, sub: Submission) -> None:
    data = json.dumps(bundle(*[indicator() for _ in range(50)])).encode()
    truncated = data[: len(data) * 3 // 4]
    small = settings.model_copy(update={"ingest_chunk_size": 10})
    with pytest.raises(Invalid, match="not valid JSON"):
        run(engine, iter_objects_from_file(io.BytesIO(truncated)), sub, small)
    assert counts(engine) == (0, 0, 0)


@pytest.mark.parametrize("doc_type", ["report", "grouping", 5])
def test_file_with_objects_list_but_not_a_bundle_is_refused(doc_type: Any) -> None:
    for data in (
        json.dumps({"type": doc_type, "objects": [indicator()]}).encode(),
        json.dumps({"objects": [indicator()], "type": doc_type}).encode(),  # type after the objects
    ):
        with pytest.raises(Invalid, match="must be a bundle"):
            objects_from_bytes(data)
        with pytest.raises(Invalid, match="must be a bundle"):
            stream(data)
