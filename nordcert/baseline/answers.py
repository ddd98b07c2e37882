"""A member's response to a campaign: its answers per control, saved as a draft any number of times, submitted
once every control is answered, reopened by CERT staff when it must change after submission.

An answer is a maturity level 0–5 of the catalogue's scale, or "not applicable" with its justification in the
comment (left out of every statistic), with evidence (what an assessor could check) and a comment. A draft may
leave any control open. A save of many answers is one statement (``INSERT … ON CONFLICT DO UPDATE`` of every row),
and the response's row is locked for it, so two users of one member saving at once both keep their answers, and a
save never slips past a submission or the campaign's closing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from nordcert.accounts.tables import organisations, users
from nordcert.baseline import catalogues
from nordcert.baseline.access import member_writer, require_staff, response_reader
from nordcert.baseline.campaigns import get_campaign, require_open
from nordcert.baseline.catalogue import Catalogue
from nordcert.baseline.tables import baseline_answers, baseline_responses
from nordcert.clock import iso, now_us
from nordcert.db import upsert_insert
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sharing.policy import Reader

MAX_EVIDENCE = 10_000
MAX_COMMENT = 4_000
_r, _a = baseline_responses, baseline_answers
_FIELDS = {"control_id", "maturity", "not_applicable", "evidence", "comment"}


def save_draft(conn: Connection, *, reader: Reader, campaign_id: int, answers: Sequence[dict[str, Any]]
               ) -> dict[str, Any]:
    """Save some or all of the reader's organisation's answers (a member's analyst or risk officer).

    Answers not in ``answers`` stay as they were; an answer with no maturity and not "not applicable" leaves its
    control open again. Every bad answer is named (``answers.2.comment``) and nothing is stored.
    """
    organisation_id = member_writer(conn, reader)
    campaign = require_open(conn, campaign_id, lock=True)
    catalogue = catalogues.load(conn, catalogue_id=campaign["catalogue_id"])
    rows = check_answers(catalogue, answers)
    if not rows:
        raise Invalid("no answers to save", details=[{"field": "answers", "reason": "at least one answer"}])
    _save(conn, reader, campaign_id, organisation_id, rows)
    return get_response(conn, reader=reader, campaign_id=campaign_id)


def submit(conn: Connection, *, reader: Reader, campaign_id: int,
           answers: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Submit the reader's organisation's response, after saving ``answers`` if given; every control of the
    catalogue must be answered, else ``Invalid`` lists the open ones and nothing is stored."""
    organisation_id = member_writer(conn, reader)
    campaign = require_open(conn, campaign_id, lock=True)
    catalogue = catalogues.load(conn, catalogue_id=campaign["catalogue_id"])
    rows = check_answers(catalogue, answers or [])
    response_id = _save(conn, reader, campaign_id, organisation_id, rows) if rows else _locked(
        conn, campaign_id, organisation_id)
    done = set() if response_id is None else set(conn.execute(
        select(_a.c.control_id).where(_a.c.response_id == response_id,
                                      (_a.c.maturity.is_not(None)) | _a.c.not_applicable.is_(True))).scalars())
    missing = [c for c in catalogue.control_ids if c not in done]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise Invalid(f"{len(missing)} of {len(catalogue.controls)} controls are not answered: {shown}", details=[
            {"field": f"answers.{c}", "reason": "not answered: a maturity from 0 to 5, or not applicable with a "
                                                "justification"} for c in missing])
    assert response_id is not None
    at = now_us()
    conn.execute(update(_r).where(_r.c.id == response_id).values(
        status="submitted", submitted_at=at, submitted_by_user_id=reader.user_id, updated_at=at,
        updated_by_user_id=reader.user_id))
    return get_response(conn, reader=reader, campaign_id=campaign_id)


def reopen(conn: Connection, *, reader: Reader, campaign_id: int, organisation_id: int) -> dict[str, Any]:
    """Return a member's submitted response to draft so that it can be changed (CERT staff, open campaigns)."""
    require_staff(reader, "reopen a submitted response")
    require_open(conn, campaign_id, lock=True)
    row = conn.execute(select(_r.c.id, _r.c.status).where(
        _r.c.campaign_id == campaign_id, _r.c.organisation_id == organisation_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"organisation {organisation_id} has no response in campaign {campaign_id}")
    if row.status != "submitted":
        raise Conflict("the response is a draft already: its organisation may change it")
    conn.execute(update(_r).where(_r.c.id == row.id).values(
        status="draft", reopened_at=now_us(), reopened_by_user_id=reader.user_id))
    return get_response(conn, reader=reader, campaign_id=campaign_id, organisation_id=organisation_id)


def get_response(conn: Connection, *, reader: Reader, campaign_id: int, organisation_id: int | None = None
                 ) -> dict[str, Any]:
    """A member's response with every answer: the reader's own organisation's (None), or any member's for CERT
    staff. Another member's is NotFound."""
    org_id = response_reader(conn, reader, organisation_id)
    campaign = get_campaign(conn, campaign_id=campaign_id, reader=reader)
    catalogue = catalogues.load(conn, catalogue_id=campaign["catalogue"]["id"])
    org = conn.execute(select(organisations.c.id, organisations.c.name, organisations.c.short_name,
                              organisations.c.sector_type).where(organisations.c.id == org_id)).mappings().one()
    submitter = users.alias("submitter")
    row = conn.execute(
        select(_r, submitter.c.email.label("submitted_by"))
        .select_from(_r.outerjoin(submitter, submitter.c.id == _r.c.submitted_by_user_id))
        .where(_r.c.campaign_id == campaign_id, _r.c.organisation_id == org_id)).mappings().first()
    found: dict[str, dict[str, Any]] = {}
    if row is not None:
        for a in conn.execute(select(_a).where(_a.c.response_id == row["id"])).mappings():
            found[a["control_id"]] = {
                "maturity": a["maturity"], "not_applicable": bool(a["not_applicable"]), "evidence": a["evidence"],
                "comment": a["comment"], "updated_at": iso(a["updated_at"]),
            }
    answered = [c for c in catalogue.control_ids
                if c in found and (found[c]["maturity"] is not None or found[c]["not_applicable"])]
    return {
        "campaign": campaign, "organisation": dict(org),
        "status": row["status"] if row is not None else "not_started",
        "created_at": iso(row["created_at"]) if row is not None else None,
        "updated_at": iso(row["updated_at"]) if row is not None else None,
        "submitted_at": iso(row["submitted_at"]) if row is not None else None,
        "submitted_by": row["submitted_by"] if row is not None else None,
        "reopened_at": iso(row["reopened_at"]) if row is not None else None,
        "answered": len(answered), "total": len(catalogue.controls),
        "unanswered": [c for c in catalogue.control_ids if c not in set(answered)],
        "answers": {c: found[c] for c in catalogue.control_ids if c in found},
    }


def check_answers(catalogue: Catalogue, answers: Sequence[Any]) -> list[dict[str, Any]]:
    """The answers as rows to store, or ``Invalid`` naming every bad field."""
    problems: list[dict[str, str]] = []
    known = set(catalogue.control_ids)
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    if len(answers) > len(known):
        raise Invalid(f"at most {len(known)} answers, one per control",
                      details=[{"field": "answers", "reason": f"at most {len(known)} answers, one per control"}])
    for n, raw in enumerate(answers):
        at = f"answers.{n}."
        if not isinstance(raw, dict):
            problems.append({"field": f"answers.{n}", "reason": "an object with control_id and maturity"})
            continue
        for extra in sorted(set(raw) - _FIELDS):
            problems.append({"field": at + str(extra), "reason": "not a field of an answer"})
        control_id = raw.get("control_id")
        maturity = raw.get("maturity")
        na = raw.get("not_applicable", False)
        evidence, comment = raw.get("evidence") or "", raw.get("comment") or ""
        if control_id not in known:
            problems.append({"field": at + "control_id", "reason": f"no control {control_id} in catalogue "
                                                                   f"{catalogue.version}"})
        elif control_id in seen:
            problems.append({"field": at + "control_id", "reason": f"{control_id} is answered twice"})
        seen.add(str(control_id))
        if maturity is not None and (isinstance(maturity, bool) or not isinstance(maturity, int)
                                     or not 0 <= maturity <= 5):
            problems.append({"field": at + "maturity", "reason": "a maturity level from 0 to 5, or none"})
        if not isinstance(na, bool):
            problems.append({"field": at + "not_applicable", "reason": "true or false"})
        elif na and maturity is not None:
            problems.append({"field": at + "maturity", "reason": "a control that is not applicable has no maturity"})
        if not isinstance(evidence, str) or len(evidence) > MAX_EVIDENCE:
            problems.append({"field": at + "evidence", "reason": f"a text of at most {MAX_EVIDENCE} characters"})
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            problems.append({"field": at + "comment", "reason": f"a text of at most {MAX_COMMENT} characters"})
        elif na is True and not comment.strip():
            problems.append({"field": at + "comment",
                             "reason": "say in the comment why the control does not apply to your organisation"})
        rows.append({"control_id": control_id, "maturity": maturity, "not_applicable": na is True,
                     "evidence": evidence.strip() if isinstance(evidence, str) else "",
                     "comment": comment.strip() if isinstance(comment, str) else ""})
    if problems:
        raise Invalid(f"the answers are not valid: {problems[0]['field']}: {problems[0]['reason']}"
                      + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""), details=problems)
    return rows


def _save(conn: Connection, reader: Reader, campaign_id: int, organisation_id: int,
          rows: list[dict[str, Any]]) -> int:
    """Store ``rows`` in the organisation's response (made if need be) in one statement; the response's id."""
    at = now_us()
    conn.execute(upsert_insert(conn, _r).values(
        campaign_id=campaign_id, organisation_id=organisation_id, status="draft", created_at=at, updated_at=at,
        updated_by_user_id=reader.user_id,
    ).on_conflict_do_nothing(index_elements=["campaign_id", "organisation_id"]))
    response_id = _locked(conn, campaign_id, organisation_id)
    assert response_id is not None
    stmt = upsert_insert(conn, _a).values([{**r, "response_id": response_id, "updated_at": at,
                                            "updated_by_user_id": reader.user_id} for r in rows])
    ex = stmt.excluded
    conn.execute(stmt.on_conflict_do_update(index_elements=["response_id", "control_id"], set_={
        "maturity": ex.maturity, "not_applicable": ex.not_applicable, "evidence": ex.evidence, "comment": ex.comment,
        "updated_at": ex.updated_at, "updated_by_user_id": ex.updated_by_user_id}))
    conn.execute(update(_r).where(_r.c.id == response_id).values(updated_at=at, updated_by_user_id=reader.user_id))
    return response_id


def _locked(conn: Connection, campaign_id: int, organisation_id: int) -> int | None:
    """The organisation's response locked for change (None if it has none); a submitted one is a conflict."""
    row = conn.execute(select(_r.c.id, _r.c.status, _r.c.submitted_at).where(
        _r.c.campaign_id == campaign_id, _r.c.organisation_id == organisation_id).with_for_update()).first()
    if row is None:
        return None
    if row.status == "submitted":
        raise Conflict(f"your response was submitted on {iso(row.submitted_at)}: ask CERT staff to reopen it to "
                       "change an answer")
    return int(row.id)
