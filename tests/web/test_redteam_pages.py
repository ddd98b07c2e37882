"""Red-team pages: a test's secrecy on every page (the member's users outside its control team get 404 and see
nothing of it in the list or the sector view), refused forms answering 422 or 409 with the problems by the fields
and nothing stored, and a test walked through in Chromium from its opening by CERT staff to its remediation, with
its timeline chart, findings' progress bars and the sector's findings chart."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from nordcert import clock
from nordcert.accounts import credentials
from nordcert.db import transaction
from nordcert.redteam import findings, remediation
from tests.factories import make_member
from tests.redteam.conftest import World, advance_to, call, counts, open_test
from tests.web.conftest import PASSWORD, csrf_of, log_in, screenshot


@pytest.fixture
def people(engine: Engine) -> World:
    """The people of tests/redteam, all with passwords."""
    lead = make_member(engine, name="Alpha Bank", role="analyst")
    fsa = make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority")
    w = World(
        admin=make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert"),
        fsa=fsa, fsa_analyst=make_member(engine, org=fsa.org_name, role="analyst"), lead=lead,
        ct_reader=make_member(engine, org=lead.org_name, role="reader"),
        alpha_ro=make_member(engine, org=lead.org_name, role="risk_officer"),
        alpha_soc=make_member(engine, org=lead.org_name, role="analyst"),
        boreal=make_member(engine, name="Boreal Bank", role="risk_officer", country="NO"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
    )
    with transaction(engine) as conn:
        for m in w.everyone().values():
            credentials.set_password(conn, m.email, PASSWORD)
    return w


def _today() -> Any:
    return clock.now().date()


def _test_with_finding(engine: Engine, w: World) -> tuple[int, int]:
    found = open_test(engine, w, name="Falcon", opened_on=_today() - timedelta(days=200), today=_today())
    advance_to(engine, w.lead, found["id"], "remediation_plan", start=_today() - timedelta(days=200),
               today=_today())
    f = call(engine, findings.add_finding, reader=w.lead.reader, engagement_id=found["id"],
             title="Kerberoasting gave domain admin", category="credential_compromise", severity="critical",
             flag="F1", root_cause="Weak service account passwords")
    call(engine, remediation.add_measure, reader=w.lead.reader, finding_id=f["id"], measure="Managed accounts",
         owner="IAM team", due_on=_today() - timedelta(days=1))
    return found["id"], f["id"]


def _post(http: httpx.Client, page: str, action: str, **data: Any) -> httpx.Response:
    return http.post(action, data={"csrf": csrf_of(http.get(page).text), **data})


def test_a_test_is_seen_on_the_pages_only_by_its_control_team_the_authority_and_staff(
        http: httpx.Client, engine: Engine, people: World) -> None:
    w = people
    eid, fid = _test_with_finding(engine, w)
    pages = [f"/redteam/{eid}", f"/redteam/{eid}/findings/{fid}"]
    for name, who in w.everyone().items():
        if name == "peer":
            continue
        log_in(http, who.email)
        listed = http.get("/redteam")
        assert listed.status_code == 200
        sees = name in ("admin", "fsa", "lead", "ct_reader")
        assert ("Falcon" in listed.text) == sees, name
        for path in pages:
            r = http.get(path)
            assert r.status_code == (200 if sees else 404), (name, path)
            if not sees:
                assert "Falcon" not in r.text and "Kerberoasting" not in r.text
        sector = http.get("/redteam/sector")
        assert sector.status_code == (403 if name == "fsa_analyst" else 200), name
        assert "Falcon" not in sector.text and "Kerberoasting" not in sector.text and "Alpha Bank" not in \
            sector.text.split("</header>")[1]
        assert ('id="own"' in sector.text) == (name in ("lead", "ct_reader")), name
    # Another test's id in a finding's address is not found either.
    other = open_test(engine, w, name="Other test")
    log_in(http, w.admin.email)
    assert http.get(f"/redteam/{other['id']}/findings/{fid}").status_code == 404
    # Forms of those who may not see the test answer 404 and change nothing.
    log_in(http, w.alpha_soc.email)
    token = csrf_of(http.get("/redteam").text)
    before = counts(engine)
    for action, data in ((f"/redteam/{eid}/edit", {"name": "X"}), (f"/redteam/{eid}/advance", {"to": "attestation"}),
                         (f"/redteam/{eid}/findings", {"title": "X"}), (f"/redteam/{eid}/delete", {})):
        assert http.post(action, data={"csrf": token, **data}).status_code == 404, action
    assert counts(engine) == before


def test_refused_forms_show_the_problems_by_the_fields(http: httpx.Client, engine: Engine, people: World) -> None:
    w = people
    log_in(http, w.admin.email)
    before = counts(engine)
    r = _post(http, "/redteam", "/redteam", organisation="", name="", framework="pentest", opened_on="2026-02-30")
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "Not stored:" in text and 'id="o-name" name="name"' in r.text and 'aria-invalid="true"' in r.text
    for problem in ("required: the member under test", "required, 1 to 200 characters", "'pentest' is not one of",
                    "'2026-02-30' is not a date"):
        assert problem in text, problem
    assert counts(engine) == before
    found = open_test(engine, w, name="Falcon")
    page = f"/redteam/{found['id']}"
    r = _post(http, page, f"{page}/edit", name="Falcon", framework="tiber_eu", functions="Payments\npayments",
              flags="F1 | Domain admin | maybe\nF 2 | Payment order", opened_on="2025-09-01")
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "line 2: 'payments' is given twice" in text
    assert "line 1: after the name, write “reached”, “not reached” or nothing" in text
    assert "line 2 (code): letters, digits" in text
    assert "Payments\npayments" in text  # what was typed comes back
    r = _post(http, page, f"{page}/advance", to="active_red_teaming", on=str(_today()))
    assert r.status_code == 409 and "the next phase is Targeted threat intelligence" in html.unescape(r.text)
    r = _post(http, page, f"{page}/roles", role="control_team_member", name="Eve", email="eve@example",
              user=w.boreal.email)
    assert r.status_code == 422 and "not an e-mail address" in html.unescape(r.text)
    assert counts(engine) == before | {"redteam_engagements": 1, "redteam_phase_dates": 1, "redteam_roles": 2}
    r = _post(http, page, f"{page}/roles", role="test_manager", name="Tina Manager", email="tina@fsa.example",
              company="Financial Supervisory Authority")
    assert r.status_code == 303 and counts(engine)["redteam_roles"] == 3


def _browser_log_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def _sector_of_five(engine: Engine, w: World) -> None:
    """Five more members with tests in remediation, so that the sector's view is shown."""
    for n in range(5):
        lead = make_member(engine, name=f"Sector Bank {n}", role="analyst")
        found = open_test(engine, w, org=lead, lead=lead, name=f"Sector test {n}",
                          opened_on=_today() - timedelta(days=300), today=_today())
        advance_to(engine, lead, found["id"], "remediation_plan", start=_today() - timedelta(days=300),
                   today=_today())
        for category, severity in (("initial_access_phishing", "high"), ("detection_gap", "medium"),
                                   ("lateral_movement", "critical" if n < 3 else "high")):
            call(engine, findings.add_finding, reader=lead.reader, engagement_id=found["id"], title="Secret",
                 category=category, severity=severity)


def test_a_test_walks_through_in_the_browser(browser_page: Any, engine: Engine, people: World) -> None:
    w = people
    page = browser_page
    errors: list[str] = []
    expected_404: list[str] = []  # the blue team's look at the test
    page.on("console", lambda message: errors.append(f"{message.text} {message.location.get('url')}")
            if message.type == "error" and not message.location.get("url", "").endswith(("/favicon.ico",
                                                                                         *expected_404)) else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    opened = _today() - timedelta(days=150)

    # CERT staff open a test for Alpha Bank and name its control team lead.
    _browser_log_in(page, w.admin.email)
    page.locator("header nav").get_by_role("link", name="Red team").click()
    page.wait_for_url(re.compile(r"/redteam$"))
    page.locator("#o-organisation").select_option(label="Alpha Bank")
    page.locator("#o-name").fill("TIBER-DK Falcon")
    page.locator("#o-framework").select_option("tiber_eu")
    page.locator("#o-tiber").fill("TIBER-DK")
    page.locator("#o-opened").fill(str(opened))
    page.get_by_role("button", name="Open the test").click()
    page.get_by_text("Test “TIBER-DK Falcon” opened").wait_for()
    eid = int(page.url.rsplit("/", 1)[1])
    page.locator("#r-role").select_option("control_team_lead")
    page.locator("#r-name").fill("Lena Lead")
    page.locator("#r-email").fill(w.lead.email)
    page.locator("#r-user").select_option(w.lead.email)
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_text("Lena Lead added to the test.").wait_for()
    page.goto("/redteam")
    screenshot(page, "redteam-list")
    page.locator("form[action='/logout'] button").click()

    # The bank's SOC analyst, outside the control team, never learns of it.
    _browser_log_in(page, w.alpha_soc.email)
    page.goto("/redteam")
    assert "Falcon" not in page.locator("main").inner_text()
    expected_404.append(f"/redteam/{eid}")
    assert page.goto(f"/redteam/{eid}").status == 404
    assert "Falcon" not in page.content()
    screenshot(page, "redteam-not-found-for-the-blue-team")
    page.goto("/")
    page.locator("form[action='/logout'] button").click()

    # The lead prepares the test and runs it.
    _browser_log_in(page, w.lead.email)
    page.goto("/redteam")
    page.get_by_role("link", name="TIBER-DK Falcon").click()
    page.locator("#scope summary").click()
    page.locator("#s-functions").fill("Payments\nOnline banking")
    page.locator("#s-systems").fill("Core banking")
    page.locator("#s-flags").fill("F1 | Domain admin in the payment zone\nF2 | Create a payment order")
    page.locator("#s-ti").fill("Nordic Threat Intel Ltd")
    page.locator("#s-rt").fill("Red Fox Security")
    page.locator("#s-rt-kind").select_option("external")
    page.locator("#scope-form").get_by_role("button", name="Save").click()
    page.get_by_text("Scope and providers saved.").wait_for()
    day = opened
    for _ in range(3):  # TTI, red team test plan, active red teaming
        day += timedelta(days=10)
        page.locator("#a-on").fill(str(day))
        page.get_by_role("button", name="Move to the next phase").click()
        page.get_by_text("The test moved to its next phase.").wait_for()
    page.locator("#d-phase").select_option("active_red_teaming")
    page.locator("#d-planned-start").fill(str(day))
    page.locator("#d-planned-end").fill(str(day + timedelta(weeks=12)))
    page.locator("#d-actual-start").fill(str(day))
    page.get_by_role("button", name="Save the dates").click()
    page.get_by_text("Dates saved").wait_for()
    page.locator("#a-on").fill(str(day + timedelta(weeks=12)))
    page.get_by_role("button", name="Move to the next phase").click()
    page.get_by_text("The test moved to its next phase.").wait_for()
    assert page.locator("#status").inner_text() == "Red team test report"
    assert page.locator("svg.redteam-timeline rect.actual").count() == 5
    assert page.locator("svg.redteam-timeline line.today").count() == 1
    # The red team report's deadline (4 weeks after the active phase) has passed: overdue, in red.
    assert page.locator("svg.redteam-timeline path.deadline-overdue").count() == 1
    assert page.locator("svg.redteam-timeline rect.running").get_attribute("fill") == "#d0312d"
    assert "Red team test report" in page.locator("#overdue").inner_text()
    page.locator("#findings summary").click()
    page.locator("#f-title").fill("Kerberoasting gave domain admin")
    page.locator("#f-category").select_option("credential_compromise")
    page.locator("#f-severity").select_option("critical")
    page.locator("#f-flag").select_option("F1")
    page.locator("#f-root-cause").fill("Weak service account passwords")
    page.get_by_role("button", name="Record the finding").click()
    page.get_by_text("Finding “Kerberoasting gave domain admin” recorded").wait_for()
    screenshot(page, "redteam-engagement")

    page.get_by_role("link", name="Kerberoasting gave domain admin").click()
    page.locator("#n-measure").fill("Managed service accounts")
    page.locator("#n-owner").fill("IAM team")
    page.locator("#n-priority").select_option("high")
    page.locator("#n-due").fill(str(_today() - timedelta(days=1)))
    page.get_by_role("button", name="Add the measure").click()
    page.get_by_text("Measure added.").wait_for()
    assert page.locator("article.measure .pill.danger").inner_text() == "overdue"
    form = page.locator("article.measure form")
    form.locator("select").select_option("in_progress")
    form.locator("textarea[name='note']").fill("Pilot in the payment zone done.")
    form.get_by_role("button", name="Update the measure").click()
    page.get_by_text("Measure updated.").wait_for()
    assert page.locator("ol.history li").count() == 2
    assert "Pilot in the payment zone done." in page.locator("ol.notes").inner_text()
    assert page.locator("#progress svg.progress-bar rect").count() >= 2
    screenshot(page, "redteam-finding")
    page.goto("/")
    page.locator("form[action='/logout'] button").click()

    # The sector's findings, from five members on, with the bar chart by category and severity.
    _sector_of_five(engine, w)
    _browser_log_in(page, w.boreal.email)
    page.goto("/redteam/sector")
    assert page.locator("#stat-members").inner_text() == "5"
    assert page.locator("svg.redteam-sector rect").count() >= 4
    # Critical from three members, high from two: both suppressed, the total of five members shown.
    cells = page.locator("#category-lateral_movement td").all_inner_texts()
    assert cells[:6] == ["–", "–", "0", "0", "5", "5"]
    assert page.locator("#category-initial_access_phishing td").all_inner_texts()[:6] == ["0", "5", "0", "0", "",
                                                                                           "5"]
    assert "Sector Bank" not in page.locator("main").inner_text()
    screenshot(page, "redteam-sector")
    assert errors == []
