"""The sector's incidents page (CERT staff, authorities' risk officers) counts and charts without naming a
member; everyone else is told it does not exist."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.incidents.classify import CRITERIA
from nordcert.web import charts
from nordcert.web.incident_sector_page import CRITERION_NAMES, criterion_name
from tests.factories import Member, bundle, indicator, make_member
from tests.incidents import helpers
from tests.web.conftest import PASSWORD, World, log_in

NAMES = ("Alpha Bank", "Boreal Bank", "Carol Sparbank")


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def _authority(engine: Engine, role: str = "risk_officer", *, org: str | None = None) -> Member:
    """A user of the supervisor (a new one, or ``org``)."""
    if org is None:
        member = make_member(engine, name="Finanstilsynet", role=role, sector_type="authority")
    else:
        member = make_member(engine, org=org, role=role)
    with transaction(engine) as conn:
        accounts.set_password(conn, member.email, PASSWORD)
    return member


def _record(http: httpx.Client, who: Member, ref: str, facts: dict[str, Any], *, days_ago: float = 1,
            links: tuple[str, ...] = ()) -> int:
    r = http.post("/api/v1/incidents", headers=_h(who), json={
        "reference": ref, "title": f"Incident {ref}", "description": "Secret details of the member.",
        "detected_at": helpers.hours_ago(days_ago * 24).isoformat(), "facts": facts, "intel_links": list(links)})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _sector_data(http: httpx.Client, world: World) -> int:
    """Alpha's major system failure (reported through the intermediate report), Boreal's minor incident
    40 days ago; returns Alpha's incident, linked to one indicator of Alpha's."""
    ioc = indicator("203.0.113.77")
    r = http.post("/api/v1/objects", json=bundle(ioc), headers=_h(world.alpha), params={"tlp": "green"})
    assert r.status_code == 201, r.text
    major = _record(http, world.alpha, "ALPHA-9", helpers.MAJOR_FACTS, days_ago=1.5, links=(ioc["id"],))
    for kind, body in (("initial_notification", helpers.initial()), ("intermediate_report", helpers.intermediate())):
        r = http.post(f"/api/v1/incidents/{major}/reports/{kind}", json=body, headers=_h(world.alpha))
        assert r.status_code == 201, r.text
    _record(http, world.boreal, "BOREAL-3", helpers.MINOR_FACTS, days_ago=40)
    return major


def _totals(html: str) -> dict[str, str]:
    block = html[html.index('id="totals"'):html.index("</dl>", html.index('id="totals"'))]
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", block))


# --- the chart and the names -----------------------------------------------------------------------


def test_stacked_columns_stack_the_series_with_a_legend_and_escape_labels() -> None:
    hostile = '<script>alert(1)</script>"&'
    series = [("major", "major", "#d0312d"), ("not_major", hostile, "#8a96a3")]
    svg = charts.stacked_columns([(hostile, {"major": 2, "not_major": 3}), ("Feb 2026", {"major": 0})],
                                 title=hostile, series=series)
    assert "<script>" not in svg
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img" and root.get("aria-label") == hostile
    ns = "{http://www.w3.org/2000/svg}"
    columns = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert [r.find(f"{ns}title").text for r in columns] == [  # type: ignore[union-attr]
        f"{hostile}: 2 major", f"{hostile}: 3 {hostile}"]
    major, minor = columns
    top_of_major = float(minor.get("y", 0)) + float(minor.get("height", 0))
    assert top_of_major == pytest.approx(float(major.get("y", 0)), abs=0.11)  # stacked on it
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert texts[:2] == ["major", hostile]  # the legend, in the series' order
    assert "5" in texts and "Feb 2026" in texts  # the total on top; every label fits
    assert "nothing yet" in charts.stacked_columns([], title="Incidents", series=series)
    # 24 months on a narrow chart: every other label, from the first.
    months = [(f"M{i:02d} 2026", {"major": 1}) for i in range(24)]
    labels = [t.text for t in ET.fromstring(str(charts.stacked_columns(months, title="t", series=series))).iter(
        f"{ns}text") if (t.text or "").startswith("M")]
    assert labels[0] == "M00 2026" and 6 <= len(labels) <= 12 and "M01 2026" not in labels


def test_every_criterion_has_a_name_with_its_article() -> None:
    assert set(CRITERION_NAMES) == set(CRITERIA)
    assert criterion_name("data_losses") == "Data losses (Art 5, Art 9(5))"


# --- the sector page -------------------------------------------------------------------------------


def test_staff_and_an_authority_see_the_counts_and_charts_members_are_refused(
        http: httpx.Client, world: World, engine: Engine) -> None:
    _sector_data(http, world)
    authority = _authority(engine)

    log_in(http, world.staff.email)
    assert 'href="/incidents/sector"' in http.get("/incidents").text
    page = http.get("/incidents/sector")
    assert page.status_code == 200, page.text
    html = page.text
    assert _totals(html) == {"Incidents": "2", "Major": "1", "Not major": "1", "Summaries shared": "0"}
    assert '<svg class="chart"' in html and 'aria-label="Incidents per month, last 12 months"' in html
    assert "System failure" in html and "Not reported yet" in html  # by type, Boreal has not said
    assert 'id="criterion-critical_services_affected"><td>Critical services affected (Art 6)</td>' in html
    assert "<td>Bank</td><td class=\"num\">1</td><td class=\"num\">1</td>" in html  # by member type
    assert "intermediate report submitted" in html  # by status, in words
    for name in NAMES:
        assert name not in html
    assert "Secret" not in html and "ALPHA-9" not in html

    # Three months hold both incidents; the choice is kept; anything else is 12 months.
    three = http.get("/incidents/sector", params={"months": "3"}).text
    assert '<option value="3" selected>' in three and _totals(three)["Incidents"] == "2"
    assert len(re.findall(r"<td>\w{3} \d{4}</td>", three)) == 3
    assert 'aria-label="Incidents per month, last 12 months"' in http.get(
        "/incidents/sector", params={"months": "1000"}).text

    log_in(http, authority.email)
    seen = http.get("/incidents/sector")
    assert seen.status_code == 200 and _totals(seen.text)["Incidents"] == "2"
    assert not any(name in seen.text for name in NAMES)

    # Members, a bank's risk officer and an authority's analyst are told the page does not exist.
    bank_officer = make_member(engine, org=world.alpha.org_name, role="risk_officer")
    with transaction(engine) as conn:
        accounts.set_password(conn, bank_officer.email, PASSWORD)
    for member in (world.alpha, bank_officer, _authority(engine, "analyst", org=authority.org_name)):
        log_in(http, member.email)
        refused = http.get("/incidents/sector", headers={"Accept": "text/html"})
        assert refused.status_code == 404, member.email
        assert "Incidents per month" not in refused.text and "<svg" not in refused.text
        assert 'href="/incidents/sector"' not in http.get("/incidents").text
