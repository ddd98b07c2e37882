"""Baseline benchmark pages in Chromium: a member's benchmark with box plots (its own scores marked, suppressed
groups drawn and labelled as such), the heat map's coloured matrix with the member's column, the feedback report
with its PDF; CERT staff choosing a member's report; the authority's aggregates; and no member's page naming
another member."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.baseline.feedback import feedback_view
from nordcert.db import transaction
from tests.baseline.test_benchmark import Forum, build_forum
from tests.factories import Member
from tests.web.conftest import PASSWORD, log_in, screenshot


def _with_passwords(engine: Engine, forum: Forum) -> Forum:
    with transaction(engine) as conn:
        for m in (forum.admin, forum.fsa, *forum.members.values(), *forum.readers.values()):
            credentials.set_password(conn, m.email, PASSWORD)
    return forum


@pytest.fixture
def forum(engine: Engine) -> Forum:
    return _with_passwords(engine, build_forum(engine))


def _browser_log_in(page: Any, who: Member) -> None:
    page.goto("/login")
    page.fill("input[name=email]", who.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _leaks(text: str, forum: Forum, who: Member) -> list[str]:
    return [n for n in forum.names_but(who.org_id) if n in text]


def test_a_member_s_benchmark_draws_the_distributions_with_its_own_scores_and_suppressed_groups(
        browser_page: Any, forum: Forum) -> None:
    page, alpha = browser_page, forum.members["Alpha Bank"]
    _browser_log_in(page, alpha)
    page.goto(f"/baseline/campaigns/{forum.campaign_id}/benchmark")
    assert page.locator("h1").inner_text() == "Sector benchmark: Baseline 2026"
    charts = page.locator("svg.chart")
    assert charts.count() == 9  # the domains, then each domain's controls
    assert page.locator("#domains svg.chart rect.box").count() == 9  # eight domains and overall, all published
    assert page.locator("#domains svg.chart path.own").count() == 9
    box = page.locator("#domains svg.chart rect.box").first.bounding_box()
    assert box is not None and box["width"] > 2 and box["height"] > 10  # drawn, not collapsed
    # The pension fund stands alone: its cells say suppressed, and the mortgage lenders' go with it.
    overall = page.locator("#row-overall")
    assert overall.locator(".cell-pension").inner_text().strip() == "suppressed"
    assert overall.locator(".cell-mortgage").inner_text().strip() == "suppressed"
    assert "· 6" in overall.locator(".cell-bank").inner_text()
    screenshot(page, "baseline_benchmark_member")
    # One group's view: the pension funds' boxes are hatched bands that say why.
    page.click("#group-switch >> text=pension")
    assert page.locator("#domains svg.chart rect.box").count() == 0
    assert page.locator("#domains svg.chart rect.suppressed").count() == 9
    assert "suppressed: fewer than 5 members" in page.locator("#domains svg.chart").inner_html()
    assert page.locator("#domains svg.chart path.own").count() == 9  # the member's own scores still stand
    screenshot(page, "baseline_benchmark_suppressed")
    assert not _leaks(page.content(), forum, alpha)


def test_the_heat_map_is_a_coloured_matrix_with_a_legend_and_the_member_s_column(browser_page: Any,
                                                                                 forum: Forum) -> None:
    page, lynx = browser_page, forum.members["Lynx Pension"]
    _browser_log_in(page, lynx)
    page.goto(f"/baseline/campaigns/{forum.campaign_id}/heatmap")
    dora = page.locator("#heatmap-dora svg.chart")
    assert dora.count() == 1 and page.locator("#heatmap-nis2 svg.chart").count() == 1
    assert dora.locator("rect.cov").count() > 20 and dora.locator("rect.suppressed").count() > 20
    assert {"Sector", "Bank", "Mortgage", "Pension", "You"} <= set(dora.locator("text").all_text_contents())
    assert "Chapter II: ICT risk management (Art 5–16)" in dora.inner_html()
    assert "100 %" in dora.inner_html() and "suppressed: fewer than 5 members" in dora.inner_html()
    screenshot(page, "baseline_heatmap_member")
    assert not _leaks(page.content(), forum, lynx)


def test_the_feedback_page_shows_the_report_and_its_pdf(browser_page: Any, forum: Forum, engine: Engine) -> None:
    page, alpha = browser_page, forum.members["Alpha Bank"]
    with transaction(engine, write=False) as conn:
        model = feedback_view(conn, reader=alpha.reader, campaign_id=forum.campaign_id, organisation_id=None,
                              min_group=5)
    _browser_log_in(page, alpha)
    page.goto(f"/baseline/campaigns/{forum.campaign_id}/feedback")
    report = page.locator("#feedback-report")
    assert report.locator("h1").inner_text() == "Baseline feedback report"
    assert report.locator("svg.chart path.own").count() == 9
    shown = [li.get_attribute("id") for li in report.locator("ol.recs > li").all()]
    assert shown == [f"rec-{r['id']}" for r in model["recommendations"]] and shown
    assert len(shown) == int(report.locator("dl.stats dd").nth(3).inner_text())
    screenshot(page, "baseline_feedback_member")
    assert not _leaks(page.content(), forum, alpha)
    href = page.locator("#pdf-link").get_attribute("href")
    answer = page.request.get(href)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.body())).pages)
    assert "Alpha Bank" in text and "TLP:AMBER+STRICT" in text and not _leaks(text, forum, alpha)


def test_staff_choose_a_member_s_report_and_the_authority_reads_aggregates_only(
        http: httpx.Client, forum: Forum) -> None:
    c = forum.campaign_id
    log_in(http, forum.admin.email)
    chooser = http.get(f"/baseline/campaigns/{c}/feedback")
    assert chooser.status_code == 200 and "12 members submitted" in chooser.text
    assert all(name in chooser.text for name in forum.members if name != "Moss Bank")
    lynx = forum.members["Lynx Pension"]
    chosen = http.get(f"/baseline/campaigns/{c}/feedback", params={"organisation_id": lynx.org_id})
    assert chosen.status_code == 200 and "for Lynx Pension only" in chosen.text
    pdf = http.get(f"/baseline/campaigns/{c}/feedback.pdf", params={"organisation_id": lynx.org_id})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    staff_bm = http.get(f"/baseline/campaigns/{c}/benchmark")
    assert 'id="staff-note"' in staff_bm.text and "members: suppressed" in staff_bm.text
    log_in(http, forum.fsa.email)
    assert http.get(f"/baseline/campaigns/{c}/benchmark").status_code == 200
    assert http.get(f"/baseline/campaigns/{c}/heatmap").status_code == 200
    refused = http.get(f"/baseline/campaigns/{c}/feedback", params={"organisation_id": lynx.org_id},
                       headers={"accept": "text/html"})
    assert refused.status_code == 403 and "aggregates" in refused.text
    # A member asking for another member's report gets the page of something that does not exist.
    log_in(http, forum.members["Alpha Bank"].email)
    other = http.get(f"/baseline/campaigns/{c}/feedback", params={"organisation_id": lynx.org_id})
    assert other.status_code == 404 and "Lynx Pension" not in other.text


def test_an_open_campaign_shows_members_when_its_figures_come(http: httpx.Client, engine: Engine) -> None:
    forum = _with_passwords(engine, build_forum(engine, close=False))
    log_in(http, forum.members["Alpha Bank"].email)
    for path in ("benchmark", "heatmap", "feedback"):
        answer = http.get(f"/baseline/campaigns/{forum.campaign_id}/{path}", headers={"accept": "text/html"})
        assert answer.status_code == 409 and "published when it closes" in answer.text
