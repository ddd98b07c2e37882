"""The demo's sector map: five members' critical functions, the systems and ICT services behind them, the
shared infrastructure, a sector risk with measures and this year's concerns survey, all entered through the
services as CERT staff and members would enter them.

The picture it paints is the forum's journey: most members' payment functions run on one cloud provider
("Nordic Cloud AB", made up), so the concentration page and "what if it is down" have something to say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from nordcert.accounts import service as accounts
from nordcert.sectormap import registry, risks, shared, survey

_CLOUD = {"name": "Nordic Cloud AB", "country": "SE"}


def _node(conn: Connection, email: str, kind: str, **values: Any) -> str:
    out = registry.create_node(conn, accounts.reader_for(conn, email), kind, values=values)
    return str(out["node_id"])


def build(conn: Connection, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    admin = accounts.reader_for(conn, "admin@nfcert.example")
    infra = {
        key: str(shared.create_infrastructure(conn, admin, values=values)["node_id"])
        for key, values in {
            "rix": {"name": "RIX-INST", "kind": "payment_system", "operator": "Sveriges Riksbank", "country": "SE"},
            "switch": {"name": "Nordic card switch", "kind": "payment_system", "country": "DK"},
            "dc": {"name": "Polar Hosting Helsinki DC1", "kind": "data_centre", "country": "FI"},
            "net": {"name": "Baltic Fibre backbone", "kind": "network_provider", "country": "FI"},
        }.items()
    }
    members = [
        ("soc@alphabank.example", "Alpha", [("payments", "instant payments"), ("card_processing", "card issuing"),
                                            ("online_banking", "online banking")]),
        ("fraud@borealbank.example", "Boreal", [("payments", "giro payments"), ("lending", "mortgage lending")]),
        ("soc@sjostad.example", "Sjöstad", [("payments", "Swish payments"), ("deposits", "deposit accounts")]),
        ("ops@nordpay.example", "Nordpay", [("payments", "clearing and settlement"),
                                            ("card_processing", "card acquiring")]),
        ("risk@fjord.example", "Fjord", [("insurance", "claims handling")]),
    ]
    functions = 0
    for index, (email, short, processes) in enumerate(members):
        cloud = _node(conn, email, "service", name=f"{short} cloud tenancy", provider=_CLOUD, service_type="S17",
                      critical=True, depends_on=[infra["dc"]])
        core_provider = {"name": "Baltic Core Banking Oy", "country": "FI"} if index % 2 else {
            "name": f"{short} Group IT", "country": "DK"}
        core = _node(conn, email, "service", name=f"{short} core banking operations", provider=core_provider,
                     service_type="S14", critical=True, depends_on=[infra["net"]])
        hub = _node(conn, email, "system", name=f"{short} core platform", depends_on=[cloud, core])
        for category, name in processes:
            deps = [hub]
            if category == "payments":
                deps.append(infra["rix"])
            if category == "card_processing":
                deps.append(infra["switch"])
            _node(conn, email, "process", name=f"{short} {name}", category=category, critical=True,
                  depends_on=deps)
            functions += 1
    risk = risks.create_risk(
        conn, admin, title="Concentration of payment functions on one cloud provider", category="concentration",
        likelihood=3, impact=5, now=now - timedelta(days=60),
        description="Most members' payment functions run on Nordic Cloud AB; an outage of its Nordic region "
                    "would stop instant payments sector-wide.")
    risks.add_measure(conn, admin, risk["id"], title="Exit and fail-over plans for the cloud tenancy",
                      owner_organisation="NORDPAY", status="in_progress", due_on=(now + timedelta(days=45)).date(),
                      now=now - timedelta(days=50))
    risks.add_measure(conn, admin, risk["id"], title="Joint exercise of a cloud region outage",
                      owner_organisation="NFCERT", status="planned", due_on=(now + timedelta(days=120)).date(),
                      now=now - timedelta(days=40))
    year = now.year
    opened = survey.open_survey(conn, admin, year=year, now=now - timedelta(days=20), topics=[
        "Concentration on cloud providers", "Ransomware at an ICT supplier", "DDoS on payment services",
        "Fraud with instant payments", "Geopolitical disruption of subsea cables"])
    topic_ids = [t["id"] for t in opened["topics"]]
    for email, ranking in (("soc@alphabank.example", [0, 2, 3]), ("fraud@borealbank.example", [3, 0, 1]),
                           ("soc@sjostad.example", [0, 3, 4])):
        survey.submit_response(conn, accounts.reader_for(conn, email), year, ranking=[topic_ids[i] for i in ranking],
                               now=now - timedelta(days=10))
    return {"functions": functions, "risks": 1}
