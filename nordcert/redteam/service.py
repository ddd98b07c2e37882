"""Red-team engagements: CERT staff or the TLPT authority open a test for a member; its control team (and CERT staff)
keep its scope, providers and dates; CERT staff delete it. Who sees what is decided in :mod:`.access`; what an
engagement shows (phases, deadlines, warnings, progress) is built in :mod:`.present`.

The scope follows CDR 2025/1190 Art 9 and Annex II: the critical or important functions under test, the systems
behind them, and the flags, the targets the testers must reach. The threat-intelligence provider is always external
(DORA Art 27(2)(c)); the red team's testers are internal or external (DORA Art 26(8), Art 27).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from nordcert import clock
from nordcert.accounts import service as accounts
from nordcert.errors import Forbidden, Invalid, NotFound
from nordcert.redteam import access, present
from nordcert.redteam.checks import Problems
from nordcert.redteam.phases import PHASE_KEYS, START_PHASES
from nordcert.redteam.tables import redteam_engagements, redteam_findings, redteam_phase_dates
from nordcert.sharing.policy import Reader

FRAMEWORKS: dict[str, str] = {"tiber_eu": "TIBER-EU", "dora_tlpt": "DORA TLPT"}
PROVIDER_KINDS = ("internal", "external")
MAX_SCOPE_ITEMS = 50
UPDATABLE = frozenset({"name", "framework", "tiber_implementation", "significant_credit_institution", "functions",
                       "systems", "flags", "ti_provider", "rt_provider", "rt_provider_kind", "opened_on",
                       "notified_on"})
_FLAG_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_e = redteam_engagements


def today_utc() -> date:
    return clock.now().date()


def _stamp(now: datetime | None) -> int:
    return clock.us(now) if now else clock.now_us()


# --- engagements ----------------------------------------------------------------------------------


def create_engagement(conn: Connection, *, reader: Reader, organisation: int | str, name: str, framework: str,
                      tiber_implementation: str | None = None, significant_credit_institution: bool = False,
                      functions: list[str] | None = None, systems: list[str] | None = None,
                      flags: list[Mapping[str, Any]] | None = None, ti_provider: str | None = None,
                      rt_provider: str | None = None, rt_provider_kind: str | None = None,
                      phase: str = "preparation", opened_on: date | str | None = None, today: date | None = None,
                      now: datetime | None = None) -> dict[str, Any]:
    """Open a test of a member (CERT staff, the authority's risk officers), in the generic threat landscape or the
    preparation phase, which starts on ``opened_on`` (default today)."""
    access.require_creator(conn, reader)
    today = today or today_utc()
    problems = Problems()
    org_id = _member(conn, organisation, problems)
    start = problems.choice(phase, "phase", START_PHASES)
    values = _checked(problems, {
        "name": name, "framework": framework, "tiber_implementation": tiber_implementation,
        "significant_credit_institution": significant_credit_institution, "functions": functions or [],
        "systems": systems or [], "flags": flags or [], "ti_provider": ti_provider, "rt_provider": rt_provider,
        "rt_provider_kind": rt_provider_kind, "opened_on": opened_on or today, "notified_on": None}, today=today)
    problems.check("the red-team engagement is not valid")
    assert org_id is not None and start is not None
    stamp = _stamp(now)
    engagement_id = int(conn.execute(insert(_e).values(
        **values, organisation_id=org_id, phase=start, created_by=reader.user_id, created_at=stamp, updated_at=stamp,
    ).returning(_e.c.id)).scalar_one())
    conn.execute(insert(redteam_phase_dates).values(engagement_id=engagement_id, phase=start,
                                                    actual_start=values["opened_on"]))
    return get_engagement(conn, reader=reader, engagement_id=engagement_id, today=today)


def update_engagement(conn: Connection, *, reader: Reader, engagement_id: int, changes: Mapping[str, Any],
                      today: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Change the test's name, framework, scope, providers, opening date or the date of the Art 12(7) notification
    (the control team, CERT staff). Lists given replace the old ones whole."""
    row = access.load(conn, reader, engagement_id, lock=True)
    access.require_change(conn, reader, row, "change it")
    unknown = sorted(set(changes) - UPDATABLE)
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}",
                      details=[{"field": f, "reason": "cannot be changed"} for f in unknown])
    today = today or today_utc()
    current = {k: row[k] for k in UPDATABLE} | {k: orjson.loads(row[k]) for k in ("functions", "systems", "flags")}
    merged = current | dict(changes)
    problems = Problems()
    values = _checked(problems, merged, today=today)
    if not problems.has("flags"):
        kept = {f["code"] for f in orjson.loads(values["flags"])}
        named = set(conn.execute(select(redteam_findings.c.flag).distinct().where(
            redteam_findings.c.engagement_id == engagement_id, redteam_findings.c.flag.is_not(None))).scalars())
        for code in sorted(named - kept):
            problems.add("flags", f"flag {code} is named by findings: keep it, or change those findings first")
    problems.check("the red-team engagement is not valid")
    if any(values[k] != row[k] for k in values):
        conn.execute(update(_e).where(_e.c.id == engagement_id).values(**values, updated_at=_stamp(now)))
    return get_engagement(conn, reader=reader, engagement_id=engagement_id, today=today)


def delete_engagement(conn: Connection, *, reader: Reader, engagement_id: int) -> None:
    """Delete a test with everything recorded on it (CERT staff)."""
    access.load(conn, reader, engagement_id, lock=True)
    if not reader.is_cert_staff:
        raise Forbidden("only CERT staff delete a red-team engagement")
    conn.execute(delete(_e).where(_e.c.id == engagement_id))


def get_engagement(conn: Connection, *, reader: Reader, engagement_id: int, today: date | None = None
                   ) -> dict[str, Any]:
    """One test as the reader may see it: scope, providers, phases with dates, deadlines, warnings, roles and the
    remediation progress; whether the reader may change it."""
    row = access.load(conn, reader, engagement_id)
    out = present.engagements(conn, [row], today=today or today_utc(), detail=True)[0]
    out["may_change"] = access.may_change(conn, reader, row)
    out["may_attest"] = access.sees_every_engagement(conn, reader)
    return out


def list_engagements(conn: Connection, *, reader: Reader, organisation_id: int | None = None,
                     phase: str | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """The tests the reader may see, newest first, each with its phase and next deadline."""
    if phase is not None and phase not in PHASE_KEYS:
        raise Invalid(f"phase {phase!r} is not one of: {', '.join(PHASE_KEYS)}",
                      details=[{"field": "phase", "reason": f"one of: {', '.join(PHASE_KEYS)}"}])
    q = select(_e).where(access.visible_clause(conn, reader))
    if organisation_id is not None:
        q = q.where(_e.c.organisation_id == organisation_id)
    if phase is not None:
        q = q.where(_e.c.phase == phase)
    rows = [dict(r) for r in conn.execute(q.order_by(_e.c.opened_on.desc(), _e.c.id.desc())).mappings()]
    return present.engagements(conn, rows, today=today or today_utc(), detail=False)


def flag_codes(row: Mapping[str, Any]) -> list[str]:
    return [str(f["code"]) for f in orjson.loads(row["flags"])]


# --- checks ---------------------------------------------------------------------------------------


def _member(conn: Connection, ref: int | str | None, problems: Problems) -> int | None:
    if ref in (None, ""):
        problems.add("organisation", "required: the member under test (id, name or short name)")
        return None
    try:
        org = accounts.get_organisation(conn, ref)
    except NotFound:
        problems.add("organisation", f"no organisation {ref!r}")
        return None
    if org["sector_type"] in access.NON_MEMBER_SECTORS:
        problems.add("organisation", f"{org['name']} is a {org['sector_type']}, not a member that is tested")
        return None
    return int(org["id"])


def _checked(problems: Problems, values: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """The engagement's columns from ``values``, with every problem added to ``problems``."""
    out: dict[str, Any] = {
        "name": problems.text(values["name"], "name", limit=200),
        "framework": problems.choice(values["framework"], "framework", FRAMEWORKS),
        "tiber_implementation": problems.text(values["tiber_implementation"], "tiber_implementation", limit=100,
                                              required=False) or None,
        "significant_credit_institution": problems.boolean(values["significant_credit_institution"],
                                                           "significant_credit_institution"),
        "functions": orjson.dumps(_names(problems, values["functions"], "functions")).decode(),
        "systems": orjson.dumps(_names(problems, values["systems"], "systems")).decode(),
        "flags": orjson.dumps(_flags(problems, values["flags"])).decode(),
        "ti_provider": problems.text(values["ti_provider"], "ti_provider", limit=200, required=False) or None,
        "rt_provider": problems.text(values["rt_provider"], "rt_provider", limit=200, required=False) or None,
        "rt_provider_kind": problems.choice(values["rt_provider_kind"], "rt_provider_kind", PROVIDER_KINDS,
                                            required=False),
        "opened_on": problems.day(values["opened_on"], "opened_on", required=True, not_after=today),
    }
    out["notified_on"] = problems.day(values["notified_on"], "notified_on", not_after=today,
                                      not_before=out["opened_on"])
    return out


def _names(problems: Problems, items: Any, field: str) -> list[str]:
    if not isinstance(items, list):
        problems.add(field, "a list of names")
        return []
    if len(items) > MAX_SCOPE_ITEMS:
        problems.add(field, f"at most {MAX_SCOPE_ITEMS} items")
    out: list[str] = []
    for i, item in enumerate(items):
        name = problems.text(item, f"{field}.{i}", limit=300)
        if name and name.lower() in {n.lower() for n in out}:
            problems.add(f"{field}.{i}", f"{name!r} is given twice")
        elif name:
            out.append(name)
    return out


def _flags(problems: Problems, items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        problems.add("flags", "a list of flags, each with a code and a name")
        return []
    if len(items) > MAX_SCOPE_ITEMS:
        problems.add("flags", f"at most {MAX_SCOPE_ITEMS} flags")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.add(f"flags.{i}", "a flag: code, name and whether it was reached")
            continue
        code = problems.text(item.get("code"), f"flags.{i}.code", limit=32)
        if code and not _FLAG_CODE.match(code):
            problems.add(f"flags.{i}.code", "letters, digits, '.', '_' or '-', starting with a letter or digit")
        elif code and code in {f["code"] for f in out}:
            problems.add(f"flags.{i}.code", f"flag {code} is given twice")
        name = problems.text(item.get("name"), f"flags.{i}.name", limit=300)
        reached = item.get("reached")
        if reached is not None and not isinstance(reached, bool):
            problems.add(f"flags.{i}.reached", "true, false, or null while not known")
            reached = None
        out.append({"code": code, "name": name, "reached": reached})
    return out
