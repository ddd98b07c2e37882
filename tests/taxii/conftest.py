"""Fixtures for the TAXII 2.1 server tests: a served instance, members, groups, collections, clients.

The tests drive the server over loopback with the OASIS ``taxii2-client`` library (HTTP Basic:
the user's email and an API token) and with raw ``httpx`` requests where the client library hides
what is checked (response headers, error bodies, requests it refuses to send).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from taxii2client.v21 import ApiRoot, Collection, Server

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.ingest import IngestResult, ingest
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import stix_objects
from nordcert.taxii import collections
from tests.factories import Member, make_member, refresh

TAXII = "application/taxii+json;version=2.1"
#: Loopback keep-alive requests to the uvicorn (h11) test server wait ~40 ms each (delayed ACK), a new
#: connection per request ~2 ms: the clients here close the connection after every request.
NO_KEEPALIVE = {"Connection": "close"}


@dataclass
class World:
    """Three banks (alpha and boreal share the group 'DK banks'), CERT staff, a reader-role user and collections.

    Collections (by key): ``sector`` every member reads and writes; ``dk`` the group collection of
    'DK banks'; ``se`` the group collection of 'SE banks' (outsider only); ``alpha_out`` alpha's
    outbox, which boreal and outsider may read; ``read_only`` and ``write_only`` sector views that
    every bank may only read, or only write; ``hidden`` a sector view only boreal may read.
    """

    alpha: Member
    boreal: Member
    outsider: Member
    admin: Member
    viewer: Member  # role "reader" in alpha's organisation
    dk_group: int
    se_group: int
    coll: dict[str, str] = field(default_factory=dict)

    def members(self) -> dict[str, Member]:
        return {"alpha": self.alpha, "boreal": self.boreal, "outsider": self.outsider, "admin": self.admin,
                "viewer": self.viewer}


@pytest.fixture
def world(engine: Engine) -> World:
    alpha, boreal = make_member(engine), make_member(engine)
    outsider = make_member(engine, country="SE")
    admin = make_member(engine, role="cert_admin", sector_type="cert")
    viewer = make_member(engine, role="reader", org=str(alpha.org_id))
    with transaction(engine) as conn:
        dk = accounts.create_group(conn, name="DK banks", members=[alpha.org_id, boreal.org_id])["id"]
        se = accounts.create_group(conn, name="SE banks", members=[outsider.org_id])["id"]
        banks = [alpha.org_id, boreal.org_id, outsider.org_id]

        def make(title: str, **kw: Any) -> str:
            return str(collections.create_collection(conn, title=title, actor=admin.reader, **kw)["id"])

        coll = {
            "sector": make("Sector", read_all=True, write_all=True),
            "dk": make("DK banks", kind="group", group=dk),
            "se": make("SE banks", kind="group", group=se),
            "alpha_out": make("Alpha outbox", kind="outbox", organisation=alpha.org_id,
                              readers=[boreal.org_id, outsider.org_id]),
            "read_only": make("Read only", readers=banks),
            "write_only": make("Write only", writers=banks),
            "hidden": make("Hidden", readers=[boreal.org_id]),
        }
    return World(alpha=refresh(engine, alpha), boreal=refresh(engine, boreal), outsider=refresh(engine, outsider),
                 admin=refresh(engine, admin), viewer=refresh(engine, viewer), dk_group=dk, se_group=se, coll=coll)


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30, headers=NO_KEEPALIVE) as client:
        yield client


def bearer(m: Member, accept: str = TAXII) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}", "Accept": accept}


class Taxii:
    """taxii2-client endpoints for members, all closed when the test ends."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.api_url = f"{base_url}/taxii2/api/"
        self._roots: dict[str, ApiRoot] = {}
        self._open: list[Any] = []

    def server(self, m: Member | None = None, *, password: str | None = None) -> Server:
        server = Server(f"{self.base_url}/taxii2/", user=m.email if m else None,
                        password=(password or m.token) if m else None)
        server._conn.session.headers.update(NO_KEEPALIVE)
        self._open.append(server)
        return server

    def root(self, m: Member) -> ApiRoot:
        if m.email not in self._roots:
            root = self._roots[m.email] = ApiRoot(self.api_url, user=m.email, password=m.token)
            root._conn.session.headers.update(NO_KEEPALIVE)
        return self._roots[m.email]

    def collection(self, m: Member, collection_id: str) -> Collection:
        """A collection endpoint on ``m``'s connection; it fetches its information on first use."""
        root = self.root(m)
        return Collection(f"{self.api_url}collections/{collection_id}/", conn=root._conn)

    def close(self) -> None:
        for server in self._open:
            if server._loaded:
                for root in server.api_roots:
                    root.close()
            server.close()
        for root in self._roots.values():
            root.close()


@pytest.fixture
def taxii(base_url: str) -> Iterator[Taxii]:
    t = Taxii(base_url)
    try:
        yield t
    finally:
        t.close()


def put(engine: Engine, settings: Settings, m: Member, objects: Iterable[dict[str, Any]], **sharing: Any
        ) -> IngestResult:
    """Store ``objects`` as ``m`` submitting them with ``sharing`` (tlp=, group=, recipients=, anonymous=)."""
    with transaction(engine) as conn:
        return ingest(conn, list(objects), submission_for(conn, m.reader, **sharing), settings)


def count_objects(engine: Engine) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(stix_objects)).scalar_one())


def ids_of(envelope: dict[str, Any]) -> list[str]:
    return [o["id"] for o in envelope.get("objects", [])]
