"""Incident pages: a member's risk officer records a major incident through the form, sees why it is major
and the countdown to its reports, submits them with errors shown by field; other members never see it,
CERT staff see it in their list; the reports print in the template's structure. Over HTTP and in Chromium."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, func, select

from nordcert.accounts import credentials
from nordcert.db import transaction
from nordcert.incidents.tables import incident_reports, incidents
from nordcert.web.incident_pages import countdown, span
from tests.factories import Member, make_member
from tests.web.conftest import PASSWORD, World, csrf_of, log_in, screenshot

LEI = "529900NORDCERTTEST79"
CPH = ZoneInfo("Europe/Copenhagen")


def _member(engine: Engine, world: World, role: str) -> Member:
    member = make_member(engine, org=world.alpha.org_name, role=role)
    with transaction(engine) as conn:
        credentials.set_password(conn, member.email, PASSWORD)
    return member


def _local(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).astimezone(CPH).strftime("%Y-%m-%dT%H:%M")


def _record(http: httpx.Client, reference: str, *, hours_ago: float, **extra: str) -> httpx.Response:
    csrf = csrf_of(http.get("/incidents/new").text)
    return http.post("/incidents/new", data={
        "csrf": csrf, "reference": reference, "title": "Card payments unavailable",
        "description": "Card authorisations failed for most clients.", "detected_at": _local(hours_ago),
        "timezone": "Europe/Copenhagen", "facts.affects_critical_or_important_functions": "1",
        "facts.clients_affected": "40000", "facts.clients_total": "250000", "facts.duration_minutes": "1560",
        "facts.downtime_minutes": "300", **extra})


def _initial(**extra: Any) -> dict[str, Any]:
    return {"report_currency": "DKK", "entity_lei": LEI, "entity_types": ["credit_institution"],
            "primary_contact.name": "Ida Risk", "primary_contact.email": "ida@alphabank.example",
            "primary_contact.phone": "+45 33 12 34 56", "discovery": "monitoring_systems",
            "business_continuity_activated": "yes", **extra}


def _id(response: httpx.Response) -> int:
    found = re.search(r"/incidents/(\d+)$", response.headers["location"])
    assert found, response.headers.get("location")
    return int(found.group(1))


def _box(html: str, name: str) -> str:
    """The markup of one input with its label, hint and errors."""
    start = html.index(f'id="f-{name}-box"')
    return html[start:html.index('<div class="field-box', start + 1)]


def _reports(engine: Engine) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(incident_reports)).scalar_one())


def test_countdowns_read_to_the_minute() -> None:
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert span(3 * 3600 + 12 * 60 + 30) == "3 h 12 min" and span(2 * 3600) == "2 h" and span(59) == "0 min"
    assert span(71 * 3600 + 60) == "71 h 1 min" and span(30 * 86400 + 3 * 3600) == "30 d 3 h"
    soon = countdown((now + timedelta(minutes=42)).isoformat(), now)
    assert soon == {"text": "due in 42 min", "overdue": False, "soon": True}
    late = countdown("2026-11-20T07:00:00Z", now)
    assert late == {"text": "overdue by 2 h", "overdue": True, "soon": False}


def test_a_risk_officer_records_a_major_incident_and_submits_the_initial_notification(
        http: httpx.Client, world: World, engine: Engine) -> None:
    officer = _member(engine, world, "risk_officer")
    log_in(http, officer.email)
    listing = http.get("/incidents")
    assert listing.status_code == 200 and 'href="/incidents/new"' in listing.text
    assert "No incidents recorded by your organisation" in listing.text

    created = _record(http, "ALPHA-2026-0042", hours_ago=2)
    assert created.status_code == 303, created.text
    iid = _id(created)
    page = http.get(f"/incidents/{iid}")
    assert page.status_code == 200
    html = page.text
    assert "recorded and classified major" in html
    assert '<span class="badge major">major</span>' in html
    assert "Art 8(1)(b)" in html  # the rule that applied
    clients = html[html.index('id="criterion-clients_financial'):]
    assert 'class="met"' in html[html.index('id="criterion-clients_financial') - 20:][:40]
    assert "40 000 of 250 000 clients affected = 16 %" in clients
    geo = html[html.index('id="criterion-geographical_spread') - 20:]
    assert geo.startswith('<li class="not-met"') or 'class="not-met"' in geo[:40]
    assert "impact in 0 Member States, fewer than 2" in geo
    # Classified now, detected 2 h ago: the initial notification is due 4 h after classification.
    assert re.search(r'<span class="countdown">due in (3 h \d+ min|4 h)</span>', html)
    initial = html[html.index('id="deadline-initial_notification"'):html.index('id="deadline-intermediate_report"')]
    assert " UTC</dd>" in initial and re.search(r"(CET|CEST)</dd>", initial)
    assert "due 72 h after the initial notification" in html.lower() or "72 h after the initial notification" in html
    assert 'id="overdue-banner"' not in html

    # The initial notification without "how it was discovered": the error sits by that field, nothing stored.
    csrf = csrf_of(html)
    missing = http.post(f"/incidents/{iid}/reports/initial_notification",
                        data={"csrf": csrf, **_initial(discovery="")})
    assert missing.status_code == 422
    box = _box(missing.text, "discovery")
    assert 'class="field-error"' in box and "Field required" in box and 'aria-invalid="true"' in box
    assert 'class="field-error"' not in _box(missing.text, "report_currency")
    assert 'value="Ida Risk"' in missing.text  # what was typed stays
    assert _reports(engine) == 0

    bad_lei = http.post(f"/incidents/{iid}/reports/initial_notification",
                        data={"csrf": csrf, **_initial(entity_lei="529900NORDCERTTEST78")})
    assert bad_lei.status_code == 422 and "check digits" in _box(bad_lei.text, "entity_lei")
    assert _reports(engine) == 0

    done = http.post(f"/incidents/{iid}/reports/initial_notification", data={"csrf": csrf, **_initial()})
    assert done.status_code == 303, done.text
    after = http.get(f"/incidents/{iid}").text
    assert "Initial notification submitted. The intermediate report is due by" in after
    assert _reports(engine) == 1
    assert 'id="deadline-initial_notification"' in after and "submitted in time" in after
    assert re.search(r'<span class="countdown">due in (71 h \d+ min|72 h)</span>', after)
    # The next form is the intermediate report's, with the common fields carried over.
    assert "Submit the intermediate report" in after and f'value="{LEI}"' in after
    assert 'id="f-critical_services_description-box"' in after

    # The print page holds the template's fields; the JSON export is the template's document.
    printed = http.get(f"/incidents/{iid}/print")
    assert printed.status_code == 200
    text = printed.text
    for number, label, value in (("1.1", "Type of submission", "initial notification"),
                                 ("1.15", "Currency of the amounts reported", "DKK"),
                                 ("2.1", "The entity&#39;s incident reference code", "ALPHA-2026-0042"),
                                 ("2.7", "How the incident was discovered", "monitoring systems"),
                                 ("2.9", "Business continuity plan activated", "Yes"),
                                 ("1.7", "Primary contact: name", "Ida Risk")):
        assert re.search(rf'<td class="its">{re.escape(number)}</td><th scope="row">{re.escape(label)}'
                         rf'<span class="path">[^<]+</span></th><td class="value">{re.escape(value)}</td>', text), number
    assert "clients financial counterparts and transactions affected" in text
    assert '<nav class="screen-only"' in text and "/static/print.css" in text and 'class="top"' not in text
    exported = http.get(f"/incidents/{iid}/export.json")
    assert exported.status_code == 200
    assert exported.json()["incidentSubmission"] == "initial_notification"
    assert exported.json()["incident"]["financialEntityCode"] == "ALPHA-2026-0042"
    assert 'filename="ALPHA-2026-0042-initial_notification.json"' in exported.headers["content-disposition"]
    assert f'href="/incidents/{iid}/export.json?kind=initial_notification"' in after


def test_an_overdue_report_is_shown_in_red_in_the_list_and_the_banner(http: httpx.Client, world: World,
                                                                      engine: Engine) -> None:
    officer = _member(engine, world, "risk_officer")
    log_in(http, officer.email)
    # Detected 8 h ago and classified as major 7 h ago: the initial notification was due 3 h ago.
    late = _id(_record(http, "ALPHA-LATE", hours_ago=8, classified_at=_local(7)))
    _id(_record(http, "ALPHA-MINOR", hours_ago=1, **{"facts.affects_critical_or_important_functions": ""}))
    page = http.get(f"/incidents/{late}").text
    assert re.search(r'<p class="next-due overdue" id="next-due" role="alert">', page)
    assert re.search(r'<span class="countdown overdue">overdue by 3 h( 1 min)?</span>', page)
    assert "4 h after classification as major" in page
    banner = http.get("/").text
    assert 'id="overdue-banner"' in banner
    assert re.search(rf'<a href="/incidents/{late}">ALPHA-LATE</a> initial notification overdue by 3 h', banner)

    overdue = http.get("/incidents", params={"show": "overdue"}).text
    assert "ALPHA-LATE" in overdue and "ALPHA-MINOR" not in overdue
    assert 'class="overdue-row"' in overdue
    major = http.get("/incidents", params={"show": "major"}).text
    assert "ALPHA-LATE" in major and "ALPHA-MINOR" not in major
    everything = http.get("/incidents").text
    assert "ALPHA-MINOR" in everything and '<span class="badge minor">not major</span>' in everything
    minor = http.get(f"/incidents/{_id_of(engine, 'ALPHA-MINOR')}").text
    assert "Not major: no critical service is affected (Art 6)" in minor
    assert "Submit the" not in minor  # a minor incident is not reported

    # Another bank sees no banner and cannot tell the incident exists; the overdue state is in the store.
    log_in(http, world.boreal.email)
    assert 'id="overdue-banner"' not in http.get("/").text
    with transaction(engine, write=False) as conn:
        due = conn.execute(select(incidents.c.next_due_at).where(incidents.c.id == late)).scalar_one()
    assert due < datetime.now(UTC).timestamp() * 1e6


def _id_of(engine: Engine, reference: str) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(incidents.c.id).where(incidents.c.reference == reference)).scalar_one())


def test_other_members_never_see_it_and_cert_staff_see_it_with_the_organisation(
        http: httpx.Client, world: World, engine: Engine) -> None:
    log_in(http, world.alpha.email)  # an analyst records incidents too
    iid = _id(_record(http, "ALPHA-2026-0007", hours_ago=1))

    log_in(http, world.boreal.email)
    for path in (f"/incidents/{iid}", f"/incidents/{iid}/print", f"/incidents/{iid}/export.json",
                 "/incidents/987654"):
        assert http.get(path).status_code == 404, path
    refused = http.post(f"/incidents/{iid}/reports/initial_notification",
                        data={"csrf": csrf_of(http.get("/incidents").text), **_initial()})
    assert refused.status_code == 404
    assert "ALPHA-2026-0007" not in http.get("/incidents").text

    log_in(http, world.staff.email)
    listing = http.get("/incidents").text
    row = listing[listing.index(f'id="incident-{iid}"'):]
    assert "ALPHA-2026-0007" in row and "<td>Alpha Bank</td>" in row[:row.index("</tr>")]
    assert 'href="/incidents/new"' in listing  # CERT staff may record their own organisation's incidents
    assert "ALPHA-2026-0007" in http.get("/incidents", params={"organisation": "Alpha Bank"}).text
    assert "ALPHA-2026-0007" not in http.get("/incidents", params={"organisation": "Boreal Bank"}).text
    page = http.get(f"/incidents/{iid}")
    assert page.status_code == 200 and "Submit the" not in page.text  # staff read, the member reports
    assert _reports(engine) == 0


def test_a_reader_sees_the_incidents_but_no_forms(http: httpx.Client, world: World, engine: Engine) -> None:
    log_in(http, world.alpha.email)
    iid = _id(_record(http, "ALPHA-2026-0100", hours_ago=1))
    reader = _member(engine, world, "reader")
    log_in(http, reader.email)
    listing = http.get("/incidents").text
    assert "ALPHA-2026-0100" in listing and 'href="/incidents/new"' not in listing
    form = http.get("/incidents/new").text
    assert "reads your organisation's incidents but does not record them" in form
    assert 'id="incident-form"' not in form
    assert "Submit the" not in http.get(f"/incidents/{iid}").text
    refused = http.post("/incidents/new", data={"csrf": csrf_of(listing), "reference": "X", "title": "X",
                                                "description": "X", "detected_at": _local(1)})
    assert refused.status_code == 403


def test_the_new_incident_form_shows_each_problem_by_its_field(http: httpx.Client, world: World,
                                                               engine: Engine) -> None:
    log_in(http, world.alpha.email)
    page = http.get("/incidents/new").text
    assert 'value="Europe/Copenhagen" selected' in page  # the Member State's zone of a Danish bank
    for name in ("facts-clients_affected", "facts-member_states", "facts-costs_and_losses_eur", "detected_at"):
        assert f'id="f-{name}-box"' in page
    bad = _record(http, "", hours_ago=-3, **{"facts.member_states": "DK, XX", "facts.clients_affected": "many"})
    assert bad.status_code == 422
    assert "required, 1 to 100 characters" in _box(bad.text, "reference")
    assert "lies in the future" in _box(bad.text, "detected_at")
    problems = [_box(bad.text, n) for n in ("facts-member_states", "facts-clients_affected")]
    assert all('class="field-error"' in p for p in problems)
    assert 'value="DK, XX"' in bad.text
    with transaction(engine, write=False) as conn:
        assert conn.execute(select(func.count()).select_from(incidents)).scalar_one() == 0
    future = _record(http, "ALPHA-FUTURE", hours_ago=-3)
    assert future.status_code == 422 and "lies in the future" in _box(future.text, "detected_at")
    _record(http, "ALPHA-DUP", hours_ago=1)
    again = _record(http, "ALPHA-DUP", hours_ago=1)
    assert again.status_code == 409 and "ALPHA-DUP" in again.text and "already" in again.text


def test_a_risk_officer_walks_through_in_the_browser(browser_page: Any, world: World, engine: Engine) -> None:
    officer = _member(engine, world, "risk_officer")
    page = browser_page
    page.goto("/login")
    page.get_by_label("Email").fill(officer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    page.locator("header nav").get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Record an incident").click()
    page.locator("#f-reference").fill("ALPHA-2026-0042")
    page.locator("#f-title").fill("Card payments unavailable")
    page.locator("#f-description").fill("Card authorisations failed for most clients.")
    page.locator("#f-detected_at").fill(_local(2))
    page.get_by_label("Affects critical or important functions").check()
    page.locator("#f-facts-clients_affected").fill("40000")
    page.locator("#f-facts-clients_total").fill("250000")
    page.locator("#f-facts-duration_minutes").fill("1560")
    screenshot(page, "incident_new")
    page.get_by_role("button", name="Record and classify").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    assert page.locator(".badge.major").first.is_visible()
    assert page.locator("#next-due .countdown").inner_text().startswith("due in ")

    form = page.locator("#report")
    form.locator("#f-report_currency").select_option("DKK")
    form.locator("#f-entity_lei").fill(LEI)
    form.get_by_label("credit institution", exact=True).check()
    form.locator("#f-primary_contact-name").fill("Ida Risk")
    form.locator("#f-primary_contact-email").fill("ida@alphabank.example")
    form.locator("#f-primary_contact-phone").fill("+45 33 12 34 56")
    form.get_by_role("button", name="Submit the initial notification").click()
    page.wait_for_load_state()
    assert page.locator("#f-discovery-box .field-error").inner_text() == "Field required"
    page.locator("#report #f-discovery").select_option("monitoring_systems")
    page.locator("#report fieldset.yesno").first.get_by_label("yes").check()
    page.get_by_role("button", name="Submit the initial notification").click()
    page.wait_for_load_state()
    assert "Initial notification submitted" in page.locator(".flash").inner_text()
    assert page.locator("#deadline-initial_notification .state").inner_text() == "submitted in time"
    screenshot(page, "incident")
    page.locator("header nav").get_by_role("link", name="Incidents").click()
    row = page.locator("table.incidents tbody tr").first
    assert "ALPHA-2026-0042" in row.inner_text() and row.locator(".countdown").inner_text().startswith("due in 7")
    screenshot(page, "incidents")
    row.get_by_role("link", name="Card payments unavailable").click()
    page.get_by_role("link", name="print").first.click()
    page.wait_for_url(re.compile(r"/print\?kind=initial_notification$"))
    assert page.get_by_role("heading", name=re.compile("Initial notification: Card payments unavailable")).is_visible()
    page.emulate_media(media="print")
    assert not page.locator("nav.screen-only").is_visible()
    screenshot(page, "incident_print")


def test_the_intermediate_and_final_reports_go_through_their_forms(http: httpx.Client, world: World,
                                                                   engine: Engine) -> None:
    log_in(http, world.alpha.email)
    iid = _id(_record(http, "ALPHA-2026-0200", hours_ago=2))
    csrf = csrf_of(http.get(f"/incidents/{iid}").text)
    assert http.post(f"/incidents/{iid}/reports/initial_notification",
                     data={"csrf": csrf, **_initial()}).status_code == 303
    # The fields every report holds are left empty: they carry over from the initial notification.
    intermediate = {
        "occurred_at": _local(3), "figures_basis": ["estimates_for_clients_affected"],
        "duration_downtime_basis": "estimates", "critical_services_description": "Card payments were down.",
        "incident_types": ["system_failure"], "affected_functional_areas": "Payments.",
        "infrastructure_components_affected": "no", "impact_on_financial_interests": "no",
        "reporting_to_other_authorities": ["none"], "temporary_actions": "yes"}
    refused = http.post(f"/incidents/{iid}/reports/intermediate_report", data={"csrf": csrf, **intermediate})
    assert refused.status_code == 422  # temporary actions need their description (ITS 3.34)
    assert "required when temporary actions are taken" in _box(refused.text, "temporary_actions_description")
    done = http.post(f"/incidents/{iid}/reports/intermediate_report", data={
        "csrf": csrf, **intermediate, "temporary_actions_description": "Payments routed to the backup processor."})
    assert done.status_code == 303, done.text
    page = http.get(f"/incidents/{iid}").text
    assert "Submit the final report" in page and "?report=intermediate_report#report-form" in page
    assert re.search(r'<span class="countdown">due in (29|30|31) d', page)
    final = {"root_causes": ["system_failure_malfunction"],
             "root_causes_detailed": ["system_failure_hardware_capacity_and_performance"],
             "root_causes_additional": ["capacity_and_performance_management"],
             "root_cause_information": "A storage array ran out of capacity.", "resolution_summary": "Capacity added.",
             "root_cause_addressed_at": _local(0.5), "resolved_at": _local(0.5), "resolution_vs_planned": "As planned.",
             "gross_costs_and_losses": "85000", "financial_recoveries": "0"}
    assert http.post(f"/incidents/{iid}/reports/final_report", data={"csrf": csrf, **final}).status_code == 303
    closed = http.get(f"/incidents/{iid}").text
    assert "closed" in closed and "Submit the" not in closed and 'id="next-due"' not in closed
    printed = http.get(f"/incidents/{iid}/print", params={"kind": "final_report"}).text
    for number, value in (("3.2", " UTC ("), ("3.34", "Payments routed to the backup processor."),
                          ("4.13", "85 000"), ("4.1", "system failure malfunction"), ("1.7", "Ida Risk")):
        assert re.search(rf'<td class="its">{re.escape(number)}</td><th scope="row">[^<]+<span class="path">[^<]+'
                         rf'</span></th><td class="value">[^<]*{re.escape(value)}', printed), number
    assert "Incident (continued)" in printed
