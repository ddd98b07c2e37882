"""The demo's resilience baseline: a closed self-assessment campaign every member answered, and an open one
Alpha Bank has half answered, all entered through the baseline services as CERT staff and members would.

The closed campaign opened about eleven weeks before the demo is built, passed its deadline five days ago and
was closed when the last answers were in, so its sector benchmark, regulatory heat map and feedback reports are
published. Twelve members answered it: seven banks (so the banks' column is shown) and five others of five types
(each too small alone; together large enough that the banks' figures cannot be worked out by subtraction). Rows
where one of those five answered "not applicable" show the complementary suppression at work.

The answers are drawn with a fixed seed from a profile per member (its general level and its stronger and
weaker domains), so every build is the same: advanced controls lower, essential ones higher, a few controls not
applicable with the member's reason, and evidence an assessor could ask for.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection

from nordcert.accounts import service as accounts
from nordcert.baseline import answers, campaigns, catalogues
from nordcert.baseline.catalogue import Catalogue, Control

#: organisation short name: (the risk officer who answers, their name, the member's general level, its domains
#: above or below that level)
PROFILES: dict[str, tuple[str, str, float, dict[str, float]]] = {
    "ALPHA": ("risk@alphabank.example", "Henrik Madsen (risk)", 3.0,
              {"detection": 0.6, "third_parties": -0.7, "data_protection_backups": -0.4}),
    "BOREAL": ("risk@borealbank.example", "Ingvild Haugen (risk)", 3.3,
               {"governance": 0.4, "recovery": 0.3, "detection": -0.3}),
    "SJOSTAD": ("risk@sjostad.example", "Johan Ekström (risk)", 2.6, {"protection": 0.3, "third_parties": -0.5}),
    "FENNICA": ("risk@fennica.example", "Mikko Laine (risk)", 3.5, {"identification": 0.3, "response": 0.4}),
    "VESTERHAV": ("risk@vesterhav.example", "Anne Kjær (risk)", 2.2,
                  {"governance": 0.3, "detection": -0.6, "third_parties": -0.3}),
    "NORDLYS": ("risk@nordlys.example", "Eirik Solberg (risk)", 2.8, {"recovery": -0.4, "protection": 0.2}),
    "KOIVU": ("risk@koivu.example", "Sanna Koskinen (risk)", 2.5, {"identification": -0.4, "response": 0.2}),
    "NORDPAY": ("risk@nordpay.example", "Kasper Lund (risk)", 3.4,
                {"recovery": 0.5, "response": 0.3, "governance": -0.3}),
    "POLAR": ("risk@polarhosting.example", "Ville Heikkinen (risk)", 2.9,
              {"protection": 0.6, "governance": -0.6, "third_parties": -0.8}),
    "FJORD": ("risk@fjord.example", "Siri Nilsen (risk)", 2.4, {"data_protection_backups": 0.4, "detection": -0.5}),
    "ORESUND": ("risk@oresund.example", "Camilla Brandt (risk)", 2.7, {"third_parties": 0.3, "response": -0.4}),
    "FJALL": ("risk@fjall.example", "Erik Nyberg (risk)", 2.1, {"governance": 0.2, "protection": -0.3}),
}
#: (organisation, control): why the control does not apply to that member
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("POLAR", "IDE-06"): "We are an ICT provider, not a financial entity under DORA; we take part in our clients' "
                         "TLPTs as a third party instead.",
    ("FJALL", "IDE-06"): "Not identified for threat-led penetration testing by the competent authority "
                         "(DORA Art 26(8)).",
    ("KOIVU", "IDE-06"): "Not identified for threat-led penetration testing by the competent authority "
                         "(DORA Art 26(8)); we run scenario-based tests under IDE-05.",
    ("POLAR", "DET-06"): "We run no customer channels or payments; fraud detection is our clients' task.",
    ("ORESUND", "DET-06"): "Mortgage lending only: no cards, no online payments and no instant payments to "
                           "monitor.",
}
_PRIORITY_SHIFT = {"essential": 0.2, "important": -0.2, "advanced": -0.9}
#: What an assessor would ask to see, per control.
EVIDENCE: dict[str, str] = {
    "GOV-01": "Board minutes approving the ICT risk framework and strategy; half-yearly ICT risk report to the board",
    "GOV-02": "ICT risk management framework (document set with owners); review log with dated changes",
    "GOV-03": "RACI for ICT risk, security, continuity and suppliers; mandate of the second-line ICT risk function",
    "GOV-04": "Information security policy and its sub-policies with approval dates; exceptions register",
    "GOV-05": "Internal audit plan covering ICT risk; last two audit reports and the follow-up of their findings",
    "GOV-06": "Digital operational resilience strategy; ICT security budget line in the annual budget",
    "IDE-01": "Register of business functions with criticality ratings and the ICT assets behind each",
    "IDE-02": "CMDB export of ICT assets with owners; reconciliation report against network discovery",
    "IDE-03": "Yearly ICT risk assessment; threat landscape briefing from the sector CERT",
    "IDE-04": "List of end-of-support systems with risk acceptances and replacement dates",
    "IDE-05": "Resilience testing programme for the year; reports of the vulnerability scans and scenario tests",
    "IDE-06": "TLPT plan agreed with the authority; attestation of the last test",
    "PRO-01": "Joiner-mover-leaver procedure; quarterly access recertification records",
    "PRO-02": "MFA coverage report for remote access, e-mail, cloud consoles and administrator accounts",
    "PRO-03": "PAM tool reports: vaulted accounts, session recordings, just-in-time elevation statistics",
    "PRO-04": "Patch compliance dashboard by severity; vulnerability management procedure with time limits",
    "PRO-05": "Hardening baselines (CIS benchmarks adapted); configuration compliance scan results",
    "PRO-06": "Network zoning diagram; firewall rule review records; segmentation test of the payment zone",
    "PRO-07": "Training completion per department; results of phishing simulations",
    "PRO-08": "Secure development standard; change advisory board minutes; code scanning in the pipeline",
    "DET-01": "Logging standard listing sources and retention; SIEM source coverage report",
    "DET-02": "24/7 monitoring contract or SOC rota; alert handling statistics (time to triage)",
    "DET-03": "EDR coverage report for servers and workstations; isolation tests",
    "DET-04": "Threat-intelligence requirements; feeds consumed from the sector platform; IOC hit reports",
    "DET-05": "Detection use-case library mapped to ATT&CK; purple-team test results",
    "DET-06": "Fraud monitoring rules for online banking and instant payments; monthly fraud loss report",
    "RES-01": "ICT incident management procedure; incident tickets with timelines",
    "RES-02": "Major incident classification procedure (DORA criteria); reports sent to the authority",
    "RES-03": "Forensic readiness plan; retainer with an incident response firm",
    "RES-04": "Playbooks for ransomware, DDoS and account takeover; records of their last exercise",
    "RES-05": "Crisis communication plan with templates for clients, staff and media",
    "RES-06": "Sharing agreement with the sector CERT; indicators shared on the platform this year",
    "REC-01": "Business impact analysis with RTO and RPO per function; continuity policy",
    "REC-02": "ICT response and recovery plans per critical system",
    "REC-03": "Continuity test calendar and reports; fail-over test results",
    "REC-04": "Secondary data centre contract; capacity test of the secondary site",
    "REC-05": "Crisis management team charter; exercise reports",
    "REC-06": "Lessons-learned reports after incidents and tests; improvement actions tracked to closure",
    "TPR-01": "ICT third-party risk strategy and outsourcing policy approved by the board",
    "TPR-02": "Register of information on ICT third-party arrangements as reported to the authority",
    "TPR-03": "Due diligence checklists and assessments for the last three contracts",
    "TPR-04": "Contract template clauses (DORA Art 30) and the gap analysis of existing contracts",
    "TPR-05": "Provider performance reviews; SOC 2 and ISO 27001 reports received",
    "TPR-06": "Exit plans for critical providers; concentration analysis",
    "DPB-01": "Information classification policy; labelling in e-mail and document systems",
    "DPB-02": "Encryption standard; key management procedure and HSM audit logs",
    "DPB-03": "Backup policy listing systems, frequency and retention",
    "DPB-04": "Immutable and offline backup design; access review of the backup administrators",
    "DPB-05": "Restore test reports with measured restore times against RTO",
    "DPB-06": "Data reconciliation procedure after restore; integrity check results",
}
_STATE = {
    0: "We have nothing in place yet.",
    1: "Done by individuals when needed; not documented.",
    2: "Kept by the team, not yet approved.",
    3: "Approved and applied to everything in scope.",
    4: "Measured against targets and reported quarterly to management.",
    5: "Improved after every test, incident and threat briefing.",
}
#: What the member is doing about a gap, by domain.
_REMEDY = {
    "governance": "formal approval by the board",
    "identification": "completing the inventory for the subsidiaries",
    "protection": "rolling the control out to the remaining platforms",
    "detection": "extending monitoring to the cloud workloads",
    "response": "rehearsing the playbooks with the business",
    "recovery": "a full fail-over test of the secondary site",
    "third_parties": "renegotiating the contracts of the key providers",
    "data_protection_backups": "immutable backups for the core systems",
}
SEED = 2610


def _answer(org: str, control: Control, base: float, shifts: Mapping[str, float],
            rng: random.Random) -> dict[str, Any]:
    why = NOT_APPLICABLE.get((org, control.id))
    if why is not None:
        return {"control_id": control.id, "not_applicable": True, "comment": why}
    drawn = base + shifts.get(control.domain, 0.0) + _PRIORITY_SHIFT[control.priority] + rng.gauss(0, 0.55)
    maturity = min(5, max(0, round(drawn)))
    gap = control.target - maturity
    comment = ""
    if gap >= 2:
        comment = f"Known gap: {_REMEDY[control.domain]} is planned, with budget asked for next year."
    elif gap == 1 and rng.random() < 0.6:
        comment = f"Partly in place; {_REMEDY[control.domain]} is under way."
    evidence = "" if maturity == 0 else f"{EVIDENCE[control.id]}. {_STATE[maturity]}"
    return {"control_id": control.id, "maturity": maturity, "evidence": evidence, "comment": comment}


def draw_answers(catalogue: Catalogue, org: str, *, rng: random.Random, lift: float = 0.0) -> list[dict[str, Any]]:
    """One member's answers to every control of ``catalogue`` (``lift``: how much it improved since)."""
    _email, _name, base, shifts = PROFILES[org]
    return [_answer(org, c, base + lift, shifts, rng) for c in catalogue.controls]


def _answerers(conn: Connection) -> None:
    """Each member's risk officer who answers (without a log-in, unless the demo's users list has them)."""
    known = {u["email"] for u in accounts.list_users(conn)}
    for org, (email, name, _base, _shifts) in PROFILES.items():
        if email not in known:
            accounts.create_user(conn, email=email, organisation=org, role="risk_officer", name=name)


def _morning(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time(8), tzinfo=UTC)


def _evening(moment: datetime) -> datetime:
    """The end of the day (UTC): a deadline as the web form sets it."""
    return datetime.combine(moment.date(), time(23, 59, 59), tzinfo=UTC)


def build(conn: Connection, now: datetime | None = None) -> dict[str, int]:
    """Both campaigns; returns their ids (``closed``, ``open``) and how many members submitted to the closed one."""
    now = now or datetime.now(UTC)
    rng = random.Random(SEED)  # nosec B311 # reproducible made-up demo data, no secret
    admin = accounts.reader_for(conn, "admin@nfcert.example")
    _answerers(conn)
    version = catalogues.list_versions(conn, reader=admin)[0]["version"]
    opened = _morning(now - timedelta(days=75))
    closed = campaigns.open_campaign(
        conn, reader=admin, name=f"Baseline self-assessment {opened:%B %Y}", catalogue_version=version,
        closes_at=_evening(now - timedelta(days=5)), now=opened,
        description="The first round on the shipped baseline: every member assesses every control, with evidence "
                    "an assessor could check. Figures are published to members when the campaign closes.")
    catalogue = campaigns.campaign_catalogue(conn, campaign_id=closed["id"])
    for org, (email, _name, _base, _shifts) in PROFILES.items():
        answers.submit(conn, reader=accounts.reader_for(conn, email), campaign_id=closed["id"],
                       answers=draw_answers(catalogue, org, rng=rng))
    campaigns.close_campaign(conn, reader=admin, campaign_id=closed["id"])
    started = _morning(now - timedelta(days=10))
    following = campaigns.open_campaign(
        conn, reader=admin, name=f"Baseline follow-up {started:%B %Y}", catalogue_version=version,
        closes_at=_evening(now + timedelta(days=50)), now=started,
        description="Update your answers where your measures have landed since the last round; the feedback "
                    "report compares you with the sector again.")
    alpha = PROFILES["ALPHA"][0]
    half = [a for a in draw_answers(catalogue, "ALPHA", rng=rng, lift=0.3)
            if a["control_id"].split("-")[0] in ("GOV", "IDE", "PRO", "DET")]
    answers.save_draft(conn, reader=accounts.reader_for(conn, alpha), campaign_id=following["id"], answers=half)
    return {"closed": int(closed["id"]), "open": int(following["id"]), "submitted": len(PROFILES)}
