"""The feedback report laid out: HTML from the template ``baseline_feedback_print.html`` and, from that HTML,
a PDF on A4 pages by WeasyPrint (headers and footers with the member, the campaign, the page numbers and the
TLP:AMBER+STRICT marking).

A renderer, not a service: it takes the model :func:`nordcert.baseline.feedback.feedback_view` built (access
already decided) and reads nothing else. The PDF is made without fetching anything: the report's charts are
inline SVG and its style is in the page, and every other URL is refused.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from nordcert.web.baseline_charts import BoxRow, box_rows

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
TEMPLATE = "baseline_feedback_print.html"
PRIORITY_NAMES = {"essential": "Essential", "important": "Important", "advanced": "Advanced"}


def number(value: float | None, places: int = 2) -> str:
    """A score as people read it: 2.5, 3, 3.17; an en dash for none."""
    if value is None:
        return "–"
    return f"{value:.{places}f}".rstrip("0").rstrip(".")


def _day(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%d %B %Y") if value else ""


_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True, auto_reload=False)
_env.filters["num"] = number
_env.filters["day"] = _day


def suppressed_text(min_group: int) -> str:
    return f"suppressed: fewer than {min_group} members"


def domain_chart(model: dict[str, Any]) -> Markup:
    """The member's score per domain against the sector's interquartile range."""
    text = suppressed_text(model["min_group"])
    rows = [BoxRow(label=d["name"], cell=d["sector"], own=d["own"], suppressed_text=text) for d in model["domains"]]
    rows.append(BoxRow(label="Overall", cell=model["overall"]["sector"], own=model["overall"]["own"],
                       suppressed_text=text))
    return box_rows(rows, title=f"{model['organisation']['name']} against the sector, per domain",
                    chart_id="feedback-domains", own_label="you")


def render_html(model: dict[str, Any], *, fragment: bool = False, pdf_url: str | None = None) -> str:
    """The report as a standalone HTML document (for print and PDF), or as a ``fragment`` for a page."""
    return _env.get_template(TEMPLATE).render(
        fb=model, fragment=fragment, chart=domain_chart(model), priority_names=PRIORITY_NAMES, pdf_url=pdf_url,
        suppressed=suppressed_text(model["min_group"]),
        by_domain=[(d, [c for c in model["controls"] if c["domain"] == d["key"]]) for d in model["domains"]])


def _refuse(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the report fetches nothing: {url}")


def render_pdf(model: dict[str, Any]) -> bytes:
    """The report as a PDF document (A4)."""
    from weasyprint import HTML  # loads Pango: imported only when a PDF is asked for

    pdf: bytes = HTML(string=render_html(model), url_fetcher=_refuse).write_pdf()
    return pdf


def filename(model: dict[str, Any], extension: str) -> str:
    short = "".join(ch if ch.isalnum() else "-" for ch in model["organisation"]["short_name"]).strip("-").lower()
    return f"baseline-feedback-{model['campaign']['id']}-{short or model['organisation']['id']}.{extension}"
