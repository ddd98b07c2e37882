"""The demo's baseline campaigns, red-team tests and blinded fraud data: what journey 6 (steps 4 and 5) and the
fraud analyst's blinded sharing need to be walked in the demo, read through the services and a real server.

The demo is built once for the module, on PostgreSQL when NORDCERT_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from nordcert.accounts.service import reader_for
from nordcert.baseline import answers, benchmark, campaigns, feedback, heatmap
from nordcert.config import Settings
from nordcert.db import make_engine, transaction
from nordcert.demo import baseline as demo_baseline
from nordcert.demo.builder import USERS, _journeys, build_demo
from nordcert.demo.privacy import KEYRING, SHARED_IBAN, mule_ibans
from nordcert.errors import Conflict, NotFound
from nordcert.observables.service import lookup
from nordcert.privacy import keys
from nordcert.privacy.blinding import Keyring, lookup_items
from nordcert.redteam import findings, sector
from nordcert.redteam import service as redteam
from tests.conftest import POSTGRES_URL, _pg_url_with_schema
from tests.server import running_server
from tests.web.conftest import csrf_of

README = (Path(__file__).parents[1] / "README.md").read_text()
ALPHA, ALPHA_SOC, FSA, ADMIN = ("risk@alphabank.example", "soc@alphabank.example", "supervision@fsa.example",
                                "admin@nfcert.example")


@dataclass
class Demo:
    settings: Settings
    engine: Engine
    info: dict[str, Any]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("demo") / "demo"
    schema = "t_" + uuid.uuid4().hex[:16]
    if POSTGRES_URL:
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        settings = Settings(home=home, database_url=_pg_url_with_schema(POSTGRES_URL, schema))
    else:
        settings = Settings(home=home)
    info = build_demo(settings, progress=False)
    engine = make_engine(settings)
    try:
        yield Demo(settings, engine, info)
    finally:
        engine.dispose()
        if POSTGRES_URL:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


# --- the baseline -------------------------------------------------------------------------------------------------


def test_the_closed_campaign_was_answered_by_every_member_and_the_open_one_by_alpha_in_part(demo: Demo) -> None:
    closed, opened = demo.info["baseline"]["closed"], demo.info["baseline"]["open"]
    with transaction(demo.engine, write=False) as conn:
        staff = reader_for(conn, ADMIN)
        found = {c["id"]: c for c in campaigns.list_campaigns(conn, reader=staff)}
        assert found[closed]["status"] == "closed" and found[opened]["status"] == "open"
        assert not found[opened]["overdue"]
        done = campaigns.progress(conn, reader=staff, campaign_id=closed)
        assert done["counts"] == {"not_started": 0, "draft": 0, "submitted": done["total_members"]}
        assert done["counts"]["submitted"] >= demo.settings.baseline_min_group
        now = campaigns.progress(conn, reader=staff, campaign_id=opened)
        assert now["counts"]["draft"] == 1 and now["counts"]["submitted"] == 0
        assert now["counts"]["not_started"] == now["total_members"] - 1
        [draft] = [m for m in now["members"] if m["state"] == "draft"]
        assert draft["organisation"]["short_name"] == "ALPHA"
        assert 0.3 * draft["total"] <= draft["answered"] <= 0.7 * draft["total"]
        # the form as Alpha's SOC sees it: the draft's answers, and the controls left open
        mine = answers.get_response(conn, reader=reader_for(conn, ALPHA_SOC), campaign_id=opened)
        assert mine["status"] == "draft" and mine["unanswered"] and mine["answered"] == draft["answered"]


def test_the_answers_are_varied_with_reasons_and_evidence(demo: Demo) -> None:
    closed = demo.info["baseline"]["closed"]
    with transaction(demo.engine, write=False) as conn:
        staff = reader_for(conn, ADMIN)
        members = campaigns.progress(conn, reader=staff, campaign_id=closed)["members"]
        overall: list[float] = []
        not_applicable = 0
        for m in members:
            response = answers.get_response(conn, reader=staff, campaign_id=closed,
                                            organisation_id=m["organisation"]["id"])
            given = list(response["answers"].values())
            levels = [a["maturity"] for a in given if not a["not_applicable"]]
            assert len(set(levels)) >= 3, m["organisation"]["name"]  # a spread, not one level for everything
            overall.append(sum(levels) / len(levels))
            for a in given:
                if a["not_applicable"]:
                    not_applicable += 1
                    assert len(a["comment"]) > 20  # the member says why
                elif a["maturity"] > 0:
                    assert a["evidence"]
    assert not_applicable == len(demo_baseline.NOT_APPLICABLE)
    assert max(overall) - min(overall) > 0.5  # members differ


def test_the_benchmark_and_heat_map_show_figures_for_the_sector_and_the_banks(demo: Demo) -> None:
    closed, opened = demo.info["baseline"]["closed"], demo.info["baseline"]["open"]
    k = demo.settings.baseline_min_group
    with transaction(demo.engine, write=False) as conn:
        alpha = reader_for(conn, ALPHA_SOC)
        view = benchmark.benchmark_view(conn, reader=alpha, campaign_id=closed, min_group=k)
        assert view["overall"]["sector"]["suppressed"] is None and view["overall"]["sector"]["n"] >= k
        assert view["overall"]["by_type"]["bank"]["suppressed"] is None
        assert view["overall"]["own"]["value"] is not None
        rows = {c["id"]: c for d in view["domains"] for c in d["controls"]}
        assert all(d["sector"]["median"] is not None for d in view["domains"])
        # a member whose type stands alone answered "not applicable": the banks are withheld in those rows
        for control in {c for _org, c in demo_baseline.NOT_APPLICABLE}:
            assert rows[control]["by_type"]["bank"]["suppressed"] == benchmark.COMPLEMENTARY
        assert sum(r["by_type"]["bank"]["suppressed"] is None for r in rows.values()) >= 40
        authority = reader_for(conn, FSA)
        hm = heatmap.heatmap_view(conn, reader=authority, campaign_id=closed, min_group=k)
        cells = [r["sector"] for f in hm["frameworks"] for ch in f["chapters"] for r in ch["rows"]]
        assert cells and all(c["coverage"] is not None for c in cells)
        report = feedback.feedback_view(conn, reader=alpha, campaign_id=closed, organisation_id=None, min_group=k)
        assert report["organisation"]["short_name"] == "ALPHA" and report["recommendations"]
        with pytest.raises(Conflict):
            benchmark.benchmark_view(conn, reader=alpha, campaign_id=opened, min_group=k)


# --- red-team tests -----------------------------------------------------------------------------------------------


def test_alphas_tlpt_is_seen_by_its_control_team_and_the_authority_only(demo: Demo) -> None:
    heron = demo.info["redteam"]["alpha"]
    with transaction(demo.engine, write=False) as conn:
        team = reader_for(conn, ALPHA)
        test = redteam.get_engagement(conn, reader=team, engagement_id=heron)
        assert test["organisation"]["short_name"] == "ALPHA" and test["framework"] == "dora_tlpt"
        assert test["phase"] == "remediation_plan" and test["may_change"]
        earlier = [p for p in test["phases"] if p["done"]]
        assert [p["key"] for p in earlier][-1] == "test_summary_report"
        assert all(p["actual_start"] and p["actual_end"] for p in earlier if not p["optional"])
        assert test["providers"]["ti_provider"] and test["providers"]["rt_provider_kind"] == "external"
        linked = {r["user"]["email"] for r in test["roles"] if r["user"]}
        assert linked == {ALPHA, "ciso@alphabank.example"}
        assert {r["role"] for r in test["roles"]} >= {"control_team_lead", "test_manager", "ti_provider",
                                                       "rt_provider"}
        assert test["progress"]["overdue"] >= 1
        found = findings.list_findings(conn, reader=team, engagement_id=heron)
        assert 5 <= len(found) <= 8
        assert len({f["category"] for f in found}) >= 4 and len({f["severity"] for f in found}) >= 3
        assert all(f["measures"] for f in found)
        for outsider in (ALPHA_SOC, "fraud@borealbank.example", "soc@sjostad.example"):
            reader = reader_for(conn, outsider)
            assert redteam.list_engagements(conn, reader=reader) == []
            with pytest.raises(NotFound):
                redteam.get_engagement(conn, reader=reader, engagement_id=heron)
        authority = {t["name"]: t for t in redteam.list_engagements(conn, reader=reader_for(conn, FSA))}
        assert heron in {t["id"] for t in authority.values()}
        falcon = authority["Falcon"]
        assert falcon["framework"] == "tiber_eu" and falcon["status"] == "attested"
        assert falcon["organisation"]["short_name"] == "NORDPAY"
        assert falcon["next_deadline"]["key"] == "next_test" and falcon["next_deadline"]["state"] == "pending"


def test_the_sectors_findings_are_shown(demo: Demo) -> None:
    k = demo.settings.baseline_min_group
    with transaction(demo.engine, write=False) as conn:
        view = sector.sector_findings(conn, reader=reader_for(conn, "soc@sjostad.example"), min_group=k)
        assert not view["suppressed"] and view["members"] >= k and view["findings"]
        shown = [c for c in view["categories"] if not c["suppressed"] and c["total"]]
        assert shown and any(n for c in shown for n in c["counts"].values())
        assert any(c["suppressed"] for c in view["categories"])  # small groups are withheld
        own = sector.sector_findings(conn, reader=reader_for(conn, ALPHA), min_group=k)["own"]
        assert own is not None and sum(sum(s.values()) for s in own.values()) == 7


def test_the_banner_says_why_a_sector_view_is_suppressed(demo: Demo) -> None:
    assert "suppressed" not in demo.info["banner"]
    strict = demo.settings.model_copy(update={"baseline_min_group": 13})
    lines = "\n".join(_journeys(strict, demo.info["baseline"], demo.info["redteam"], demo.info["privacy"]))
    assert "red-team findings are suppressed: 5 members" in lines
    assert "benchmark is suppressed: 12 members submitted" in lines


# --- blinded fraud data -------------------------------------------------------------------------------------------


def test_a_blinded_lookup_finds_the_blinded_and_the_clear_submission(demo: Demo) -> None:
    path = demo.settings.home / KEYRING
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = Keyring.load(path)
    boreal, alpha = mule_ibans()
    assert SHARED_IBAN in boreal and SHARED_IBAN in alpha
    with transaction(demo.engine, write=False) as conn:
        registered = keys.get_key(conn, ring.current_id)
        assert registered["active"] and registered["check_value"] == ring.current.check_value
        sjostad = reader_for(conn, "soc@sjostad.example")
        [blinded] = lookup(conn, sjostad, demo.settings, lookup_items([SHARED_IBAN], ring))["results"]
        assert blinded["found"] and blinded["reporting_members"] == 2
        assert len(blinded["matches"]) == 2
        [clear] = lookup(conn, sjostad, demo.settings, [SHARED_IBAN])["results"]
        assert len(clear["matches"]) == 1  # Alpha's: the platform cannot link Boreal's blinded one
        only_boreal = next(v for v in boreal if v not in alpha)
        assert lookup(conn, sjostad, demo.settings, [only_boreal])["results"][0]["matches"] == []
        assert lookup(conn, sjostad, demo.settings, lookup_items([only_boreal], ring))["results"][0]["found"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the banner's lookup is written for curl")
def test_the_banners_blinded_lookup_works_as_printed(demo: Demo) -> None:
    [command] = [line.strip() for line in demo.info["banner"].splitlines() if "nordcert blind lookup" in line]
    with running_server(demo.settings, demo.engine) as url:
        runnable = command.replace("nordcert blind", f"{sys.executable} -m nordcert blind", 1) \
            .replace("http://127.0.0.1:8000", url)
        done = subprocess.run(["bash", "-c", runnable], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)["results"]
    assert result["kind"] == "blinded" and len(result["matches"]) == 2


def test_the_readme_names_the_demo_users_and_the_shared_value() -> None:
    section = README[README.index("## The demo\n"):README.index("\n## ", README.index("## The demo\n") + 1)]
    for email, _name, _org, _role, token in USERS:
        assert f"`{token}` | {email} |" in section, email
    assert f"nordcert blind lookup {SHARED_IBAN} --keyring nordcert-demo/{KEYRING}" in section


# --- the pages link to figures only when they answer --------------------------------------------------------------


@contextmanager
def _logged_in(url: str, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30, headers={"Accept": "text/html"}) as client:
        password = next(u[4] for u in USERS if u[0] == email)
        answer = client.post("/login", data={"email": email, "password": password,
                                             "csrf": csrf_of(client.get("/login").text)})
        assert answer.status_code == 303, answer.text
        yield client


_FIGURES = re.compile(r'href="(/baseline/campaigns/\d+/(?:benchmark|heatmap|feedback))"')


def test_campaign_pages_link_the_figures_only_where_they_answer(demo: Demo) -> None:
    closed, opened = demo.info["baseline"]["closed"], demo.info["baseline"]["open"]
    expected = {  # the figure pages each reader finds linked from /baseline and both campaigns' pages
        ADMIN: {f"/baseline/campaigns/{c}/{p}" for c in (closed, opened) for p in ("benchmark", "heatmap", "feedback")},
        FSA: {f"/baseline/campaigns/{closed}/{p}" for p in ("benchmark", "heatmap")},
        ALPHA: {f"/baseline/campaigns/{closed}/{p}" for p in ("benchmark", "heatmap", "feedback")},
    }
    with running_server(demo.settings, demo.engine) as url:
        for email, want in expected.items():
            with _logged_in(url, email) as client:
                linked: set[str] = set()
                for page in ("/baseline", f"/baseline/campaigns/{closed}", f"/baseline/campaigns/{opened}"):
                    answer = client.get(page)
                    assert answer.status_code == 200, (email, page)
                    linked |= set(_FIGURES.findall(answer.text))
                assert linked == want, email
                for href in linked:
                    assert client.get(href).status_code == 200, (email, href)
            # what is not linked is refused: the open campaign's figures to the authority, its reports always
        with _logged_in(url, FSA) as client:
            assert client.get(f"/baseline/campaigns/{opened}/benchmark").status_code == 409
            assert client.get(f"/baseline/campaigns/{closed}/feedback").status_code == 403
