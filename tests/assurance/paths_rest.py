"""The REST objects API as one reader: list, search, one object (latest and each version), versions."""

from __future__ import annotations

import httpx

from nordcert.config import Settings
from nordcert.sharing.tlp import Tlp
from tests.assurance.build import Built, User
from tests.assurance.checks import created_by, creator_label, headers, no_leak, same_set
from tests.assurance.oracle import Oracle

#: Types whose name or description holds the word "assurance" (notes and observables have neither).
SEARCHABLE = ("indicator", "identity", "report", "relationship", "sighting")


def _items(built: Built, settings: Settings, oracle: Oracle, answer: httpx.Response, where: str) -> list[int]:
    """The objects of a page of ``ObjectOut``, each checked for its creator and version."""
    assert answer.status_code == 200, f"{where} as {oracle.who}: {answer.status_code} {answer.text[:200]}"
    no_leak(answer.content, oracle, where)
    found = []
    for item in answer.json()["objects"]:
        i, v = built.version_of(item["object"])
        assert v == oracle.latest(i), f"{where} as {oracle.who}: object {i} at version {v}, not its latest"
        created_by(built, settings, oracle, item["object"], where)
        creator_label(built, oracle, i, v, item["meta"]["creator"], where)
        found.append(i)
    assert len(found) == len(set(found)), f"{where} as {oracle.who}: an object listed twice"
    return found


def check(http: httpx.Client, built: Built, settings: Settings, user: User | None, oracle: Oracle) -> None:
    h = headers(user)
    url = "/api/v1/objects"
    for revoked in (False, True):
        got = _items(built, settings, oracle, http.get(url, params={"limit": 1000, "include_revoked": revoked},
                                                      headers=h), f"GET {url} include_revoked={revoked}")
        same_set(got, oracle.latest_visible(include_revoked=revoked), oracle, f"GET {url}")
    got = _items(built, settings, oracle, http.get(url, params={"q": "assurance", "limit": 1000}, headers=h),
                 f"GET {url}?q=")
    same_set(got, oracle.latest_visible(kinds=SEARCHABLE), oracle, f"GET {url}?q=assurance")
    got = _items(built, settings, oracle, http.get(url, params={"type": "indicator", "limit": 1000}, headers=h),
                 f"GET {url}?type=indicator")
    same_set(got, oracle.latest_visible(kinds=("indicator",)), oracle, f"GET {url}?type=indicator")
    for tlp in Tlp:
        got = _items(built, settings, oracle, http.get(url, params={"tlp": tlp.label, "limit": 1000}, headers=h),
                     f"GET {url}?tlp={tlp.label}")
        same_set(got, {i for i in oracle.latest_visible()
                       if built.world.objects[i].versions[-1].share.tlp is tlp}, oracle, f"GET {url}?tlp={tlp.label}")
    # Small pages, followed to the end: the same set, each once.
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        params: dict[str, str | int] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        answer = http.get(url, params=params, headers=h)
        seen += _items(built, settings, oracle, answer, f"GET {url}?limit=3")
        cursor = answer.json()["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)), f"paging as {oracle.who} repeats objects"
    same_set(seen, oracle.latest_visible(), oracle, f"GET {url} paged by 3")
    _creator_filter(http, built, settings, user, oracle)
    for i in range(len(built.world.objects)):
        _one(http, built, settings, user, oracle, i)


def _creator_filter(http: httpx.Client, built: Built, settings: Settings, user: User | None, oracle: Oracle) -> None:
    """``creator=ORG`` never finds an object whose creator the reader may not know, and finds every
    visible object the organisation made openly."""
    url = "/api/v1/objects"
    for org in range(built.world.members + 1):
        answer = http.get(url, params={"creator": built.org_shorts[org], "limit": 1000}, headers=headers(user))
        got = set(_items(built, settings, oracle, answer, f"GET {url}?creator="))
        mine = {i for i in oracle.latest_visible() if built.world.objects[i].creator == org}
        openly = {i for i in mine if not built.world.objects[i].versions[-1].share.anonymous}
        allowed = {i for i in mine if oracle.knows_creator(i, oracle.latest(i))}
        assert openly <= got <= allowed, (f"GET {url}?creator={built.org_shorts[org]} as {oracle.who}: "
                                          f"got {sorted(got)}, open {sorted(openly)}, allowed {sorted(allowed)}")


def _one(http: httpx.Client, built: Built, settings: Settings, user: User | None, oracle: Oracle, i: int) -> None:
    h = headers(user)
    sid = built.stix_ids[i]
    spec = built.world.objects[i]
    url = f"/api/v1/objects/{sid}"
    answer = http.get(url, headers=h)
    no_leak(answer.content, oracle, f"GET {url}")
    if oracle.sees(i, oracle.latest(i)):
        assert answer.status_code == 200, f"GET {url} as {oracle.who}: {answer.status_code}, object {i} is visible"
        item = answer.json()
        assert built.version_of(item["object"]) == (i, oracle.latest(i))
        created_by(built, settings, oracle, item["object"], f"GET {url}")
        creator_label(built, oracle, i, oracle.latest(i), item["meta"]["creator"], f"GET {url}")
    else:
        assert answer.status_code == 404, f"GET {url} as {oracle.who}: {answer.status_code}, object {i} is not visible"
    visible = oracle.visible_versions(i)
    answer = http.get(f"{url}/versions", headers=h)
    no_leak(answer.content, oracle, f"GET {url}/versions")
    if visible:
        assert answer.status_code == 200, f"GET {url}/versions as {oracle.who}: {answer.status_code}"
        if built.modified[(i, 0)] is not None:
            assert answer.json()["versions"] == [built.modified[(i, v)] for v in visible], (
                f"GET {url}/versions as {oracle.who}: {answer.json()['versions']}, visible {visible}")
    else:
        assert answer.status_code == 404, f"GET {url}/versions as {oracle.who}: {answer.status_code}"
    if built.modified[(i, 0)] is None:
        return
    for v in range(len(spec.versions)):
        answer = http.get(url, params={"version": built.modified[(i, v)]}, headers=h)
        no_leak(answer.content, oracle, f"GET {url}?version=")
        if v in visible:
            assert answer.status_code == 200, f"GET {url}?version={v} as {oracle.who}: {answer.status_code}"
            assert built.version_of(answer.json()["object"]) == (i, v)
            created_by(built, settings, oracle, answer.json()["object"], f"GET {url}?version=")
        else:
            assert answer.status_code == 404, f"GET {url}?version={v} as {oracle.who}: {answer.status_code}"
