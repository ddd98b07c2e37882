"""/api/v1/baseline/campaigns/{id}/benchmark, /heatmap and /feedback[.pdf|.html] over a real server: the access
matrix for every kind of reader, the campaign closed and open, and every answer a member gets searched for the
names of other members."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from nordcert.baseline import campaigns
from nordcert.db import transaction
from tests.baseline.test_benchmark import DRAFT_ONLY, Forum, build_forum
from tests.factories import Member

BASE = "/api/v1/baseline/campaigns"


@pytest.fixture
def forum(engine: Engine) -> Forum:
    return build_forum(engine)


def _get(http: httpx.Client, who: Member | None, path: str, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {who.token}"} if who else {}
    return http.get(path, headers=headers, params=params)


def _text(answer: httpx.Response) -> str:
    if answer.headers.get("content-type", "").startswith("application/pdf"):
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.content)).pages)
    return answer.text


def test_the_access_matrix(http: httpx.Client, forum: Forum) -> None:
    c = forum.campaign_id
    alpha, boreal = forum.members["Alpha Bank"], forum.members["Boreal Bank"]
    a = alpha.org_id
    readers: dict[str, Member | None] = {
        "staff": forum.admin, "authority": forum.fsa, "authority analyst": forum.fsa_analyst,
        "cert analyst": forum.cert_analyst, "alpha": alpha, "alpha reader": forum.readers["Alpha Bank"],
        "boreal": boreal, "draft only": forum.members[DRAFT_ONLY], "peer": forum.peer, "anonymous": None}
    expected: dict[str, dict[str, int]] = {
        # reader: benchmark, heatmap, own report, Alpha's report, Alpha's PDF, own HTML
        "staff": {"bm": 200, "hm": 200, "own": 422, "alpha": 200, "pdf": 200, "html": 422},
        "authority": {"bm": 200, "hm": 200, "own": 403, "alpha": 403, "pdf": 403, "html": 403},
        "authority analyst": {"bm": 403, "hm": 403, "own": 403, "alpha": 403, "pdf": 403, "html": 403},
        "cert analyst": {"bm": 403, "hm": 403, "own": 403, "alpha": 403, "pdf": 403, "html": 403},
        "alpha": {"bm": 200, "hm": 200, "own": 200, "alpha": 200, "pdf": 200, "html": 200},
        "alpha reader": {"bm": 200, "hm": 200, "own": 200, "alpha": 200, "pdf": 200, "html": 200},
        "boreal": {"bm": 200, "hm": 200, "own": 200, "alpha": 404, "pdf": 404, "html": 200},
        "draft only": {"bm": 200, "hm": 200, "own": 404, "alpha": 404, "pdf": 404, "html": 404},
        "peer": {"bm": 404, "hm": 404, "own": 404, "alpha": 404, "pdf": 404, "html": 404},
        "anonymous": {"bm": 401, "hm": 401, "own": 401, "alpha": 401, "pdf": 401, "html": 401},
    }
    requests = {"bm": (f"{BASE}/{c}/benchmark", {}), "hm": (f"{BASE}/{c}/heatmap", {}),
                "own": (f"{BASE}/{c}/feedback", {}), "alpha": (f"{BASE}/{c}/feedback/{a}", {}),
                "pdf": (f"{BASE}/{c}/feedback.pdf", {"organisation_id": a}), "html": (f"{BASE}/{c}/feedback.html", {})}
    got = {who: {k: _get(http, m, path, **params).status_code for k, (path, params) in requests.items()}
           for who, m in readers.items()}
    assert got == expected
    # An error has the one REST error shape.
    refused = _get(http, boreal, f"{BASE}/{c}/feedback/{a}")
    assert set(refused.json()) == {"error", "message", "details"} and refused.json()["error"] == "not_found"
    missing = _get(http, forum.admin, f"{BASE}/{c + 99}/benchmark")
    assert missing.status_code == 404


def test_no_member_facing_answer_names_another_member(http: httpx.Client, forum: Forum) -> None:
    c = forum.campaign_id
    checked = 0
    for name in ("Alpha Bank", "Lynx Pension", "Granite Mortgage", DRAFT_ONLY):
        m = forum.members[name]
        for who in (m, forum.readers.get(name, m)):
            for path in ("benchmark", "heatmap", "feedback", f"feedback/{m.org_id}", "feedback.pdf", "feedback.html"):
                answer = _get(http, who, f"{BASE}/{c}/{path}")
                assert answer.status_code in (200, 404), (name, path, answer.text)
                text = _text(answer)
                leaked = [n for n in forum.names_but(m.org_id) if n in text]
                assert not leaked, f"{name} reading {path} sees {leaked}"
                checked += 1
    assert checked == 48
    # The authority's aggregates name no member either.
    for path in ("benchmark", "heatmap"):
        text = _get(http, forum.fsa, f"{BASE}/{c}/{path}").text
        assert not any(n in text for n in forum.members)


def test_the_answers_carry_the_figures(http: httpx.Client, forum: Forum) -> None:
    c = forum.campaign_id
    alpha = forum.members["Alpha Bank"]
    bm = _get(http, alpha, f"{BASE}/{c}/benchmark").json()
    assert bm["scope"] == "member" and bm["min_group"] == 5 and bm["overall"]["sector"]["n"] == 12
    assert bm["overall"]["by_type"]["pension"] == {"n": None, "q1": None, "median": None, "q3": None,
                                                   "levels": None, "suppressed": "small_group"}
    assert len(bm["domains"]) == 8 and bm["overall"]["own"]["value"] is not None
    hm = _get(http, alpha, f"{BASE}/{c}/heatmap").json()
    assert [f["key"] for f in hm["frameworks"]] == ["dora", "nis2"]
    first = hm["frameworks"][0]["chapters"][0]["rows"][0]
    assert first["ref"] == "Art 5" and first["sector"]["n"] == 12 and "own" in first
    fb = _get(http, alpha, f"{BASE}/{c}/feedback").json()
    assert fb["organisation"]["name"] == "Alpha Bank" and fb["recommendations"][0]["rank"] == 1
    pdf = _get(http, alpha, f"{BASE}/{c}/feedback.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="baseline-feedback-')
    assert "Alpha Bank" in _text(pdf) and "TLP:AMBER+STRICT" in _text(pdf)
    page = _get(http, alpha, f"{BASE}/{c}/feedback.html")
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    staff_pdf = _get(http, forum.admin, f"{BASE}/{c}/feedback.pdf", organisation_id=alpha.org_id)
    assert "Alpha Bank" in _text(staff_pdf)


def test_while_the_campaign_is_open_only_staff_read_figures(http: httpx.Client, engine: Engine) -> None:
    forum = build_forum(engine, close=False)
    c = forum.campaign_id
    alpha = forum.members["Alpha Bank"]
    for who in (alpha, forum.fsa):
        for path in ("benchmark", "heatmap", "feedback"):
            answer = _get(http, who, f"{BASE}/{c}/{path}")
            if who is forum.fsa and path == "feedback":
                assert answer.status_code == 409  # the closing is checked before the reader's kind of report
                continue
            assert answer.status_code == 409 and "published when it closes" in answer.json()["message"]
    assert _get(http, forum.admin, f"{BASE}/{c}/benchmark").status_code == 200
    assert _get(http, forum.admin, f"{BASE}/{c}/feedback/{alpha.org_id}").status_code == 200
    with transaction(engine) as conn:
        campaigns.close_campaign(conn, reader=forum.admin.reader, campaign_id=c)
    assert _get(http, alpha, f"{BASE}/{c}/benchmark").status_code == 200
