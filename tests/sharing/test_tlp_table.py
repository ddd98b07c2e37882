"""The sharing model, one example per row of the TLP table, checked in Python and in SQL; and ``tlp.py``.

| TLP          | who may read it on this instance                                         |
|--------------|--------------------------------------------------------------------------|
| CLEAR        | anyone, also without logging in                                          |
| GREEN        | every member organisation                                                |
| AMBER        | the sharing group's member organisations (without a group, every member) |
| AMBER+STRICT | the sharing group's member organisations only                            |
| RED          | the named recipient organisations only                                   |

The creator organisation always sees its own objects, CERT staff see everything, a reader who is not
logged in sees only CLEAR. Each example states the whole audience over one small instance:

* ``creator``: the creating organisation (in no sharing group),
* ``member``: member of the sharing group ``G``,
* ``recipient``: the organisation named on RED objects (in no sharing group),
* ``outsider``: member of another sharing group ``H`` only,
* ``cert``: CERT staff (``cert_admin``) of the CERT's own organisation,
* ``public``: not logged in.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine

from nordcert.accounts.service import create_group, create_organisation
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.sharing.policy import Reader, Role, Sharing, creator_visible, may_forward, may_modify, visible
from nordcert.sharing.tlp import (
    MARKING_TLP,
    TLP1_MARKING_IDS,
    TLP2_MARKING_IDS,
    Tlp,
    tlp_of_markings,
    with_tlp_marking,
)
from tests.sharing.store import insert_items, visible_keys

READERS = ("public", "creator", "member", "recipient", "outsider", "cert")

Audience = dict[str, bool]


@dataclass(frozen=True)
class Instance:
    """A migrated store with five organisations, two sharing groups and a reader for each role in the examples."""

    engine: Engine
    creator: int
    member: int
    recipient: int
    outsider: int
    cert: int
    group: int
    other_group: int
    readers: dict[str, Reader | None]

    def reader(self, org_id: int, role: Role = Role.ANALYST) -> Reader:
        """Another user of ``org_id``, with the sharing groups that organisation belongs to."""
        groups = {self.member: {self.group}, self.outsider: {self.other_group}}.get(org_id, set())
        return Reader(user_id=900 + org_id, email=f"{role}@{org_id}.example", organisation_id=org_id, role=role,
                      group_ids=frozenset(groups))


@pytest.fixture
def inst(engine: Engine) -> Iterator[Instance]:
    with transaction(engine) as conn:
        org = {
            name: create_organisation(conn, name=f"{name.title()} Bank", country="DK", sector_type="bank",
                                      short_name=name.upper())["id"]
            for name in ("creator", "member", "recipient", "outsider", "cert")
        }
        group = create_group(conn, name="G", members=[org["member"]])["id"]
        other_group = create_group(conn, name="H", members=[org["outsider"]])["id"]
    readers: dict[str, Reader | None] = {"public": None}
    for i, name in enumerate(READERS[1:], start=1):
        role = Role.CERT_ADMIN if name == "cert" else Role.ANALYST
        groups = {"member": {group}, "outsider": {other_group}}.get(name, set())
        readers[name] = Reader(user_id=i, email=f"{name}@example.org", organisation_id=org[name], role=role,
                               group_ids=frozenset(groups))
    yield Instance(engine=engine, group=group, other_group=other_group, readers=readers, **org)


_keys = itertools.count(1)


def stored(conn: Connection, *items: Sharing) -> list[int]:
    """Insert ``items`` as ``stix_objects`` rows (with their recipients) and return their keys."""
    keys = [next(_keys) for _ in items]
    insert_items(conn, zip(keys, items, strict=True))
    return keys


def assert_audience(inst: Instance, item: Sharing, expected: Audience) -> None:
    """``item`` is visible to exactly the readers marked True, by :func:`visible` and by the SQL filter."""
    assert set(expected) == set(READERS)
    assert {name: visible(item, reader) for name, reader in inst.readers.items()} == expected
    with transaction(inst.engine) as conn:
        [key] = stored(conn, item)
        assert {name: key in visible_keys(conn, reader) for name, reader in inst.readers.items()} == expected


def audience(*names: str) -> Audience:
    assert set(names) <= set(READERS)
    return {name: name in names for name in READERS}


EVERY_MEMBER = audience("creator", "member", "recipient", "outsider", "cert")


# --- one example per row of the table --------------------------------------------------------------


def test_clear_is_for_anyone_also_without_login(inst: Instance) -> None:
    assert_audience(inst, Sharing(inst.creator, Tlp.CLEAR), audience(*READERS))


def test_green_is_for_every_member_organisation(inst: Instance) -> None:
    assert_audience(inst, Sharing(inst.creator, Tlp.GREEN), EVERY_MEMBER)


def test_a_group_or_recipients_do_not_narrow_clear_and_green(inst: Instance) -> None:
    assert_audience(inst, Sharing(inst.creator, Tlp.CLEAR, inst.group, frozenset({inst.recipient})),
                    audience(*READERS))
    assert_audience(inst, Sharing(inst.creator, Tlp.GREEN, inst.group, frozenset({inst.recipient})), EVERY_MEMBER)


def test_amber_is_for_the_sharing_groups_members(inst: Instance) -> None:
    # Being named as a recipient, or being in some other group, does not open AMBER.
    item = Sharing(inst.creator, Tlp.AMBER, inst.group, frozenset({inst.recipient}))
    assert_audience(inst, item, audience("creator", "member", "cert"))


def test_amber_without_a_group_is_for_every_member(inst: Instance) -> None:
    assert_audience(inst, Sharing(inst.creator, Tlp.AMBER), EVERY_MEMBER)


def test_amber_strict_is_for_the_sharing_groups_members_only(inst: Instance) -> None:
    item = Sharing(inst.creator, Tlp.AMBER_STRICT, inst.group, frozenset({inst.recipient}))
    assert_audience(inst, item, audience("creator", "member", "cert"))


def test_amber_strict_in_another_group_is_for_that_group(inst: Instance) -> None:
    assert_audience(inst, Sharing(inst.creator, Tlp.AMBER_STRICT, inst.other_group),
                    audience("creator", "outsider", "cert"))


def test_amber_strict_without_a_group_reaches_nobody_beyond_creator_and_cert(inst: Instance) -> None:
    assert_audience(inst, Sharing(inst.creator, Tlp.AMBER_STRICT), audience("creator", "cert"))


def test_red_is_for_the_named_recipients_only(inst: Instance) -> None:
    # The group tag does not open RED to the group's members.
    item = Sharing(inst.creator, Tlp.RED, inst.group, frozenset({inst.recipient}))
    assert_audience(inst, item, audience("creator", "recipient", "cert"))


def test_red_for_several_recipients(inst: Instance) -> None:
    item = Sharing(inst.creator, Tlp.RED, recipients=frozenset({inst.recipient, inst.outsider}))
    assert_audience(inst, item, audience("creator", "recipient", "outsider", "cert"))


def test_red_without_recipients_reaches_nobody_beyond_creator_and_cert(inst: Instance) -> None:
    assert_audience(inst, Sharing(inst.creator, Tlp.RED), audience("creator", "cert"))


# --- creator, CERT staff, no login -----------------------------------------------------------------


def test_the_creator_organisation_always_sees_its_own_objects(inst: Instance) -> None:
    # Any user of the creator organisation, whatever its role, outside the object's group, not a recipient.
    items = {tlp: Sharing(inst.creator, tlp, inst.other_group, frozenset({inst.recipient})) for tlp in Tlp}
    everything = {tlp: True for tlp in Tlp}
    with transaction(inst.engine) as conn:
        keys = dict(zip(items, stored(conn, *items.values()), strict=True))
        for role in (Role.READER, Role.ANALYST, Role.RISK_OFFICER):
            reader = inst.reader(inst.creator, role)
            assert {tlp: visible(item, reader) for tlp, item in items.items()} == everything
            seen = visible_keys(conn, reader)
            assert {tlp: keys[tlp] in seen for tlp in Tlp} == everything


def test_objects_without_creator_give_nobody_the_creator_right(inst: Instance) -> None:
    # A NULL creator must not match anyone, in Python or in SQL.
    assert_audience(inst, Sharing(None, Tlp.RED), audience("cert"))
    assert_audience(inst, Sharing(None, Tlp.AMBER_STRICT), audience("cert"))
    assert_audience(inst, Sharing(None, Tlp.AMBER, inst.group), audience("member", "cert"))
    assert_audience(inst, Sharing(None, Tlp.RED, recipients=frozenset({inst.recipient})), audience("recipient", "cert"))


def test_cert_staff_see_everything_whatever_their_organisation(inst: Instance) -> None:
    items = {tlp: Sharing(inst.creator, tlp, inst.group, frozenset({inst.recipient})) for tlp in Tlp}
    strictest = [Sharing(inst.creator, Tlp.AMBER_STRICT), Sharing(inst.creator, Tlp.RED), Sharing(None, Tlp.RED)]
    with transaction(inst.engine) as conn:
        keys = stored(conn, *items.values(), *strictest)
        for org in (inst.cert, inst.outsider):
            staff = inst.reader(org, Role.CERT_ADMIN)
            assert all(visible(item, staff) for item in (*items.values(), *strictest))
            assert visible_keys(conn, staff) == set(keys)


def test_other_roles_get_no_rights_beyond_their_organisations(inst: Instance) -> None:
    items = [Sharing(inst.creator, Tlp.AMBER_STRICT), Sharing(inst.creator, Tlp.AMBER, inst.group),
             Sharing(inst.creator, Tlp.RED, inst.other_group, frozenset({inst.recipient}))]
    with transaction(inst.engine) as conn:
        keys = stored(conn, *items)
        for role in (Role.READER, Role.ANALYST, Role.RISK_OFFICER):
            reader = inst.reader(inst.outsider, role)
            assert [visible(item, reader) for item in items] == [False, False, False]
            assert visible_keys(conn, reader).isdisjoint(keys)


def test_a_reader_who_is_not_logged_in_sees_only_clear(inst: Instance) -> None:
    items = {tlp: Sharing(inst.creator, tlp) for tlp in Tlp}
    expected = {tlp: tlp is Tlp.CLEAR for tlp in Tlp}
    assert {tlp: visible(item, None) for tlp, item in items.items()} == expected
    with transaction(inst.engine) as conn:
        keys = dict(zip(items, stored(conn, *items.values()), strict=True))
        seen = visible_keys(conn, None)
        assert {tlp: keys[tlp] in seen for tlp in Tlp} == expected


# --- anonymous submissions --------------------------------------------------------------------------


def test_anonymity_does_not_change_who_may_read(inst: Instance) -> None:
    assert_audience(inst, Sharing(inst.creator, Tlp.GREEN, anonymous=True), EVERY_MEMBER)
    assert_audience(inst, Sharing(inst.creator, Tlp.AMBER, inst.group, anonymous=True),
                    audience("creator", "member", "cert"))
    assert_audience(inst, Sharing(inst.creator, Tlp.RED, recipients=frozenset({inst.recipient}), anonymous=True),
                    audience("creator", "recipient", "cert"))


def test_an_anonymous_object_hides_its_creator_from_all_but_creator_and_cert(inst: Instance) -> None:
    for tlp in Tlp:
        item = Sharing(inst.creator, tlp, inst.group, frozenset({inst.recipient}), anonymous=True)
        assert {n: creator_visible(item, r) for n, r in inst.readers.items()} == audience("creator", "cert"), tlp
        for role in Role:
            assert creator_visible(item, inst.reader(inst.creator, role))
            assert creator_visible(item, inst.reader(inst.member, role)) is (role is Role.CERT_ADMIN)


def test_an_anonymous_object_without_creator_shows_it_to_cert_staff_only(inst: Instance) -> None:
    item = Sharing(None, Tlp.GREEN, anonymous=True)
    assert {n: creator_visible(item, r) for n, r in inst.readers.items()} == audience("cert")


def test_a_named_object_shows_its_creator_to_everyone_who_sees_it(inst: Instance) -> None:
    for tlp in Tlp:
        item = Sharing(inst.creator, tlp, inst.group, frozenset({inst.recipient}))
        assert {n: creator_visible(item, r) for n, r in inst.readers.items()} == audience(*READERS), tlp


# --- federation and changes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "peer_groups", "expected"),
    [
        (Sharing(1, Tlp.CLEAR), [], True),
        (Sharing(1, Tlp.GREEN), [], True),
        (Sharing(1, Tlp.GREEN, 7, frozenset({2})), [], True),
        (Sharing(1, Tlp.AMBER, 7), [7], True),
        (Sharing(1, Tlp.AMBER, 7), [3, 7], True),
        (Sharing(1, Tlp.AMBER, 7), [3], False),
        (Sharing(1, Tlp.AMBER, 7), [], False),
        (Sharing(1, Tlp.AMBER), [3, 7], False),
        (Sharing(1, Tlp.AMBER_STRICT, 7), [7], False),
        (Sharing(1, Tlp.AMBER_STRICT), [7], False),
        (Sharing(1, Tlp.RED, 7, frozenset({1, 2})), [7], False),
    ],
)
def test_may_forward_to_a_peer(item: Sharing, peer_groups: list[int], expected: bool) -> None:
    assert may_forward(item, peer_groups) is expected
    assert may_forward(item, iter(peer_groups)) is expected  # any iterable, consumed once


def test_only_the_creator_organisations_analysts_and_cert_staff_may_modify(inst: Instance) -> None:
    item = Sharing(inst.creator, Tlp.RED, inst.group, frozenset({inst.recipient}))
    for role in Role:
        assert may_modify(item, inst.reader(inst.creator, role)) is (role in (Role.ANALYST, Role.CERT_ADMIN))
        assert may_modify(item, inst.reader(inst.recipient, role)) is (role is Role.CERT_ADMIN)
        assert may_modify(item, inst.reader(inst.member, role)) is (role is Role.CERT_ADMIN)
        assert may_modify(replace(item, creator_org_id=None), inst.reader(inst.creator, role)) is (
            role is Role.CERT_ADMIN)


# --- tlp.py -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TLP:AMBER+STRICT", Tlp.AMBER_STRICT),
        ("amber+strict", Tlp.AMBER_STRICT),
        ("amber_strict", Tlp.AMBER_STRICT),
        ("AMBER_STRICT", Tlp.AMBER_STRICT),
        ("TLP:AMBER", Tlp.AMBER),
        (" tlp:red ", Tlp.RED),
        ("Green", Tlp.GREEN),
        ("clear", Tlp.CLEAR),
        ("TLP:CLEAR", Tlp.CLEAR),
        ("white", Tlp.CLEAR),
        ("TLP:WHITE", Tlp.CLEAR),
    ],
)
def test_parse_reads_tlp_as_people_write_it(text: str, expected: Tlp) -> None:
    assert Tlp.parse(text) is expected


@pytest.mark.parametrize("text", ["", "purple", "TLP:", "tlp:yellow", "amber+", "strict", "whites", "0"])
def test_parse_rejects_unknown_labels(text: str) -> None:
    with pytest.raises(Invalid, match="unknown TLP"):
        Tlp.parse(text)


def test_parse_round_trips_labels_and_displays() -> None:
    for tlp in Tlp:
        assert Tlp.parse(tlp) is tlp
        assert Tlp.parse(tlp.label) is tlp
        assert Tlp.parse(tlp.display) is tlp
    assert [t.display for t in Tlp] == ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]


def test_tlp_levels_are_ordered_by_restriction() -> None:
    assert Tlp.CLEAR < Tlp.GREEN < Tlp.AMBER < Tlp.AMBER_STRICT < Tlp.RED


def test_marking_ids_are_distinct_and_known() -> None:
    assert len(set(TLP2_MARKING_IDS.values())) == 5
    assert set(TLP1_MARKING_IDS) == {Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.RED}  # TLP 1.0 had no AMBER+STRICT
    assert not set(TLP1_MARKING_IDS.values()) & set(TLP2_MARKING_IDS.values())
    assert TLP1_MARKING_IDS[Tlp.CLEAR] == "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"  # TLP:WHITE
    assert Tlp.AMBER_STRICT.marking_id == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"


OTHER_MARKING = "marking-definition--34b8a4c4-2b3c-4a47-8a37-0b5a2bd0c5a1"
STATEMENT_MARKING = "marking-definition--1d1a6c55-3f0c-4ad3-b2cf-20d1e5ab5e6f"


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        ([], None),
        ([OTHER_MARKING], None),
        ([TLP1_MARKING_IDS[Tlp.GREEN]], Tlp.GREEN),
        ([TLP1_MARKING_IDS[Tlp.CLEAR]], Tlp.CLEAR),
        ([TLP2_MARKING_IDS[Tlp.AMBER_STRICT], OTHER_MARKING], Tlp.AMBER_STRICT),
        ([TLP1_MARKING_IDS[Tlp.GREEN], TLP2_MARKING_IDS[Tlp.AMBER]], Tlp.AMBER),
        ([TLP2_MARKING_IDS[Tlp.AMBER], TLP1_MARKING_IDS[Tlp.GREEN]], Tlp.AMBER),
        ([TLP1_MARKING_IDS[Tlp.RED], TLP2_MARKING_IDS[Tlp.AMBER_STRICT]], Tlp.RED),
        ([TLP2_MARKING_IDS[Tlp.AMBER_STRICT], TLP1_MARKING_IDS[Tlp.AMBER]], Tlp.AMBER_STRICT),
        ([TLP2_MARKING_IDS[Tlp.CLEAR], OTHER_MARKING, TLP1_MARKING_IDS[Tlp.CLEAR]], Tlp.CLEAR),
    ],
)
def test_tlp_of_markings_picks_the_strictest(refs: list[str], expected: Tlp | None) -> None:
    assert tlp_of_markings(refs) is expected


@given(st.lists(st.sampled_from([*MARKING_TLP, OTHER_MARKING, STATEMENT_MARKING])))
@hsettings(max_examples=200)
def test_tlp_of_markings_is_the_strictest_of_any_mix(refs: list[str]) -> None:
    levels = [tlp for tlp in Tlp if tlp.marking_id in refs or TLP1_MARKING_IDS.get(tlp) in refs]
    assert tlp_of_markings(refs) is (levels[-1] if levels else None)


def test_with_tlp_marking_replaces_tlp_markings_and_keeps_others() -> None:
    refs = [TLP1_MARKING_IDS[Tlp.GREEN], OTHER_MARKING, TLP2_MARKING_IDS[Tlp.RED], STATEMENT_MARKING]
    assert with_tlp_marking(refs, Tlp.AMBER) == [TLP2_MARKING_IDS[Tlp.AMBER], OTHER_MARKING, STATEMENT_MARKING]
    assert refs == [TLP1_MARKING_IDS[Tlp.GREEN], OTHER_MARKING, TLP2_MARKING_IDS[Tlp.RED], STATEMENT_MARKING]
    assert with_tlp_marking(None, Tlp.CLEAR) == [TLP2_MARKING_IDS[Tlp.CLEAR]]
    assert with_tlp_marking([], Tlp.RED) == [TLP2_MARKING_IDS[Tlp.RED]]
    assert with_tlp_marking([TLP2_MARKING_IDS[Tlp.RED]], Tlp.GREEN) == [TLP2_MARKING_IDS[Tlp.GREEN]]


@given(st.lists(st.sampled_from([*MARKING_TLP, OTHER_MARKING, STATEMENT_MARKING])), st.sampled_from(Tlp))
@hsettings(max_examples=200)
def test_with_tlp_marking_leaves_exactly_one_tlp_marking(refs: list[str], tlp: Tlp) -> None:
    marked = with_tlp_marking(refs, tlp)
    assert [r for r in marked if r in MARKING_TLP] == [TLP2_MARKING_IDS[tlp]]
    assert [r for r in marked if r not in MARKING_TLP] == [r for r in refs if r not in MARKING_TLP]
    assert tlp_of_markings(marked) is tlp
