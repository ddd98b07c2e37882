"""End to end in headless Chromium: log in, search, open an object, submit, upload, correlate, log out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from tests.factories import indicator
from tests.web.conftest import PASSWORD, World, screenshot

DOMAIN = "alphabank-login-verify.example"


def _log_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login\?bye=1$"))
    assert "You are logged out" in page.content()


def _submit_domain(page: Any, group: str) -> str:
    page.goto("/submit")
    page.get_by_label("Value", exact=True).fill(DOMAIN)
    page.locator("#one-tlp").select_option("amber")
    page.locator("#one-group").select_option(group)
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(r"/objects/indicator--"))
    return page.url.rsplit("/", 1)[-1]


def test_a_member_logs_in_searches_submits_uploads_and_sees_a_correlation(
        browser_page: Any, world: World, engine: Engine, settings: Settings, tmp_path: Path) -> None:
    page = browser_page
    with transaction(engine) as conn:
        sub = submission_for(conn, world.boreal.reader, tlp="green")
        ingest(conn, [indicator("203.0.113.9", name="Phishing kit host 203.0.113.9")], sub, settings)

    # Not logged in: a member page sends to the log-in page and back.
    page.goto("/search?q=phishing")
    assert "/login" in page.url
    page.get_by_label("Email").fill(world.alpha.email)
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "login")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/search\?q=phishing$"))
    assert page.get_by_role("link", name="Phishing kit host 203.0.113.9").is_visible()
    screenshot(page, "search")

    page.goto("/")
    assert page.get_by_role("heading", name="New intel, last 24 hours").is_visible()
    assert page.locator("svg.chart").count() >= 3
    screenshot(page, "dashboard")

    page.get_by_label("Search objects and values").fill("phishing")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Phishing kit host 203.0.113.9").click()
    page.wait_for_url(re.compile(r"/objects/indicator--"))
    assert "TLP:GREEN" in page.locator(".objhead").inner_text()
    assert '"pattern_type": "stix"' in page.locator("#stix-json").inner_text()
    page.get_by_role("button", name="Record sighting").click()
    page.wait_for_url(re.compile(r"/objects/indicator--"))
    assert "Sighting recorded" in page.locator(".flash").inner_text()
    screenshot(page, "object")

    first = _submit_domain(page, world.group)
    assert "Submitted" in page.locator(".flash").inner_text()
    assert "TLP:AMBER" in page.locator(".objhead").inner_text()
    assert "DK banks" in page.locator(".objhead").inner_text()

    csv = tmp_path / "iocs.csv"
    csv.write_text("value,kind,name\nDK5000400440116243,iban,Mule account\n+4570123456,phone,Vishing number\n")
    page.goto("/submit")
    page.locator("#file").set_input_files(str(csv))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r"/upload$"))
    assert page.locator("#created").inner_text() == "2"
    screenshot(page, "import-report")
    _log_out(page)

    # Boreal reports the same domain: both see the correlation.
    _log_in(page, world.boreal.email)
    second = _submit_domain(page, world.group)
    assert second != first
    assert "Reported by 2 members" in page.locator("#correlation-summary").inner_text()
    screenshot(page, "correlation")
    _log_out(page)

    _log_in(page, world.alpha.email)
    page.goto(f"/objects/{first}")
    assert "Reported by 2 members" in page.locator("#correlation-summary").inner_text()
    _log_out(page)


def test_another_organisation_cannot_reach_an_amber_object_by_its_url(browser_page: Any, world: World) -> None:
    page = browser_page
    _log_in(page, world.alpha.email)
    amber = _submit_domain(page, world.group)
    _log_out(page)

    _log_in(page, world.carol.email)
    answer = page.goto(f"/objects/{amber}")
    assert answer is not None and answer.status == 404
    assert DOMAIN not in page.content()
    assert page.get_by_role("heading", name="Not found").is_visible()
    page.goto(f"/search?q={DOMAIN}")
    assert DOMAIN not in page.locator("table.list").all_inner_texts().__str__()
    screenshot(page, "not-found")

    page.context.clear_cookies()
    answer = page.goto(f"/objects/{amber}")
    assert answer is not None and answer.status == 404


def test_profile_tokens_are_created_shown_once_and_revoked(browser_page: Any, world: World, base_url: str) -> None:
    import httpx

    page = browser_page
    _log_in(page, world.alpha.email)
    page.goto("/profile")
    page.get_by_label("Label").fill("SIEM")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token-value").inner_text().strip()
    assert token.startswith("nct_")
    screenshot(page, "profile")
    me = httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == world.alpha.email

    page.goto("/profile")
    assert token not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#tokens tr", has_text="SIEM").get_by_role("button", name="Revoke").click()
    page.wait_for_url(re.compile(r"/profile$"))
    assert "revoked" in page.locator("#tokens tr", has_text="SIEM").inner_text()
    assert httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_public_advisories_and_admin_pages(browser_page: Any, world: World, engine: Engine,
                                           settings: Settings) -> None:
    page = browser_page
    report = {"type": "report", "spec_version": "2.1", "id": "report--8b9c3b1e-4a8f-4c8e-9d7b-2a1f0e3c4d5b",
              "created": "2026-11-20T08:00:00.000Z", "modified": "2026-11-20T08:00:00.000Z",
              "name": "Safe-account scam wave", "published": "2026-11-20T08:00:00Z", "report_types": ["campaign"],
              "description": "Callers posing as bank staff ask customers to move money to a safe account.",
              "object_refs": ["identity--a4c3b2f1-0e9d-4c8b-8a7f-6e5d4c3b2a19"]}
    with transaction(engine) as conn:
        ingest(conn, [report], submission_for(conn, world.staff.reader, tlp="clear"), settings)
    page.goto("/advisories")
    assert page.get_by_role("link", name="Safe-account scam wave").is_visible()
    screenshot(page, "advisories")
    feed = page.request.get("/advisories/feed.atom")
    assert feed.ok and "Safe-account scam wave" in feed.text()

    _log_in(page, world.staff.email)
    page.goto("/admin")
    assert page.get_by_role("heading", name=re.compile("Organisations")).is_visible()
    page.locator("#org-name").fill("Lille Sparekasse")
    page.locator("#org-short").fill("LILLE")
    page.locator("#org-country").fill("DK")
    page.get_by_role("button", name="Add organisation").click()
    page.wait_for_url(re.compile(r"/admin$"))
    assert "Organisation Lille Sparekasse added" in page.locator(".flash").inner_text()
    screenshot(page, "admin")
