"""The feedback report: the model for one member (own figures, the sector's published ones, recommendations in
the scoring rule's order, no other member), who may ask for it, and the report rendered to HTML and to a PDF
whose text is read back with pypdf (A4 pages numbered, the member and the campaign, TLP:AMBER+STRICT on every
page, the figures and the recommendations in order, no other member's name)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from nordcert.baseline import report
from nordcert.baseline.catalogue import load_shipped
from nordcert.baseline.feedback import feedback_view
from nordcert.baseline.scoring import recommendations, score_member
from nordcert.db import transaction
from nordcert.errors import Forbidden, Invalid, NotFound
from nordcert.sharing.policy import Reader
from tests.baseline.test_benchmark import DRAFT_ONLY, Forum, build_forum


@pytest.fixture
def forum(engine: Engine) -> Forum:
    return build_forum(engine)


def _feedback(engine: Engine, reader: Reader, forum: Forum, organisation_id: int | None = None) -> dict[str, Any]:
    with transaction(engine, write=False) as conn:
        return feedback_view(conn, reader=reader, campaign_id=forum.campaign_id, organisation_id=organisation_id,
                             min_group=5)


def test_the_model_holds_the_member_s_figures_the_sector_s_published_ones_and_what_to_do_first(
        engine: Engine, forum: Forum) -> None:
    lynx = forum.members["Lynx Pension"]
    fb = _feedback(engine, lynx.reader, forum)
    assert fb["organisation"]["name"] == "Lynx Pension" and fb["tlp"] == "amber+strict"
    score = score_member(load_shipped(), forum.answers[lynx.org_id])
    assert fb["overall"]["own"] == pytest.approx(score.overall)
    assert fb["overall"]["sector"]["n"] == 12 and fb["overall"]["band"] is not None
    # Its own type is a group of one: suppressed, with no figure.
    assert fb["overall"]["type"] == {"n": None, "q1": None, "median": None, "q3": None, "levels": None,
                                     "suppressed": "small_group"}
    assert [d["own"] for d in fb["domains"]] == [pytest.approx(score.domain(d["key"]).score) if
                                                 score.domain(d["key"]).score is not None else None
                                                 for d in fb["domains"]]
    medians = {c["id"]: c["sector_median"] for c in fb["controls"]}
    expected = [r.control.id for r in recommendations(score, medians)]
    assert [r["id"] for r in fb["recommendations"]] == expected and expected
    assert [r["rank"] for r in fb["recommendations"]] == list(range(1, len(expected) + 1))
    first = fb["recommendations"][0]
    assert first["guidance"] == load_shipped().control(first["id"]).guidance
    assert all(first["maturity"] < k["level"] <= first["target"] for k in first["next_criteria"])
    assert fb["summary"]["below_target"] == sum(1 for c in fb["controls"] if c["gap"])
    na = [c for c in fb["controls"] if c["not_applicable"]]
    assert na and all(c["maturity"] is None and c["gap"] is None for c in na)
    assert not any(name in json.dumps(fb) for name in forum.names_but(lynx.org_id))
    # CERT staff previewing it read what the member reads.
    staff = _feedback(engine, forum.admin.reader, forum, lynx.org_id)
    assert {k: v for k, v in staff.items() if k != "generated_at"} == {
        k: v for k, v in fb.items() if k != "generated_at"}


def test_who_may_ask_for_a_report(engine: Engine, forum: Forum) -> None:
    alpha, boreal = forum.members["Alpha Bank"], forum.members["Boreal Bank"]
    assert _feedback(engine, forum.readers["Alpha Bank"].reader, forum)["organisation"]["id"] == alpha.org_id
    assert _feedback(engine, alpha.reader, forum, alpha.org_id)["organisation"]["id"] == alpha.org_id
    with pytest.raises(NotFound):  # another member's report is as if it did not exist
        _feedback(engine, alpha.reader, forum, boreal.org_id)
    with pytest.raises(NotFound, match="submitted no response"):
        _feedback(engine, forum.members[DRAFT_ONLY].reader, forum)
    with pytest.raises(Forbidden):
        _feedback(engine, forum.fsa.reader, forum, alpha.org_id)
    with pytest.raises(Invalid) as refused:
        _feedback(engine, forum.admin.reader, forum)
    assert refused.value.details[0]["field"] == "organisation_id"
    with pytest.raises(NotFound):
        _feedback(engine, forum.peer.reader, forum, alpha.org_id)


def _pdf_text(pdf: bytes) -> tuple[PdfReader, list[str]]:
    doc = PdfReader(io.BytesIO(pdf))
    return doc, [page.extract_text() for page in doc.pages]


def test_the_pdf_has_numbered_a4_pages_marked_tlp_amber_strict_with_the_figures_and_recommendations_in_order(
        engine: Engine, forum: Forum) -> None:
    alpha = forum.members["Alpha Bank"]
    fb = _feedback(engine, alpha.reader, forum)
    pdf = report.render_pdf(fb)
    assert pdf.startswith(b"%PDF-")
    doc, pages = _pdf_text(pdf)
    assert len(pages) >= 3
    for n, page in enumerate(doc.pages, 1):
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4 in pt
        text = pages[n - 1]
        assert text.count("TLP:AMBER+STRICT") >= 2, f"page {n} lacks the marking in its header and footer"
        assert f"Page {n} of {len(pages)}" in text
        assert "Alpha Bank" in text and "Baseline 2026" in text
    text = re.sub(r"\s+", " ", "\n".join(pages))
    assert f"Your overall score {report.number(fb['overall']['own'])}" in text
    assert f"Sector median {report.number(fb['overall']['sector']['median'])}" in text
    # The recommendations in their order, each with its guidance's opening words.
    section = text[text.index("What to do first"):text.index("Control by control")]
    positions = [section.index(f"{r['id']} {r['title']}") for r in fb["recommendations"]]
    assert positions == sorted(positions) and len(positions) == len(fb["recommendations"])
    assert " ".join(fb["recommendations"][0]["guidance"].split()[:6]) in section
    for c in fb["controls"][:5]:
        assert f"{c['id']} {c['title']}" in text
    assert not any(name in text for name in forum.names_but(alpha.org_id))
    assert "fewer than 5 members" in text


def test_the_html_report_stands_alone_and_names_no_other_member(engine: Engine, forum: Forum) -> None:
    lynx = forum.members["Lynx Pension"]
    fb = _feedback(engine, lynx.reader, forum)
    page = report.render_html(fb)
    assert page.startswith("<!doctype html>") and "<svg class=\"chart\"" in page and "<script" not in page
    assert 'class="own"' in page  # the member's own score is drawn on the chart
    assert not re.search(r'(src|href)="[a-z]+:|url\((?!#)|@import', page)  # nothing to fetch
    assert not any(name in page for name in forum.names_but(lynx.org_id))
    fragment = report.render_html(fb, fragment=True, pdf_url="/x.pdf")
    assert "<html" not in fragment and 'href="/x.pdf"' in fragment and "Lynx Pension" in fragment
    assert re.fullmatch(rf"baseline-feedback-{forum.campaign_id}-[a-z0-9-]+\.pdf", report.filename(fb, "pdf"))
