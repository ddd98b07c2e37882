"""Complete report contents and facts for incident tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

LEI = "529900NORDCERTTEST79"  # check digits computed by ISO 7064 MOD 97-10

#: Facts that make an incident major: critical services, clients > 10 %, duration > 24 h.
MAJOR_FACTS: dict[str, Any] = {
    "affects_critical_or_important_functions": True,
    "clients_affected": 40_000, "clients_total": 250_000,
    "duration_minutes": 26 * 60,
    "downtime_minutes": 5 * 60,
}
#: Facts that meet two thresholds but affect no critical service: not major.
MINOR_FACTS: dict[str, Any] = {"duration_minutes": 30 * 60, "media_coverage": True}


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def common() -> dict[str, Any]:
    return {
        "report_currency": "DKK",
        "entity_lei": LEI,
        "entity_types": ["credit_institution"],
        "primary_contact": {"name": "Ida Risk", "email": "ida@alphabank.example", "phone": "+45 33 12 34 56"},
    }


def initial() -> dict[str, Any]:
    return {**common(), "discovery": "monitoring_systems", "business_continuity_activated": True}


def intermediate(**extra: Any) -> dict[str, Any]:
    return {
        **common(),
        "occurred_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "figures_basis": ["estimates_for_clients_affected", "no_impact_on_financial_counterparts",
                          "actual_figures_for_transactions_affected"],
        "duration_downtime_basis": "estimates",
        "critical_services_description": "Card payments and online banking were unavailable.",
        "incident_types": ["system_failure"],
        "affected_functional_areas": "Payments; customer channels.",
        "infrastructure_components_affected": "yes",
        "infrastructure_components_description": "Core banking database cluster.",
        "impact_on_financial_interests": "no",
        "reporting_to_other_authorities": ["none"],
        "temporary_actions": False,
        **extra,
    }


def final(**extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        **common(),
        "root_causes": ["system_failure_malfunction"],
        "root_causes_detailed": ["system_failure_hardware_capacity_and_performance"],
        "root_causes_additional": ["capacity_and_performance_management"],
        "root_cause_information": "A storage array ran out of capacity during month-end batch processing.",
        "resolution_summary": "Capacity added; batch jobs rescheduled.",
        "root_cause_addressed_at": (now - timedelta(hours=2)).isoformat(),
        "resolved_at": (now - timedelta(days=1)).isoformat(),
        "resolution_vs_planned": "As planned.",
        "gross_costs_and_losses": "85000",
        "financial_recoveries": "0",
        **extra,
    }
