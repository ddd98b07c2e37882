"""The TAXII 2.1 client against real peers: medallion (the OASIS reference server) and another nordcert."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import make_engine, migrate, transaction
from nordcert.errors import Invalid
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import stix_objects
from nordcert.taxii import client, collections
from nordcert.taxii.client import Credentials, RemoteError
from tests.factories import Member, indicator, make_member
from tests.server import running_server
from tests.taxii.peers import MEDALLION_COLLECTION, MEDALLION_PASSWORD, MEDALLION_USER, medallion

PEER = Credentials(user=MEDALLION_USER, password=MEDALLION_PASSWORD)
TAXII = {"Accept": "application/taxii+json;version=2.1"}


def _count(engine: Engine) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(stix_objects)).scalar_one())


def _share(engine: Engine, settings: Settings, member: Member, n: int, **sharing: object) -> list[dict[str, object]]:
    objects = [indicator() for _ in range(n)]
    with transaction(engine) as conn:
        ingest(conn, objects, submission_for(conn, member.reader, **sharing), settings)  # type: ignore[arg-type]
    return objects


def _medallion_ids(url: str) -> set[str]:
    manifest = httpx.get(f"{url.replace('taxii2/', 'api1/')}collections/{MEDALLION_COLLECTION}/manifest/",
                         params={"limit": 100000}, auth=(MEDALLION_USER, MEDALLION_PASSWORD), headers=TAXII).json()
    return {m["id"] for m in manifest.get("objects", [])}


def test_pull_from_medallion_is_complete_and_incremental(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    member = make_member(engine)
    remote = [indicator() for _ in range(250)]
    with medallion(tmp_path, remote) as url:
        first = client.pull(engine, settings, url=url, collection_id=MEDALLION_COLLECTION, as_email=member.email,
                            creds=PEER)
        assert first["created"] == 250 and first["pages"] == 3  # medallion pages by 100, with `next`
        again = client.pull(engine, settings, url=url, collection_id=MEDALLION_COLLECTION, as_email=member.email,
                            creds=PEER)
        assert again["created"] == again["updated"] == 0
    assert _count(engine) == 250


def test_push_to_medallion_sends_only_what_may_leave(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    member = make_member(engine)
    other = make_member(engine)
    green = _share(engine, settings, member, 20, tlp="green")
    amber = _share(engine, settings, member, 5, tlp="amber")
    _share(engine, settings, member, 3, tlp="red")
    _share(engine, settings, member, 2, tlp="amber+strict")
    _share(engine, settings, other, 4, tlp="green")  # not ours: never pushed by us
    with medallion(tmp_path, []) as url:
        out = client.push(engine, settings, url=url, collection_id=MEDALLION_COLLECTION, as_email=member.email,
                          creds=PEER)
        assert out["sent"] == 20
        assert _medallion_ids(url) == {o["id"] for o in green}
        again = client.push(engine, settings, url=url, collection_id=MEDALLION_COLLECTION, as_email=member.email,
                            creds=PEER)
        assert again["sent"] == 0
        with pytest.raises(Invalid, match="never leave"):
            client.push(engine, settings, url=url, collection_id=MEDALLION_COLLECTION, as_email=member.email,
                        creds=PEER, max_tlp="red")
    with medallion(tmp_path, []) as url:  # a new peer: no checkpoint yet, AMBER allowed this time
        out = client.push(engine, settings, url=url, collection_id=MEDALLION_COLLECTION, as_email=member.email,
                          creds=PEER, max_tlp="amber")
        assert _medallion_ids(url) == {o["id"] for o in green + amber} and out["sent"] == 25


def test_pull_between_two_nordcert_instances_with_bearer(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    remote_settings = Settings(home=tmp_path / "remote")
    remote_engine = make_engine(remote_settings)
    migrate(remote_engine)
    publisher = make_member(remote_engine, name="Remote CERT", role="cert_admin", sector_type="cert")
    with transaction(remote_engine) as conn:
        coll = collections.create_collection(conn, title="Sector", read_all=True)
    _share(remote_engine, remote_settings, publisher, 2500, tlp="green")
    _share(remote_engine, remote_settings, publisher, 10, tlp="red")  # RED to nobody: never served
    consumer_remote = make_member(remote_engine, name="Consumer Bank")
    local = make_member(engine)
    with running_server(remote_settings, remote_engine) as base:
        creds = Credentials(token=consumer_remote.token)
        first = client.pull(engine, settings, url=f"{base}/taxii2/", collection_id=coll["id"],
                            as_email=local.email, creds=creds)
        assert (first["created"], first["pages"]) == (2500, 3)
        _share(remote_engine, remote_settings, publisher, 7, tlp="green")
        second = client.pull(engine, settings, url=f"{base}/taxii2/api/", collection_id=coll["id"],
                             as_email=local.email, creds=creds)
        assert (second["created"], second["unchanged"], second["pages"]) == (7, 0, 1)
        with pytest.raises(RemoteError, match="404"):
            client.pull(engine, settings, url=f"{base}/taxii2/", collection_id="no-such-collection",
                        as_email=local.email, creds=creds)
        with pytest.raises(RemoteError, match="401"):
            client.pull(engine, settings, url=f"{base}/taxii2/", collection_id=coll["id"], as_email=local.email,
                        creds=Credentials(token="wrong"))
    remote_engine.dispose()
    assert _count(engine) == 2507


def test_cli_pull_and_push(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    member = make_member(engine)
    _share(engine, settings, member, 3, tlp="green")
    env = {**os.environ, "NORDCERT_HOME": str(settings.home)}
    if settings.database_url:
        env["NORDCERT_DATABASE_URL"] = settings.database_url
    with medallion(tmp_path, [indicator() for _ in range(12)]) as url:
        base = [sys.executable, "-m", "nordcert", "taxii"]
        args = [url, "--collection", MEDALLION_COLLECTION, "--as", member.email, "--user", MEDALLION_USER,
                "--password", MEDALLION_PASSWORD, "--json"]
        pulled = subprocess.run([*base, "pull", *args], check=False, capture_output=True, text=True, env=env, timeout=120)
        assert pulled.returncode == 0, pulled.stderr
        assert json.loads(pulled.stdout)["created"] == 12
        pushed = subprocess.run([*base, "push", *args], check=False, capture_output=True, text=True, env=env, timeout=120)
        assert pushed.returncode == 0, pushed.stderr
        assert json.loads(pushed.stdout)["sent"] == 3  # only our organisation's own objects
        wrong = subprocess.run([*base, "pull", url, "--collection", MEDALLION_COLLECTION, "--as", member.email,
                                "--user", MEDALLION_USER, "--password", "nope"], check=False, capture_output=True, text=True,
                               env=env, timeout=120)
        assert wrong.returncode == 1 and "401" in wrong.stderr
    with transaction(engine, write=False) as conn:
        assert accounts.get_user(conn, member.email)["email"] == member.email
