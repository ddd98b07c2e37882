"""The demo's resilience work: members' ICT incidents under DORA, and a crisis exercise in progress.

All of it goes through the services, as members and CERT staff would do it, at times in the past
relative to the moment the demo is built, so the countdowns and the situation picture are live:

- Alpha Bank's major card-payment outage, detected 30 hours ago: initial notification sent, the
  intermediate report due; Nordpay's incident, major and overdue; Fjord Insurance's minor one.
- "Card payment DDoS wave" (an exercise) declared 6 hours ago: members' hourly status reports per
  critical service, a briefing, broadcasts, a lesson learned and follow-up actions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from nordcert.accounts import service as accounts
from nordcert.crisis import followup, picture, status
from nordcert.crisis import service as crisis
from nordcert.incidents import service as incidents

_CONTACT = {"name": "Mette Sørensen", "email": "soc@alphabank.example", "phone": "+45 33 12 34 56"}


def _common(currency: str, lei: str, contact: dict[str, str]) -> dict[str, Any]:
    return {"report_currency": currency, "entity_lei": lei, "entity_types": ["credit_institution"],
            "primary_contact": contact}


def build_incidents(conn: Connection, now: datetime) -> None:
    alpha = accounts.reader_for(conn, "soc@alphabank.example")
    out = incidents.record_incident(
        conn, alpha, reference="ALPHA-2026-017", title="Card authorisations failing",
        description="Card authorisations timed out for most debit card clients after a storage failure in the "
                    "authorisation platform; online banking degraded.",
        detected_at=now - timedelta(hours=30), now=now - timedelta(hours=29),
        facts={"affects_critical_or_important_functions": True, "affects_authorised_services": True,
               "clients_affected": 180_000, "clients_total": 900_000, "duration_minutes": 27 * 60,
               "downtime_minutes": 6 * 60, "member_states": ["DK"], "media_coverage": True},
    )
    incidents.submit_report(conn, alpha, out["id"], kind="initial_notification", now=now - timedelta(hours=27),
                            content={**_common("DKK", "529900NORDCERTTEST79", _CONTACT),
                                     "discovery": "monitoring_systems", "business_continuity_activated": True})
    nordpay = accounts.reader_for(conn, "ops@nordpay.example")
    incidents.record_incident(
        conn, nordpay, reference="NP-2026-004", title="Clearing batch delayed",
        description="The evening clearing batch ran seven hours late after a failed database fail-over.",
        detected_at=now - timedelta(hours=20), now=now - timedelta(hours=19),
        facts={"affects_critical_or_important_functions": True, "counterparts_affected": 14,
               "counterparts_total": 60, "duration_minutes": 25 * 60, "transactions_affected": 410_000,
               "transactions_daily_average": 1_200_000},
    )
    fjord = accounts.reader_for(conn, "risk@fjord.example")
    incidents.record_incident(
        conn, fjord, reference="FJ-2026-031", title="Customer portal slow",
        description="The customer portal answered slowly for two hours during a patch roll-out.",
        detected_at=now - timedelta(days=3), now=now - timedelta(days=3) + timedelta(hours=1),
        facts={"duration_minutes": 120, "clients_affected": 2_000, "clients_total": 400_000},
    )


#: (minutes after the declaration, member's user, {service: (status, comment)})
_REPORTS: list[tuple[int, str, dict[str, tuple[str, str]]]] = [
    (20, "ops@nordpay.example", {"card_payments": ("degraded", "Authorisation latency 4 s, 8 % time-outs"),
                                 "payments": ("operational", "")}),
    (35, "soc@alphabank.example", {"card_payments": ("down", "Acquiring front-end saturated"),
                                   "online_mobile_banking": ("degraded", "Log-in slow"),
                                   "payments": ("operational", ""), "cash_atm": ("operational", "")}),
    (50, "fraud@borealbank.example", {"card_payments": ("degraded", "Scrubbing engaged"),
                                      "online_mobile_banking": ("operational", "")}),
    (70, "soc@sjostad.example", {"card_payments": ("operational", "No impact seen"),
                                 "online_mobile_banking": ("operational", "")}),
    (95, "risk@fjord.example", {"customer_service": ("degraded", "Call volumes high"),
                                "internal_it": ("operational", "")}),
    (140, "soc@alphabank.example", {"card_payments": ("degraded", "Traffic rerouted, 30 % capacity"),
                                    "online_mobile_banking": ("degraded", "")}),
    (180, "ops@nordpay.example", {"card_payments": ("down", "Second wave on the switch"),
                                  "payments": ("degraded", "Instant payments queued")}),
    (240, "fraud@borealbank.example", {"card_payments": ("operational", "Recovered")}),
    (290, "soc@alphabank.example", {"card_payments": ("operational", "Recovered, monitoring"),
                                    "online_mobile_banking": ("operational", "")}),
    (320, "ops@nordpay.example", {"card_payments": ("degraded", "Recovering"), "payments": ("operational", "")}),
]


def build_crisis(conn: Connection, now: datetime) -> int:
    admin = accounts.reader_for(conn, "admin@nfcert.example")
    declared = now - timedelta(hours=6)
    found = crisis.declare_crisis(
        conn, admin, title="Card payment DDoS wave", severity="high", is_exercise=True, now=declared,
        scope="Exercise: volumetric DDoS against card acquiring and the card switch; members report card "
              "payments, online and mobile banking and customer service every hour or on change.")
    cid = int(found["id"])
    briefed = False
    for minutes, email, statuses in _REPORTS:
        at = declared + timedelta(minutes=minutes)
        if not briefed and minutes > 200:
            picture.record_briefing(conn, admin, cid, now=declared + timedelta(minutes=200),
                                    text="Briefing 1: card payments down at two members, degraded at two.")
            crisis.post_broadcast(conn, admin, cid, now=declared + timedelta(minutes=205),
                                  body="Guidance: enable upstream scrubbing, report card payments every hour.")
            briefed = True
        reader = accounts.reader_for(conn, email)
        status.submit_status(conn, reader, cid, now=at, statuses=[
            {"service": service, "status": state, "comment": comment, "observed_at": at}
            for service, (state, comment) in statuses.items()])
    lesson = followup.record_lesson(conn, admin, cid, now=now - timedelta(minutes=20),
                                    text="Scrubbing contracts differ: two members needed 40 minutes to divert traffic.")
    today = now.date()
    followup.add_action(conn, admin, cid, title="Pre-authorise scrubbing diversion with the provider",
                        owner_organisation="NORDPAY", due_on=today + timedelta(days=30), lesson_id=lesson["id"],
                        today=today, now=now)
    followup.add_action(conn, admin, cid, title="Add card payments to the hourly status template",
                        owner_organisation="ALPHA", due_on=today + timedelta(days=7), lesson_id=lesson["id"],
                        today=today, now=now)
    return cid


def build(conn: Connection, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    build_incidents(conn, now)
    cid = build_crisis(conn, now)
    return {"incidents": 3, "crisis": cid}



