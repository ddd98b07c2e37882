"""After a crisis or an exercise: lessons learned, and follow-up actions with an owner and a due date.

| reader                                          | lessons | actions: read | record lessons, add and change actions | mark done or reopen |
|-------------------------------------------------|---------|---------------|-----------------------------------------|---------------------|
| cert_admin (CERT staff)                         | yes     | all           | yes                                     | yes                 |
| analyst, risk_officer of the owner organisation | yes     | its own       | no (Forbidden)                          | its own             |
| any other user                                  | yes     | its own org's | no (Forbidden)                          | no (Forbidden)      |
| a federation peer                               | NotFound, as for a missing crisis or action                                                    |||

Lessons are read by every member, like the crisis: what concerns one member belongs in its action, which only
its organisation and CERT staff see (the policy's rule for TLP:RED without recipients). An action is overdue
while it is open after its due date (dates in UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, func, insert, or_, select, true, update
from sqlalchemy.orm import aliased

from nordcert.accounts.tables import organisations, users
from nordcert.clock import iso, now_us, us
from nordcert.crisis.service import REPORTERS, load, may_read, require_staff
from nordcert.crisis.tables import crises, crisis_actions, crisis_lessons
from nordcert.errors import Forbidden, Invalid, NotFound
from nordcert.sharing.policy import Reader

ACTION_STATES = ("open", "done")
MAX_PAGE = 1000
_UPDATABLE = frozenset({"title", "owner_organisation", "owner_user", "due_on", "status", "lesson_id"})
_a = crisis_actions
_owner_user = aliased(users, name="owner_user")


# --- lessons --------------------------------------------------------------------------------------


def record_lesson(conn: Connection, reader: Reader, crisis_id: int, *, text: str, now: datetime | None = None
                  ) -> dict[str, Any]:
    """Record a lesson learned on a crisis or exercise (CERT staff), during it or after it is closed."""
    require_staff(reader, "record lessons learned")
    load(conn, reader, crisis_id)
    text = (text or "").strip()
    if not text or len(text) > 32767:
        raise Invalid("the lesson is not valid", details=[{"field": "text", "reason": "required, 1 to 32767 "
                                                                                         "characters"}])
    lesson_id = conn.execute(insert(crisis_lessons).values(
        crisis_id=crisis_id, text=text, recorded_by=reader.user_id, recorded_at=us(now) if now else now_us(),
    ).returning(crisis_lessons.c.id)).scalar_one()
    return next(lesson for lesson in list_lessons(conn, reader, crisis_id) if lesson["id"] == lesson_id)


def list_lessons(conn: Connection, reader: Reader, crisis_id: int) -> list[dict[str, Any]]:
    """The lessons learned on a crisis, in the order they were recorded."""
    load(conn, reader, crisis_id)
    q = (select(crisis_lessons, users.c.email).outerjoin(users, users.c.id == crisis_lessons.c.recorded_by)
         .where(crisis_lessons.c.crisis_id == crisis_id).order_by(crisis_lessons.c.id))
    return [{"id": r.id, "crisis_id": crisis_id, "text": r.text, "recorded_by": r.email,
             "recorded_at": iso(r.recorded_at)} for r in conn.execute(q)]


# --- follow-up actions ----------------------------------------------------------------------------


def read_clause(reader: Reader) -> ColumnElement[bool]:
    """Actions the reader may see: CERT staff all, anyone else its organisation's (none for a peer)."""
    if reader.is_cert_staff:
        return true()
    if not may_read(reader):
        return false()
    return _a.c.owner_organisation_id == reader.organisation_id


def add_action(conn: Connection, reader: Reader, crisis_id: int, *, title: str, owner_organisation: int | str,
               due_on: date, owner_user: int | str | None = None, lesson_id: int | None = None,
               today: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    """A follow-up action owned by an organisation (and optionally one of its users), due on a date (CERT staff).

    ``owner_organisation`` is an id, name or short name; ``owner_user`` an id or email of that organisation.
    """
    require_staff(reader, "assign follow-up actions")
    load(conn, reader, crisis_id)
    values = _checked(conn, crisis_id, {"title": title, "owner_organisation": owner_organisation,
                                        "owner_user": owner_user, "due_on": due_on, "lesson_id": lesson_id},
                      today=today or _today())
    stamp = us(now) if now else now_us()
    action_id = conn.execute(insert(_a).values(
        **values, crisis_id=crisis_id, status="open", created_by=reader.user_id, created_at=stamp, updated_at=stamp,
    ).returning(_a.c.id)).scalar_one()
    return get_action(conn, reader, action_id, today=today)


def update_action(conn: Connection, reader: Reader, action_id: int, *, changes: Mapping[str, Any],
                  today: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Change an action: CERT staff anything; the owner organisation's analysts and risk officers its ``status``
    (``done`` or back to ``open``)."""
    row = get_action(conn, reader, action_id, today=today)
    unknown = sorted(set(changes) - _UPDATABLE)
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}")
    if not reader.is_cert_staff:
        if set(changes) - {"status"}:
            raise Forbidden("CERT staff assign and change actions; the owner organisation marks them done")
        if reader.role not in REPORTERS:
            raise Forbidden(f"role {reader.role.value} may read your organisation's actions; marking one done "
                            "needs analyst or risk_officer")
    stamp = us(now) if now else now_us()
    values: dict[str, Any] = {}
    if set(changes) - {"status"}:
        current = {"title": row["title"], "owner_organisation": row["owner"]["organisation"]["id"],
                   "owner_user": row["owner"]["user"]["id"] if row["owner"]["user"] else None,
                   "due_on": date.fromisoformat(row["due_on"]), "lesson_id": row["lesson_id"]}
        given = {k: v for k, v in changes.items() if k != "status"}
        keep_user = not {"owner_organisation", "owner_user"} & set(given)
        if not keep_user and "owner_user" not in given:
            given["owner_user"] = None  # a new owner organisation does not keep the old one's user
        # An unchanged owner and a due date already past may stay as they are; new ones are checked.
        values = _checked(conn, row["crisis"]["id"], {**current, **given, **({"owner_user": None} if keep_user else {})},
                          today=(today or _today()) if "due_on" in given else date.min)
        if keep_user:
            values["owner_user_id"] = current["owner_user"]
    if "status" in changes:
        status = changes["status"]
        if status not in ACTION_STATES:
            raise Invalid(f"status {status!r} is not one of: {', '.join(ACTION_STATES)}",
                          details=[{"field": "status", "reason": f"one of: {', '.join(ACTION_STATES)}"}])
        if status != row["status"]:
            values |= {"status": status, "done_at": stamp if status == "done" else None}
    if values:
        conn.execute(update(_a).where(_a.c.id == action_id).values(**values, updated_at=stamp))
    return get_action(conn, reader, action_id, today=today)


def get_action(conn: Connection, reader: Reader, action_id: int, *, today: date | None = None) -> dict[str, Any]:
    found = _query(conn, reader, _a.c.id == action_id, today=today or _today())
    if not found:
        raise NotFound(f"no follow-up action {action_id}")
    return found[0]


def list_actions(conn: Connection, reader: Reader, *, crisis_id: int | None = None, status: str | None = None,
                 overdue: bool | None = None, today: date | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Follow-up actions the reader may see, soonest due first; ``overdue=True`` lists the open ones past due,
    across every crisis unless ``crisis_id`` is given."""
    if status is not None and status not in ACTION_STATES:
        raise Invalid(f"status {status!r} is not one of: {', '.join(ACTION_STATES)}")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")
    if crisis_id is not None:
        load(conn, reader, crisis_id)
    today = today or _today()
    where: list[ColumnElement[bool]] = []
    if crisis_id is not None:
        where.append(_a.c.crisis_id == crisis_id)
    if status is not None:
        where.append(_a.c.status == status)
    if overdue is True:
        where += [_a.c.status == "open", _a.c.due_on < today]
    elif overdue is False:
        where.append(or_(_a.c.status == "done", _a.c.due_on >= today))
    return _query(conn, reader, *where, today=today, limit=limit)


def _checked(conn: Connection, crisis_id: int, values: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """The action's fields as stored, or Invalid naming each problem."""
    problems: list[dict[str, str]] = []
    title = str(values["title"] or "").strip()
    if not title or len(title) > 300:
        problems.append({"field": "title", "reason": "required, 1 to 300 characters"})
    org = _organisation(conn, values["owner_organisation"])
    if org is None:
        problems.append({"field": "owner_organisation", "reason": f"no organisation {values['owner_organisation']!r}"})
    user_id = None
    if values["owner_user"] not in (None, ""):
        user = _user(conn, values["owner_user"])
        if user is None or not user.active:
            problems.append({"field": "owner_user", "reason": f"no active user {values['owner_user']!r}"})
        elif org is not None and user.organisation_id != org:
            problems.append({"field": "owner_user", "reason": "the owner user belongs to the owner organisation"})
        else:
            user_id = user.id
    due_on = values["due_on"]
    if isinstance(due_on, str):
        try:
            due_on = date.fromisoformat(due_on)
        except ValueError:
            problems.append({"field": "due_on", "reason": f"{due_on[:20]!r} is not a date (YYYY-MM-DD)"})
    if isinstance(due_on, datetime) or not isinstance(due_on, date):
        if not any(p["field"] == "due_on" for p in problems):
            problems.append({"field": "due_on", "reason": "a date (YYYY-MM-DD)"})
    elif due_on < today:
        problems.append({"field": "due_on", "reason": f"lies in the past (today is {today.isoformat()})"})
    lesson_id = values["lesson_id"]
    if lesson_id is not None and conn.execute(select(crisis_lessons.c.id).where(
            crisis_lessons.c.id == lesson_id, crisis_lessons.c.crisis_id == crisis_id)).first() is None:
        problems.append({"field": "lesson_id", "reason": f"no lesson {lesson_id} on this crisis"})
    if problems:
        raise Invalid("the follow-up action is not valid", details=problems)
    return {"title": title, "owner_organisation_id": org, "owner_user_id": user_id, "due_on": due_on,
            "lesson_id": lesson_id}


def _organisation(conn: Connection, ref: int | str | None) -> int | None:
    o = organisations
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdecimal()):
        where = o.c.id == int(ref)
    elif isinstance(ref, str) and ref.strip():
        key = ref.strip().lower()
        where = or_(func.lower(o.c.name) == key, func.lower(o.c.short_name) == key)
    else:
        return None
    found = conn.execute(select(o.c.id).where(where)).scalar()
    return int(found) if found is not None else None


def _user(conn: Connection, ref: int | str) -> Any:
    where = users.c.id == int(ref) if isinstance(ref, int) or str(ref).isdecimal() else users.c.email == str(ref).lower()
    return conn.execute(select(users.c.id, users.c.organisation_id, users.c.active).where(where)).first()


def _query(conn: Connection, reader: Reader, *where: ColumnElement[bool], today: date, limit: int | None = None
           ) -> list[dict[str, Any]]:
    q = (select(_a, crises.c.title.label("crisis_title"), crises.c.is_exercise, organisations.c.name,
                organisations.c.short_name, _owner_user.c.email.label("owner_email"))
         .join(crises, crises.c.id == _a.c.crisis_id)
         .join(organisations, organisations.c.id == _a.c.owner_organisation_id)
         .outerjoin(_owner_user, _owner_user.c.id == _a.c.owner_user_id)
         .where(read_clause(reader), *where).order_by(_a.c.due_on, _a.c.id))
    if limit is not None:
        q = q.limit(limit)
    return [{
        "id": r.id, "crisis": {"id": r.crisis_id, "title": r.crisis_title, "is_exercise": r.is_exercise},
        "lesson_id": r.lesson_id, "title": r.title,
        "owner": {"organisation": {"id": r.owner_organisation_id, "name": r.name, "short_name": r.short_name},
                  "user": {"id": r.owner_user_id, "email": r.owner_email} if r.owner_user_id else None},
        "due_on": r.due_on.isoformat(), "status": r.status, "overdue": r.status == "open" and r.due_on < today,
        "created_at": iso(r.created_at), "updated_at": iso(r.updated_at), "done_at": iso(r.done_at),
    } for r in conn.execute(q)]


def _today() -> date:
    return datetime.fromtimestamp(now_us() / 1_000_000, UTC).date()
