"""The sector benchmark: quartiles against ``statistics.quantiles`` (inclusive method), small-group and
complementary suppression, and, on random sectors, that no published group is smaller than the minimum, that
no suppressed group can be recovered by subtracting published counts from the sector's, that every published
figure equals a plain oracle's, and that a member always sees its own figures. The store's part (one query,
who may read it, when) is at the end."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event

from nordcert.baseline import answers as responses
from nordcert.baseline import campaigns
from nordcert.baseline.benchmark import (
    COMPLEMENTARY,
    SMALL_GROUP,
    Audience,
    Submission,
    aggregate,
    benchmark_view,
    describe,
    present,
    quantile,
    submissions,
    suppress,
)
from nordcert.baseline.catalogue import load_shipped
from nordcert.baseline.scoring import Answer
from nordcert.clock import now
from nordcert.db import transaction
from nordcert.errors import Conflict, Forbidden, NotFound
from nordcert.sharing.policy import Reader
from tests.baseline.test_scoring import catalogue, control
from tests.factories import Member, make_member

TYPES = ("bank", "mortgage", "insurer", "pension")


# --- statistics ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 5).map(float), st.floats(0, 5, allow_nan=False)), min_size=2, max_size=40))
def test_quartiles_are_statistics_quantiles_inclusive(values: list[float]) -> None:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    s = describe(values)
    assert s is not None
    assert s.q1 == pytest.approx(q1) and s.median == pytest.approx(median) and s.q3 == pytest.approx(q3)
    assert s.median == pytest.approx(statistics.median(values))
    assert sum(s.levels) == s.n == len(values)


def test_quartiles_by_hand_and_levels_counted_by_the_whole_level_reached() -> None:
    s = describe([1, 2, 3, 4, 5])
    assert s is not None and (s.q1, s.median, s.q3) == (2, 3, 4)
    s = describe([0, 0, 3, 5])
    assert s is not None and (s.q1, s.median, s.q3) == (0, 1.5, 3.5)  # positions 0.75, 1.5, 2.25
    s = describe([2.7, 2.0, 4.99, 5.0, 0.5])
    assert s is not None and s.levels == (1, 0, 2, 0, 1, 1)
    assert describe([]) is None
    assert quantile([3.0], 0.25) == 3.0


# --- suppression --------------------------------------------------------------------------------------------


def test_small_groups_are_suppressed_and_one_more_so_that_subtraction_recovers_nothing() -> None:
    # Nothing small: nothing suppressed.
    assert suppress(12, {"bank": 7, "insurer": 5}, 5) == (None, {"bank": None, "insurer": None})
    # One small group alone could be recovered as sector minus banks: the smallest published type goes too.
    assert suppress(15, {"bank": 9, "insurer": 5, "pension": 1}, 5) == (
        None, {"bank": None, "insurer": COMPLEMENTARY, "pension": SMALL_GROUP})
    # Two small groups holding together fewer than 5 would be recovered together: one more goes.
    assert suppress(16, {"bank": 8, "mortgage": 6, "insurer": 1, "pension": 1}, 5) == (
        None, {"bank": None, "mortgage": COMPLEMENTARY, "insurer": SMALL_GROUP, "pension": SMALL_GROUP})
    # Two small groups holding 5 together may stand as they are (their sum is a group of five).
    assert suppress(15, {"bank": 10, "insurer": 3, "pension": 2}, 5) == (
        None, {"bank": None, "insurer": SMALL_GROUP, "pension": SMALL_GROUP})
    # Empty types reveal nothing.
    assert suppress(9, {"bank": 9, "pension": 0}, 5) == (None, {"bank": None, "pension": SMALL_GROUP})
    # A small sector takes every type with it.
    assert suppress(4, {"bank": 4, "insurer": 0}, 5) == (SMALL_GROUP, {"bank": SMALL_GROUP, "insurer": SMALL_GROUP})
    # Ties between published types: the first by name goes.
    assert suppress(11, {"bank": 5, "mortgage": 5, "pension": 1}, 5)[1] == {
        "bank": COMPLEMENTARY, "mortgage": None, "pension": SMALL_GROUP}


# --- random sectors against an oracle -----------------------------------------------------------------------

CATALOGUE = catalogue(control("GOV-01", "governance"), control("GOV-02", "governance", target=4),
                      control("PRO-01", "protection", target=2), control("PRO-02", "protection"),
                      control("DET-01", "detection", priority="advanced"))
CONTROL_IDS = [c.id for c in CATALOGUE.controls]
_answer = st.one_of(st.integers(0, 5).map(Answer), st.just(Answer(None, not_applicable=True)))
_member = st.tuples(st.sampled_from(TYPES), st.fixed_dictionaries({c: _answer for c in CONTROL_IDS}))


def _oracle_values(members: list[tuple[str, dict[str, Answer]]], row: str) -> list[tuple[str, float]]:
    """(type, value) of every member with a value in ``row`` ("overall", a domain key or a control id), computed
    straight from the answers."""
    out = []
    for t, answers in members:
        if row in CONTROL_IDS:
            ids = [row]
        elif row == "overall":
            ids = CONTROL_IDS
        else:
            ids = [c.id for c in CATALOGUE.controls_in(row)]
        values = [answers[i].maturity for i in ids if not answers[i].not_applicable]
        if values:
            out.append((t, sum(v for v in values if v is not None) / len(values)))
    return out


def _rows(view: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rows = [("overall", view["overall"])]
    for d in view["domains"]:
        rows.append((d["key"], d))
        rows.extend((c["id"], c) for c in d["controls"])
    return rows


def _check_cell(cell: dict[str, Any], values: list[float], min_group: int) -> None:
    if cell["suppressed"]:
        assert cell["n"] is None and cell["median"] is None and cell["levels"] is None and cell["q1"] is None
        return
    assert cell["n"] == len(values) >= min_group, "a published group is smaller than the minimum"
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    assert (cell["q1"], cell["median"], cell["q3"]) == (pytest.approx(q1), pytest.approx(median), pytest.approx(q3))
    counted = Counter(min(5, int(v)) for v in values)
    assert cell["levels"] == [counted[level] for level in range(6)]


@settings(max_examples=150, deadline=None)
@given(st.lists(_member, min_size=0, max_size=24), st.integers(3, 6), st.data())
def test_random_sectors_publish_only_large_groups_with_the_oracle_s_figures(
        members: list[tuple[str, dict[str, Answer]]], min_group: int, data: st.DataObject) -> None:
    subs = [Submission(organisation_id=n + 1, member_type=t, answers=a) for n, (t, a) in enumerate(members)]
    agg = aggregate(CATALOGUE, subs, member_types=TYPES, min_group=min_group)
    own_org = data.draw(st.integers(1, len(members))) if members else None
    for audience in (Audience.MEMBER, Audience.AUTHORITY):
        view = present(CATALOGUE, agg, audience=audience, own_org=own_org)
        for key, row in _rows(view):
            values = _oracle_values(members, key)
            _check_cell(row["sector"], [v for _, v in values], min_group)
            for t in TYPES:
                _check_cell(row["by_type"][t], [v for vt, v in values if vt == t], min_group)
            if row["sector"]["suppressed"] is None:
                # Whatever the published types leave of the sector is no group smaller than the minimum.
                published = [c for c in row["by_type"].values() if not c["suppressed"]]
                rest = row["sector"]["n"] - sum(c["n"] for c in published)
                assert rest == 0 or rest >= min_group, f"{key}: a group of {rest} derivable by subtraction"
                rest_levels = [row["sector"]["levels"][lv] - sum(c["levels"][lv] for c in published)
                               for lv in range(6)]
                assert min(rest_levels) >= 0 and sum(rest_levels) == rest
            if audience is Audience.MEMBER and own_org is not None:
                t, answers = members[own_org - 1]
                mine = _oracle_values([(t, answers)], key)
                assert row["own"]["value"] == (pytest.approx(mine[0][1]) if mine else None)
            elif audience is Audience.MEMBER:  # a member that did not take part has no figures of its own
                assert row["own"]["value"] is None and view["submitted"] is False
            else:
                assert "own" not in row


def test_staff_see_every_figure_with_the_suppression_members_get_marked() -> None:
    subs = [Submission(n, "bank", {c: Answer(3) for c in CONTROL_IDS}) for n in range(1, 7)]
    subs.append(Submission(7, "insurer", {c: Answer(1) for c in CONTROL_IDS}))
    agg = aggregate(CATALOGUE, subs, member_types=TYPES, min_group=5)
    staff = present(CATALOGUE, agg, audience=Audience.STAFF)["overall"]
    member = present(CATALOGUE, agg, audience=Audience.MEMBER, own_org=7)["overall"]
    assert staff["by_type"]["insurer"] == {"n": 1, "q1": 1, "median": 1, "q3": 1, "levels": [0, 1, 0, 0, 0, 0],
                                           "suppressed": SMALL_GROUP}
    assert staff["by_type"]["bank"]["n"] == 6 and staff["by_type"]["bank"]["suppressed"] == COMPLEMENTARY
    assert member["by_type"]["insurer"]["median"] is None and member["by_type"]["bank"]["median"] is None
    assert member["sector"]["n"] == 7 and member["sector"]["median"] == 3
    assert member["own"] == {"value": 1, "not_applicable": False, "band": "below_q1"}


# --- the store: a forum of twelve members that answered, a draft, and who may read what ---------------------

BANKS = ("Alpha Bank", "Boreal Bank", "Cedar Bank", "Dune Bank", "Elm Bank", "Fjord Bank")
MORTGAGE = ("Granite Mortgage", "Harbour Mortgage", "Isle Mortgage", "Juniper Mortgage", "Kelp Mortgage")
PENSION = ("Lynx Pension",)
DRAFT_ONLY = "Moss Bank"


@dataclass
class Forum:
    """Twelve members that submitted (six banks, five mortgage institutions, one pension fund), one bank with a
    draft only, CERT staff and a CERT analyst, the authority's risk officer and analyst, a federation peer; one
    campaign on the shipped catalogue (``answers`` is what each member submitted, by organisation id)."""

    admin: Member
    cert_analyst: Member
    fsa: Member
    fsa_analyst: Member
    peer: Member
    members: dict[str, Member]  # by organisation name, the draft-only bank too
    readers: dict[str, Member]  # a reader-role user of some members
    campaign_id: int
    answers: dict[int, dict[str, Answer]]
    types: dict[int, str]

    def names_but(self, org_id: int) -> list[str]:
        return [n for n, m in self.members.items() if m.org_id != org_id]


def pattern(member: int, control: int) -> int | None:
    """A member's maturity of the n-th control (None: not applicable): spread over 0–5, a few not applicable."""
    if (member * 7 + control) % 23 == 0:
        return None
    return (member * 3 + control * (member % 4 + 1)) % 6


def build_forum(engine: Engine, *, close: bool = True) -> Forum:
    shipped = load_shipped()
    admin = make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert")
    fsa = make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority")
    members: dict[str, Member] = {}
    for names, kind in ((BANKS, "bank"), (MORTGAGE, "mortgage"), (PENSION, "pension"), ((DRAFT_ONLY,), "bank")):
        for name in names:
            members[name] = make_member(engine, name=name, role="risk_officer", sector_type=kind)
    forum = Forum(
        admin=admin, cert_analyst=make_member(engine, org=admin.org_name, role="analyst"), fsa=fsa,
        fsa_analyst=make_member(engine, org=fsa.org_name, role="analyst"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
        members=members, readers={n: make_member(engine, org=n, role="reader") for n in ("Alpha Bank", "Lynx Pension")},
        campaign_id=0, answers={}, types={})
    with transaction(engine) as conn:
        forum.campaign_id = campaigns.open_campaign(
            conn, reader=admin.reader, name="Baseline 2026", catalogue_version=shipped.version,
            closes_at=now() + timedelta(days=30))["id"]
    for i, (name, m) in enumerate(members.items()):
        given = {c.id: pattern(i, j) for j, c in enumerate(shipped.controls)}
        rows = [{"control_id": cid, "maturity": v, "not_applicable": v is None, "evidence": f"{name} evidence",
                 "comment": "" if v is not None else f"{name} runs no such system"} for cid, v in given.items()]
        with transaction(engine) as conn:
            if name == DRAFT_ONLY:
                responses.save_draft(conn, reader=m.reader, campaign_id=forum.campaign_id, answers=rows[:10])
                continue
            responses.submit(conn, reader=m.reader, campaign_id=forum.campaign_id, answers=rows)
        forum.answers[m.org_id] = {c: Answer(v, not_applicable=v is None) for c, v in given.items()}
        forum.types[m.org_id] = "bank" if name in BANKS else "mortgage" if name in MORTGAGE else "pension"
    if close:
        with transaction(engine) as conn:
            campaigns.close_campaign(conn, reader=admin.reader, campaign_id=forum.campaign_id)
    return forum


def _view(engine: Engine, reader: Reader, campaign_id: int, min_group: int = 5) -> dict[str, Any]:
    with transaction(engine, write=False) as conn:
        return benchmark_view(conn, reader=reader, campaign_id=campaign_id, min_group=min_group)


def test_submitted_answers_are_read_in_one_statement_with_each_member_s_type(engine: Engine) -> None:
    forum = build_forum(engine, close=False)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with transaction(engine, write=False) as conn:
        event.listen(engine, "before_cursor_execute", count)
        try:
            subs = submissions(conn, campaign_id=forum.campaign_id)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert {s.organisation_id: s.member_type for s in subs} == forum.types  # the draft is not counted
    assert {s.organisation_id: dict(s.answers) for s in subs} == forum.answers


def test_a_member_reads_the_published_benchmark_and_its_own_figures_once_the_campaign_is_closed(
        engine: Engine) -> None:
    forum = build_forum(engine)
    alpha = forum.members["Alpha Bank"]
    view = _view(engine, alpha.reader, forum.campaign_id)
    assert view["scope"] == "member" and view["submitted"] is True and view["campaign"]["status"] == "closed"
    assert [t["type"] for t in view["member_types"]] == ["bank", "mortgage", "pension"]
    # The figures are the pure aggregate's of what was submitted.
    agg = aggregate(load_shipped(), [Submission(o, forum.types[o], a) for o, a in forum.answers.items()],
                    member_types=("bank", "mortgage", "pension"), min_group=5)
    assert view["overall"]["sector"]["median"] == pytest.approx(agg.overall.sector.stats.median)  # type: ignore[union-attr]
    overall = view["overall"]
    assert overall["sector"]["n"] == 12 and overall["by_type"]["bank"]["n"] == 6
    assert overall["by_type"]["pension"]["suppressed"] == SMALL_GROUP and overall["by_type"]["pension"]["n"] is None
    assert overall["by_type"]["mortgage"]["suppressed"] == COMPLEMENTARY
    assert overall["own"]["value"] == pytest.approx(agg.scores[alpha.org_id].overall)
    first = view["domains"][0]["controls"][0]
    assert first["own"]["value"] == forum.answers[alpha.org_id][first["id"]].maturity
    assert not any(name in json.dumps(view) for name in forum.names_but(alpha.org_id))
    # A member that did not submit sees the sector with no figures of its own.
    draft = _view(engine, forum.members[DRAFT_ONLY].reader, forum.campaign_id)
    assert draft["submitted"] is False and draft["overall"]["own"]["value"] is None
    # The authority reads the same aggregates, without an own column; staff every figure, marked.
    fsa = _view(engine, forum.fsa.reader, forum.campaign_id)
    assert fsa["scope"] == "authority" and "own" not in fsa["overall"] and fsa["overall"]["sector"]["n"] == 12
    staff = _view(engine, forum.admin.reader, forum.campaign_id)
    assert staff["overall"]["by_type"]["pension"]["n"] == 1 and staff["overall"]["by_type"]["pension"]["suppressed"]


def test_who_may_read_the_benchmark_and_when(engine: Engine) -> None:
    forum = build_forum(engine, close=False)
    alpha = forum.members["Alpha Bank"]
    # While the campaign is open only CERT staff see figures: each later submission would show in a difference.
    assert _view(engine, forum.admin.reader, forum.campaign_id)["overall"]["sector"]["n"] == 12
    for m in (alpha, forum.readers["Alpha Bank"], forum.fsa):
        with pytest.raises(Conflict, match="published when it closes"):
            _view(engine, m.reader, forum.campaign_id)
    for m in (forum.fsa_analyst, forum.cert_analyst):
        with pytest.raises(Forbidden):
            _view(engine, m.reader, forum.campaign_id)
    with pytest.raises(NotFound):
        _view(engine, forum.peer.reader, forum.campaign_id)
    with pytest.raises(NotFound):
        _view(engine, forum.admin.reader, forum.campaign_id + 100)
    with transaction(engine) as conn:
        campaigns.close_campaign(conn, reader=forum.admin.reader, campaign_id=forum.campaign_id)
    assert _view(engine, forum.readers["Alpha Bank"].reader, forum.campaign_id)["overall"]["own"]["value"] is not None
    # With a minimum of 7 every type is small: each is suppressed, the sector of 12 stands.
    strict = _view(engine, alpha.reader, forum.campaign_id, min_group=7)
    assert all(c["suppressed"] for c in strict["overall"]["by_type"].values())
    assert strict["overall"]["sector"]["n"] == 12
