"""A test's findings (CDR 2025/1190 Annex V(c): each finding described with its criticality and the root cause of
successful attacks; Art 13(2) for what the remediation plan says of each), with the flag reached through it and
the attack path.

Categories are a fixed list, so the sector's view can count them across tests. Each names where it comes from:
the MITRE ATT&CK tactic (or technique) a red team reports it under, or the part of the RTS that asks for it.
Findings are recorded from active red teaming on (the testers report at least weekly, Art 11(5)), by the control
team or CERT staff.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from nordcert import clock
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.redteam import access, remediation
from nordcert.redteam.checks import Problems
from nordcert.redteam.phases import BY_KEY, index_of
from nordcert.redteam.service import flag_codes, today_utc
from nordcert.redteam.tables import redteam_findings
from nordcert.sharing.policy import Reader

#: key: (name, where it comes from)
CATEGORIES: dict[str, tuple[str, str]] = {
    "initial_access_phishing": ("Initial access: phishing and social engineering", "ATT&CK TA0001, T1566"),
    "initial_access_exposed": ("Initial access: exposed services and vulnerabilities", "ATT&CK TA0001, T1190"),
    "credential_compromise": ("Credential compromise", "ATT&CK TA0006"),
    "privilege_escalation": ("Privilege escalation", "ATT&CK TA0004"),
    "lateral_movement": ("Lateral movement", "ATT&CK TA0008"),
    "persistence_evasion": ("Persistence and defence evasion", "ATT&CK TA0003, TA0005"),
    "detection_gap": ("Detection gap", "CDR 2025/1190 Annex VI (blue team detections)"),
    "response_gap": ("Response gap", "CDR 2025/1190 Annex V(b), Annex VI"),
    "third_party": ("Third party and supply chain", "ATT&CK T1195, T1199; DORA Art 28"),
    "physical": ("Physical access", "CDR 2025/1190 Annex III (physical access)"),
    "data_exfiltration": ("Data exfiltration", "ATT&CK TA0010"),
    "other": ("Other", "—"),
}
SEVERITIES = ("critical", "high", "medium", "low")
FIELDS = ("title", "category", "severity", "flag", "attack_path", "description", "root_cause")
#: Findings come from the testing: from active red teaming on.
FIRST_PHASE = "active_red_teaming"
_f = redteam_findings


def add_finding(conn: Connection, *, reader: Reader, engagement_id: int, title: str, category: str, severity: str,
                flag: str | None = None, attack_path: str = "", description: str = "", root_cause: str = "",
                today: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    row = access.load(conn, reader, engagement_id, lock=True)
    access.require_change(conn, reader, row, "record its findings")
    if index_of(row["phase"]) < index_of(FIRST_PHASE):
        raise Conflict(f"the test is in {BY_KEY[row['phase']].name}: findings are recorded from active red "
                       "teaming on")
    values = _checked(row, {"title": title, "category": category, "severity": severity, "flag": flag,
                            "attack_path": attack_path, "description": description, "root_cause": root_cause})
    stamp = clock.us(now) if now else clock.now_us()
    finding_id = int(conn.execute(insert(_f).values(
        **values, engagement_id=engagement_id, created_by=reader.user_id, created_at=stamp, updated_at=stamp,
    ).returning(_f.c.id)).scalar_one())
    return get_finding(conn, reader=reader, finding_id=finding_id, today=today)


def update_finding(conn: Connection, *, reader: Reader, finding_id: int, changes: Mapping[str, Any],
                   today: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    found, row = visible(conn, reader, finding_id, lock=True)
    access.require_change(conn, reader, row, "record its findings")
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}",
                      details=[{"field": f, "reason": "cannot be changed"} for f in unknown])
    values = _checked(row, {k: found[k] for k in FIELDS} | dict(changes))
    if any(values[k] != found[k] for k in values):
        conn.execute(update(_f).where(_f.c.id == finding_id).values(
            **values, updated_at=clock.us(now) if now else clock.now_us()))
    return get_finding(conn, reader=reader, finding_id=finding_id, today=today)


def delete_finding(conn: Connection, *, reader: Reader, finding_id: int) -> None:
    """Delete a finding with its measures (the control team, CERT staff)."""
    _, row = visible(conn, reader, finding_id, lock=True)
    access.require_change(conn, reader, row, "record its findings")
    conn.execute(delete(_f).where(_f.c.id == finding_id))


def get_finding(conn: Connection, *, reader: Reader, finding_id: int, today: date | None = None) -> dict[str, Any]:
    """One finding with its remediation measures (notes, status histories) and their progress."""
    found, row = visible(conn, reader, finding_id)
    out = findings_of(conn, [found], today=today or today_utc())[0]
    out["engagement"] = {"id": row["id"], "name": row["name"], "phase": row["phase"]}
    out["may_change"] = access.may_change(conn, reader, row)
    return out


def list_findings(conn: Connection, *, reader: Reader, engagement_id: int, today: date | None = None
                  ) -> list[dict[str, Any]]:
    """A test's findings, most severe first, each with its measures and their progress."""
    access.load(conn, reader, engagement_id)
    rows = [dict(r) for r in conn.execute(select(_f).where(_f.c.engagement_id == engagement_id)).mappings()]
    rows.sort(key=lambda r: (SEVERITIES.index(r["severity"]), r["id"]))
    return findings_of(conn, rows, today=today or today_utc())


def findings_of(conn: Connection, rows: list[dict[str, Any]], *, today: date) -> list[dict[str, Any]]:
    measures = remediation.measures_of(conn, [r["id"] for r in rows], today=today)
    return [{
        "id": r["id"], "engagement_id": r["engagement_id"], "title": r["title"], "category": r["category"],
        "category_name": CATEGORIES[r["category"]][0], "severity": r["severity"], "flag": r["flag"],
        "attack_path": r["attack_path"], "description": r["description"], "root_cause": r["root_cause"],
        "measures": measures[r["id"]], "progress": remediation.progress(measures[r["id"]]),
        "created_at": clock.iso(r["created_at"]), "updated_at": clock.iso(r["updated_at"]),
    } for r in rows]


def visible(conn: Connection, reader: Reader, finding_id: int, *, lock: bool = False
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The finding and its engagement's row, or NotFound alike when either is not to be seen."""
    found = conn.execute(select(_f).where(_f.c.id == finding_id)).mappings().first()
    try:
        if found is None:
            raise NotFound("missing")
        return dict(found), access.load(conn, reader, found["engagement_id"], lock=lock)
    except NotFound:
        raise NotFound(f"no finding {finding_id}") from None


def _checked(engagement: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    problems = Problems()
    out = {
        "title": problems.text(values["title"], "title", limit=300),
        "category": problems.choice(values["category"], "category", CATEGORIES),
        "severity": problems.choice(values["severity"], "severity", SEVERITIES),
        "flag": problems.text(values["flag"], "flag", limit=32, required=False) or None,
        "attack_path": problems.text(values["attack_path"], "attack_path", limit=32767, required=False),
        "description": problems.text(values["description"], "description", limit=32767, required=False),
        "root_cause": problems.text(values["root_cause"], "root_cause", limit=32767, required=False),
    }
    codes = flag_codes(engagement)
    if out["flag"] is not None and out["flag"] not in codes:
        problems.add("flag", f"no flag {out['flag']!r} in the test's scope"
                             + (f" (its flags: {', '.join(codes)})" if codes else " (it has no flags)"))
    problems.check("the finding is not valid")
    return out
