"""Crisis pages: CERT staff declare a crisis through the form; members of three sector types report their
services through theirs; the situation picture counts them by type and colours each cell by the worst; a member
sees its own statuses and the aggregate, never another member's name; broadcasts, briefings and what changed
since, the close with its summary, lessons and follow-up actions; the banner on every page while it is open.
Over HTTP and in Chromium."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from nordcert.accounts import credentials
from nordcert.crisis import followup, service, status
from nordcert.crisis.tables import crises, crisis_status_reports
from nordcert.db import transaction
from nordcert.web import crisis_charts
from tests.factories import Member, make_member
from tests.web.conftest import PASSWORD, csrf_of, log_in, screenshot


@dataclass
class Forum:
    """Ingrid is CERT staff; Alpha a bank, Payco a payment system, Insura an insurer; the FSA an authority."""

    staff: Member
    alpha: Member  # risk officer
    payco: Member  # analyst
    insura: Member  # risk officer
    fsa: Member  # risk officer of the authority
    fsa_analyst: Member
    alpha_reader: Member


def _with_password(member: Member, engine: Engine) -> Member:
    with transaction(engine) as conn:
        credentials.set_password(conn, member.email, PASSWORD)
    return member


@pytest.fixture
def forum(engine: Engine) -> Forum:
    alpha = make_member(engine, name="Alpha Bank", role="risk_officer")
    fsa = make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority")
    members = Forum(
        staff=make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert"),
        alpha=alpha,
        payco=make_member(engine, name="Payco Clearing", role="analyst", sector_type="payment_system"),
        insura=make_member(engine, name="Insura Mutual", role="risk_officer", sector_type="insurer", country="SE"),
        fsa=fsa,
        fsa_analyst=make_member(engine, org=fsa.org_name, role="analyst"),
        alpha_reader=make_member(engine, org=alpha.org_name, role="reader"),
    )
    for m in vars(members).values():
        _with_password(m, engine)
    return members


def _declare(http: httpx.Client, **fields: str) -> httpx.Response:
    csrf = csrf_of(http.get("/crises").text)
    data = {"csrf": csrf, "title": "DDoS wave against card payments", "scope": "Card acquiring at several banks",
            "severity": "high", **fields}
    return http.post("/crises", data=data)


def _declared(http: httpx.Client, forum: Forum, **fields: str) -> int:
    log_in(http, forum.staff.email)
    response = _declare(http, **fields)
    assert response.status_code == 303, response.text
    found = re.search(r"/crises/(\d+)$", response.headers["location"])
    assert found
    return int(found.group(1))


def _post(http: httpx.Client, crisis_id: int, path: str, **data: str) -> httpx.Response:
    csrf = csrf_of(http.get(f"/crises/{crisis_id}").text)
    return http.post(f"/crises/{crisis_id}/{path}", data={"csrf": csrf, **data})


def _report(http: httpx.Client, crisis_id: int, **statuses: str | tuple[str, str]) -> httpx.Response:
    """Through the form as the page fills it in, with the given rows changed (a status, or status and comment)."""
    page = http.get(f"/crises/{crisis_id}").text
    data: dict[str, str] = {"csrf": csrf_of(page)}
    for s in service.SERVICES:
        chosen = re.search(rf'<select id="s-{s}"[\s\S]*?</select>', page)
        assert chosen, f"no row for {s}"
        selected = re.search(r'<option value="(\w+)" selected>', chosen.group(0))
        comment = re.search(rf'id="c-{s}" name="comment.{s}" value="([^"]*)"', page)
        data[f"status.{s}"] = selected.group(1) if selected else ""
        data[f"comment.{s}"] = comment.group(1) if comment else ""
    for s, given in statuses.items():
        data[f"status.{s}"], data[f"comment.{s}"] = (given, "") if isinstance(given, str) else given
    return http.post(f"/crises/{crisis_id}/status", data=data)


def _cells(html: str, service_id: str) -> list[tuple[str, str, list[str]]]:
    """One row of the matrix: (worst, title, text) per member type and then for all members."""
    row = re.search(rf'<tr id="service-{service_id}">([\s\S]*?)</tr>', html)
    assert row, f"no matrix row for {service_id}"
    return [(worst, title, re.sub(r"<[^>]+>", " ", text).split(";")[0].split())
            for worst, title, text in re.findall(r'<td class="cell st-(\w+)(?: all)?" title="([^"]*)">([\s\S]*?)</td>',
                                                 row.group(1))]


def _count(engine: Engine, table: Any) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start:html.index("</section>", start)]


def test_the_plot_stacks_down_under_degraded_per_bucket_with_utc_times() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert crisis_charts.bucket_minutes(start, start + timedelta(minutes=20)) == 5
    assert crisis_charts.bucket_minutes(start, start + timedelta(hours=6)) == 10
    assert crisis_charts.bucket_minutes(start, start + timedelta(hours=40)) == 60
    assert crisis_charts.bucket_minutes(start, start + timedelta(days=400)) == 1440
    line = {"bucket_minutes": 60, "members_total": 3, "times": ["2026-03-02T22:00:00Z", "2026-03-02T23:00:00Z",
                                                                "2026-03-03T00:00:00Z"],
            "total": {"degraded": [1, 2, 0], "down": [0, 1, 0]}}
    svg = str(crisis_charts.situation_over_time(line))
    assert svg.startswith('<svg class="chart crisis-chart"') and "per hour (UTC); 3 members" in svg
    assert ">Down</text>" in svg and ">Degraded</text>" in svg and ">time (UTC)</text>" in svg
    assert re.findall(r'<rect class="seg-(\w+)"[^>]*><title>([^<]+)</title>', svg) == [
        ("degraded", "02 Mar 22:00–23:00 UTC: 1 degraded"), ("down", "02 Mar 23:00–00:00 UTC: 1 down"),
        ("degraded", "02 Mar 23:00–00:00 UTC: 2 degraded")]
    assert ">22:00</text>" in svg and ">02 Mar</text>" in svg and ">03 Mar</text>" in svg  # the date where it changes
    assert [r["label"] for r in crisis_charts.rows(line)] == [
        "02 Mar 22:00–23:00 UTC", "02 Mar 23:00–00:00 UTC", "03 Mar 00:00–01:00 UTC"]
    assert "nothing yet" in crisis_charts.situation_over_time({**line, "times": []})


def test_staff_declare_a_crisis_through_the_form(http: httpx.Client, forum: Forum, engine: Engine) -> None:
    log_in(http, forum.alpha.email)
    listing = http.get("/crises")
    assert listing.status_code == 200 and 'action="/crises"' not in listing.text  # members do not declare
    assert "No crisis is open." in listing.text
    assert _declare(http).status_code == 403 and _count(engine, crises) == 0

    log_in(http, forum.staff.email)
    form = http.get("/crises").text
    assert 'id="declare"' in form and 'name="is_exercise"' in form
    refused = _declare(http, title="  ", severity="apocalyptic")
    assert refused.status_code == 422 and _count(engine, crises) == 0
    declare = _section(refused.text, "declare")
    assert 'aria-invalid="true"' in declare and "required, 1 to 300 characters" in declare
    assert "&#39;apocalyptic&#39; is not one of: low, medium, high, critical" in declare
    assert "Card acquiring at several banks" in declare  # what was typed stays

    created = _declare(http)
    assert created.status_code == 303
    page = http.get(created.headers["location"])
    assert page.status_code == 200
    assert "Crisis declared: every member was notified by a broadcast." in page.text
    assert "<h1 class=\"page\">DDoS wave against card payments</h1>" in page.text
    assert 'class="severity severity-high"' in page.text and "Card acquiring at several banks" in page.text
    assert "Crisis declared: DDoS wave against card payments (severity high)." in _section(page.text, "broadcasts")

    exercise = _declare(http, title="Spring exercise: ATM outage", severity="medium", is_exercise="1")
    assert exercise.status_code == 303
    open_ = _section(http.get("/crises").text, "open-crises")
    assert "DDoS wave against card payments" in open_
    assert re.search(r"Spring exercise: ATM outage</a> <span class=\"exercise\">EXERCISE</span>", open_)
    assert "EXERCISE. Crisis declared" in http.get(exercise.headers["location"]).text


def test_the_banner_shows_each_open_crisis_on_every_page_until_it_is_closed(
        http: httpx.Client, forum: Forum, engine: Engine) -> None:
    log_in(http, forum.payco.email)
    assert "crisis-banner" not in http.get("/").text
    crisis_id = _declared(http, forum)
    for who in (forum.payco, forum.fsa, forum.staff):
        log_in(http, who.email)
        for path in ("/", "/incidents", "/profile"):
            html = http.get(path).text
            assert f'id="crisis-banner-{crisis_id}"' in html, (who.email, path)
            assert f'<a href="/crises/{crisis_id}">DDoS wave against card payments</a>' in html
    assert 'href="/crises"' in http.get("/").text  # the navigation's link
    assert _post(http, crisis_id, "close", summary="Over.").status_code == 303
    log_in(http, forum.payco.email)
    assert "crisis-banner" not in http.get("/").text


def test_members_of_three_types_report_and_the_picture_counts_them(
        http: httpx.Client, forum: Forum, engine: Engine) -> None:
    crisis_id = _declared(http, forum)
    log_in(http, forum.alpha.email)
    page = http.get(f"/crises/{crisis_id}").text
    assert 'id="status-form"' in page and '<option value="">— no report</option>' in page
    # Nothing chosen is refused as a whole; a bad status is named in its row; nothing is stored either time.
    nothing = _report(http, crisis_id)
    assert nothing.status_code == 422 and "at least one item" in nothing.text
    bad = _report(http, crisis_id, payments="exploded", card_payments="down")
    assert bad.status_code == 422 and "Not stored" in bad.text
    row = bad.text[bad.text.index('id="own-payments"'):bad.text.index('id="own-card_payments"')]
    assert 'class="field-error"' in row and "&#39;exploded&#39; is not one of: operational, degraded, down" in row
    assert 'class="field-error"' not in bad.text[bad.text.index('id="own-card_payments"'):]
    assert _count(engine, crisis_status_reports) == 0

    everything_else: dict[str, str | tuple[str, str]] = {s: "operational" for s in service.SERVICES}
    sent = _report(http, crisis_id, **{**everything_else, "card_payments": ("down", "Acquiring offline since 09:10"),
                                       "payments": "degraded"})
    assert sent.status_code == 303 and _count(engine, crisis_status_reports) == 7
    log_in(http, forum.payco.email)
    assert _report(http, crisis_id, card_payments="degraded", payments="down").status_code == 303
    log_in(http, forum.insura.email)
    insured = {s: "operational" for s in service.SERVICES if s != "internal_it"}
    assert _report(http, crisis_id, **insured).status_code == 303
    assert _count(engine, crisis_status_reports) == 7 + 2 + 6

    log_in(http, forum.staff.email)
    html = http.get(f"/crises/{crisis_id}").text
    assert re.search(r'<th scope="col" id="type-bank">Bank <span class="muted">\(1\)</span></th>\s*'
                     r'<th scope="col" id="type-payment_system">Payment system[\s\S]*?id="type-insurer">Insurer', html)
    bank, payment_system, insurer, everyone = _cells(html, "card_payments")
    assert bank[0] == "down" and bank[2] == ["1", "down"]
    assert payment_system[0] == "degraded" and payment_system[2] == ["1", "degraded"]
    assert insurer[0] == "operational" and insurer[2] == ["1", "operational"]
    assert everyone[0] == "down"
    assert everyone[1] == "Card payments, all members: 1 operational, 1 degraded, 1 down, 0 not reported; worst: down"
    assert [c[0] for c in _cells(html, "payments")] == ["degraded", "down", "operational", "down"]
    internal = _cells(html, "internal_it")
    assert [c[0] for c in internal] == ["operational", "not_reported", "not_reported", "operational"]
    assert internal[3][2] == ["1", "operational", "2", "not", "reported"]
    assert internal[1][1] == "Internal IT, payment system: 0 operational, 0 degraded, 0 down, 1 not reported; worst: not reported"

    # CERT staff see each member's row, the comment on hover; no report form.
    members = _section(html, "members")
    assert [n for n in re.findall(r'<th scope="row">([^<]+)<div', members)] == [
        "Alpha Bank", "Insura Mutual", "Payco Clearing"]
    alpha = members[members.index(f'id="member-{forum.alpha.org_id}"'):]
    assert re.search(r'<td class="cell st-down commented" title="Card payments: down \(observed [\d-]+ [\d:]+ UTC\) — '
                     r'Acquiring offline since 09:10">down', alpha)
    assert 'id="status-form"' not in html

    # A member: its own statuses, prefilled for the next report, the aggregate, and no other member's name.
    log_in(http, forum.alpha.email)
    own = http.get(f"/crises/{crisis_id}").text
    mine = _section(own, "report")
    assert "Acquiring offline since 09:10" in mine
    assert re.search(r'<select id="s-card_payments"[\s\S]*?<option value="down" selected>', mine)
    assert 'id="c-card_payments" name="comment.card_payments" value="Acquiring offline since 09:10"' in mine
    assert [c[0] for c in _cells(own, "card_payments")] == ["down", "degraded", "operational", "down"]
    for other in ("Payco", "Insura", forum.payco.email, forum.insura.email):
        assert other not in own
    assert 'id="members"' not in own

    # A reader of the same member sees its statuses but reports nothing; an authority's risk officer follows
    # the picture, its analyst is told who does; a peer is told there is no such crisis.
    log_in(http, forum.alpha_reader.email)
    read_only = http.get(f"/crises/{crisis_id}").text
    assert "Acquiring offline since 09:10" in read_only and 'id="status-form"' not in read_only
    log_in(http, forum.fsa.email)
    watching = http.get(f"/crises/{crisis_id}").text
    assert 'id="picture"' in watching and 'id="report"' not in watching and "Alpha Bank" not in watching
    log_in(http, forum.fsa_analyst.email)
    refused = http.get(f"/crises/{crisis_id}").text
    assert "an authority&#39;s risk officers follow the situation picture" in refused and 'id="picture"' not in refused


def test_broadcasts_reach_members_and_changes_since_the_briefing_are_shown(
        http: httpx.Client, forum: Forum, engine: Engine) -> None:
    crisis_id = _declared(http, forum)
    empty = _post(http, crisis_id, "broadcasts", body=" ")
    assert empty.status_code == 422 and "required, 1 to 32767 characters" in _section(empty.text, "broadcasts")
    sent = _post(http, crisis_id, "broadcasts", body="Switch acquiring to the backup provider.")
    assert sent.status_code == 303
    assert "Broadcast sent to every member." in http.get(sent.headers["location"]).text

    log_in(http, forum.alpha.email)
    assert _report(http, crisis_id, card_payments="down", payments="degraded").status_code == 303
    log_in(http, forum.payco.email)
    html = http.get(f"/crises/{crisis_id}").text
    broadcasts = _section(html, "broadcasts")
    assert 'id="broadcast-form"' not in broadcasts
    assert broadcasts.index("Switch acquiring") < broadcasts.index("Crisis declared")  # newest first
    assert "No briefing yet: since the declaration." in _section(html, "changes")

    log_in(http, forum.staff.email)
    assert _post(http, crisis_id, "briefings", text="09:00 call: card payments down at one bank.").status_code == 303
    after = _section(http.get(f"/crises/{crisis_id}").text, "changes")
    assert "Since the briefing of" in after and "Nothing changed." in after

    log_in(http, forum.alpha.email)
    assert _report(http, crisis_id, card_payments=("operational", "Back via the backup")).status_code == 303
    log_in(http, forum.staff.email)
    changes = _section(http.get(f"/crises/{crisis_id}").text, "changes")
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>\s*<td><span class=\"st st-(\w+)\"[^>]*>[^<]+</span></td>"
                      r"\s*<td>→ <span class=\"st st-(\w+)\"", changes)
    assert rows == [("Alpha Bank", "Card payments", "down", "operational")]
    log_in(http, forum.payco.email)
    member_changes = _section(http.get(f"/crises/{crisis_id}").text, "changes")
    assert "Alpha Bank" not in member_changes
    card = re.search(r"<tr><td>Card payments</td>(.*?)</tr>", member_changes)
    assert card and re.findall(r"<td class=\"nowrap( moved)?\">([^<]+)</td>", card.group(1)) == [
        (" moved", "1 → 0"), ("", "0"), (" moved", "0 → 1"), ("", "2")]
    assert "<tr><td>Payments</td>" not in member_changes  # unchanged since the briefing


def test_closing_with_a_summary_refuses_further_reports(http: httpx.Client, forum: Forum, engine: Engine) -> None:
    crisis_id = _declared(http, forum)
    no_summary = _post(http, crisis_id, "close", summary="")
    assert no_summary.status_code == 422 and "required, 1 to 32767 characters" in _section(no_summary.text, "close")
    log_in(http, forum.alpha.email)
    assert 'id="status-form"' in http.get(f"/crises/{crisis_id}").text
    assert _post(http, crisis_id, "close", summary="Not mine to close.").status_code == 403
    log_in(http, forum.staff.email)
    closed = _post(http, crisis_id, "close", summary="Acquiring restored at every bank by 14:00.")
    assert closed.status_code == 303
    html = http.get(f"/crises/{crisis_id}").text
    assert "Crisis closed: every member was told by a broadcast." in html
    assert "Acquiring restored at every bank by 14:00." in _section(html, "summary")
    for form_id in ("broadcast-form", "briefing-form", "close-form"):
        assert f'id="{form_id}"' not in html
    assert 'id="lesson-form"' in html and 'id="action-form"' in html  # the follow-up goes on

    log_in(http, forum.alpha.email)
    html = http.get(f"/crises/{crisis_id}").text
    assert 'id="status-form"' not in html and "Acquiring restored" in html
    data = {"csrf": csrf_of(html), "status.payments": "down"}
    late = http.post(f"/crises/{crisis_id}/status", data=data)
    assert late.status_code == 409 and "is closed: it takes no more status reports" in late.text
    assert _count(engine, crisis_status_reports) == 0
    assert "crisis-banner" not in html


def test_lessons_become_actions_with_owners_and_the_overdue_one_is_marked(
        http: httpx.Client, forum: Forum, engine: Engine) -> None:
    crisis_id = _declared(http, forum)
    assert _post(http, crisis_id, "lessons", text="Backup acquiring was never tested under load.").status_code == 303
    page = http.get(f"/crises/{crisis_id}").text
    lesson_id = re.search(r'<option value="(\d+)">1\. Backup acquiring', page)
    assert lesson_id and f'<option value="{forum.payco.org_id}">Payco Clearing</option>' in page
    past = _post(http, crisis_id, "actions", title="Test backup acquiring", owner_organisation=str(forum.alpha.org_id),
                 due_on="2020-01-01")
    assert past.status_code == 422 and "lies in the past" in _section(past.text, "followup")
    assert 'id="a-title" name="title" maxlength="300" value="Test backup acquiring"' in past.text
    due = (date.today() + timedelta(days=30)).isoformat()
    added = _post(http, crisis_id, "actions", title="Test backup acquiring under load",
                  owner_organisation=str(forum.alpha.org_id), due_on=due, lesson_id=lesson_id.group(1))
    assert added.status_code == 303
    with transaction(engine) as conn:  # an action whose due date has passed since it was set
        late = followup.add_action(conn, forum.staff.reader, crisis_id, title="Update the DDoS runbook",
                                   owner_organisation=forum.alpha.org_id, due_on=date.today() - timedelta(days=3),
                                   today=date.today() - timedelta(days=20))
        followup.add_action(conn, forum.staff.reader, crisis_id, title="Review card fallback",
                            owner_organisation=forum.payco.org_id, due_on=date.today() + timedelta(days=10))

    html = http.get(f"/crises/{crisis_id}").text
    followups = _section(html, "followup")
    assert "Backup acquiring was never tested under load." in followups
    overdue = re.search(rf'<tr id="action-{late["id"]}" class="overdue-row">([\s\S]*?)</tr>', followups)
    assert overdue and 'class="nowrap overdue"' in overdue.group(1) and '<span class="pill danger">overdue</span>' in overdue.group(1)
    assert followups.count("overdue-row") == 1 and "from lesson 1" in followups and due in followups

    # The owner's risk officer sees its own actions only and marks one done; another member cannot.
    log_in(http, forum.alpha.email)
    mine = _section(http.get(f"/crises/{crisis_id}").text, "followup")
    assert "Update the DDoS runbook" in mine and "Review card fallback" not in mine and 'id="action-form"' not in mine
    assert "Backup acquiring was never tested" in mine  # lessons are for every member
    done = _post(http, crisis_id, f"actions/{late['id']}", status="done")
    assert done.status_code == 303
    after = http.get(f"/crises/{crisis_id}").text
    assert "Action marked done." in after
    marked = re.search(rf'<tr id="action-{late["id"]}">([\s\S]*?)</tr>', _section(after, "followup"))
    assert marked and "done" in marked.group(1) and ">Reopen</button>" in marked.group(1)  # no longer overdue
    log_in(http, forum.payco.email)
    assert _post(http, crisis_id, f"actions/{late['id']}", status="open").status_code == 404
    log_in(http, forum.alpha_reader.email)
    assert _post(http, crisis_id, f"actions/{late['id']}", status="open").status_code == 403


def test_forms_need_the_csrf_token_and_a_peer_sees_no_crisis(http: httpx.Client, forum: Forum, engine: Engine) -> None:
    crisis_id = _declared(http, forum)
    forged = http.post(f"/crises/{crisis_id}/broadcasts", data={"csrf": "x", "body": "Forged"})
    assert forged.status_code == 403 and "Forged" not in http.get(f"/crises/{crisis_id}").text
    peer = _with_password(make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert"), engine)
    log_in(http, peer.email)
    assert http.get(f"/crises/{crisis_id}").status_code == 404
    assert "DDoS wave" not in http.get("/crises").text


def test_a_crisis_walks_through_in_the_browser(browser_page: Any, forum: Forum, engine: Engine) -> None:
    """Six hours of a crisis behind us (reports over time), then a member reports and staff read the picture."""
    start = datetime.now(UTC) - timedelta(hours=6)
    with transaction(engine) as conn:
        found = service.declare_crisis(conn, forum.staff.reader, title="DDoS wave against card payments",
                                       scope="Card acquiring at several banks", severity="critical", now=start)
        for minutes, who, changes in ((20, forum.alpha, {"card_payments": "down", "payments": "degraded"}),
                                      (50, forum.payco, {"card_payments": "degraded", "payments": "down"}),
                                      (95, forum.insura, {"card_payments": "degraded"}),
                                      (150, forum.payco, {"payments": "degraded"}),
                                      (230, forum.alpha, {"payments": "operational"}),
                                      (290, forum.insura, {"card_payments": "operational"})):
            status.submit_status(conn, who.reader, found["id"], now=start + timedelta(minutes=minutes), statuses=[
                {"service": s, "status": v, "observed_at": start + timedelta(minutes=minutes)}
                for s, v in changes.items()])
    page = browser_page
    page.goto("/login")
    page.get_by_label("Email").fill(forum.alpha.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator(f"#crisis-banner-{found['id']}").get_by_role("link").click()
    page.locator("#s-card_payments").select_option("degraded")
    page.locator("#c-card_payments").fill("Half the terminals back")
    page.get_by_role("button", name="Report the status of these services").click()
    page.get_by_text("Status of 2 services reported.").wait_for()
    assert page.locator("#own-card_payments").get_by_text("Half the terminals back").is_visible()
    assert page.locator("#members").count() == 0
    screenshot(page, "crisis-member")

    page.locator("form[action='/logout'] button").click()
    page.goto("/login")
    page.get_by_label("Email").fill(forum.staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("header nav").get_by_role("link", name="Crises").click()
    page.locator("#open-crises").get_by_role("link", name="DDoS wave against card payments").click()
    page.locator("#m-body").fill("Switch acquiring to the backup provider; report again at 15:00 UTC.")
    page.get_by_role("button", name="Broadcast").click()
    page.get_by_text("Broadcast sent to every member.").wait_for()
    chart = page.locator("#over-time svg.crisis-chart")
    assert chart.is_visible() and chart.locator("rect.seg-down").count() >= 4
    assert chart.locator("text", has_text="time (UTC)").count() == 1
    assert page.locator("#service-card_payments td.cell").first.get_attribute("class") == "cell st-degraded"
    screenshot(page, "crisis")
    page.locator("header nav").get_by_role("link", name="Crises").click()
    screenshot(page, "crises")
