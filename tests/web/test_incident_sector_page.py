"""The sector's incidents page (CERT staff, authorities' risk officers) counts and charts without naming a
member; a member shares a summary of its incident from the incident page, named only if it unticks
"anonymous". Over HTTP and in Chromium."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from nordcert.accounts import credentials
from nordcert.db import transaction
from nordcert.incidents.classify import CRITERIA
from nordcert.intel.tables import stix_objects
from nordcert.web import charts
from nordcert.web.incident_sector_page import CRITERION_NAMES, criterion_name
from tests.factories import Member, bundle, indicator, make_member
from tests.incidents import helpers
from tests.web.conftest import PASSWORD, SCREENSHOTS, World, csrf_of, log_in, screenshot

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
        credentials.set_password(conn, member.email, PASSWORD)
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


def _summaries(engine: Engine) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(stix_objects)
                                .where(stix_objects.c.type == "incident")).scalar_one())


def _totals(html: str) -> dict[str, str]:
    block = html[html.index('id="totals"'):html.index("</dl>", html.index('id="totals"'))]
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", block))


def _share(http: httpx.Client, incident_id: int, **fields: str | None) -> httpx.Response:
    csrf = csrf_of(http.get(f"/incidents/{incident_id}").text)
    data: dict[str, str | None] = {
        "csrf": csrf, "title": "Card outage at a Danish bank", "tlp": "amber", "anonymous": "1", "include_links": "1",
        "summary": "Storage exhaustion during month-end batch: check capacity alerts.", **fields}
    return http.post(f"/incidents/{incident_id}/share", data={k: v for k, v in data.items() if v is not None})


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
        credentials.set_password(conn, bank_officer.email, PASSWORD)
    for member in (world.alpha, bank_officer, _authority(engine, "analyst", org=authority.org_name)):
        log_in(http, member.email)
        refused = http.get("/incidents/sector", headers={"Accept": "text/html"})
        assert refused.status_code == 404, member.email
        assert "Incidents per month" not in refused.text and "<svg" not in refused.text
        assert 'href="/incidents/sector"' not in http.get("/incidents").text


def test_a_member_shares_a_summary_from_the_incident_page(http: httpx.Client, world: World, engine: Engine) -> None:
    major = _sector_data(http, world)
    authority = _authority(engine)
    log_in(http, world.alpha.email)
    form = http.get(f"/incidents/{major}").text
    assert 'id="share-form"' in form and "No summary of this incident shared yet." in form
    assert '<option value="amber" selected>TLP:AMBER</option>' in form and 'value="red"' not in form
    assert '<option value="DK banks">DK banks</option>' in form
    assert re.search(r'id="share-anonymous" name="anonymous" type="checkbox" value="1" checked', form)
    assert re.search(r'id="share-links" name="include_links" type="checkbox" value="1" checked', form)
    assert "no client data" in form.lower()

    # Refused by the service: shown in the form with 422, what was typed kept, nothing stored.
    red = _share(http, major, tlp="red", summary="Kept as typed.")
    assert red.status_code == 422 and 'id="share-error"' in red.text and "TLP:RED" in red.text
    assert ">Kept as typed.</textarea>" in red.text
    unknown = _share(http, major, tlp="purple")
    assert unknown.status_code == 422 and "unknown TLP" in unknown.text
    empty = _share(http, major, summary="   ")
    assert empty.status_code == 422 and "write the summary to share" in empty.text
    assert _summaries(engine) == 0
    assert http.post(f"/incidents/{major}/share", data={"summary": "x", "tlp": "amber"}).status_code == 403
    assert _summaries(engine) == 0

    done = _share(http, major)
    assert done.status_code == 303 and done.headers["location"] == f"/incidents/{major}#share"
    after = http.get(f"/incidents/{major}").text
    found = re.search(r"Summary \u201cCard outage at a Danish bank\u201d shared with the sector anonymously as "
                      r"(incident--[0-9a-f-]{36}) under TLP:AMBER, related to 1 linked intel object\.", after)
    assert found, after[:3000]
    summary_id = found.group(1)
    shared = after[after.index('id="shared-summaries"'):]
    assert f'<a href="/objects/{summary_id}">Card outage at a Danish bank</a>' in shared
    assert _summaries(engine) == 1
    # Another member reads it through the API, anonymous, under AMBER.
    seen = http.get(f"/api/v1/objects/{summary_id}", headers=_h(world.boreal)).json()
    assert seen["meta"]["creator"] == "anonymous member" and seen["meta"]["tlp"] == "amber"
    assert seen["object"]["x_nordcert_incident_types"] == ["system_failure"]
    assert "Secret" not in str(seen)

    # Other banks can neither see the incident nor share for it; Alpha's readers see no form.
    log_in(http, world.boreal.email)
    assert http.get(f"/incidents/{major}", headers={"Accept": "text/html"}).status_code == 404
    assert _share_as_outsider(http, major).status_code == 404
    reader = make_member(engine, org=world.alpha.org_name, role="reader")
    with transaction(engine) as conn:
        credentials.set_password(conn, reader.email, PASSWORD)
    log_in(http, reader.email)
    as_reader = http.get(f"/incidents/{major}").text
    assert 'id="share-form"' not in as_reader and f'href="/objects/{summary_id}"' in as_reader
    assert _summaries(engine) == 1

    # The authority sees the summary with its TLP, criteria and types, and no member's name...
    log_in(http, authority.email)
    sector = http.get("/incidents/sector").text
    row = sector[sector.index(f'href="/objects/{summary_id}"'):]
    row = row[:row.index("</tr>")]
    assert '<span class="muted">anonymous member</span>' in row and '<span class="tlp tlp-amber">TLP:AMBER' in row
    assert "Critical services affected (Art 6)" in row and "System failure" in row
    assert not any(name in sector for name in NAMES)

    # ...until Alpha shares one with "anonymous" unticked: then Alpha is named, there only.
    log_in(http, world.alpha.email)
    named = _share(http, major, title="Lessons: keep storage headroom", tlp="green", anonymous=None,
                   include_links=None, summary="Keep 30 % storage headroom before month-end batches.")
    assert named.status_code == 303
    flash = http.get(f"/incidents/{major}").text
    assert "shared with the sector naming your organisation as incident--" in flash
    assert "under TLP:GREEN." in flash
    log_in(http, authority.email)
    sector = http.get("/incidents/sector").text
    assert sector.count("Alpha Bank") == 1
    row = sector[sector.index("Lessons: keep storage headroom"):]
    assert "<td>Alpha Bank</td>" in row[:row.index("</tr>")]
    assert "Boreal Bank" not in sector and _totals(sector)["Summaries shared"] == "2"


def _share_as_outsider(http: httpx.Client, incident_id: int) -> httpx.Response:
    csrf = csrf_of(http.get("/incidents").text)
    return http.post(f"/incidents/{incident_id}/share", data={"csrf": csrf, "summary": "x", "tlp": "amber"},
                     headers={"Accept": "text/html"})


# --- in the browser --------------------------------------------------------------------------------


def _browser_log_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_the_sector_page_in_chromium(http: httpx.Client, world: World, engine: Engine, browser_page: Any) -> None:
    major = _sector_data(http, world)
    for days, facts in ((70, helpers.MAJOR_FACTS), (100, helpers.MINOR_FACTS), (130, helpers.MINOR_FACTS)):
        _record(http, world.boreal, f"BOREAL-{days}", facts, days_ago=days)
    page = browser_page
    # Alpha shares a summary through the form.
    _browser_log_in(page, world.alpha.email)
    page.goto(f"/incidents/{major}")
    page.fill("#share-title", "Card outage at a Danish bank")
    page.fill("#share-summary", "Storage exhaustion during month-end batch: check your capacity alerts.")
    page.select_option("#share-tlp", "green")
    page.click("#share-form button[type=submit]")
    page.wait_for_url(f"**/incidents/{major}#share")
    assert "shared with the sector anonymously" in page.inner_text(".flash")
    assert "Card outage at a Danish bank" in page.inner_text("#shared-summaries")
    page.locator("#share").screenshot(path=str(SCREENSHOTS / "incident-share.png"))

    # CERT staff open the sector page from the incident list and look at six months.
    page.context.clear_cookies()
    _browser_log_in(page, world.staff.email)
    page.goto("/incidents")
    page.click("text=The sector's incidents")
    page.wait_for_url("**/incidents/sector")
    page.select_option("#months", "6")
    page.click("form[aria-label=Period] button")
    page.wait_for_url("**/incidents/sector?months=6")
    assert page.locator("#totals dd").all_inner_texts() == ["5", "2", "3", "1"]  # incidents, major, not, summaries
    chart = page.locator("#by-month svg")
    assert chart.get_attribute("aria-label") == "Incidents per month, last 6 months"
    assert chart.bounding_box()["width"] > 600
    assert page.locator("#shared tbody tr").count() == 1
    assert "Card outage at a Danish bank" in page.inner_text("#shared")
    screenshot(page, "incident-sector")
