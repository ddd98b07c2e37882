"""The demo's resilience data: live countdowns (one report due, one overdue), and an exercise whose
situation picture members and CERT staff read through the same services as the web pages."""

from __future__ import annotations

from pathlib import Path

from nordcert.accounts.service import reader_for
from nordcert.config import Settings
from nordcert.crisis import picture
from nordcert.crisis.service import list_crises
from nordcert.db import make_engine, transaction
from nordcert.demo.builder import build_demo
from nordcert.incidents.service import list_incidents


def test_the_demo_has_incidents_due_and_overdue_and_an_exercise_in_progress(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "demo")
    build_demo(settings, progress=False)
    engine = make_engine(settings)
    try:
        with transaction(engine, write=False) as conn:
            admin = reader_for(conn, "admin@nfcert.example")
            found = {i["reference"]: i for i in list_incidents(conn, admin)}
            assert set(found) == {"ALPHA-2026-017", "NP-2026-004", "FJ-2026-031"}
            assert found["ALPHA-2026-017"]["major"] and not found["ALPHA-2026-017"]["overdue"]
            assert found["ALPHA-2026-017"]["next_due"]["kind"] == "intermediate_report"
            assert found["NP-2026-004"]["major"] and found["NP-2026-004"]["overdue"]
            assert not found["FJ-2026-031"]["major"]
            [exercise] = list_crises(conn, admin)
            assert exercise["is_exercise"] and exercise["status"] != "closed"
            staff = picture.situation_picture(conn, admin, exercise["id"])
            cards = next(a for a in staff["aggregate"] if a["service"] == "card_payments")
            assert cards["counts"]["degraded"] == 1 and cards["counts"]["operational"] == 3  # Nordpay recovering
            member = picture.situation_picture(conn, reader_for(conn, "soc@alphabank.example"), exercise["id"])
            assert member["members"] is None and member["own"] is not None
            changes = picture.changes_since_briefing(conn, admin, exercise["id"])
            assert changes["changes"]  # members reported after the briefing
    finally:
        engine.dispose()


def test_the_demo_sector_map_shows_the_cloud_concentration(tmp_path: Path) -> None:
    from nordcert.sectormap import views

    settings = Settings(home=tmp_path / "demo")
    build_demo(settings, progress=False)
    engine = make_engine(settings)
    try:
        with transaction(engine, write=False) as conn:
            staff = views.concentration_view(conn, reader_for(conn, "admin@nfcert.example"))
            top = staff["nodes"][0]
            assert top["node"]["name"] in ("Nordic Cloud AB", "Polar Hosting Helsinki DC1")
            assert top["members"] == 5 and top["function_share"] == 1.0
            member = views.concentration_view(conn, reader_for(conn, "soc@alphabank.example"))
            assert member["scope"] == "member" and "Boreal" not in str(member)
    finally:
        engine.dispose()
