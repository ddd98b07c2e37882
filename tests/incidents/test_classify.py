"""The DORA classification: each threshold of CDR 2024/1772 Art 9 just below, at and above, and Art 8(1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from nordcert.incidents.classify import CRITERIA, Facts, classify

CRITICAL = {"affects_critical_or_important_functions": True}


def _criterion(code: str, **facts: Any) -> tuple[bool, str]:
    c = classify(Facts(**facts)).criterion(code)
    return c.met, c.reason


CLIENTS = "clients_financial_counterparts_and_transactions_affected"

# (criterion, facts below, at, above the threshold, a figure each reason must show)
THRESHOLDS: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any], list[str]]] = [
    ("clients > 10 % of the service's clients", CLIENTS,
     {"clients_affected": 99, "clients_total": 1000}, {"clients_affected": 100, "clients_total": 1000},
     {"clients_affected": 101, "clients_total": 1000}, ["9.9 %", "10 %", "10.1 %"]),
    ("clients > 100 000", CLIENTS,
     {"clients_affected": 99_999}, {"clients_affected": 100_000}, {"clients_affected": 100_001},
     ["99 999", "100 000 clients affected", "100 001"]),
    ("counterparts > 30 %", CLIENTS,
     {"counterparts_affected": 29, "counterparts_total": 100}, {"counterparts_affected": 30, "counterparts_total": 100},
     {"counterparts_affected": 31, "counterparts_total": 100}, ["29 %", "30 %", "31 %"]),
    ("transactions > 10 % of the daily average number", CLIENTS,
     {"transactions_affected": 4_999, "transactions_daily_average": 50_000},
     {"transactions_affected": 5_000, "transactions_daily_average": 50_000},
     {"transactions_affected": 5_001, "transactions_daily_average": 50_000}, ["9.998 %", "10 %", "10.002 %"]),
    ("transactions > 10 % of the daily average value", CLIENTS,
     {"transactions_value_affected": Decimal("99999.99"), "transactions_daily_average_value": Decimal(1000000)},
     {"transactions_value_affected": Decimal("100000.00"), "transactions_daily_average_value": Decimal(1000000)},
     {"transactions_value_affected": Decimal("100000.01"), "transactions_daily_average_value": Decimal(1000000)},
     ["99 999.99", "10 %", "10.000001 %"]),
    ("duration > 24 h", "duration_and_service_downtime",
     {"duration_minutes": 24 * 60 - 1}, {"duration_minutes": 24 * 60}, {"duration_minutes": 24 * 60 + 1},
     ["23 h 59 min", "24 h", "24 h 1 min"]),
    ("downtime > 2 h of services supporting CIF", "duration_and_service_downtime",
     {**CRITICAL, "downtime_minutes": 119}, {**CRITICAL, "downtime_minutes": 120},
     {**CRITICAL, "downtime_minutes": 121}, ["1 h 59 min", "2 h", "2 h 1 min"]),
    ("at least 2 Member States", "geographical_spread",
     {"member_states": []}, {"member_states": ["DK", "SE"]}, {"member_states": ["DK", "SE", "NO"]},
     ["0 Member States", "2 Member States (DK, SE)", "3 Member States (DK, NO, SE)"]),
    ("costs and losses > EUR 100 000", "economic_impact",
     {"costs_and_losses_eur": Decimal("99999.99")}, {"costs_and_losses_eur": Decimal(100000)},
     {"costs_and_losses_eur": Decimal("100000.01")}, ["99 999.99", "100 000.00 do not exceed", "100 000.01"]),
]


@pytest.mark.parametrize(("name", "code", "below", "at", "above", "figures"), THRESHOLDS,
                         ids=[t[0] for t in THRESHOLDS])
def test_threshold_below_at_and_above(name: str, code: str, below: dict[str, Any], at: dict[str, Any],
                                      above: dict[str, Any], figures: list[str]) -> None:
    at_met_expected = code == "geographical_spread"  # "at least 2"; every other threshold is "more than"
    for facts, expected, figure in ((below, False, figures[0]), (at, at_met_expected, figures[1]),
                                    (above, True, figures[2])):
        met, reason = _criterion(code, **facts)
        assert met is expected, (name, facts, reason)
        assert figure in reason, (figure, reason)
        assert reason.startswith("Met: " if expected else "Not met: ")


def test_relevant_client_meets_the_clients_criterion_alone() -> None:
    assert _criterion(CLIENTS)[0] is False
    met, reason = _criterion(CLIENTS, relevant_clients_or_counterparts_affected=True)
    assert met and "relevant client or counterpart (Art 1(3))" in reason


@pytest.mark.parametrize("flag", ["media_coverage", "repeated_complaints", "regulatory_requirements_missed",
                                  "loss_of_clients_or_counterparts"])
def test_any_reputational_impact_meets_the_criterion(flag: str) -> None:
    assert _criterion("reputational_impact")[0] is False
    met, reason = _criterion("reputational_impact", **{flag: True})
    assert met and "Art 2(" in reason


def test_downtime_counts_only_for_services_supporting_critical_functions() -> None:
    met, reason = _criterion("duration_and_service_downtime", downtime_minutes=600)
    assert not met and "10 h" in reason and "no ICT service supporting critical or important functions" in reason


def test_data_losses_need_harm_or_malicious_access() -> None:
    met, reason = _criterion("data_losses", data_loss_aspects=["confidentiality"])
    assert not met and "confidentiality" in reason and "not that it harms" in reason
    assert _criterion("data_losses", data_loss_aspects=["integrity"], data_loss_harms_objectives_or_compliance=True)[0]
    assert not _criterion("data_losses", access_may_cause_data_losses=True)[0]
    met, reason = _criterion("data_losses", successful_malicious_unauthorised_access=True,
                             access_may_cause_data_losses=True)
    assert met and "Art 9(5)(b)" in reason


@pytest.mark.parametrize("flag", ["affects_critical_or_important_functions", "affects_authorised_services",
                                  "successful_malicious_unauthorised_access"])
def test_critical_services_by_any_of_art_6(flag: str) -> None:
    assert _criterion("critical_services_affected")[0] is False
    assert _criterion("critical_services_affected", **{flag: True})[0] is True


def test_missing_figures_are_not_assessed_and_say_so() -> None:
    met, reason = _criterion(CLIENTS, clients_affected=500)
    assert not met and "(total not given)" in reason and "500 clients affected, not more than 100 000" in reason
    met, reason = _criterion("economic_impact")
    assert not met and "not assessed" in reason


def test_every_criterion_is_answered_in_article_order() -> None:
    result = classify(Facts())
    assert [c.criterion for c in result.criteria] == list(CRITERIA)
    assert all(c.reason.endswith(".") for c in result.criteria)


# --- Art 8(1): the rule of combination -------------------------------------------------------------

TWO_OTHERS = {"duration_minutes": 25 * 60, "costs_and_losses_eur": Decimal(250000)}


def test_critical_services_and_two_other_thresholds_make_it_major() -> None:
    result = classify(Facts(**CRITICAL, **TWO_OTHERS))
    assert result.major
    assert "2 other thresholds are met" in result.rule and "economic impact" in result.rule
    assert result.met == ["duration_and_service_downtime", "critical_services_affected", "economic_impact"]


def test_critical_services_and_one_other_threshold_is_not_major() -> None:
    result = classify(Facts(**CRITICAL, duration_minutes=25 * 60))
    assert not result.major and "only 1 other threshold met (duration and service downtime)" in result.rule


def test_without_critical_services_nothing_is_major() -> None:
    everything = {**TWO_OTHERS, "media_coverage": True, "member_states": ["DK", "NO"], "clients_affected": 200_000}
    result = classify(Facts(**everything))
    assert not result.major and "no critical service is affected" in result.rule
    assert len(result.met) == 5


def test_malicious_access_that_may_cause_data_losses_is_major_alone() -> None:
    result = classify(Facts(successful_malicious_unauthorised_access=True, access_may_cause_data_losses=True))
    assert result.major and "Art 8(1)(a)" in result.rule
    # the access alone meets Art 6, but without the feared data losses it needs two other thresholds
    assert not classify(Facts(successful_malicious_unauthorised_access=True, media_coverage=True)).major


def test_facts_are_validated() -> None:
    with pytest.raises(ValidationError, match="clients_affected \\(20\\) is more than clients_total \\(10\\)"):
        Facts(clients_affected=20, clients_total=10)
    with pytest.raises(ValidationError, match="not EEA Member State codes: US"):
        Facts(member_states=["dk", "US"])
    with pytest.raises(ValidationError):
        Facts(costs_and_losses_eur=Decimal(-1))
    with pytest.raises(ValidationError):
        Facts(no_such_fact=True)  # type: ignore[call-arg]
    assert Facts(member_states=["dk", "DK", "se"]).member_states == ["DK", "SE"]
