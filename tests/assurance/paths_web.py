"""The web pages as one reader (a real session cookie): search, search for a value, the object page of
every object, the dashboard (latest intel, most correlated values, new values by kind and TLP); and
for visitors without a log-in the front page, the public advisories and their Atom feed."""

from __future__ import annotations

import html
import re
from collections import defaultdict

import httpx

from tests.assurance.build import Built, User
from tests.assurance.checks import creator_label, no_leak, same_set
from tests.assurance.oracle import Oracle
from tests.assurance.paths_feeds import indexed
from tests.assurance.world import POOL

_LINK = re.compile(r'href="(?:[^"]*)/objects/([a-z0-9-]+--[0-9a-f-]{36})"')
_CREATOR = re.compile(r"from <strong>([^<]*)</strong>")
_CORRELATED = re.compile(r'<tr><td>([a-z0-9]+)</td><td><a href="/search\?q=[^"]*"><code>([^<]*)</code></a></td>'
                         r'<td class="num">(\d+)</td><td class="num">(\d+)</td></tr>')
_REPORTED = re.compile(r"reported by (\d+) members?(?: \((\d+) you cannot see\))?")
TLPS = ("clear", "green", "amber", "amber+strict", "red")


def _page(http: httpx.Client, user: User | None, oracle: Oracle, url: str, **params: str) -> httpx.Response:
    cookie = {"Cookie": f"nordcert_session={user.session}"} if user is not None and user.session else {}
    answer = http.get(url, params=params, headers=cookie)
    text = answer.text
    if params.get("q"):  # the search form shows back what was asked
        text = text.replace(params["q"], "").replace(html.escape(params["q"]), "")
    no_leak(text, oracle, f"page {url}")
    return answer


def _linked(built: Built, text: str) -> list[int]:
    return [built.index_of(sid) for sid in _LINK.findall(text) if sid in built.stix_ids]


def check(http: httpx.Client, built: Built, user: User | None, oracle: Oracle) -> None:
    if user is None:
        _visitor(http, built, oracle)
    else:
        _member(http, built, user, oracle)
    for i in range(len(built.world.objects)):
        answer = _page(http, user, oracle, f"/objects/{built.stix_ids[i]}")
        latest = oracle.latest(i)
        if not oracle.sees(i, latest):
            assert answer.status_code == 404, f"page of object {i} as {oracle.who}: {answer.status_code}"
            continue
        assert answer.status_code == 200, f"page of object {i} as {oracle.who}: {answer.status_code}"
        shown = _CREATOR.search(answer.text)
        assert shown is not None, f"page of object {i} names no creator"
        creator_label(built, oracle, i, latest, html.unescape(shown.group(1)), f"page of object {i}")
    for i, spec in enumerate(built.world.objects):
        for v in range(len(spec.versions) if len(spec.versions) > 1 else 0):
            answer = _page(http, user, oracle, f"/objects/{built.stix_ids[i]}", version=str(built.modified[(i, v)]))
            expected = 200 if oracle.sees(i, v) else 404
            assert answer.status_code == expected, (f"page of object {i} version {v} as {oracle.who}: "
                                                    f"{answer.status_code}, latest visible: {oracle.sees(i, oracle.latest(i))}")


def _visitor(http: httpx.Client, built: Built, oracle: Oracle) -> None:
    assert _page(http, None, oracle, "/search").status_code == 303, "search without a log-in"
    reports = oracle.latest_visible(kinds=("report",))
    for url in ("/advisories", "/advisories/feed.atom"):
        answer = _page(http, None, oracle, url)
        assert answer.status_code == 200, f"{url} for a visitor: {answer.status_code}"
        same_set(_linked(built, answer.text), reports, oracle, url)
    answer = _page(http, None, oracle, "/")
    newest = sorted(reports, key=lambda i: -built.seq[(i, oracle.latest(i))])[:5]  # the front page shows five
    assert _linked(built, answer.text) == newest, "the front page's advisories"


def _member(http: httpx.Client, built: Built, user: User, oracle: Oracle) -> None:
    answer = _page(http, user, oracle, "/search")
    assert answer.status_code == 200, f"/search as {oracle.who}: {answer.status_code}"
    same_set(_linked(built, answer.text), oracle.latest_visible(), oracle, "/search")
    for p, (_kind, value, _path) in enumerate(POOL):
        answer = _page(http, user, oracle, "/search", q=value)
        holders = oracle.holders(p)
        same_set(_linked(built, answer.text), oracle.matches_of(holders), oracle, f"/search?q={value}")
        said = _REPORTED.search(answer.text)
        assert said is not None, f"/search?q={value} as {oracle.who} says nothing of reporting members"
        got = (int(said.group(1)), int(said.group(2) or 0))
        assert got == oracle.members(holders), f"/search?q={value} as {oracle.who}: members {got}"
    answer = _page(http, user, oracle, "/", by="kind")
    assert answer.status_code == 200, f"dashboard as {oracle.who}: {answer.status_code}"
    latest = sorted(oracle.latest_visible(kinds=("indicator", "report")),
                    key=lambda i: -built.seq[(i, oracle.latest(i))])[:8]
    assert _linked(built, answer.text) == latest, f"dashboard as {oracle.who}: latest intel"
    correlated = {(m[0], html.unescape(m[1]), int(m[2]), int(m[3])) for m in _CORRELATED.findall(answer.text)}
    assert correlated == _correlated(oracle), f"dashboard as {oracle.who}: most correlated values {correlated}"
    day = _breakdown(answer.text, "h-day")
    assert day == _new_values(built, oracle), f"dashboard as {oracle.who}: new values by kind and TLP {day}"


def _correlated(oracle: Oracle) -> set[tuple[str, str, int, int]]:
    """Values held by objects of at least two members the reader may count, and by one it may see."""
    out = set()
    for p, (kind, value, _path) in enumerate(POOL):
        holders = oracle.holders(p)
        seen = oracle.matches_of(holders)
        counted, _others = oracle.members(holders)
        if seen and counted >= 2:
            out.add((kind, value, counted, len(seen)))
    return out


def _breakdown(text: str, section: str) -> dict[str, dict[str, int]]:
    """The "as a table" counts of a dashboard section: kind -> TLP -> count."""
    part = text.split(f'id="{section}"', 1)[1].split("</table>", 1)[0]
    out = {}
    for kind, cells in re.findall(r"<tr><td>([a-z0-9-]+)</td>((?:<td class=\"num\">\d+</td>)+)</tr>", part):
        counts = [int(n) for n in re.findall(r"\d+", cells)]
        out[kind] = {t: n for t, n in zip(TLPS, counts, strict=True) if n}
    return out


def _new_values(built: Built, oracle: Oracle) -> dict[str, dict[str, int]]:
    """Distinct values the reader may see, by kind and the TLP of an object holding them."""
    values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for kind, value, i in indexed(built, oracle):
        tlp = built.world.objects[i].versions[-1].share.tlp.label
        values[kind][tlp].add(value)
    return {k: {t: len(v) for t, v in by.items()} for k, by in values.items()}
