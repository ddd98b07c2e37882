"""Feeds and exports as one reader: the STIX bundle, the CSV of indexed values, the plain-text
blocklists, the DNS RPZ zone and the MISP feed (manifest, hashes, every event)."""

from __future__ import annotations

import csv
import hashlib
import io

import httpx
import orjson

from nordcert.config import Settings
from tests.assurance.build import Built, User
from tests.assurance.checks import created_by, creator_label, headers, no_leak, same_set
from tests.assurance.oracle import Oracle
from tests.assurance.world import POOL, own_domain

#: Blocklist name -> the kinds of POOL it holds (own domains are domains).
BLOCKLISTS = {"ip": ("ipv4",), "domain": ("domain",), "url": ("url",), "iban": ("iban",), "phone": ("phone",)}
KEEP_ALL = {"include_stale": "true", "include_warninglisted": "true"}


def indexed(built: Built, oracle: Oracle) -> set[tuple[str, str, int]]:
    """(kind, value, object) of every index row the reader may see."""
    out = set()
    for p, (kind, value, _path) in enumerate(POOL):
        out |= {(kind, value, i) for i in oracle.matches_of(oracle.holders(p))}
    for i, spec in enumerate(built.world.objects):
        if spec.kind == "indicator" and not oracle.revoked(i) and oracle.sees(i, oracle.latest(i)):
            out.add(("domain", own_domain(i), i))
    return out


def _get(http: httpx.Client, user: User | None, oracle: Oracle, url: str, **params: str) -> httpx.Response:
    answer = http.get(url, params=params, headers=headers(user))
    no_leak(answer.content, oracle, f"GET {url}")
    expected = 401 if user is None else 200
    assert answer.status_code == expected, f"GET {url} as {oracle.who}: {answer.status_code}, not {expected}"
    return answer


def check(http: httpx.Client, built: Built, settings: Settings, user: User | None, oracle: Oracle) -> None:
    for revoked in (False, True):
        answer = _get(http, user, oracle, "/feeds/stix", include_revoked=str(revoked).lower())
        if user is None:
            break
        found = []
        for obj in answer.json()["objects"]:
            i, v = built.version_of(obj)
            assert v == oracle.latest(i), f"STIX feed as {oracle.who}: object {i} at version {v}"
            created_by(built, settings, oracle, obj, "GET /feeds/stix")
            found.append(i)
        same_set(found, oracle.latest_visible(include_revoked=revoked), oracle, f"/feeds/stix revoked={revoked}")
    rows = indexed(built, oracle)
    answer = _get(http, user, oracle, "/feeds/csv", **KEEP_ALL)
    if user is not None:
        got = set()
        for row in csv.DictReader(io.StringIO(answer.text)):
            i = built.index_of(row["stix_id"])
            creator_label(built, oracle, i, oracle.latest(i), row["creator"], "GET /feeds/csv")
            got.add((row["kind"], row["value"], i))
        assert got == rows, f"GET /feeds/csv as {oracle.who}: extra {sorted(got - rows)}, missing {sorted(rows - got)}"
    for name, kinds in BLOCKLISTS.items():
        answer = _get(http, user, oracle, f"/feeds/{name}.txt", **KEEP_ALL)
        if user is not None:
            lines = {line for line in answer.text.splitlines() if line and not line.startswith("#")}
            want = {value for kind, value, _i in rows if kind in kinds}
            assert lines == want, f"GET /feeds/{name}.txt as {oracle.who}: {sorted(lines)}, not {sorted(want)}"
    answer = _get(http, user, oracle, "/feeds/domain.rpz", **KEEP_ALL)
    if user is not None:
        zone = {line.split()[0] for line in answer.text.splitlines()
                if line.endswith(" CNAME .") and not line.startswith("*.")}
        want = {value for kind, value, _i in rows if kind == "domain"}
        assert zone == want, f"GET /feeds/domain.rpz as {oracle.who}: {sorted(zone)}, not {sorted(want)}"
    _misp(http, built, user, oracle)


def _misp(http: httpx.Client, built: Built, user: User | None, oracle: Oracle) -> None:
    """Every visible report is an event of its own; no event is a report the reader may not see; no
    event, and no line of hashes.csv, holds what the reader may not see."""
    manifest = _get(http, user, oracle, "/feeds/misp/manifest.json")
    hashes = _get(http, user, oracle, "/feeds/misp/hashes.csv")
    if user is None:
        return
    events = set(manifest.json())
    reports = {i for i, s in enumerate(built.world.objects) if s.kind == "report"}
    shown = {built.stix_ids[i].partition("--")[2] for i in reports & oracle.latest_visible()}
    hidden = {built.stix_ids[i].partition("--")[2] for i in reports} - shown
    assert shown <= events, f"MISP manifest as {oracle.who} lacks the events of reports {sorted(shown - events)}"
    assert not hidden & events, f"MISP manifest as {oracle.who} holds reports it may not see: {hidden & events}"
    digests = {hashlib.md5(s.encode()).hexdigest() for s in oracle.forbidden()}
    leaked = [line for line in hashes.text.splitlines() if line.split(",")[0] in digests]
    assert not leaked, f"MISP hashes.csv as {oracle.who} holds the hash of a value it may not see: {leaked}"
    for uuid in events:
        answer = _get(http, user, oracle, f"/feeds/misp/{uuid}.json")
        assert orjson.loads(answer.content)["Event"]["uuid"] == uuid
    for uuid in hidden:  # asked for by its uuid, a report the reader may not see is no event
        answer = http.get(f"/feeds/misp/{uuid}.json", headers=headers(user))
        no_leak(answer.content, oracle, "GET /feeds/misp/{uuid}.json")
        assert answer.status_code == 404, f"MISP event of a hidden report as {oracle.who}: {answer.status_code}"
