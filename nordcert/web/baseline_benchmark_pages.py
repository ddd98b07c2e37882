"""Pages of a baseline campaign's figures: the sector benchmark (box plots per domain and per control, for the
sector or one member type, the member's own scores marked), the regulatory heat map (DORA and NIS2 articles ×
member types, coloured by coverage) and the member's feedback report (HTML, with its PDF).

Each page is one call to the service that gives the reader exactly what it may see
(:mod:`nordcert.baseline.benchmark`, :mod:`~nordcert.baseline.heatmap`, :mod:`~nordcert.baseline.feedback`);
suppressed groups come without figures and are drawn as such. CERT staff choose whose report to read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from nordcert.baseline import benchmark, feedback, heatmap, report
from nordcert.deps import ReadConn
from nordcert.web.baseline_charts import BoxRow, HeatRow, box_rows, heat_matrix
from nordcert.web.deps import MemberPage
from nordcert.web.render import SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False, prefix="/baseline/campaigns")
SECTOR = "sector"


def _group_cell(row: dict[str, Any], group: str) -> dict[str, Any]:
    return row["sector"] if group == SECTOR else row["by_type"][group]  # type: ignore[no-any-return]


def _suppressed(min_group: int) -> str:
    return f"suppressed: fewer than {min_group} members"


def _reason(cell: dict[str, Any], min_group: int) -> str:
    if cell["suppressed"] == benchmark.COMPLEMENTARY:
        return "suppressed: withheld so that a smaller group cannot be worked out"
    return _suppressed(min_group)


@router.get("/{campaign_id}/benchmark", response_class=HTMLResponse)
def benchmark_page(campaign_id: int, page: MemberPage, conn: ReadConn, group: str = SECTOR) -> Response:
    settings = page.settings
    view = benchmark.benchmark_view(conn, reader=page.member, campaign_id=campaign_id,
                                    min_group=settings.baseline_min_group)
    types = {t["type"]: t["name"] for t in view["member_types"]}
    group = group if group in types else SECTOR
    group_name = "the sector" if group == SECTOR else types[group].lower()
    k = view["min_group"]

    def own(row: dict[str, Any]) -> float | None:
        return row["own"]["value"] if row.get("own") else None

    domain_chart = box_rows(
        [BoxRow(d["name"], _group_cell(d, group), own(d), suppressed_text=_reason(_group_cell(d, group), k))
         for d in view["domains"]]
        + [BoxRow("Overall", _group_cell(view["overall"], group), own(view["overall"]),
                  suppressed_text=_reason(_group_cell(view["overall"], group), k))],
        title=f"Maturity per domain in {group_name}", chart_id="bm-domains")
    control_charts = {
        d["key"]: box_rows([BoxRow(f"{c['id']} {c['title']}", _group_cell(c, group), own(c), target=c["target"],
                                   suppressed_text=_reason(_group_cell(c, group), k)) for c in d["controls"]],
                           title=f"{d['name']}: maturity per control in {group_name}", chart_id=f"bm-{d['key']}")
        for d in view["domains"]}
    return render(page, "baseline_benchmark.html", view=view, group=group, group_name=group_name, types=types,
                  domain_chart=domain_chart, control_charts=control_charts, bands=benchmark.BANDS,
                  suppressed_text=_suppressed(k), reason=lambda cell: _reason(cell, k), cell_of=_group_cell,
                  num=report.number)


@router.get("/{campaign_id}/heatmap", response_class=HTMLResponse)
def heatmap_page(campaign_id: int, page: MemberPage, conn: ReadConn) -> Response:
    view = heatmap.heatmap_view(conn, reader=page.member, campaign_id=campaign_id,
                                min_group=page.settings.baseline_min_group)
    member = view["scope"] == "member"
    columns = ["Sector", *(t["name"] for t in view["member_types"]), *(["You"] if member else [])]
    charts = []
    for f in view["frameworks"]:
        rows: list[HeatRow] = []
        for ch in f["chapters"]:
            rows.append(HeatRow(label=ch["name"], title="", cells=[], heading=True))
            rows.extend(HeatRow(label=r["ref"], title=r["title"],
                                cells=[r["sector"], *(r["by_type"][t["type"]] for t in view["member_types"]),
                                       *([r.get("own")] if member else [])])
                        for r in ch["rows"])
        charts.append((f, heat_matrix(columns, rows, title=f"{f['name']}: coverage by the sector and member type",
                                      chart_id=f"hm-{f['key']}",
                                      suppressed_text=f"suppressed: fewer than {view['min_group']} members, or "
                                                      "withheld so that such a group cannot be worked out")))
    return render(page, "baseline_heatmap.html", view=view, charts=charts, member=member, num=report.number,
                  suppressed_text=_suppressed(view["min_group"]))


@router.get("/{campaign_id}/feedback", response_class=HTMLResponse)
def feedback_page(campaign_id: int, page: MemberPage, conn: ReadConn, organisation_id: int | None = None
                  ) -> Response:
    reader = page.member
    choices = feedback.submitters(conn, reader=reader, campaign_id=campaign_id) if reader.is_cert_staff else []
    if reader.is_cert_staff and organisation_id is None:
        return render(page, "baseline_feedback.html", fb=None, body=None, choices=choices, campaign_id=campaign_id,
                      chosen=None, campaign=benchmark.campaign_out(conn, campaign_id))
    model = feedback.feedback_view(conn, reader=reader, campaign_id=campaign_id, organisation_id=organisation_id,
                                   min_group=page.settings.baseline_min_group)
    pdf = f"/baseline/campaigns/{campaign_id}/feedback.pdf" + (
        f"?organisation_id={organisation_id}" if reader.is_cert_staff else "")
    return render(page, "baseline_feedback.html", fb=model, body=Markup(report.render_html(model, fragment=True, pdf_url=pdf)),  # nosec B704 # rendered by an autoescaping Jinja environment (baseline/report.py)
                  choices=choices, campaign_id=campaign_id, chosen=organisation_id, campaign=model["campaign"],
                  pdf_url=pdf)


@router.get("/{campaign_id}/feedback.pdf")
def feedback_pdf(campaign_id: int, page: MemberPage, conn: ReadConn, organisation_id: int | None = None
                 ) -> Response:
    model = feedback.feedback_view(conn, reader=page.member, campaign_id=campaign_id,
                                   organisation_id=organisation_id, min_group=page.settings.baseline_min_group)
    return Response(report.render_pdf(model), media_type="application/pdf", headers={
        **SECURITY_HEADERS, "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{report.filename(model, "pdf")}"'})
