"""The sector's incidents for CERT staff and authorities' risk officers: counts by month, type, criterion
met and type of member, and the summaries members shared (DORA Art 45: information-sharing arrangements).

Everything comes from :func:`nordcert.incidents.sector.sector_overview`, whose counts name no member and
whose summaries name their member only as the sharing policy allows. Anyone who may not see the sector
view is told the page does not exist, as on the administration and federation pages. Members share
their summaries from the incident page (:mod:`nordcert.web.incident_pages`).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from nordcert.deps import ReadConn
from nordcert.errors import NotFound
from nordcert.incidents import sector
from nordcert.incidents.classify import Facts, classify
from nordcert.web import charts, incident_pages
from nordcert.web.deps import MemberPage
from nordcert.web.render import render

router = APIRouter(include_in_schema=False, prefix="/incidents")

MONTHS = (3, 6, 12, 24)
#: The classification criteria (ITS field 2.5) in words, in the order of CDR 2024/1772 Arts 1-7.
CRITERION_NAMES = {
    "clients_financial_counterparts_and_transactions_affected": "Clients, counterparts and transactions",
    "reputational_impact": "Reputational impact",
    "duration_and_service_downtime": "Duration and service downtime",
    "geographical_spread": "Geographical spread",
    "data_losses": "Data losses",
    "critical_services_affected": "Critical services affected",
    "economic_impact": "Economic impact",
}
_ARTICLES = {c.criterion: c.article for c in classify(Facts()).criteria}
SEVERITIES = [("major", "major", "#d0312d"), ("not_major", "not major", "#8a96a3")]


def criterion_name(code: str) -> str:
    if code not in CRITERION_NAMES:
        return words(code)
    return f"{CRITERION_NAMES[code]} ({_ARTICLES[code]})"


def words(code: str) -> str:
    """An ITS or sector-type code as a label: ``system_failure`` → "System failure"."""
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


def anchor(code: str) -> str:
    """A code as part of an HTML id ("not reported yet" has spaces)."""
    return code.replace(" ", "-")


def _month_name(key: str) -> str:
    return datetime.strptime(key, "%Y-%m").strftime("%b %Y")


# --- the sector page -------------------------------------------------------------------------------


@router.get("/sector", response_class=HTMLResponse)
def sector_page(page: MemberPage, conn: ReadConn, months: str = "12") -> Response:
    reader = page.member
    if not sector.may_see_sector(conn, reader):
        raise NotFound("no such page")
    chosen = int(months) if months.isdigit() and int(months) in MONTHS else 12
    view = sector.sector_overview(conn, reader, page.settings, months=chosen)
    by_month = [(_month_name(m["month"]), m) for m in view["by_month"]]
    # Each bar links to its row in the table below it, which holds the same number in words.
    by_type = [(words(k), n, f"#type-{anchor(k)}") for k, n in view["by_type"].items()]
    by_criterion = [(CRITERION_NAMES.get(k, words(k)), n, f"#criterion-{anchor(k)}")
                    for k, n in view["by_criterion"].items()]
    by_member_type = [(words(k), v) for k, v in view["by_member_type"].items()]
    return render(
        page, "incident_sector.html", view=view, months=chosen, month_choices=MONTHS, by_month=by_month,
        month_chart=charts.stacked_columns(by_month, title=f"Incidents per month, last {chosen} months",
                                           series=SEVERITIES, width=1000, height=220),
        type_chart=charts.bars(by_type, title="Incidents by type (ITS 3.23)"),
        criterion_chart=charts.bars(by_criterion, title="Incidents by classification criterion met (ITS 2.5)"),
        member_type_chart=charts.stacked_columns(by_member_type, title="Incidents by type of member",
                                                 series=SEVERITIES),
        criterion_name=criterion_name, words=words, anchor=anchor, status_names=incident_pages.STATUS_NAMES)
