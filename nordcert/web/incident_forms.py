"""The incident forms of the web interface, read from the service's own models: the facts a
classification needs (:class:`nordcert.incidents.classify.Facts`) and the fields of each report kind
(:mod:`nordcert.incidents.reports`, CDR 2025/301 Arts 1-4). A model that gains a field gains an input.

Three jobs: describe a form as sections of inputs; turn a submitted form into the service's input
(empty inputs left out, so the service's defaults and carried-over fields apply); and put each problem
the service reports (``Invalid.details``, by field path) next to the input it is about.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ValidationError
from pydantic.fields import FieldInfo

from nordcert.incidents import deadlines
from nordcert.incidents.classify import Facts
from nordcert.incidents.reports import COMMON_FIELDS, MODELS
from nordcert.incidents.schemas import IncidentCreate

Widget = Literal["text", "textarea", "select", "checkboxes", "yesno", "check", "datetime", "number", "list"]
Values = dict[str, str | list[str]]

#: The incident's own fields (besides the facts), as the new-incident form asks for them.
INCIDENT_TEXTS = ("reference", "title", "description")
INCIDENT_TIMES = ("detected_at", "occurred_at", "classified_at")

#: The facts grouped by the criterion they feed (CDR 2024/1772), in the order of the regulation.
FACT_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Critical services affected (Art 6): needed for every major incident", (
        "affects_critical_or_important_functions", "affects_authorised_services",
        "successful_malicious_unauthorised_access")),
    ("Clients, financial counterparts and transactions (Art 1, Art 9(1))", (
        "clients_affected", "clients_total", "counterparts_affected", "counterparts_total", "transactions_affected",
        "transactions_daily_average", "transactions_value_affected", "transactions_daily_average_value",
        "relevant_clients_or_counterparts_affected")),
    ("Reputational impact (Art 2, Art 9(2))", (
        "media_coverage", "repeated_complaints", "regulatory_requirements_missed", "loss_of_clients_or_counterparts")),
    ("Duration and service downtime (Art 3, Art 9(3))", ("duration_minutes", "downtime_minutes")),
    ("Geographical spread (Art 4, Art 9(4))", ("member_states",)),
    ("Data losses (Art 5, Art 9(5))", (
        "data_loss_aspects", "data_loss_harms_objectives_or_compliance", "access_may_cause_data_losses")),
    ("Economic impact (Art 7, Art 9(6))", ("costs_and_losses_eur",)),
)

_LABELS = {"entity_lei": "Entity LEI", "lei": "LEI", "entity_code": "Entity identification code",
           "email": "E-mail", "costs_and_losses_eur": "Costs and losses (EUR)",
           "duration_minutes": "Duration (minutes)", "downtime_minutes": "Service downtime (minutes)",
           "member_states": "Member States impacted", "detected_at": "Detected", "occurred_at": "Occurred",
           "classified_at": "Classified as major", "service_restored_at": "Service restored",
           "root_cause_addressed_at": "Root cause addressed", "resolved_at": "Resolved",
           "recurring_incident_date": "Date of the recurring incidents"}
_SECTIONS = {"parent_undertaking": ("Ultimate parent undertaking", "1.13, 1.14"),
             "primary_contact": ("Primary contact", "1.7-1.9"), "secondary_contact": ("Secondary contact", "1.10-1.12")}
_LONG_TEXT = ("description", "information", "summary", "planned", "areas", "functions", "authorities",
              "compromise")
_ITS = re.compile(r"ITS (\d+\.\d+[ab]?)")
_ITS_NOTE = re.compile(r"\s*\(ITS [^)]*\)|^ITS \d+\.\d+[ab]?,?\s*")


@dataclass(frozen=True)
class Input:
    """One input of a form; ``name`` is dotted inside a nested model (``primary_contact.email``)."""

    name: str
    label: str
    widget: Widget
    required: bool = False
    choices: tuple[str, ...] = ()
    hint: str = ""
    its: str = ""


@dataclass(frozen=True)
class Section:
    """A fieldset. ``key`` names the nested model it fills (problems about the whole model go there)."""

    legend: str
    inputs: tuple[Input, ...]
    key: str = ""


# --- forms from models ------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``X | None`` and ``Annotated[X, ...]``, and whether None was allowed."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def _widget(name: str, annotation: Any) -> tuple[Widget, tuple[str, ...]]:
    kind, _ = _unwrap(annotation)
    origin = get_origin(kind)
    if origin is Literal:
        return "select", tuple(str(a) for a in get_args(kind))
    if origin is list:
        inner, _ = _unwrap(get_args(kind)[0])
        if get_origin(inner) is Literal:
            return "checkboxes", tuple(str(a) for a in get_args(inner))
        return "list", ()
    if kind is bool:
        return "yesno", ()
    if kind is AwareDatetime or (isinstance(kind, type) and issubclass(kind, datetime)):
        return "datetime", ()
    if kind in (int, Decimal, float):
        return "number", ()
    return ("textarea" if name.endswith(_LONG_TEXT) else "text"), ()


def label_of(name: str) -> str:
    last = name.rsplit(".", 1)[-1]
    return _LABELS.get(last) or last.replace("_", " ").capitalize()


def _input(name: str, info: FieldInfo, *, required: bool | None = None, widget: Widget | None = None) -> Input:
    chosen, choices = _widget(name, info.annotation)
    description = info.description or ""
    its = _ITS.search(description)
    hint = _ITS_NOTE.sub("", description).strip(" .;,")
    hint = hint[:1].upper() + hint[1:]
    return Input(name=name, label=label_of(name), widget=widget or chosen,
                 required=info.is_required() if required is None else required, choices=choices, hint=hint,
                 its=its.group(1) if its else "")


def _nested(info: FieldInfo) -> type[BaseModel] | None:
    kind, _ = _unwrap(info.annotation)
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def report_form(kind: deadlines.ReportKind) -> list[Section]:
    """The sections of the form of one report kind: what every report holds, the contacts, then the
    fields of this kind (CDR 2025/301 Art 1, and Art 2, 3 or 4)."""
    model = MODELS[kind]
    common: list[Input] = []
    own: list[Input] = []
    nested: list[Section] = []
    for name, info in model.model_fields.items():
        sub = _nested(info)
        if sub is not None:
            inputs = tuple(_input(f"{name}.{n}", i) for n, i in sub.model_fields.items())
            title, its = _SECTIONS.get(name, (label_of(name), ""))
            optional = ", optional" if not info.is_required() else ""
            nested.append(Section(f"{title}{optional}" + (f" (ITS {its})" if its else ""), inputs, key=name))
        elif name in COMMON_FIELDS:
            common.append(_input(name, info))
        else:
            own.append(_input(name, info))
    title = kind.replace("_", " ").capitalize()
    return [Section("The entity (every report)", tuple(common)), *nested,
            Section(f"{title}: its own fields", tuple(own))]


def facts_form() -> list[Section]:
    """The classification facts, grouped by criterion; yes/no facts are checkboxes (unticked: not recorded)."""
    fields = Facts.model_fields
    return [Section(legend, tuple(
        _input(f"facts.{n}", fields[n], required=False,
               widget="check" if _widget(n, fields[n].annotation)[0] == "yesno" else None) for n in names))
            for legend, names in FACT_SECTIONS]


def zone_choices() -> list[str]:
    return sorted({*deadlines.MEMBER_STATE_ZONES.values(), "UTC"})


# --- submitted forms --------------------------------------------------------------------------------


def local_input(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as a ``datetime-local`` input shows it: wall-clock time in ``zone``, to the minute."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """A ``datetime-local`` value (wall-clock time in ``zone``) as a UTC moment; ValueError if it is not one."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        return deadlines.to_utc(moment, zone)
    return moment.astimezone(UTC)


def raw_values(form: Any, sections: Iterable[Section]) -> Values:
    """What was typed and ticked, by input name, to show the form again as it was sent."""
    values: Values = {}
    for section in sections:
        for item in section.inputs:
            if item.widget == "checkboxes":
                values[item.name] = [str(v) for v in form.getlist(item.name)]
            else:
                values[item.name] = str(form.get(item.name) or "")
    return values


def parsed(values: Values, sections: Iterable[Section], zone: ZoneInfo) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The service's input from the form's values, nested by the dotted names, empty inputs left out;
    and the problems found before the service is asked (a time that is not a time)."""
    out: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for section in sections:
        for item in section.inputs:
            raw = values.get(item.name, [] if item.widget == "checkboxes" else "")
            value: Any
            if item.widget == "checkboxes":
                value = list(raw) or None
            elif item.widget == "check":
                value = bool(raw)
            else:
                text = str(raw).strip()
                if not text:
                    continue
                if item.widget == "yesno":
                    value = {"yes": True, "no": False}.get(text)
                elif item.widget == "list":
                    value = [v for v in re.split(r"[\s,;]+", text) if v]
                elif item.widget == "datetime":
                    try:
                        value = parse_local(text, zone).isoformat()
                    except ValueError:
                        problems.append({"field": item.name, "reason": "not a date and time"})
                        continue
                else:
                    value = text
            if value is None:
                continue
            *parents, last = item.name.split(".")
            target = out
            for parent in parents:
                target = target.setdefault(parent, {})
            target[last] = value
    return out, problems


def prefilled(content: Mapping[str, Any], sections: Iterable[Section], zone: ZoneInfo) -> Values:
    """Values for a form from stored content (a previous report, or facts): times in local wall-clock."""
    values: Values = {}
    for section in sections:
        for item in section.inputs:
            value: Any = content
            for part in item.name.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if value is None:
                continue
            if item.widget == "checkboxes":
                values[item.name] = [str(v) for v in value]
            elif item.widget == "list":
                values[item.name] = ", ".join(str(v) for v in value)
            elif item.widget == "yesno":
                values[item.name] = "yes" if value else "no"
            elif item.widget == "check":
                values[item.name] = "1" if value else ""
            elif item.widget == "datetime":
                values[item.name] = local_input(datetime.fromisoformat(str(value)), zone)
            else:
                values[item.name] = str(value)
    return values


def placed(details: Iterable[Mapping[str, Any]], names: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each problem by the input (or section key) it is about: the longest name that its field path
    starts with (``entity_types.0`` belongs to ``entity_types``); the rest are the form's own problems."""
    known = set(names)
    by_input: dict[str, list[str]] = {}
    general: list[str] = []
    for d in details:
        path = str(d.get("field") or "")
        parts = path.split(".")
        owner = next((".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in known), None)
        reason = str(d.get("reason") or d)
        if owner is None:
            general.append(f"{path}: {reason}" if path else reason)
        else:
            by_input.setdefault(owner, []).append(reason)
    return by_input, general


def names_of(sections: Iterable[Section]) -> list[str]:
    out: list[str] = []
    for section in sections:
        if section.key:
            out.append(section.key)
        out.extend(i.name for i in section.inputs)
    return out


def incident_form() -> list[Section]:
    """The incident's own fields (ITS 2.1-2.4) as the new-incident form asks for them; the facts follow."""
    fields = IncidentCreate.model_fields
    inputs = [_input(n, fields[n], required=n in ("reference", "title", "description", "detected_at"))
              for n in ("reference", "title", "description", "detected_at", "occurred_at", "classified_at")]
    inputs.append(Input("timezone", "Time zone", "select", choices=tuple(zone_choices()),
                        hint="Deadlines are shown in this zone and its weekends count; the times in this form are in it too"))
    inputs.append(_input("weekend_relief", fields["weekend_relief"], widget="check"))
    links = _input("intel_links", fields["intel_links"], widget="list")
    return [Section("The incident", tuple(inputs)), Section("Links to intel", (links,))]


def facts_problems(facts: Mapping[str, Any]) -> list[dict[str, str]]:
    """The problems of the facts on their own, so that a form refused for its other fields shows these too
    (the service stops at the incident's own fields)."""
    try:
        Facts.model_validate(dict(facts))
    except ValidationError as exc:
        return [{"field": ".".join(["facts", *(str(p) for p in e["loc"])]),
                 "reason": e["msg"].removeprefix("Value error, ")} for e in exc.errors()]
    return []
