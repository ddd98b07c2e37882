"""Baseline pages: the overview, the catalogue browser and its filters, a member's self-assessment form (saved,
refused with its problems by the fields and nothing stored, submitted), CERT staff's progress page, reopening and
closing, the catalogue editor (draft, control form, publish, diff, import); and in Chromium a member filling and
submitting the form while staff watch the progress move."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.baseline import answers, campaigns
from nordcert.baseline.catalogue import load_shipped
from nordcert.clock import now
from nordcert.db import transaction
from tests.baseline.conftest import World, call, full_answers, row_counts
from tests.factories import Member, make_member
from tests.web.conftest import PASSWORD, csrf_of, log_in, screenshot


@pytest.fixture
def forum(engine: Engine) -> World:
    admin = make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert")
    alpha = make_member(engine, name="Alpha Bank", role="risk_officer")
    w = World(
        admin=admin, cert_analyst=make_member(engine, org=admin.org_name, role="analyst"), alpha=alpha,
        alpha_analyst=make_member(engine, org=alpha.org_name, role="analyst"),
        alpha_reader=make_member(engine, org=alpha.org_name, role="reader"),
        boreal=make_member(engine, name="Boreal Bank", role="analyst", country="NO"),
        payco=make_member(engine, name="Payco Payments", role="risk_officer", sector_type="payment_system"),
        fsa=make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
    )
    with transaction(engine) as conn:
        for m in (w.admin, w.alpha, w.alpha_analyst, w.alpha_reader, w.boreal, w.payco, w.fsa):
            credentials.set_password(conn, m.email, PASSWORD)
    return w


def _campaign(engine: Engine, w: World, name: str = "Baseline 2026") -> int:
    return int(call(engine, campaigns.open_campaign, reader=w.admin.reader, name=name, catalogue_version="2026.1",
                    closes_at=now() + timedelta(days=30))["id"])


def _as(http: httpx.Client, m: Member) -> httpx.Client:
    assert log_in(http, m.email).status_code == 303
    return http


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _form(page: str, csrf: str, answers_: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    """The self-assessment form's fields: ``{control id: (maturity, evidence, comment)}``."""
    data = {"csrf": csrf}
    for cid, (m, e, c) in answers_.items():
        data.update({f"m.{cid}": m, f"e.{cid}": e, f"c.{cid}": c})
    return data


# --- the overview and the catalogue ----------------------------------------------------------------------


def test_the_overview_and_the_catalogue_browser(http: httpx.Client, engine: Engine, forum: World) -> None:
    cid = _campaign(engine, forum)
    page = _as(http, forum.alpha_reader).get("/baseline")
    assert page.status_code == 200 and 'href="/baseline" aria-current="page"' in page.text
    assert f'href="/baseline/campaigns/{cid}"' in page.text and "Baseline 2026" in page.text
    assert "Open a campaign" not in page.text  # staff's form
    shipped = load_shipped()

    full = http.get("/baseline/catalogue/2026.1").text
    assert "50 of 50 controls" in _text(full)
    for c in shipped.controls:
        assert f'id="control-{c.id}"' in full
    assert "A restore of the core banking database" in _text(full)
    assert all(f"<strong>{m.name}</strong>" in full for m in shipped.scale)

    recovery = http.get("/baseline/catalogue/2026.1", params={"domain": "recovery"}).text
    shown = set(re.findall(r'id="control-([A-Z]+-\d+)"', recovery))
    assert shown == {c.id for c in shipped.controls_in("recovery")}
    advanced = http.get("/baseline/catalogue/2026.1", params={"priority": "advanced"}).text
    assert set(re.findall(r'id="control-([A-Z]+-\d+)"', advanced)) == {
        c.id for c in shipped.controls if c.priority == "advanced"}
    backups = http.get("/baseline/catalogue/2026.1", params={"framework": "nis2", "ref": "Art 21(2)(c)"}).text
    expected = {c.id for c in shipped.controls if "Art 21(2)(c)" in c.nis2}
    assert set(re.findall(r'id="control-([A-Z]+-\d+)"', backups)) == expected and len(expected) > 5
    assert '<span class="bl-ref hit">Art 21(2)(c)</span>' in backups
    dora12 = http.get("/baseline/catalogue/2026.1", params={"framework": "dora", "ref": "Art 12"}).text
    assert set(re.findall(r'id="control-([A-Z]+-\d+)"', dora12)) == {
        c.id for c in shipped.controls if any(r == "Art 12" or r.startswith("Art 12(") for r in c.dora)}
    assert "No control matches" in http.get("/baseline/catalogue/2026.1", params={"ref": "Art 99"}).text

    exported = http.get("/baseline/catalogue/2026.1/export.json")
    assert exported.status_code == 200 and json.loads(exported.content)["version"] == "2026.1"
    assert http.get("/baseline/catalogue/2099.1").status_code == 404


# --- a member's form ------------------------------------------------------------------------------------------


def test_a_member_saves_is_refused_field_by_field_and_submits(http: httpx.Client, engine: Engine,
                                                                forum: World) -> None:
    cid = _campaign(engine, forum)
    ids = load_shipped().control_ids
    _as(http, forum.alpha)
    page = http.get(f"/baseline/campaigns/{cid}").text
    assert "0 of 50 controls answered" in _text(page) and 'name="m.GOV-01"' in page
    assert page.count('class="pill warn bl-open"') == 50  # every control marked as not answered
    r = http.post(f"/baseline/campaigns/{cid}/answers", data={**_form(page, csrf_of(page), {
        ids[0]: ("3", "Board minutes 2026-03", ""), ids[1]: ("na", "", "We have no management body of our own")}),
        "action": "save"})
    assert r.status_code == 303
    page = http.get(f"/baseline/campaigns/{cid}").text
    assert "2 of 50 controls answered" in _text(page) and "Draft saved." in page
    assert 'value="3" checked' in page and "Board minutes 2026-03" in page

    # refused: not applicable without a justification; the typed evidence comes back, nothing stored
    counts = row_counts(engine)
    r = http.post(f"/baseline/campaigns/{cid}/answers", data={**_form(page, csrf_of(page), {
        ids[0]: ("4", "Board minutes 2026-06", ""), ids[2]: ("na", "typed but refused", "")}), "action": "save"})
    assert r.status_code == 422
    assert re.search(rf'<textarea id="c-{ids[2]}"[^>]*aria-invalid="true"', r.text)
    assert f'id="c-{ids[2]}-error1">say in the comment why the control does not apply' in r.text
    assert "typed but refused" in r.text and "Board minutes 2026-06" in r.text
    assert "1 answer needs attention" in r.text
    assert f'href="#control-{ids[2]}"' in r.text and "Nothing was stored" in r.text
    assert row_counts(engine) == counts

    # submit with controls open: each named, nothing stored
    r = http.post(f"/baseline/campaigns/{cid}/answers", data={**_form(page, csrf_of(page), {
        ids[2]: ("2", "", "")}), "action": "submit"})
    assert r.status_code == 422 and "Not submitted" in r.text and "47 of 50 controls are not answered" in r.text
    assert re.search(rf'<fieldset class="bl-levels" id="m-{ids[3]}" aria-invalid="true"', r.text)
    assert row_counts(engine) == counts

    everything = {c: ("3", f"evidence {c}", "") for c in ids}
    everything[ids[1]] = ("na", "", "We have no management body of our own")
    r = http.post(f"/baseline/campaigns/{cid}/answers", data={**_form(page, csrf_of(page), everything),
                                                              "action": "submit"})
    assert r.status_code == 303
    page = http.get(f"/baseline/campaigns/{cid}").text
    assert "50 of 50 controls answered" in _text(page) and 'name="m.GOV-01"' not in page
    assert "submitted" in _text(page) and forum.alpha.email in page
    # a second submission, or a save, is a conflict now
    r = http.post(f"/baseline/campaigns/{cid}/answers", data={**_form(page, csrf_of(page), {ids[0]: ("1", "", "")}),
                                                              "action": "save"})
    assert r.status_code == 409 and "ask CERT staff to reopen" in r.text

    # a reader of the same member reads, never writes; another member sees its own, empty response
    reader_page = _as(http, forum.alpha_reader).get(f"/baseline/campaigns/{cid}").text
    assert 'name="m.GOV-01"' not in reader_page and "evidence GOV-01" in reader_page
    boreal_page = _as(http, forum.boreal).get(f"/baseline/campaigns/{cid}").text
    assert "evidence GOV-01" not in boreal_page and "Alpha Bank" not in boreal_page
    assert http.get(f"/baseline/campaigns/{cid}/responses/{forum.alpha.org_id}").status_code == 404
    assert http.get(f"/baseline/campaigns/{cid}/progress").status_code == 403


def test_staff_follow_progress_reopen_and_close(http: httpx.Client, engine: Engine, forum: World) -> None:
    cid = _campaign(engine, forum)
    call(engine, answers.submit, reader=forum.alpha.reader, campaign_id=cid, answers=full_answers(3))
    call(engine, answers.save_draft, reader=forum.boreal.reader, campaign_id=cid, answers=full_answers(2)[:10])
    _as(http, forum.admin)
    page = http.get(f"/baseline/campaigns/{cid}/progress").text
    assert re.search(r'id="count-submitted">1<', page) and re.search(r'id="count-draft">1<', page)
    assert re.search(r'id="count-not_started">1<', page) and "<svg" in page
    rows = re.findall(r'<tr id="member-(\d+)" class="bl-row-(\w+)">', page)
    assert rows == [(str(forum.payco.org_id), "not_started"), (str(forum.boreal.org_id), "draft"),
                    (str(forum.alpha.org_id), "submitted")]
    assert "10/50" in page and "50/50" in page
    assert "Financial Supervisory Authority" not in page and "Nordic Financial CERT" not in page.split('id="members"')[1]

    answers_page = http.get(f"/baseline/campaigns/{cid}/responses/{forum.alpha.org_id}").text
    assert "evidence for GOV-01" in answers_page
    r = http.post(f"/baseline/campaigns/{cid}/responses/{forum.alpha.org_id}/reopen", data={"csrf": csrf_of(page)})
    assert r.status_code == 303
    page = http.get(f"/baseline/campaigns/{cid}/progress").text
    assert "Alpha Bank’s response is a draft again" in page
    assert re.search(rf'<tr id="member-{forum.alpha.org_id}" class="bl-row-draft">', page)
    r = http.post(f"/baseline/campaigns/{cid}/close", data={"csrf": csrf_of(page)})
    assert r.status_code == 303
    page = http.get(f"/baseline/campaigns/{cid}/progress").text
    assert "Campaign closed" in page and 'id="close-campaign"' not in page and "Reopen</button>" not in page
    # a member's form is read-only now
    member_page = _as(http, forum.alpha).get(f"/baseline/campaigns/{cid}").text
    assert 'name="m.GOV-01"' not in member_page and "The campaign is closed" in member_page


def test_staff_open_a_campaign_by_form(http: httpx.Client, engine: Engine, forum: World) -> None:
    _as(http, forum.admin)
    page = http.get("/baseline").text
    counts = row_counts(engine)
    r = http.post("/baseline/campaigns", data={"csrf": csrf_of(page), "name": "", "catalogue_version": "2026.1",
                                               "deadline": "2020-01-01", "description": ""})
    assert r.status_code == 422
    assert re.search(r'<input id="o-name"[^>]*aria-invalid="true"', r.text)
    assert 'id="o-deadline-error1">the deadline must be in the future' in r.text
    assert row_counts(engine) == counts
    r = http.post("/baseline/campaigns", data={"csrf": csrf_of(page), "name": "Baseline 2030",
                                               "catalogue_version": "2026.1", "deadline": "2030-03-31"})
    assert r.status_code == 303
    progress = http.get(r.headers["location"]).text
    assert "Baseline 2030" in progress and "2030-03-31 23:59 UTC" in progress


# --- the editor ----------------------------------------------------------------------------------------------


def test_the_catalogue_editor(http: httpx.Client, engine: Engine, forum: World) -> None:
    assert _as(http, forum.alpha).get("/baseline/versions").status_code == 403
    _as(http, forum.admin)
    page = http.get("/baseline/versions").text
    r = http.post("/baseline/versions", data={"csrf": csrf_of(page), "base_version": "2026.1", "version": "2026.1"})
    assert r.status_code == 409 and 'id="n-version-error1">2026.1 is taken' in r.text
    r = http.post("/baseline/versions", data={"csrf": csrf_of(page), "base_version": "2026.1", "version": "2026.2",
                                              "title": "Baseline 2026.2"})
    assert r.status_code == 303 and r.headers["location"] == "/baseline/versions/2026.2"

    form = http.get("/baseline/versions/2026.2/controls/DPB-05").text
    assert "A restore of the core banking database" in form and 'value="RC.RP" checked' in form
    data: dict[str, Any] = {"csrf": csrf_of(form), "domain": "data_protection_backups", "title": "Restore testing",
                            "objective": "Restores are tested.", "target": "4", "priority": "essential",
                            "dora": "Art 12(2), Art 52", "nis2": "Art 21(2)(c)", "csf": ["RC.RP", "PR.DS"],
                            "guidance": "Test restores.",
                            "criterion_text_0": "A restore of the core banking database is tested twice a year.",
                            "criterion_level_0": "3", "criterion_text_1": "", "criterion_level_1": "4",
                            "criterion_text_2": "Restore time measured against the RTO.", "criterion_level_2": "4"}
    counts = row_counts(engine)
    r = http.post("/baseline/versions/2026.2/controls/DPB-05", data=data)
    assert r.status_code == 422
    assert 'id="k-dora-error1">&#39;Art 52&#39;: DORA articles 5 to 30 and 45' in r.text
    assert re.search(r'<textarea id="k-crit-1"[^>]*aria-invalid="true"', r.text)  # the row with a level, no text
    assert "Restore time measured against the RTO." in r.text
    assert row_counts(engine) == counts
    data.update({"dora": "Art 12(2), Art 12(6)", "criterion_level_1": ""})
    assert http.post("/baseline/versions/2026.2/controls/DPB-05", data=data).status_code == 303
    new = {**data, "id": "GOV-07", "domain": "governance", "title": "Cyber insurance", "target": "3",
           "criterion_text_0": "Cover and exclusions are reviewed yearly.", "criterion_level_0": "3",
           "criterion_text_2": "", "criterion_level_2": "", "dora": "", "nis2": "", "csf": ["GV.RM"]}
    assert http.post("/baseline/versions/2026.2/controls", data=new).status_code == 303
    editor = http.get("/baseline/versions/2026.2").text
    assert 'id="control-GOV-07"' in editor
    assert http.post("/baseline/versions/2026.2/controls/TPR-06/remove", data={"csrf": csrf_of(editor)}
                     ).status_code == 303

    diff = http.get("/baseline/diff", params={"from_version": "2026.1", "to_version": "2026.2"}).text
    assert 'id="added-GOV-07"' in diff and 'id="removed-TPR-06"' in diff and 'id="changed-DPB-05"' in diff
    assert "− Art 11(6)" in _text(diff) and "Restore time measured against the RTO." in diff
    assert "Baseline 2026.2" in _text(diff)

    r = http.post("/baseline/versions/2026.2/publish", data={"csrf": csrf_of(editor)})
    assert r.status_code == 303 and r.headers["location"] == "/baseline/catalogue/2026.2"
    r = http.post("/baseline/versions/2026.2/controls/DPB-05", data=data)
    assert r.status_code == 409 and "published and never changes" in r.text

    # import: a bad file is named and stores nothing; a good one becomes a draft
    shipped = json.loads(http.get("/baseline/catalogue/2026.1/export.json").content)
    bad = {**shipped, "version": "2027.1", "controls": [{**shipped["controls"][0], "csf": ["PR.AC"]}]}
    counts = row_counts(engine)
    r = http.post("/baseline/versions/import", data={"csrf": csrf_of(editor)},
                  files={"file": ("bad.json", json.dumps(bad).encode(), "application/json")})
    assert r.status_code == 422 and "<code>controls[0].csf[0]</code>" in r.text and "PR.AC" in r.text
    r = http.post("/baseline/versions/import", data={"csrf": csrf_of(editor)},
                  files={"file": ("bad.json", b"{not json", "application/json")})
    assert r.status_code == 422 and "not JSON" in r.text
    assert row_counts(engine) == counts
    r = http.post("/baseline/versions/import", data={"csrf": csrf_of(editor)},
                  files={"file": ("good.json", json.dumps({**shipped, "version": "2027.1"}).encode(),
                                  "application/json")})
    assert r.status_code == 303 and r.headers["location"] == "/baseline/versions/2027.1"


# --- in the browser ------------------------------------------------------------------------------------------


def test_a_member_fills_and_submits_the_form_while_staff_watch(browser_page: Any, chromium: Any, base_url: str,
                                                               engine: Engine, forum: World) -> None:
    cid = _campaign(engine, forum)
    ids = load_shipped().control_ids
    page = browser_page
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/login")
    page.fill("#email", forum.alpha.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Baseline")
    page.click(f"#campaign-{cid} >> text=Answer")
    assert page.locator("#answered-progress").get_attribute("value") == "0"

    # a first part, and a refused save: not applicable without a justification
    for cid_ in ids[:5]:
        page.check(f'input[name="m.{cid_}"][value="3"]')
    page.fill(f"#e-{ids[0]}", "Board minutes of March")
    page.check(f'input[name="m.{ids[5]}"][value="na"]')
    page.click("#save-draft")
    assert page.locator("#form-problems").is_visible()
    error = page.locator(f"#c-{ids[5]}-error1")
    assert "say in the comment why" in error.inner_text()
    assert page.locator(f"#c-{ids[5]}").get_attribute("aria-invalid") == "true"
    assert page.locator(f"#control-{ids[5]}").get_attribute("class").split()[-1] == "has-error"
    assert page.locator(f"#e-{ids[0]}").input_value() == "Board minutes of March"  # kept
    screenshot(page, "baseline-form-refused")
    page.fill(f"#c-{ids[5]}", "We run no own data centre")
    page.click("#save-draft")
    assert "Draft saved." in page.locator(".flash").inner_text()
    assert page.locator("#answered-progress").get_attribute("value") == "6"

    # staff see the draft
    staff = chromium.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    other = staff.new_page()
    other.goto("/login")
    other.fill("#email", forum.admin.email)
    other.fill("#password", PASSWORD)
    other.click("button[type=submit]")
    other.goto(f"/baseline/campaigns/{cid}/progress")
    assert other.locator("#count-draft").inner_text() == "1"
    assert "6/50" in other.locator(f"#member-{forum.alpha.org_id}").inner_text()

    # the rest, then submit
    for cid_ in ids[6:]:
        page.check(f'input[name="m.{cid_}"][value="2"]')
    screenshot(page, "baseline-form")
    page.click("#submit-response")
    assert "Response submitted" in page.locator(".flash").inner_text()
    assert page.locator("#answered-progress").get_attribute("value") == "50"
    assert page.locator('input[name="m.GOV-01"]').count() == 0

    other.reload()
    assert other.locator("#count-submitted").inner_text() == "1"
    assert other.locator("#count-draft").inner_text() == "0"
    assert "submitted" in other.locator(f"#member-{forum.alpha.org_id}").inner_text()
    assert other.locator("#states-chart svg").count() == 1
    screenshot(other, "baseline-progress")
    other.goto("/baseline/catalogue/2026.1?domain=data_protection_backups")
    assert other.locator(".bl-control").count() == 6
    screenshot(other, "baseline-catalogue")
    staff.close()
