"""Who submits intel, and the sharing a submission asks for: checked once, before any object is read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from nordcert.accounts import service as accounts
from nordcert.errors import Forbidden
from nordcert.sharing.policy import Reader, Role
from nordcert.sharing.tlp import Tlp


@dataclass(frozen=True)
class Submission:
    """Who submits, and the sharing the submission asks for."""

    creator_org_id: int | None
    submitted_by: int | None
    tlp: Tlp | None = None
    group_id: int | None = None
    recipients: frozenset[int] = frozenset()
    anonymous: bool = False
    is_cert_staff: bool = False
    #: The legal basis (a key of ``Settings.legal_bases``) of the personal data submitted; None: the default.
    legal_basis: str | None = None

    def effective_tlp(self, marked: Tlp | None, default: Tlp) -> Tlp:
        """Strictest of the object's marking and the submission's TLP: sharing only ever tightens.

        A sharing group implies at least AMBER, named recipients imply RED.
        """
        given = [t for t in (marked, self.tlp) if t is not None]
        tlp = max(given) if given else default
        if self.group_id is not None:
            tlp = max(tlp, Tlp.AMBER)
        if self.recipients:
            tlp = Tlp.RED
        return tlp


def submission_for(
    conn: Connection,
    reader: Reader,
    *,
    tlp: str | None = None,
    group: str | int | None = None,
    recipients: Iterable[str | int] = (),
    anonymous: bool = False,
    legal_basis: str | None = None,
) -> Submission:
    """Check that ``reader`` may submit with this sharing and resolve the names it uses (the legal
    basis is checked against the settings when the objects are ingested)."""
    if reader.role not in (Role.ANALYST, Role.CERT_ADMIN):
        raise Forbidden(f"role {reader.role.value} may not submit intel (analyst or cert_admin needed)")
    group_id = None
    if group is not None:
        g = accounts.get_group(conn, group)
        if not reader.is_cert_staff and g["id"] not in reader.group_ids:
            raise Forbidden(f"your organisation is not a member of the sharing group {g['name']!r}")
        group_id = g["id"]
    recipient_ids = frozenset(accounts.get_organisation(conn, r)["id"] for r in recipients)
    return Submission(
        creator_org_id=reader.organisation_id,
        submitted_by=reader.user_id,
        tlp=Tlp.parse(tlp) if tlp else None,
        group_id=group_id,
        recipients=recipient_ids,
        anonymous=anonymous,
        is_cert_staff=reader.is_cert_staff,
        legal_basis=legal_basis or None,
    )
