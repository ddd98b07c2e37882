"""Is an ICT-related incident major? The criteria and thresholds of CDR (EU) 2024/1772 (DORA Art 18).

Pure functions: :func:`classify` takes the facts an entity knows about its incident (:class:`Facts`)
and answers every criterion with met / not met and the reason, in a sentence with the figures, and
whether the incident is major under the rule of combination of Art 8(1):

    major = the critical-services criterion (Art 6) is met
            AND ( the Art 9(5)(b) threshold is met: a successful, malicious, unauthorised access
                  that may result in data losses
                  OR two or more of the other thresholds of Art 9(1)-(6) are met )

Thresholds (CDR 2024/1772 Art 9, checked against the Official Journal text in our domain reference, §2.4):

| Art  | criterion                              | met when                                                  |
|------|----------------------------------------|-----------------------------------------------------------|
| 9(1) | clients, counterparts, transactions    | clients > 10 % of the service's, or > 100 000; counterparts |
|      |                                        | > 30 % of those active in the service; transactions > 10 % |
|      |                                        | of the daily average number, or > 10 % of its value; or a |
|      |                                        | relevant client or counterpart (Art 1(3)) is affected     |
| 9(2) | reputational impact                    | any of Art 2(a)-(d)                                       |
| 9(3) | duration and service downtime          | duration > 24 h, or downtime > 2 h of ICT services that   |
|      |                                        | support critical or important functions                   |
| 9(4) | geographical spread                    | impact in at least 2 Member States                        |
| 9(5) | data losses                            | (a) an A/A/I/C impact that harms business objectives or   |
|      |                                        | compliance; (b) the malicious access above                |
| 9(6) | economic impact                        | gross costs and losses exceed EUR 100 000 (or are likely to) |

"More than" is strict: exactly 10 % of the clients, exactly 24 h or exactly EUR 100 000 does not meet
a threshold; "at least two Member States" does. Percentages are compared exactly (as fractions), never
as floating point.

Choices where the reference leaves room (each repeated where it applies):

- Geographical spread counts the Member States listed as impacted, the entity's own included when the
  incident had an impact there; two distinct ones meet the threshold. Member States are those of the
  EEA (the EU 27, Iceland, Liechtenstein and Norway), by ISO 3166 code (Greece is GR).
- Economic impact is given in EUR (the threshold's currency); converting from the report currency is the
  entity's step. It is the gross amount, before recoveries (Art 7).
- The 2 h downtime threshold counts only when ICT services supporting critical or important functions are
  affected (``affects_critical_or_important_functions``); a downtime given without that is reported as
  not meeting the threshold, with that reason.
- A figure that is not given is not assessed: the test is not met and the reason says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# --- thresholds of CDR 2024/1772 Art 9 -------------------------------------------------------------

CLIENTS_SHARE = Fraction(10, 100)  # Art 9(1): more than 10 % of the clients using the service
CLIENTS_ABSOLUTE = 100_000  # Art 9(1): more than 100 000 clients
COUNTERPARTS_SHARE = Fraction(30, 100)  # Art 9(1): more than 30 % of the counterparts active in the service
TRANSACTIONS_NUMBER_SHARE = Fraction(10, 100)  # Art 9(1): more than 10 % of the daily average number
TRANSACTIONS_VALUE_SHARE = Fraction(10, 100)  # Art 9(1): more than 10 % of the daily average value
DURATION_MINUTES = 24 * 60  # Art 9(3): duration longer than 24 h
DOWNTIME_MINUTES = 2 * 60  # Art 9(3): downtime longer than 2 h (services supporting CIF)
MEMBER_STATES = 2  # Art 9(4): at least two Member States
ECONOMIC_EUR = Decimal(100_000)  # Art 9(6): costs and losses exceeding EUR 100 000
OTHER_THRESHOLDS_NEEDED = 2  # Art 8(1)(b)

#: The EEA Member States (EU 27 + IS, LI, NO), ISO 3166-1 alpha-2: the list of ITS field 2.6.
EEA_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "ES", "FI", "FR", "DE", "GR", "HU", "IS", "IE", "IT", "LI",
    "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
})

DataAspect = Literal["availability", "authenticity", "integrity", "confidentiality"]

#: The criteria by their ITS field 2.5 codes, in the order of CDR 2024/1772 Arts 1-7.
CRITERIA = (
    "clients_financial_counterparts_and_transactions_affected",
    "reputational_impact",
    "duration_and_service_downtime",
    "geographical_spread",
    "data_losses",
    "critical_services_affected",
    "economic_impact",
)


class Facts(BaseModel):
    """What the entity knows about its incident, as the classification criteria ask for it.

    Every field is optional: what is not known is not assessed. Estimates are allowed (Art 1(2) and 3).
    """

    model_config = ConfigDict(extra="forbid")

    # Art 6: critical services affected (the mandatory criterion)
    affects_critical_or_important_functions: bool = Field(
        default=False, description="ICT services or network and information systems supporting critical or important "
        "functions are affected (CDR 2024/1772 Art 6).")
    affects_authorised_services: bool = Field(
        default=False, description="Financial services that require authorisation or registration, or that are "
        "supervised, are affected (Art 6).")
    successful_malicious_unauthorised_access: bool = Field(
        default=False, description="The incident is a successful, malicious and unauthorised access to the entity's "
        "network and information systems (Art 6).")
    # Art 1 and 9(1): clients, financial counterparts and transactions
    clients_affected: int | None = Field(default=None, ge=0, description="Clients affected (Art 1(1)).")
    clients_total: int | None = Field(
        default=None, gt=0, description="Clients using the affected service (the base of the 10 % test).")
    counterparts_affected: int | None = Field(default=None, ge=0, description="Financial counterparts affected.")
    counterparts_total: int | None = Field(
        default=None, gt=0, description="Financial counterparts with a contract active in the affected service.")
    transactions_affected: int | None = Field(default=None, ge=0, description="Number of transactions affected.")
    transactions_daily_average: int | None = Field(
        default=None, gt=0, description="Daily average number of the service's transactions (comparable period).")
    transactions_value_affected: Decimal | None = Field(
        default=None, ge=0, description="Value of the transactions affected (any currency, the same as the average).")
    transactions_daily_average_value: Decimal | None = Field(
        default=None, gt=0, description="Daily average value of the service's transactions, in the same currency.")
    relevant_clients_or_counterparts_affected: bool = Field(
        default=False, description="A client or counterpart that is relevant by Art 1(3) is affected.")
    # Art 2 and 9(2): reputational impact
    media_coverage: bool = Field(default=False, description="The incident has been reflected in the media (Art 2(a)).")
    repeated_complaints: bool = Field(
        default=False, description="Repeated complaints from different clients or counterparts (Art 2(b)).")
    regulatory_requirements_missed: bool = Field(
        default=False, description="Regulatory requirements will not, or likely will not, be met (Art 2(c)).")
    loss_of_clients_or_counterparts: bool = Field(
        default=False, description="Clients or counterparts will, or likely will, be lost, with a material impact "
        "on the business (Art 2(d)).")
    # Art 3 and 9(3): duration and service downtime
    duration_minutes: int | None = Field(
        default=None, ge=0, description="Duration: from occurrence to resolution (or from detection), in minutes.")
    downtime_minutes: int | None = Field(
        default=None, ge=0, description="Service downtime of the ICT services supporting critical or important "
        "functions, in minutes.")
    # Art 4 and 9(4): geographical spread
    member_states: list[str] = Field(
        default_factory=list, description="EEA Member States (ISO 3166 alpha-2) where the incident had an "
        "impact on clients, counterparts, branches, group entities, infrastructures or shared providers.")
    # Art 5 and 9(5): data losses
    data_loss_aspects: list[DataAspect] = Field(
        default_factory=list, description="Data aspects impacted (ITS field 3.20).")
    data_loss_harms_objectives_or_compliance: bool = Field(
        default=False, description="The data impact harms the entity's business objectives or its compliance "
        "(Art 9(5)(a)).")
    access_may_cause_data_losses: bool = Field(
        default=False, description="The successful, malicious, unauthorised access may result in data losses "
        "(Art 9(5)(b)).")
    # Art 7 and 9(6): economic impact
    costs_and_losses_eur: Decimal | None = Field(
        default=None, ge=0, description="Gross direct and indirect costs and losses in EUR, before recoveries; "
        "an estimate is allowed (Art 7).")

    @field_validator("member_states")
    @classmethod
    def _member_states(cls, value: list[str]) -> list[str]:
        codes = [c.strip().upper() for c in value]
        unknown = [c for c in codes if c not in EEA_MEMBER_STATES]
        if unknown:
            raise ValueError(f"not EEA Member State codes: {', '.join(unknown)} "
                             "(use ISO 3166 alpha-2, e.g. DK, NO, SE, FI; Greece is GR)")
        return sorted(set(codes))

    @field_validator("data_loss_aspects")
    @classmethod
    def _aspects(cls, value: list[DataAspect]) -> list[DataAspect]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _parts_within_wholes(self) -> Facts:
        for part, whole in (("clients_affected", "clients_total"), ("counterparts_affected", "counterparts_total")):
            p, w = getattr(self, part), getattr(self, whole)
            if p is not None and w is not None and p > w:
                raise ValueError(f"{part} ({p}) is more than {whole} ({w})")
        return self


@dataclass(frozen=True)
class Check:
    """One threshold test of a criterion (named Check so that pytest never takes it for a test class)."""

    name: str
    met: bool
    reason: str
    assessed: bool = True


@dataclass(frozen=True)
class Criterion:
    """One criterion's answer: ``met`` with the reason in a sentence."""

    criterion: str
    article: str
    met: bool
    reason: str
    tests: tuple[Check, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Classification:
    """Every criterion, and whether the incident is major (CDR 2024/1772 Art 8(1))."""

    major: bool
    rule: str
    criteria: tuple[Criterion, ...]

    @property
    def met(self) -> list[str]:
        """The codes of the criteria that are met (ITS field 2.5)."""
        return [c.criterion for c in self.criteria if c.met]

    def criterion(self, code: str) -> Criterion:
        return next(c for c in self.criteria if c.criterion == code)


def classify(facts: Facts) -> Classification:
    """Answer every criterion for ``facts`` and combine them by Art 8(1)."""
    criteria = (
        _clients(facts), _reputational(facts), _duration(facts), _geographical(facts), _data_losses(facts),
        _critical_services(facts), _economic(facts),
    )
    by_code = {c.criterion: c for c in criteria}
    gate = by_code["critical_services_affected"]
    access = next(t for t in by_code["data_losses"].tests if t.name == "malicious_access")
    others = [c for c in criteria if c.met and c.criterion != "critical_services_affected"]
    names = ", ".join(_TITLE[c.criterion] for c in others) or "none"
    if not gate.met:
        return Classification(False, "Not major: no critical service is affected (Art 6), and every major "
                              f"incident needs that (Art 8(1)); other thresholds met: {names}.", criteria)
    if access.met:
        return Classification(True, "Major: critical services are affected (Art 6) and a successful, malicious, "
                              "unauthorised access may result in data losses (Art 9(5)(b)), which is enough "
                              "on its own (Art 8(1)(a)).", criteria)
    if len(others) >= OTHER_THRESHOLDS_NEEDED:
        return Classification(True, f"Major: critical services are affected (Art 6) and {len(others)} other "
                              f"thresholds are met ({names}); two are needed (Art 8(1)(b)).", criteria)
    return Classification(False, f"Not major: critical services are affected (Art 6), but only {len(others)} "
                          f"other threshold{'' if len(others) == 1 else 's'} met ({names}); two are needed, or "
                          "a malicious access that may result in data losses (Art 8(1)).", criteria)


_TITLE = {
    "clients_financial_counterparts_and_transactions_affected": "clients, counterparts and transactions",
    "reputational_impact": "reputational impact",
    "duration_and_service_downtime": "duration and service downtime",
    "geographical_spread": "geographical spread",
    "data_losses": "data losses",
    "critical_services_affected": "critical services affected",
    "economic_impact": "economic impact",
}


def _criterion(code: str, article: str, tests: list[Check]) -> Criterion:
    met = any(t.met for t in tests)
    shown = [t for t in tests if t.met] if met else tests
    head = "Met" if met else "Not met"
    return Criterion(code, article, met, f"{head}: " + "; ".join(t.reason for t in shown) + ".", tuple(tests))


# --- Art 9(1) ------------------------------------------------------------------------------------


def _clients(f: Facts) -> Criterion:
    tests = [
        _share("clients_share", "clients", f.clients_affected, f.clients_total, CLIENTS_SHARE,
               "of the clients using the service"),
        _absolute_clients(f.clients_affected),
        _share("counterparts_share", "financial counterparts", f.counterparts_affected, f.counterparts_total,
               COUNTERPARTS_SHARE, "of the counterparts active in the service"),
        _share("transactions_number", "transactions", f.transactions_affected, f.transactions_daily_average,
               TRANSACTIONS_NUMBER_SHARE, "of the daily average number of transactions"),
        _share("transactions_value", "transaction value", f.transactions_value_affected,
               f.transactions_daily_average_value, TRANSACTIONS_VALUE_SHARE, "of the daily average value"),
        Check("relevant_clients", f.relevant_clients_or_counterparts_affected,
             "a relevant client or counterpart (Art 1(3)) is affected" if f.relevant_clients_or_counterparts_affected
             else "no relevant client or counterpart (Art 1(3)) is recorded as affected"),
    ]
    return _criterion("clients_financial_counterparts_and_transactions_affected", "Art 1, Art 9(1)", tests)


def _share(name: str, what: str, part: int | Decimal | None, whole: int | Decimal | None, limit: Fraction,
           of: str) -> Check:
    if part is None or whole is None:
        missing = " and ".join(x for x, v in (("affected", part), ("total", whole)) if v is None)
        return Check(name, False, f"{what}: the {_pct(limit)} test is not assessed ({missing} not given)",
                    assessed=False)
    share = Fraction(part) / Fraction(whole)
    met = share > limit
    verdict = "more than" if met else "not more than"
    return Check(name, met, f"{_num(part)} of {_num(whole)} {what} affected = {_pct(share)} {of}, "
                f"{verdict} {_pct(limit)}")


def _absolute_clients(affected: int | None) -> Check:
    if affected is None:
        return Check("clients_absolute", False, f"the {_num(CLIENTS_ABSOLUTE)} clients test is not assessed "
                    "(clients affected not given)", assessed=False)
    met = affected > CLIENTS_ABSOLUTE
    return Check("clients_absolute", met, f"{_num(affected)} clients affected, "
                f"{'more than' if met else 'not more than'} {_num(CLIENTS_ABSOLUTE)}")


# --- Art 9(2) - 9(6) ----------------------------------------------------------------------------


_REPUTATION = (
    ("media_coverage", "the incident has been reflected in the media (Art 2(a))"),
    ("repeated_complaints", "repeated complaints from different clients or counterparts (Art 2(b))"),
    ("regulatory_requirements_missed", "regulatory requirements will (likely) not be met (Art 2(c))"),
    ("loss_of_clients_or_counterparts", "clients or counterparts will (likely) be lost, materially (Art 2(d))"),
)


def _reputational(f: Facts) -> Criterion:
    tests = [Check(name, bool(getattr(f, name)), text) for name, text in _REPUTATION if getattr(f, name)]
    if not tests:
        tests = [Check("none", False, "none of media coverage, repeated complaints, missed regulatory requirements "
                      "or loss of clients or counterparts (Art 2(a)-(d)) is recorded")]
    return _criterion("reputational_impact", "Art 2, Art 9(2)", tests)


def _duration(f: Facts) -> Criterion:
    tests: list[Check] = []
    if f.duration_minutes is None:
        tests.append(Check("duration", False, "the 24 h duration test is not assessed (duration not given)",
                          assessed=False))
    else:
        met = f.duration_minutes > DURATION_MINUTES
        tests.append(Check("duration", met, f"the incident lasted {_hm(f.duration_minutes)}, "
                          f"{'longer than' if met else 'not longer than'} 24 h"))
    if f.downtime_minutes is None:
        tests.append(Check("downtime", False, "the 2 h downtime test is not assessed (downtime not given)",
                          assessed=False))
    elif not f.affects_critical_or_important_functions:
        tests.append(Check("downtime", False, f"a downtime of {_hm(f.downtime_minutes)} is recorded, but no ICT "
                          "service supporting critical or important functions is affected, which the 2 h test "
                          "is about"))
    else:
        met = f.downtime_minutes > DOWNTIME_MINUTES
        tests.append(Check("downtime", met, f"ICT services supporting critical or important functions were down "
                          f"{_hm(f.downtime_minutes)}, {'longer than' if met else 'not longer than'} 2 h"))
    return _criterion("duration_and_service_downtime", "Art 3, Art 9(3)", tests)


def _geographical(f: Facts) -> Criterion:
    n = len(f.member_states)
    met = n >= MEMBER_STATES
    listed = f" ({', '.join(f.member_states)})" if n else ""
    test = Check("member_states", met, f"impact in {n} Member State{'' if n == 1 else 's'}{listed}, "
                f"{'at least' if met else 'fewer than'} {MEMBER_STATES}")
    return _criterion("geographical_spread", "Art 4, Art 9(4)", [test])


def _data_losses(f: Facts) -> Criterion:
    aspects = ", ".join(f.data_loss_aspects)
    if not f.data_loss_aspects:
        impact = Check("impact", False, "no impact on the availability, authenticity, integrity or "
                      "confidentiality of data is recorded")
    elif f.data_loss_harms_objectives_or_compliance:
        impact = Check("impact", True, f"the impact on {aspects} of data harms business objectives or "
                      "compliance (Art 9(5)(a))")
    else:
        impact = Check("impact", False, f"an impact on {aspects} of data is recorded, but not that it harms "
                      "business objectives or compliance (Art 9(5)(a))")
    if f.successful_malicious_unauthorised_access and f.access_may_cause_data_losses:
        access = Check("malicious_access", True, "a successful, malicious, unauthorised access may result in "
                      "data losses (Art 9(5)(b))")
    elif f.access_may_cause_data_losses:
        access = Check("malicious_access", False, "data losses through an access are feared, but no successful, "
                      "malicious, unauthorised access is recorded (Art 9(5)(b))")
    else:
        access = Check("malicious_access", False, "no successful, malicious, unauthorised access that may result "
                      "in data losses is recorded (Art 9(5)(b))")
    return _criterion("data_losses", "Art 5, Art 9(5)", [impact, access])


def _critical_services(f: Facts) -> Criterion:
    tests = [
        Check("critical_functions", f.affects_critical_or_important_functions,
             "ICT services supporting critical or important functions are affected"),
        Check("authorised_services", f.affects_authorised_services,
             "financial services that need authorisation or registration, or are supervised, are affected"),
        Check("malicious_access", f.successful_malicious_unauthorised_access,
             "a successful, malicious, unauthorised access to the network and information systems"),
    ]
    if not any(t.met for t in tests):
        tests = [Check("none", False, "no ICT service supporting critical or important functions, no authorised "
                      "or supervised financial service and no successful malicious unauthorised access is recorded")]
    return _criterion("critical_services_affected", "Art 6", tests)


def _economic(f: Facts) -> Criterion:
    if f.costs_and_losses_eur is None:
        test = Check("costs", False, "the EUR 100 000 test is not assessed (costs and losses not given)",
                    assessed=False)
    else:
        met = f.costs_and_losses_eur > ECONOMIC_EUR
        test = Check("costs", met, f"gross costs and losses of EUR {_eur(f.costs_and_losses_eur)} "
                    f"{'exceed' if met else 'do not exceed'} EUR {_eur(ECONOMIC_EUR)}")
    return _criterion("economic_impact", "Art 7, Art 9(6)", [test])


# --- figures in words ----------------------------------------------------------------------------


def _pct(share: Fraction) -> str:
    """A share as a percentage with up to 4 decimals; more when 4 would round it to a whole number it is not
    (10.000001 % must not read as 10 %, the threshold). The comparison itself is exact."""
    value = Decimal(share.numerator * 100) / Decimal(share.denominator)
    places = 4
    shown = value.quantize(Decimal(1).scaleb(-places))
    while places < 12 and shown == shown.to_integral_value() and shown != value:
        places += 1
        shown = value.quantize(Decimal(1).scaleb(-places))
    text = f"{shown:f}".rstrip("0").rstrip(".") if "." in f"{shown:f}" else f"{shown:f}"
    return f"{text} %"


def _num(value: int | Decimal) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,.2f}".replace(",", " ")
    return f"{int(value):,}".replace(",", " ")


def _eur(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ")


def _hm(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"
