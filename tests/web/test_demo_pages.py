"""Every page of the demo instance answers without error, each in under 200 ms of server time.

Server time is the ``Server-Timing: app;dur=`` header every page carries (measured in the server,
from the request to the answer's headers), so a loaded test machine's network and client do not
count. Each page is asked once to warm the process's caches (templates, the warninglist matcher),
then three times; the median is compared with the budget.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nordcert.accounts.service import reader_for
from nordcert.config import Settings
from nordcert.db import make_engine, transaction
from nordcert.demo.builder import USERS, build_demo
from nordcert.intel import service as intel
from nordcert.redteam import findings
from tests.server import running_server
from tests.web.conftest import chromium_path, csrf_of, screenshot

BUDGET_MS = 200.0
_TIMING = re.compile(r"app;dur=([0-9.]+)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    settings = Settings(home=tmp_path_factory.mktemp("demo") / "demo", instance_name="Nordic Financial CERT (demo)")
    info = build_demo(settings, progress=False)
    engine = make_engine(settings)
    with transaction(engine, write=False) as conn:
        def first(stype: str, **kw: Any) -> str:
            page = intel.list_objects(conn, None, settings, filters=intel.ObjectFilter(types=(stype,), **kw), limit=1)
            return str(page.objects[0]["object"]["id"])
        ids = {"report": first("report"), "attack-pattern": first("attack-pattern")}
        heron = info["redteam"]["alpha"]
        found = findings.list_findings(conn, reader=reader_for(conn, "admin@nfcert.example"), engagement_id=heron)
    ids["indicator"] = "indicator--00774073-87ca-59aa-a446-a7f604e6c3cb"
    ids |= {"open": str(info["baseline"]["open"]), "closed": str(info["baseline"]["closed"]), "heron": str(heron),
            "finding": str(found[0]["id"])}
    with running_server(settings, engine) as url:
        yield url, ids
    engine.dispose()


def _client(url: str, email: str | None) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30, headers={"Accept": "text/html"})
    if email is not None:
        password = next(u[4] for u in USERS if u[0] == email)
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"email": email, "password": password, "csrf": token})
        assert answer.status_code == 303, answer.text
    return client


def _server_ms(client: httpx.Client, path: str) -> float:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
    found = _TIMING.search(answer.headers.get("server-timing", ""))
    assert found, f"{path} has no Server-Timing header"
    return float(found.group(1))


def test_every_demo_page_answers_within_budget(demo: tuple[str, dict[str, str]]) -> None:
    url, ids = demo
    pages = {
        None: ["/", "/login", "/advisories", "/advisories/feed.atom", f"/objects/{ids['attack-pattern']}"],
        "soc@alphabank.example": [
            "/", "/?by=type", "/search", "/search?q=phishing", "/search?q=NO2258280258220", "/search?type=report&tlp=green",
            "/search?label=money-mule", "/submit", "/profile", "/advisories", f"/objects/{ids['indicator']}",
            f"/objects/{ids['report']}", f"/objects/{ids['attack-pattern']}"],
        "admin@nfcert.example": ["/", "/?by=type", "/admin", "/admin/audit", "/admin/audit?action=login.", "/search?q=203.0.113.77", f"/objects/{ids['indicator']}"],
        "soc@fennica.example": ["/", "/submit", f"/objects/{ids['indicator']}"],
        "risk@alphabank.example": [
            "/baseline", f"/baseline/campaigns/{ids['open']}", f"/baseline/campaigns/{ids['closed']}",
            f"/baseline/campaigns/{ids['closed']}/benchmark", f"/baseline/campaigns/{ids['closed']}/heatmap",
            f"/baseline/campaigns/{ids['closed']}/feedback", "/redteam", f"/redteam/{ids['heron']}",
            f"/redteam/{ids['heron']}/findings/{ids['finding']}", "/redteam/sector"],
        "supervision@fsa.example": ["/baseline", f"/baseline/campaigns/{ids['closed']}/benchmark?group=bank",
                                    "/redteam", f"/redteam/{ids['heron']}", "/redteam/sector"],
    }
    pages["admin@nfcert.example"] += [f"/baseline/campaigns/{ids['open']}/progress",
                                      f"/baseline/campaigns/{ids['closed']}/progress", "/redteam"]
    timings: dict[str, float] = {}
    for email, paths in pages.items():
        client = _client(url, email)
        try:
            for path in paths:
                _server_ms(client, path)  # warm-up
                timings[f"{email or 'visitor'} {path}"] = statistics.median(_server_ms(client, path) for _ in range(3))
        finally:
            client.close()
    report = "\n".join(f"{ms:7.1f} ms  {page}" for page, ms in sorted(timings.items(), key=lambda kv: -kv[1]))
    print("\nServer time per demo page (median of 3, after a warm-up):\n" + report)
    slow = {page: ms for page, ms in timings.items() if ms >= BUDGET_MS}
    assert not slow, report


def test_screenshots_of_the_demo(demo: tuple[str, dict[str, str]], chromium: Any) -> None:
    url, ids = demo
    context = chromium.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/")
    screenshot(page, "demo-home")
    page.goto("/login")
    page.get_by_label("Email").fill("soc@alphabank.example")
    page.get_by_label("Password").fill("demo-alpha-soc")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    screenshot(page, "demo-dashboard")
    for name, path in (("demo-object", f"/objects/{ids['indicator']}"), ("demo-search", "/search?q=mule"),
                       ("demo-submit", "/submit"), ("demo-advisories", "/advisories")):
        page.goto(path)
        screenshot(page, name)
    context.close()
    assert chromium_path() is not None and Path(__file__).parent.joinpath("screenshots", "demo-dashboard.png").exists()


def test_the_header_fits_one_line_at_1280_px_and_wraps_on_small_screens(
        demo: tuple[str, dict[str, str]], chromium: Any) -> None:
    url, ids = demo
    for email, password, links in (("admin@nfcert.example", "demo-cert-admin", 11),
                                   ("soc@alphabank.example", "demo-alpha-soc", 9)):
        context = chromium.new_context(base_url=url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/$"))
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"/baseline/campaigns/{ids['closed']}")
            header = page.evaluate("""() => {
                const h = document.querySelector('header.top');
                const tops = [...h.querySelectorAll('nav a')].map(a => Math.round(a.getBoundingClientRect().top));
                const box = h.getBoundingClientRect();
                return {height: box.height, width: h.scrollWidth, links: tops.length, rows: new Set(tops).size,
                        right: Math.max(...[...h.querySelectorAll('*')].map(e => e.getBoundingClientRect().right))};
            }""")
            assert header["links"] == links, header
            assert header["width"] <= width and header["right"] <= width, (email, width, header)
            if width == 1280:
                assert header["rows"] == 1 and header["height"] < 60, (email, header)
            page.get_by_role("button", name="Log out").wait_for()  # still there, and visible
            screenshot(page, f"demo-header-{email.split('@')[0]}-{width}")
        context.close()
