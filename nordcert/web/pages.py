"""The instance's front page and health check (the analysts' web interface builds on this)."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from nordcert import __version__
from nordcert.deps import ReadConn, SettingsDep
from nordcert.intel import service as intel

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} · nordcert</title>
<style>
body{{font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1c2330;background:#f4f6f9}}
header{{background:#0f2740;color:#fff;padding:14px 32px;display:flex;gap:16px;align-items:baseline}}
header b{{font-size:18px}} header span{{opacity:.7}}
main{{max-width:960px;margin:24px auto;padding:0 24px}}
.card{{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:18px 22px;margin-bottom:18px}}
table{{border-collapse:collapse;width:100%}} td,th{{text-align:left;padding:6px 8px;border-bottom:1px solid #eef1f4}}
th{{font-weight:600;color:#4a5568}} a{{color:#0b5cad}} code{{background:#eef1f4;padding:1px 5px;border-radius:4px}}
.tlp{{background:#000;color:#fff;font-weight:700;padding:1px 6px;border-radius:3px;font-size:12px}}
</style></head><body>
<header><b>nordcert</b><span>{name}</span><span style="margin-left:auto">v{version}</span></header>
<main>
<div class="card"><h2 style="margin-top:0">Threat-intelligence sharing for the financial sector</h2>
<p>Members submit and consume STIX 2.1 intel under TLP 2.0 and sharing groups through the REST API.
Explore it in the <a href="/api/docs">interactive API documentation</a> (OpenAPI at <a href="/api/openapi.json"><code>/api/openapi.json</code></a>);
authenticate with <code>Authorization: Bearer TOKEN</code>.</p></div>
<div class="card"><h3 style="margin-top:0">Public intel <span class="tlp">TLP:CLEAR</span></h3>
<table><tr><th>STIX type</th><th>objects</th></tr>{rows}</table></div>
</main></body></html>"""


@router.get("/", response_class=HTMLResponse)
def home(conn: ReadConn, settings: SettingsDep) -> str:
    counts = intel.count_visible(conn, None)
    rows = "".join(
        f"<tr><td>{escape(t)}</td><td>{n:,}</td></tr>" for t, n in sorted(counts.items(), key=lambda kv: -kv[1])
    ) or "<tr><td colspan=2>No public intel yet.</td></tr>"
    return _PAGE.format(name=escape(settings.instance_name), version=__version__, rows=rows)


@router.get("/healthz")
def health(conn: ReadConn) -> dict[str, Any]:
    """Liveness and store connectivity: one trivial query, whatever the size of the store."""
    conn.exec_driver_sql("SELECT 1").scalar_one()
    return {"status": "ok", "version": __version__}
