"""The observable index as one reader: screening lookup, an object's observables and correlations,
and the sightings of each object ("n members sighted this")."""

from __future__ import annotations

from typing import Any

import httpx

from tests.assurance.build import Built, User
from tests.assurance.checks import creator_label, headers, no_leak, same_set
from tests.assurance.oracle import Oracle
from tests.assurance.world import POOL, own_domain


def _values(built: Built) -> list[tuple[str, list[int]]]:
    """Every value the world holds, with the objects whose latest, unrevoked version holds it."""
    oracle = Oracle(built.world, built.users[0].who)
    out = [(value, oracle.holders(p)) for p, (_kind, value, _path) in enumerate(POOL)]
    for i, spec in enumerate(built.world.objects):
        if spec.kind == "indicator":
            out.append((own_domain(i), [] if oracle.revoked(i) else [i]))
    return out


def _matches(built: Built, oracle: Oracle, found: list[dict[str, Any]], where: str) -> list[int]:
    no_leak(str(found), oracle, where)
    ids = []
    for m in found:
        i = built.index_of(m["id"])
        creator_label(built, oracle, i, oracle.latest(i), m["creator"], where)
        ids.append(i)
    return ids


def _members(oracle: Oracle, holders: list[int], answer: dict[str, Any], where: str) -> None:
    reporting, others = oracle.members(holders)
    got = (answer["reporting_members"], answer["other_members"])
    assert got == (reporting, others), f"{where} as {oracle.who}: members {got}, the table allows {(reporting, others)}"


def check(http: httpx.Client, built: Built, user: User | None, oracle: Oracle) -> None:
    values = _values(built)
    answer = http.post("/api/v1/lookup", json={"values": [v for v, _ in values]}, headers=headers(user))
    if user is None:
        assert answer.status_code == 401, f"lookup without credentials: {answer.status_code}"
    else:
        assert answer.status_code == 200, f"lookup as {oracle.who}: {answer.status_code} {answer.text[:200]}"
        for (value, holders), result in zip(values, answer.json()["results"], strict=True):
            where = f"POST /api/v1/lookup {value}"
            assert "error" not in result, f"{where}: {result.get('error')}"
            same_set(_matches(built, oracle, result["matches"], where), oracle.matches_of(holders), oracle, where)
            _members(oracle, holders, result, where)
        one = http.get("/api/v1/lookup", params={"value": values[0][0]}, headers=headers(user))
        assert one.status_code == 200, f"GET lookup as {oracle.who}: {one.status_code}"
        where = "GET /api/v1/lookup"
        same_set(_matches(built, oracle, one.json()["results"][0]["matches"], where),
                 oracle.matches_of(values[0][1]), oracle, where)
    for i in range(len(built.world.objects)):
        _object(http, built, user, oracle, i, values)


def _object(http: httpx.Client, built: Built, user: User | None, oracle: Oracle, i: int,
            values: list[tuple[str, list[int]]]) -> None:
    base = f"/api/v1/objects/{built.stix_ids[i]}"
    visible = oracle.sees(i, oracle.latest(i))
    for part in ("observables", "correlations", "sightings"):
        answer = http.get(f"{base}/{part}", headers=headers(user))
        where = f"GET {base}/{part}"
        no_leak(answer.content, oracle, where)
        expected = 401 if user is None else 200 if visible else 404
        assert answer.status_code == expected, f"{where} as {oracle.who}: {answer.status_code}, not {expected}"
        if expected != 200:
            continue
        held = {v: h for v, h in values if i in h}
        body = answer.json()
        if part == "observables":
            assert {o["value"] for o in body} == set(held), f"{where} as {oracle.who}: {body}"
        elif part == "correlations":
            assert {o["value"] for o in body["observables"]} == set(held), f"{where} as {oracle.who}"
            for o in body["observables"]:
                holders = held[o["value"]]
                same_set(_matches(built, oracle, o["objects"], where), oracle.matches_of(holders) - {i}, oracle,
                         f"{where} {o['value']}")
                _members(oracle, holders, o, f"{where} {o['value']}")
        else:
            _sightings(built, oracle, i, body, where)


def _sightings(built: Built, oracle: Oracle, i: int, body: dict[str, Any], where: str) -> None:
    shown, counted = oracle.sightings_of(i)
    spec = built.world.objects
    assert body["sightings"] == len(shown), f"{where} as {oracle.who}: {body['sightings']} sightings, not {len(shown)}"
    assert body["count"] == sum(spec[s].count for s in shown), f"{where} as {oracle.who}: count {body['count']}"
    assert body["members"] == len(counted), f"{where} as {oracle.who}: {body['members']} members, not {len(counted)}"
    assert body["members_last_7_days"] == len(counted), f"{where} as {oracle.who}: last 7 days"
    expected = sorted(built.org_shorts[spec[s].creator] if oracle.knows_creator(s, oracle.latest(s))
                      else "anonymous member" for s in shown)
    assert sorted(r["sighted_by"] for r in body["recent"]) == expected, f"{where} as {oracle.who}: sighted_by"
