"""The pages as they are run under their Content-Security-Policy: a browser walks the demo instance's pages
(every link of the site it finds, two levels deep) as CERT staff and as a member, and no script, style or
image is refused, no script fails, and the sector map's own script draws the map."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from nordcert.config import Settings
from nordcert.db import make_engine
from nordcert.demo.builder import build_demo
from tests.server import running_server

_SKIP = re.compile(r"^/(logout|static/|api/|feeds/|taxii2|advisories/feed)|\.(pdf|csv|json|txt|atom)$")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(home=tmp_path_factory.mktemp("csp") / "demo", instance_name="Nordic Financial CERT (demo)")
    build_demo(settings, progress=False)
    engine = make_engine(settings)
    with running_server(settings, engine) as url:
        yield url
    engine.dispose()


def _walk(browser: Any, url: str, email: str, password: str) -> tuple[list[str], list[str]]:
    """Pages visited, and every refusal or script error seen on them."""
    context = browser.new_context(base_url=url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    # Failed loads are caught by their responses below; the console's "Failed to load resource" also
    # counts the browser's own /favicon.ico, which the pages do not name.
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    page.on("response", lambda r: problems.append(f"{page.url}: {r.status} {r.url}") if r.status >= 400 else None)
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    seen: list[str] = []
    queue = ["/"]
    for depth in range(2):
        found: list[str] = []
        for path in queue:
            if path in seen or len(seen) >= 60:
                continue
            seen.append(path)
            page.goto(path)
            page.wait_for_load_state("load")
            if depth == 0 or len(found) < 200:
                for href in page.eval_on_selector_all("a[href^='/']", "els => els.map(e => e.getAttribute('href'))"):
                    target = urlsplit(href).path
                    if not _SKIP.search(target) and target not in seen and target not in found:
                        found.append(target)
        queue = found
    context.close()
    return seen, problems


def test_no_page_breaks_its_content_security_policy(chromium: Any, demo_url: str) -> None:
    for email, password in (("admin@nfcert.example", "demo-cert-admin"), ("soc@alphabank.example", "demo-alpha-soc")):
        seen, problems = _walk(chromium, demo_url, email, password)
        assert len(seen) >= 15 and "/sectormap" in seen, seen
        refused = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
        assert not refused, refused
        assert not problems, problems


def test_the_sector_maps_script_runs(chromium: Any, demo_url: str) -> None:
    context = chromium.new_context(base_url=demo_url)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill("admin@nfcert.example")
    page.get_by_label("Password").fill("demo-cert-admin")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/sectormap")
    page.wait_for_function("document.querySelectorAll('#map-svg *').length > 10")
    context.close()
