"""The demo's red-team tests, entered through the red-team services by those who would enter them, with dates
relative to the day the demo is built:

- Alpha Bank's DORA TLPT "Heron", opened by the authority eleven months ago, now in its remediation plan: every
  earlier phase done (one a little late), the authority's Art 12(7) notification six weeks ago, seven findings
  and their measures, three of them overdue. Its control team links Alpha's risk officer (the demo's
  ``risk@alphabank.example``) and CISO; Alpha's SOC analyst is the blue team and does not see the test.
- Nordpay's TIBER-DK test "Falcon", attested about two years ago, so its next test falls due next year.
- Attested tests of Boreal Bank, Sjöstad Sparbank and Fennica Pankki, so that five members have tests whose
  findings count and the sector's findings view (suppressed below ``baseline_min_group`` members, 5 by
  default) shows its figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from nordcert.accounts import service as accounts
from nordcert.redteam import findings, lifecycle, remediation, roles
from nordcert.redteam import service as redteam
from nordcert.redteam.phases import PHASE_KEYS
from nordcert.sharing.policy import Reader

ADMIN = "admin@nfcert.example"
AUTHORITY = "supervision@fsa.example"
ALPHA_LEAD = "risk@alphabank.example"
ALPHA_CISO = ("ciso@alphabank.example", "Louise Berg (CISO)")
_TI = ("Nordic Threat Insight ApS", "Tobias Friis", "tobias.friis@nordicthreat.example")
_RT = ("Kestrel Offensive Security AB", "Elin Kask", "elin.kask@kestrel.example")
#: Alpha's phases up to its remediation plan: (phase, planned start, planned end, actual end), in days after
#: the opening
_ALPHA_PLAN = [
    ("preparation", 0, 35, 40),
    ("targeted_threat_intelligence", 35, 70, 72),
    ("red_team_test_plan", 70, 84, 86),
    ("active_red_teaming", 84, 174, 176),
    ("red_team_report", 174, 202, 200),
    ("blue_team_report", 174, 244, 232),
    ("replay_purple_teaming", 232, 246, 244),
    ("test_summary_report", 244, 270, 268),
]
_ALPHA_OPENED_DAYS_AGO = 330
#: (title, category, severity, flag, attack path, root cause,
#:  [(measure, owner, priority, due in days from today, status, note)])
_ALPHA_FINDINGS: list[tuple[str, str, str, str | None, str, str, list[tuple[str, str, str, int, str, str]]]] = [
    ("Spear-phishing of payment operations staff gave a foothold", "initial_access_phishing", "high", None,
     "Pretext as the card scheme's fraud desk; macro-free HTML smuggling; C2 over HTTPS to a cloud CDN.",
     "One-time codes by SMS for remote access; no report-phishing habit in the payment back office.",
     [("Phishing-resistant MFA (FIDO2 keys) for payment operations", "Head of IT security", "high", -10,
       "in_progress", "Keys delivered; 60 of 85 users enrolled."),
      ("Targeted phishing exercise and training for the payment back office", "Security awareness lead",
       "medium", -30, "done", "")]),
    ("Kerberoastable service account with a weak password", "credential_compromise", "critical", "F1",
     "Service ticket requested for the backup service account; password cracked offline in four hours.",
     "Service accounts created by hand with passwords that never expire.",
     [("Move service accounts to managed service accounts; rotate the rest with 30-character passwords",
       "Directory services team", "high", -20, "done", "All 41 service accounts reviewed.")]),
    ("Office network reaches the payment zone's jump hosts", "lateral_movement", "high", "F1",
     "From the phished workstation to a jump host over RDP with the cracked account, then to the payment hub.",
     "Firewall rules opened for a migration in 2023 and never closed.",
     [("Separate administration zone with its own jump hosts and privileged access workstations",
       "Network team", "high", 40, "in_progress", "Design approved; hardware ordered.")]),
    ("Credential dumping alerts closed without escalation", "detection_gap", "high", None,
     "EDR raised two alerts on LSASS access; the first-line analyst closed both as a known backup tool.",
     "No playbook for credential access alerts; first line lacks authority to escalate at night.",
     [("Escalate every credential-access alert to the 24/7 duty officer", "SOC manager", "high", -5, "open", ""),
      ("Detection rule for Kerberoasting (many service tickets from one host)", "Detection engineering",
       "medium", 20, "in_progress", "")]),
    ("Online banking customer data readable by a reporting service account", "data_exfiltration", "medium", "F3",
     "Reporting service account used to read customer profiles from the online banking back end.",
     "Broad read access granted to a reporting tool; no monitoring of bulk reads.",
     [("Remove the reporting account's read access; alert on bulk reads of customer data",
       "Online banking platform owner", "medium", 25, "open", "")]),
    ("Managed service provider's remote access tool without MFA", "third_party", "medium", None,
     "The provider's remote support tool accepted a password alone; not used by the testers beyond proof.",
     "Contract requires MFA but nobody checked the provider's configuration.",
     [("Require MFA and session recording for the provider's remote access; check it twice a year",
       "Vendor management", "medium", -15, "in_progress", "Provider asked for an exception until its upgrade.")]),
    ("Escalation to the crisis management team took nine hours", "response_gap", "low", None,
     "The blue team's escalation of the detected lateral movement reached the crisis team the next morning.",
     "No on-call rota for the crisis management team outside office hours.",
     [("On-call rota for the crisis management team and a night-time escalation exercise",
       "Business continuity manager", "low", 60, "open", ""),
      ("Accept manual escalation at night until the rota starts", "Chief risk officer", "low", 5,
       "accepted_risk", "Residual risk accepted by the CRO for one quarter.")]),
]
#: Earlier, attested tests: (member, code name, framework, national implementation, opened days ago,
#:  [(title, category, severity)])
_EARLIER: list[tuple[str, str, str, str | None, int, list[tuple[str, str, str]]]] = [
    ("NORDPAY", "Falcon", "tiber_eu", "TIBER-DK", 1080, [
        ("Vishing of the service desk reset an operator's password", "initial_access_phishing", "high"),
        ("Clearing database reachable from the office network", "lateral_movement", "high"),
        ("No alert on new administrator accounts in the clearing platform", "detection_gap", "medium"),
        ("Supplier's update server signed nothing", "third_party", "high")]),
    ("BOREAL", "Osprey", "dora_tlpt", None, 800, [
        ("Phishing of the mortgage team with a fake valuation portal", "initial_access_phishing", "high"),
        ("Pass-the-hash to the file servers", "lateral_movement", "high"),
        ("Local administrator password shared across branch PCs", "credential_compromise", "high"),
        ("Lateral movement seen by the SOC only after two days", "detection_gap", "high")]),
    ("SJOSTAD", "Lynx", "tiber_eu", "TIBER-SE", 700, [
        ("QR-code phishing of staff through a fake payroll mail", "initial_access_phishing", "high"),
        ("Unpatched VPN appliance", "initial_access_exposed", "critical"),
        ("Movement from the VPN segment to the Swish integration servers", "lateral_movement", "high"),
        ("No log of administrator actions on the payment integration", "detection_gap", "medium")]),
    ("FENNICA", "Elk", "tiber_eu", "TIBER-FI", 600, [
        ("Phone pretext got a contractor to install remote support", "initial_access_phishing", "high"),
        ("Tailgating into the branch back office", "physical", "low"),
        ("Domain admin credentials cached on a jump host", "credential_compromise", "critical"),
        ("Remote support tool reached the card platform", "lateral_movement", "high"),
        ("Alerts on the card platform were not monitored at weekends", "detection_gap", "high")]),
]
#: When each phase of an earlier test ended, in days after its opening; then the Art 12(7) notification and the
#: attestation.
_EARLIER_ENDS = {"preparation": 30, "targeted_threat_intelligence": 65, "red_team_test_plan": 79,
                 "active_red_teaming": 169, "red_team_report": 195, "blue_team_report": 225,
                 "replay_purple_teaming": 235, "test_summary_report": 255, "remediation_plan": 300}
_EARLIER_NOTIFIED, _EARLIER_ATTESTED = 260, 330


def _leave(conn: Connection, reader: Reader, engagement_id: int, phase: str, on: date, today: date) -> None:
    """End ``phase`` on ``on``: the next phase starts that day."""
    lifecycle.advance(conn, reader=reader, engagement_id=engagement_id,
                      to=PHASE_KEYS[PHASE_KEYS.index(phase) + 1], on=on, today=today)


def _people(conn: Connection, reader: Reader, engagement_id: int) -> None:
    """The authority's test manager and the providers' contacts."""
    for role, name, email, company in (("test_manager", "Karen Vestergaard", AUTHORITY,
                                        "Financial Supervisory Authority (demo)"),
                                       ("ti_provider", _TI[1], _TI[2], _TI[0]),
                                       ("rt_provider", _RT[1], _RT[2], _RT[0])):
        roles.add_role(conn, reader=reader, engagement_id=engagement_id, role=role, name=name, email=email,
                       company=company)


def build_alpha(conn: Connection, today: date) -> int:
    """Alpha Bank's TLPT in its remediation plan, opened by the authority, run by its control team."""
    authority = accounts.reader_for(conn, AUTHORITY)
    opened = today - timedelta(days=_ALPHA_OPENED_DAYS_AGO)
    flags: list[Mapping[str, Any]] = [{"code": "F1", "name": "Domain administrator in the payment zone"},
             {"code": "F2", "name": "Release an instant payment from the payment hub"},
             {"code": "F3", "name": "Read customer data in the online banking back end"}]
    test = redteam.create_engagement(
        conn, reader=authority, organisation="ALPHA", name="Heron", framework="dora_tlpt",
        tiber_implementation="TIBER-DK", significant_credit_institution=True,
        functions=["Instant payments", "Card issuing", "Online banking"],
        systems=["Core banking platform", "Payment hub", "Online banking back end", "Active Directory"],
        flags=flags, ti_provider=_TI[0], rt_provider=_RT[0], rt_provider_kind="external", opened_on=opened,
        today=today)
    eid = int(test["id"])
    admin = accounts.reader_for(conn, ADMIN)
    lead = accounts.get_user(conn, ALPHA_LEAD)
    roles.add_role(conn, reader=admin, engagement_id=eid, role="control_team_lead", name=lead["name"],
                   email=ALPHA_LEAD, company="Alpha Bank", user=ALPHA_LEAD)
    team = accounts.reader_for(conn, ALPHA_LEAD)
    accounts.create_user(conn, email=ALPHA_CISO[0], organisation="ALPHA", role="risk_officer", name=ALPHA_CISO[1])
    roles.add_role(conn, reader=team, engagement_id=eid, role="control_team_member", name=ALPHA_CISO[1],
                   email=ALPHA_CISO[0], company="Alpha Bank", user=ALPHA_CISO[0])
    _people(conn, team, eid)
    for phase, start, end, _done in _ALPHA_PLAN:
        lifecycle.set_phase_dates(conn, reader=team, engagement_id=eid, phase=phase,
                                  planned_start=opened + timedelta(days=start),
                                  planned_end=opened + timedelta(days=end), today=today,
                                  actual_start=opened if phase == "preparation" else None)
    for phase, _start, _end, done in _ALPHA_PLAN:
        if phase == "active_red_teaming":
            _alpha_findings(conn, team, eid, today, found_from=opened + timedelta(days=_ALPHA_PLAN[2][3]))
        _leave(conn, team, eid, phase, opened + timedelta(days=done), today)
    redteam.update_engagement(conn, reader=team, engagement_id=eid, today=today, changes={
        "notified_on": today - timedelta(days=45),
        "flags": [{**flags[0], "reached": True}, {**flags[1], "reached": False}, {**flags[2], "reached": True}]})
    return eid


def _alpha_findings(conn: Connection, team: Reader, eid: int, today: date, *, found_from: date) -> None:
    """The findings as the testers reported them during active red teaming, and the measures planned since."""
    planned = datetime.combine(today - timedelta(days=55), datetime.min.time(), tzinfo=UTC)
    for n, (title, category, severity, flag, path, cause, measures) in enumerate(_ALPHA_FINDINGS):
        found = datetime.combine(found_from + timedelta(days=9 * n + 5), datetime.min.time(), tzinfo=UTC)
        finding = findings.add_finding(conn, reader=team, engagement_id=eid, title=title, category=category,
                                       severity=severity, flag=flag, attack_path=path, root_cause=cause,
                                       today=today, now=found)
        for measure, owner, priority, due, status, note in measures:
            made = remediation.add_measure(conn, reader=team, finding_id=int(finding["id"]), measure=measure,
                                           owner=owner, priority=priority, due_on=today + timedelta(days=due),
                                           today=today, now=planned)
            if status != "open":
                remediation.update_measure(conn, reader=team, measure_id=int(made["id"]), today=today, changes={
                    "status": status,
                    "residual_risk": "Low once in place." if status == "done" else ""})
            if note:
                remediation.add_note(conn, reader=team, measure_id=int(made["id"]), text=note, today=today)


def build_earlier(conn: Connection, today: date) -> list[int]:
    """The earlier tests, run by CERT staff for the record and attested by the authority."""
    admin = accounts.reader_for(conn, ADMIN)
    authority = accounts.reader_for(conn, AUTHORITY)
    ids: list[int] = []
    for org, code, framework, national, days_ago, found in _EARLIER:
        opened = today - timedelta(days=days_ago)
        member = accounts.get_organisation(conn, org)
        test = redteam.create_engagement(
            conn, reader=admin, organisation=org, name=code, framework=framework, tiber_implementation=national,
            functions=["Payments"], flags=[{"code": "F1", "name": "Administrator of the payment platform",
                                            "reached": True}],
            ti_provider=_TI[0], rt_provider=_RT[0], rt_provider_kind="external", opened_on=opened, today=today)
        eid = int(test["id"])
        roles.add_role(conn, reader=admin, engagement_id=eid, role="control_team_lead", name="Control team lead",
                       email=f"control-team@{org.lower()}.example", company=member["name"])
        for phase, day in _EARLIER_ENDS.items():
            if phase == "active_red_teaming":
                for title, category, severity in found:
                    findings.add_finding(conn, reader=admin, engagement_id=eid, title=title, category=category,
                                         severity=severity, today=today)
            if phase == "remediation_plan":
                redteam.update_engagement(conn, reader=admin, engagement_id=eid, today=today, changes={
                    "notified_on": opened + timedelta(days=_EARLIER_NOTIFIED)})
            _leave(conn, admin, eid, phase, opened + timedelta(days=day), today)
        attested = opened + timedelta(days=_EARLIER_ATTESTED)
        lifecycle.attest(conn, reader=authority, engagement_id=eid, attested_on=attested,
                         reference=f"FSA-TLPT-{attested.year}-{len(ids) + 1:02d}", today=today,
                         note="The test was performed as required; the remediation plan was received.")
        ids.append(eid)
    return ids


def build(conn: Connection, now: datetime | None = None) -> dict[str, Any]:
    today = (now or datetime.now(UTC)).date()
    earlier = build_earlier(conn, today)
    return {"alpha": build_alpha(conn, today), "earlier": earlier,
            "counted_members": sorted({"ALPHA", *(t[0] for t in _EARLIER)})}
