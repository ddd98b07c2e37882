"""Who may see what: the one place that decides (DESIGN.md, "The sharing model").

Every read path asks :func:`visible` (one object in Python) or :func:`visible_clause` (a SQL filter
for a listing). Both follow the TLP 2.0 table below and are checked against each other and
against a plain oracle of the table by property-based tests.

| TLP          | who may read it on this instance                                   |
|--------------|--------------------------------------------------------------------|
| CLEAR        | anyone, also without logging in                                    |
| GREEN        | every member organisation                                          |
| AMBER        | the sharing group's members (without a group, every member)        |
| AMBER+STRICT | the sharing group's member organisations only                      |
| RED          | the named recipient organisations only                             |

The creator organisation always sees its own objects; CERT staff (``cert_admin``) see everything.
AMBER+STRICT without a group has no audience beyond the creator (and CERT staff): untagged
audiences are never widened.

A federation peer (another national instance, role ``peer``) reads what federation may forward to it
and nothing else: CLEAR and GREEN, and AMBER of the sharing groups its organisation belongs to here,
capped at the TLP the peer is configured for (``Reader.max_tlp``), on every read path as in its
federation collection. Never AMBER without a group, AMBER+STRICT or RED, whatever groups or
recipient lists name it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Table, and_, exists, false, or_, select, true

from nordcert.sharing.tlp import Tlp


class Role(enum.StrEnum):
    CERT_ADMIN = "cert_admin"
    ANALYST = "analyst"
    READER = "reader"
    RISK_OFFICER = "risk_officer"
    #: The service account through which a federation peer (another national instance) reads and writes.
    PEER = "peer"


@dataclass(frozen=True, slots=True)
class Reader:
    """An authenticated user, as the policy needs to know them."""

    user_id: int
    email: str
    organisation_id: int
    role: Role
    group_ids: frozenset[int] = field(default_factory=frozenset)
    #: For a peer's service account: the highest TLP its peer is configured to receive (``peer add --max-tlp``).
    max_tlp: Tlp = Tlp.RED

    @property
    def is_cert_staff(self) -> bool:
        return self.role is Role.CERT_ADMIN


@dataclass(frozen=True, slots=True)
class Sharing:
    """The sharing attributes every shared thing carries."""

    creator_org_id: int | None
    tlp: Tlp
    group_id: int | None = None
    recipients: frozenset[int] = frozenset()
    anonymous: bool = False


def visible(item: Sharing, reader: Reader | None) -> bool:
    """May ``reader`` (None: not logged in) read ``item``?"""
    if reader is None:
        return item.tlp is Tlp.CLEAR
    if reader.is_cert_staff:
        return True
    if reader.role is Role.PEER:
        return item.tlp <= reader.max_tlp and may_forward(item, reader.group_ids)
    if item.creator_org_id is not None and item.creator_org_id == reader.organisation_id:
        return True
    if item.tlp <= Tlp.GREEN:
        return True
    if item.tlp is Tlp.AMBER:
        return item.group_id is None or item.group_id in reader.group_ids
    if item.tlp is Tlp.AMBER_STRICT:
        return item.group_id is not None and item.group_id in reader.group_ids
    return reader.organisation_id in item.recipients


def visible_clause(reader: Reader | None, table: Table, recipients: Table) -> ColumnElement[bool]:
    """The SQL form of :func:`visible` for rows of ``table``.

    ``table`` has the columns ``creator_org_id``, ``tlp``, ``group_id`` and a key ``date_added``;
    ``recipients`` maps ``date_added`` to ``organisation_id`` for RED rows.
    """
    c = table.c
    if reader is None:
        return c.tlp == int(Tlp.CLEAR)
    if reader.is_cert_staff:
        return true()
    if reader.role is Role.PEER:
        return forward_clause(reader.group_ids, table, reader.max_tlp)
    groups = sorted(reader.group_ids)
    named = exists(
        select(recipients.c.date_added).where(
            recipients.c.date_added == c.date_added,
            recipients.c.organisation_id == reader.organisation_id,
        )
    )
    return or_(
        c.creator_org_id == reader.organisation_id,
        c.tlp <= int(Tlp.GREEN),
        and_(c.tlp == int(Tlp.AMBER), or_(c.group_id.is_(None), c.group_id.in_(groups) if groups else false())),
        and_(c.tlp == int(Tlp.AMBER_STRICT), c.group_id.in_(groups) if groups else false()),
        and_(c.tlp == int(Tlp.RED), named),
    )


def countable(item: Sharing, reader: Reader | None) -> bool:
    """May ``reader`` learn that ``item`` exists without seeing it ("reported by N other members")?

    What the reader may see, and AMBER objects of groups the reader is not in: a member learns
    that some other member reported a value it already holds, never which one or what. AMBER+STRICT
    and RED objects are never counted outside their audience; nothing is counted for the public.
    """
    if visible(item, reader):
        return True
    return reader is not None and reader.role is not Role.PEER and item.tlp is Tlp.AMBER


def creator_visible(item: Sharing, reader: Reader | None) -> bool:
    """May ``reader`` learn which organisation created ``item``? Not for anonymous submissions."""
    if not item.anonymous:
        return True
    if reader is None:
        return False
    return reader.is_cert_staff or reader.organisation_id == item.creator_org_id


def may_forward(item: Sharing, peer_group_ids: Iterable[int]) -> bool:
    """May federation send ``item`` to a peer that belongs to ``peer_group_ids``?"""
    if item.tlp <= Tlp.GREEN:
        return True
    if item.tlp is Tlp.AMBER:
        return item.group_id is not None and item.group_id in set(peer_group_ids)
    return False


def forward_clause(peer_group_ids: Iterable[int], table: Table, max_tlp: Tlp = Tlp.AMBER) -> ColumnElement[bool]:
    """The SQL form of :func:`may_forward` for rows of ``table``, optionally capped at ``max_tlp``.

    A peer configured for less than AMBER gets CLEAR (and GREEN) only, whatever its groups.
    """
    c = table.c
    cap = min(max_tlp, Tlp.GREEN)
    groups = sorted(peer_group_ids)
    if max_tlp < Tlp.AMBER or not groups:
        return c.tlp <= int(cap)
    return or_(c.tlp <= int(cap), and_(c.tlp == int(Tlp.AMBER), c.group_id.in_(groups)))


def may_modify(item: Sharing, reader: Reader) -> bool:
    """May ``reader`` version, revoke, delete or re-share ``item``?

    CERT staff, and the analysts of its creator organisation (not its read-only or risk roles).
    """
    if reader.is_cert_staff:
        return True
    return (reader.role is Role.ANALYST and item.creator_org_id is not None
            and item.creator_org_id == reader.organisation_id)
