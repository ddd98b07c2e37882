"""/api/v1/baseline over a real server: versions drafted, edited, published, diffed, exported and imported;
campaigns opened, answered, submitted, followed, reopened and closed; every refusal a clear 4xx naming its fields
that stores nothing; two users of one member saving at once over HTTP lose no answer."""

from __future__ import annotations

import copy
import threading
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine

from nordcert.baseline.catalogue import load_shipped, shipped_bytes
from tests.baseline.conftest import World, full_answers, row_counts
from tests.factories import Member

API = "/api/v1/baseline"


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def _fields(r: httpx.Response, status: int = 422) -> set[str]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "message", "details"} and body["message"]
    return {d["field"] for d in body["details"]}


def test_catalogue_versions_over_http(http: httpx.Client, engine: Engine, world: World) -> None:
    staff = _h(world.admin)
    shipped = orjson.loads(shipped_bytes())
    assert [v["version"] for v in _ok(http.get(f"{API}/catalogues", headers=_h(world.alpha)))] == ["2026.1"]
    got = _ok(http.get(f"{API}/catalogues/2026.1", headers=_h(world.alpha_reader)))
    assert got["catalogue"] == shipped and got["published"] and got["shipped"]

    draft = _ok(http.post(f"{API}/catalogues", headers=staff, json={"base_version": "2026.1", "version": "2026.2"}),
                201)
    assert (draft["published"], draft["based_on"], draft["title"]) == (False, "2026.1", shipped["title"])
    _ok(http.patch(f"{API}/catalogues/2026.2", headers=staff, json={"title": "Baseline 2026.2"}))
    control = copy.deepcopy(shipped["controls"][0])
    control["target"] = 4
    control["nis2"] = ["Art 20(1)"]
    assert _ok(http.put(f"{API}/catalogues/2026.2/controls/GOV-01", headers=staff, json=control))["target"] == 4
    new = {**copy.deepcopy(shipped["controls"][1]), "id": "GOV-10", "title": "A control of our own"}
    for k in new["criteria"]:
        del k["id"]
    assert _ok(http.post(f"{API}/catalogues/2026.2/controls", headers=staff, json=new), 201)["criteria"][0][
        "id"] == "GOV-10.1"
    assert _ok(http.delete(f"{API}/catalogues/2026.2/controls/RES-06", headers=staff))["controls"] == 50

    counts = row_counts(engine)
    bad = {**control, "target": 7, "csf": ["PR.AC"], "dora": ["Art 52"]}
    assert _fields(http.put(f"{API}/catalogues/2026.2/controls/GOV-01", headers=staff, json=bad)) == {
        "target", "csf[0]", "dora[0]"}
    assert http.post(f"{API}/catalogues/2026.2/controls", headers=staff, json=new).status_code == 409
    assert http.put(f"{API}/catalogues/2026.2/controls/NOPE-01", headers=staff,
                    json={**new, "id": "NOPE-01"}).status_code == 404
    assert http.put(f"{API}/catalogues/2026.2/controls/GOV-01", headers=_h(world.alpha), json=control
                    ).status_code == 403
    assert http.get(f"{API}/catalogues/2026.2", headers=_h(world.alpha)).status_code == 404
    assert http.get(f"{API}/catalogues/2026.1", headers=_h(world.peer)).status_code == 404
    assert http.get(f"{API}/catalogues").status_code == 401
    assert row_counts(engine) == counts

    _ok(http.post(f"{API}/catalogues/2026.2/publish", headers=staff))
    assert http.put(f"{API}/catalogues/2026.2/controls/GOV-01", headers=staff, json=control).status_code == 409
    assert http.post(f"{API}/catalogues/2026.2/publish", headers=staff).status_code == 409

    d = _ok(http.get(f"{API}/catalogues/diff", headers=_h(world.alpha), params={"from": "2026.1", "to": "2026.2"}))
    assert (d["from"], d["to"], d["unchanged"]) == ("2026.1", "2026.2", 48)
    assert [c["id"] for c in d["added"]] == ["GOV-10"] and [c["id"] for c in d["removed"]] == ["RES-06"]
    changes = {c["field"]: c for c in d["changed"][0]["changes"]}
    assert changes["target"]["after"] == 4
    assert (changes["nis2"]["added"], changes["nis2"]["removed"]) == ([], ["Art 20(2)"])

    r = http.get(f"{API}/catalogues/2026.2/export", headers=_h(world.boreal))
    assert r.status_code == 200 and 'filename="baseline-2026.2.json"' in r.headers["content-disposition"]
    exported = r.json()
    assert exported["version"] == "2026.2" and len(exported["controls"]) == 50

    # import: every bad field named, nothing stored; then stored as a draft
    exported["version"] = "2027.1"
    broken = copy.deepcopy(exported)
    broken["controls"][5]["criteria"][0]["level"] = 9
    broken["domains"][0]["key"] = "politics"
    counts = row_counts(engine)
    fields = _fields(http.post(f"{API}/catalogues/import", headers=staff, json=broken))
    assert {"controls[5].criteria[0].level", "domains[0].key", "domains"} <= fields
    assert _fields(http.post(f"{API}/catalogues/import", headers=staff, json=[1, 2])) == {""}  # not an object
    assert row_counts(engine) == counts
    imported = _ok(http.post(f"{API}/catalogues/import", headers=staff, json=exported), 201)
    assert (imported["version"], imported["published"]) == ("2027.1", False)
    assert http.post(f"{API}/catalogues/import", headers=staff, json=exported).status_code == 409
    assert http.post(f"{API}/catalogues/import", headers=_h(world.alpha), json=exported).status_code == 403
    _ok(http.delete(f"{API}/catalogues/2027.1", headers=staff), 204)
    assert http.delete(f"{API}/catalogues/2026.1", headers=staff).status_code == 409


def test_a_campaign_over_http(http: httpx.Client, engine: Engine, world: World) -> None:
    staff = _h(world.admin)
    assert _fields(http.post(f"{API}/campaigns", headers=staff, json={
        "name": "", "catalogue_version": "2099.1", "closes_at": "2020-01-01T00:00:00Z"})) == {
        "name", "catalogue_version", "closes_at"}
    assert _fields(http.post(f"{API}/campaigns", headers=staff, json={
        "name": "x", "catalogue_version": "2026.1", "closes_at": "2030-01-01T00:00:00"})) == {"closes_at"}
    assert http.post(f"{API}/campaigns", headers=_h(world.alpha), json={
        "name": "x", "catalogue_version": "2026.1", "closes_at": "2030-01-01T00:00:00Z"}).status_code == 403
    c = _ok(http.post(f"{API}/campaigns", headers=staff, json={
        "name": "Baseline 2026", "catalogue_version": "2026.1", "closes_at": "2030-06-30T16:00:00+02:00",
        "description": "Answer by the end of June."}), 201)
    assert c["closes_at"] == "2030-06-30T14:00:00Z" and c["my_response"] is None
    cid = c["id"]
    listed = _ok(http.get(f"{API}/campaigns", headers=_h(world.alpha_reader), params={"status": "open"}))
    assert [x["id"] for x in listed] == [cid] and listed[0]["my_response"]["status"] == "not_started"
    assert _ok(http.get(f"{API}/campaigns/{cid}/catalogue", headers=_h(world.boreal)))["version"] == "2026.1"

    # a draft, and a refused save naming each bad answer
    ids = load_shipped().control_ids
    _ok(http.post(f"{API}/campaigns/{cid}/response/answers", headers=_h(world.alpha), json={"answers": [
        {"control_id": ids[0], "maturity": 3, "evidence": "minutes"},
        {"control_id": ids[1], "not_applicable": True, "comment": "not for a branch"}]}))
    counts = row_counts(engine)
    assert _fields(http.post(f"{API}/campaigns/{cid}/response/answers", headers=_h(world.alpha), json={"answers": [
        {"control_id": ids[0], "maturity": 8}, {"control_id": ids[2], "not_applicable": True},
        {"control_id": "ZZZ-01", "maturity": 1}]})) == {"answers.0.maturity", "answers.1.comment",
                                                         "answers.2.control_id"}
    assert _fields(http.post(f"{API}/campaigns/{cid}/response/answers", headers=_h(world.alpha), json={"answers": [
        {"control_id": ids[0], "maturity": "high"}]})) == {"answers.0.maturity"}
    assert http.post(f"{API}/campaigns/{cid}/response/answers", headers=_h(world.alpha_reader), json={"answers": [
        {"control_id": ids[0], "maturity": 1}]}).status_code == 403
    fields = _fields(http.post(f"{API}/campaigns/{cid}/response/submit", headers=_h(world.alpha)))
    assert fields == {f"answers.{i}" for i in ids[2:]}
    assert row_counts(engine) == counts

    progress = _ok(http.get(f"{API}/campaigns/{cid}/progress", headers=staff))
    alpha = next(m for m in progress["members"] if m["organisation"]["id"] == world.alpha.org_id)
    assert (alpha["state"], alpha["answered"], alpha["total"]) == ("draft", 2, 50)
    assert http.get(f"{API}/campaigns/{cid}/progress", headers=_h(world.fsa)).status_code == 403

    done = _ok(http.post(f"{API}/campaigns/{cid}/response/submit", headers=_h(world.alpha), json={
        "answers": full_answers(2)[2:]}))
    assert (done["status"], done["answered"]) == ("submitted", 50)
    assert http.post(f"{API}/campaigns/{cid}/response/answers", headers=_h(world.alpha), json={"answers": [
        {"control_id": ids[0], "maturity": 1}]}).status_code == 409
    assert _ok(http.get(f"{API}/campaigns/{cid}/responses/{world.alpha.org_id}", headers=staff))["answers"][ids[0]][
        "evidence"] == "minutes"
    assert http.get(f"{API}/campaigns/{cid}/responses/{world.alpha.org_id}", headers=_h(world.boreal)
                    ).status_code == 404
    assert http.get(f"{API}/campaigns/{cid}/response", headers=_h(world.peer)).status_code == 404

    _ok(http.post(f"{API}/campaigns/{cid}/responses/{world.alpha.org_id}/reopen", headers=staff))
    _ok(http.post(f"{API}/campaigns/{cid}/response/answers", headers=_h(world.alpha), json={"answers": [
        {"control_id": ids[0], "maturity": 1}]}))
    closed = _ok(http.post(f"{API}/campaigns/{cid}/close", headers=staff))
    assert closed["status"] == "closed"
    assert http.post(f"{API}/campaigns/{cid}/close", headers=staff).status_code == 409
    for path in ("response/answers", "response/submit"):
        r = http.post(f"{API}/campaigns/{cid}/{path}", headers=_h(world.alpha), json={"answers": [
            {"control_id": ids[0], "maturity": 2}]})
        assert r.status_code == 409 and "closed" in r.json()["message"]
    assert http.post(f"{API}/campaigns/{cid}/responses/{world.alpha.org_id}/reopen", headers=staff
                     ).status_code == 409


def test_two_users_of_one_member_saving_at_once_over_http(base_url: str, engine: Engine, world: World) -> None:
    staff = _h(world.admin)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        cid = _ok(client.post(f"{API}/campaigns", headers=staff, json={
            "name": "Race", "catalogue_version": "2026.1", "closes_at": "2030-01-01T00:00:00Z"}), 201)["id"]
    ids = load_shipped().control_ids
    writers = [(world.alpha, ids[0::2], 2), (world.alpha_analyst, ids[1::2], 4)]
    barrier = threading.Barrier(len(writers))
    errors: list[str] = []

    def write(member: Member, mine: tuple[str, ...], level: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            barrier.wait()
            for n in range(0, len(mine), 3):  # many small saves that interleave with the other writer's
                r = client.post(f"{API}/campaigns/{cid}/response/answers", headers=_h(member), json={"answers": [
                    {"control_id": i, "maturity": level, "evidence": member.email} for i in mine[n:n + 3]]})
                if r.status_code != 200:
                    errors.append(r.text)

    threads = [threading.Thread(target=write, args=w) for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        mine = _ok(client.get(f"{API}/campaigns/{cid}/response", headers=_h(world.alpha_reader)))
    assert mine["answered"] == 50
    assert {i: a["maturity"] for i, a in mine["answers"].items()} == {
        i: 2 if n % 2 == 0 else 4 for n, i in enumerate(ids)}
    assert {a["evidence"] for a in mine["answers"].values()} == {world.alpha.email, world.alpha_analyst.email}


def test_the_openapi_document_describes_the_baseline(http: httpx.Client) -> None:
    doc = _ok(http.get("/api/openapi.json"))
    for path in ("/api/v1/baseline/catalogues", "/api/v1/baseline/catalogues/{version}/controls/{control_id}",
                 "/api/v1/baseline/catalogues/diff", "/api/v1/baseline/catalogues/import",
                 "/api/v1/baseline/campaigns/{campaign_id}/progress",
                 "/api/v1/baseline/campaigns/{campaign_id}/response/submit"):
        assert path in doc["paths"], path
    assert {"ControlDoc", "CatalogueDoc", "CampaignOut", "ResponseOut", "AnswerIn"} <= set(doc["components"]["schemas"])
