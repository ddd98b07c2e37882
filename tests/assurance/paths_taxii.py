"""TAXII 2.1 as one reader: the collections it may use, and in each its objects (latest and every
version), manifest, and per object its versions and the object itself, for every kind of collection
(sector, group, outbox, fraud, and the federation collection a peer reads)."""

from __future__ import annotations

from typing import Any

import httpx

from nordcert.config import Settings
from nordcert.sharing.policy import Role
from nordcert.sharing.tlp import Tlp
from tests.assurance.build import Built, Coll, User
from tests.assurance.checks import created_by, headers, no_leak, same_set
from tests.assurance.oracle import Oracle
from tests.assurance.world import FRAUD_KINDS, POOL, Who

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/api/collections/"


def readable(built: Built, oracle: Oracle) -> list[Coll]:
    """The collections the reader may read: CERT staff all; a peer its federation collection only;
    members the ones open to all and those of their groups."""
    who = oracle.who
    if who.role is Role.CERT_ADMIN:
        return list(built.collections)
    if who.role is Role.PEER:
        return [c for c in built.collections if c.kind == "federation"]
    return [c for c in built.collections if c.kind in ("sector", "fraud", "outbox")
            or (c.kind == "group" and c.group is not None and who.org in built.world.groups[c.group])]


def in_view(built: Built, oracle: Oracle, coll: Coll, i: int, v: int) -> bool:
    """Does version ``v`` of object ``i`` belong to the collection's view (before the sharing policy)?"""
    spec = built.world.objects[i]
    share = spec.versions[v].share
    if coll.kind == "group":
        return share.group == coll.group
    if coll.kind == "outbox":
        return spec.creator == coll.owner and (not share.anonymous or oracle.knows_creator(i, v))
    if coll.kind == "fraud":  # the index holds latest, unrevoked versions only
        return (v == oracle.latest(i) and not oracle.revoked(i)
                and any(POOL[p][0] in FRAUD_KINDS for p in spec.values))
    if coll.kind == "federation" and oracle.who.role is Role.CERT_ADMIN:
        return share.tlp <= Tlp.GREEN or (share.tlp is Tlp.AMBER and share.group is not None)
    return True


def expected(built: Built, oracle: Oracle, coll: Coll, *, every_version: bool) -> set[tuple[int, int]]:
    out = set()
    for i, spec in enumerate(built.world.objects):
        versions = range(len(spec.versions)) if every_version else [oracle.latest(i)]
        out |= {(i, v) for v in versions if in_view(built, oracle, coll, i, v) and oracle.sees(i, v)}
    return out


def _get(http: httpx.Client, user: User | None, url: str, oracle: Oracle, **params: str) -> httpx.Response:
    answer = http.get(url, params=params, headers={**headers(user), "Accept": TAXII})
    no_leak(answer.content, oracle, f"GET {url}")
    return answer


def _objects(built: Built, settings: Settings, oracle: Oracle, body: dict[str, Any], where: str, coll: Coll
             ) -> set[tuple[int, int]]:
    # The federation collection shows objects as they are sent to a peer, which never learns an
    # anonymous creator: CERT staff reading it see that wire form too.
    names = Oracle(built.world, Who(-1, Role.PEER)) if coll.kind == "federation" else oracle
    found = set()
    for obj in body.get("objects", []):
        created_by(built, settings, names, obj, where)
        found.add(built.version_of(obj))
    assert not body.get("more"), f"{where}: more than one page"
    return found


def check(http: httpx.Client, built: Built, settings: Settings, user: User | None, oracle: Oracle) -> None:
    answer = _get(http, user, ROOT, oracle)
    if user is None:
        assert answer.status_code == 401, f"GET {ROOT} without credentials: {answer.status_code}"
        return
    assert answer.status_code == 200, f"GET {ROOT} as {oracle.who}: {answer.status_code}"
    listed = {c["id"] for c in answer.json().get("collections", []) if c["can_read"]}
    mine = readable(built, oracle)
    assert listed == {c.id for c in mine}, f"GET {ROOT} as {oracle.who}: {listed} (kinds {[c.kind for c in mine]})"
    for coll in built.collections:
        if coll not in mine:
            answer = _get(http, user, f"{ROOT}{coll.id}/objects/", oracle)
            assert answer.status_code in (403, 404), f"{coll.kind} collection read by {oracle.who}"
            continue
        url = f"{ROOT}{coll.id}/objects/"
        for every in (False, True):
            params = {"match[version]": "all"} if every else {}
            answer = _get(http, user, url, oracle, **params)
            assert answer.status_code == 200, f"GET {url} as {oracle.who}: {answer.status_code}"
            where = f"GET {coll.kind} collection objects (all versions: {every})"
            got = _objects(built, settings, oracle, answer.json(), where, coll)
            want = expected(built, oracle, coll, every_version=every)
            assert got == want, (f"{where} as {oracle.who}: extra {sorted(got - want)}, missing {sorted(want - got)}")
        if coll.kind in ("sector", "federation"):
            _paged(http, built, settings, user, oracle, coll)
            answer = _get(http, user, url, oracle, **{"match[type]": "indicator", "match[version]": "all"})
            got = _objects(built, settings, oracle, answer.json(), "GET objects?match[type]=indicator", coll)
            assert got == {(i, v) for i, v in expected(built, oracle, coll, every_version=True)
                           if built.world.objects[i].kind == "indicator"}, f"match[type] as {oracle.who}"
        answer = _get(http, user, f"{ROOT}{coll.id}/manifest/", oracle, **{"match[version]": "all"})
        assert answer.status_code == 200, f"manifest of the {coll.kind} collection as {oracle.who}"
        same_set([built.index_of(r["id"]) for r in answer.json().get("objects", [])],
                 {i for i, _v in expected(built, oracle, coll, every_version=True)}, oracle,
                 f"GET {coll.kind} collection manifest")
        if coll.kind in ("sector", "federation"):
            for i in range(len(built.world.objects)):
                _one(http, built, settings, user, oracle, coll, i)


def _one(http: httpx.Client, built: Built, settings: Settings, user: User | None, oracle: Oracle, coll: Coll,
         i: int) -> None:
    want = sorted(v for i2, v in expected(built, oracle, coll, every_version=True) if i2 == i)
    url = f"{ROOT}{coll.id}/objects/{built.stix_ids[i]}/"
    answer = _get(http, user, url, oracle, **{"match[version]": "all"})
    versions = _get(http, user, url + "versions/", oracle)
    if not want:
        assert answer.status_code == 404, f"GET {url} as {oracle.who}: {answer.status_code}, object {i} is unseen"
        assert versions.status_code == 404, f"GET {url}versions/ as {oracle.who}: {versions.status_code}"
        return
    assert answer.status_code == 200, f"GET {url} as {oracle.who}: {answer.status_code}"
    got = _objects(built, settings, oracle, answer.json(), f"GET {coll.kind} object", coll)
    assert got == {(i, v) for v in want}, f"GET {url} as {oracle.who}: {sorted(got)}, not versions {want}"
    assert versions.status_code == 200, f"GET {url}versions/ as {oracle.who}: {versions.status_code}"
    listed = versions.json()["versions"]
    if built.modified[(i, 0)] is not None:
        assert sorted(listed) == sorted(str(built.modified[(i, v)]) for v in want), (
            f"GET {url}versions/ as {oracle.who}: {listed}")
    else:
        assert len(listed) == len(want)


def _paged(http: httpx.Client, built: Built, settings: Settings, user: User | None, oracle: Oracle,
           coll: Coll) -> None:
    """Every version, two at a time through ``next``: the same versions, each once."""
    url = f"{ROOT}{coll.id}/objects/"
    seen: list[tuple[int, int]] = []
    params = {"match[version]": "all", "limit": "2"}
    for _ in range(200):
        answer = _get(http, user, url, oracle, **params)
        assert answer.status_code == 200, f"GET {url} paged as {oracle.who}: {answer.status_code}"
        body = answer.json()
        for obj in body.get("objects", []):
            seen.append(built.version_of(obj))
        if not body.get("more"):
            break
        params = {**params, "next": body["next"]}
    assert len(seen) == len(set(seen)), f"paging the {coll.kind} collection as {oracle.who} repeats versions"
    want = expected(built, oracle, coll, every_version=True)
    assert set(seen) == want, f"paging the {coll.kind} collection as {oracle.who}: {sorted(set(seen) ^ want)}"
