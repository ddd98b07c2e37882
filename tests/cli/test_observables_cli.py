"""The screening, warninglist and reindex commands, run as a real process against the test's store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.observables.tables import observables
from tests.factories import Member, indicator, make_member

IBAN = "NO9386011117947"
PAN = "5500005555555559"


class Cli:
    """``python -m nordcert`` on the test's instance, with a wide terminal so tables do not wrap."""

    def __init__(self, settings: Settings) -> None:
        self.env = {**os.environ, "NORDCERT_HOME": str(settings.home), "COLUMNS": "250", "NO_COLOR": "1"}
        if settings.database_url:
            self.env["NORDCERT_DATABASE_URL"] = settings.database_url

    def __call__(self, *args: str, ok: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "nordcert", *args], capture_output=True, text=True,
                              env=self.env, timeout=120, input=stdin, check=False)
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self(*args, "--json", stdin=stdin).stdout)


@pytest.fixture
def cli(settings: Settings, engine: Engine) -> Cli:
    return Cli(settings)


def _recent(value: str, **extra: Any) -> dict[str, Any]:
    return indicator(value, created="2026-11-01T00:00:00.000Z", modified="2026-11-01T00:00:00.000Z",
                     valid_from="2026-11-01T00:00:00Z", **extra)


def _store(engine: Engine, settings: Settings, member: Member, *objects: dict[str, Any], tlp: str = "green") -> None:
    with transaction(engine) as conn:
        ingest(conn, objects, submission_for(conn, member.reader, tlp=tlp), settings)


def _short(engine: Engine, member: Member) -> str:
    with transaction(engine, write=False) as conn:
        return str(accounts.get_organisation(conn, member.org_id)["short_name"])


@pytest.fixture
def two(engine: Engine, settings: Settings) -> tuple[Member, Member]:
    """alpha reported a Tor exit node and a mule IBAN (TLP:GREEN); boreal asks."""
    alpha, boreal = make_member(engine), make_member(engine)
    _store(engine, settings, alpha, _recent("185.220.101.7", name="Tor exit"),
           indicator(pattern=f"[x-bank-account:iban = '{IBAN}']", name="Mule account",
                     created="2026-11-01T00:00:00.000Z", modified="2026-11-01T00:00:00.000Z",
                     valid_from="2026-11-01T00:00:00Z"))
    return alpha, boreal


def test_lookup_prints_a_table(cli: Cli, engine: Engine, two: tuple[Member, Member]) -> None:
    alpha, boreal = two
    out = cli("lookup", "185.220.101.7", "192.0.2.99", "NO93 8601 1117 948", "--as", boreal.email).stdout
    lines = out.splitlines()
    hit = next(line for line in lines if "185.220.101.7" in line)
    assert "ipv4" in hit and "yes" in hit and f"indicator Tor exit (green, {_short(engine, alpha)}" in hit
    miss = next(line for line in lines if "192.0.2.99" in line)
    assert " no " in miss
    bad = next(line for line in lines if "NO93 8601 1117 948" in line)
    assert "error" in bad and "not a value of any kind we index" in bad
    assert lines[-1] == "3 values, 1 matched, 1 errors"


def test_lookup_json(cli: Cli, two: tuple[Member, Member]) -> None:
    _alpha, boreal = two
    answer = cli.json("lookup", "185.220.101.7", "NO93 8601 1117 947", "192.0.2.99", "--as", boreal.email)
    assert [(r["kind"], r["value"], r["found"]) for r in answer["results"]] == [
        ("ipv4", "185.220.101.7", True), ("iban", IBAN, True), ("ipv4", "192.0.2.99", False)]
    assert [m["name"] for m in answer["results"][1]["matches"]] == ["Mule account"]
    assert answer["summary"] == {"values": 3, "matched": 2, "errors": 0}


def test_lookup_reads_values_from_a_file_and_from_stdin(cli: Cli, two: tuple[Member, Member], tmp_path: Path) -> None:
    _alpha, boreal = two
    listing = tmp_path / "values.txt"
    listing.write_text("# screening batch 2026-11-23\n185.220.101.7\n\n  NO93 8601 1117 947  \n192.0.2.99\n",
                       encoding="utf-8")
    from_file = cli.json("lookup", "--file", str(listing), "--as", boreal.email)
    assert [(r["input"], r["found"]) for r in from_file["results"]] == [
        ("185.220.101.7", True), ("NO93 8601 1117 947", True), ("192.0.2.99", False)]
    from_stdin = cli.json("lookup", "198.51.100.200", "--file", "-", "--as", boreal.email,
                          stdin="185.220.101.7\n192.0.2.99\n")
    assert [(r["input"], r["found"]) for r in from_stdin["results"]] == [
        ("198.51.100.200", False), ("185.220.101.7", True), ("192.0.2.99", False)]


def test_lookup_with_a_kind_and_a_card_number(cli: Cli, two: tuple[Member, Member]) -> None:
    _alpha, boreal = two
    typed = cli.json("lookup", "NO93 8601 1117 948", "NO93 8601 1117 947", "--kind", "iban", "--as", boreal.email)
    assert [r.get("error") for r in typed["results"]] == ["invalid iban: check digits do not match", None]
    assert typed["results"][1]["found"] is True
    done = cli("lookup", PAN, "--as", boreal.email, "--json")
    assert PAN not in done.stdout and PAN not in done.stderr
    assert json.loads(done.stdout)["results"][0]["input"] == "550000…5559"


def test_lookup_errors_are_one_line(cli: Cli, two: tuple[Member, Member]) -> None:
    _alpha, boreal = two
    no_user = cli("lookup", "185.220.101.7", ok=False)
    assert no_user.returncode == 1
    assert no_user.stderr.strip().splitlines() == ["error: give the user asking with --as EMAIL"]
    nothing = cli("lookup", "--as", boreal.email, ok=False)
    assert (nothing.returncode, nothing.stderr.strip()) == (1, "error: give values to look up, or --file")


def test_warninglist_load_list_disable_enable_remove(cli: Cli, engine: Engine, settings: Settings,
                                                      two: tuple[Member, Member]) -> None:
    _alpha, boreal = two
    loaded = cli.json("warninglist", "load")
    assert len(loaded) == 46
    rfc1918 = next(w for w in loaded if w["name"] == "rfc1918")
    assert rfc1918 == {"name": "rfc1918", "version": "5", "type": "cidr", "kinds": ["cidr", "ipv4", "ipv6"],
                       "entries": 3}
    again = cli("warninglist", "load").stdout
    assert "46 warninglists loaded" in again
    listed = cli.json("warninglist", "list")
    assert [w["name"] for w in listed] == sorted(w["name"] for w in loaded)
    assert all(w["enabled"] is True for w in listed)

    def flags(value: str) -> list[str]:
        return cli.json("lookup", value, "--as", boreal.email)["results"][0]["warninglists"]  # type: ignore[no-any-return]

    assert flags("10.1.2.3") == ["rfc1918", "rfc5735"]
    assert cli("warninglist", "disable", "rfc1918").stdout.strip() == "disabled rfc1918"
    assert {w["name"]: w["enabled"] for w in cli.json("warninglist", "list")}["rfc1918"] is False
    assert flags("10.1.2.3") == ["rfc5735"]
    assert cli("warninglist", "enable", "rfc1918").stdout.strip() == "enabled rfc1918"
    assert flags("10.1.2.3") == ["rfc1918", "rfc5735"]
    assert cli("warninglist", "remove", "rfc5735").stdout.strip() == "removed rfc5735"
    assert flags("10.1.2.3") == ["rfc1918"]
    assert len(cli.json("warninglist", "list")) == 45
    missing = cli("warninglist", "disable", "no-such-list", ok=False)
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: no warninglist 'no-such-list'")


def test_warninglist_load_from_a_path(cli: Cli, tmp_path: Path, two: tuple[Member, Member]) -> None:
    _alpha, boreal = two
    folder = tmp_path / "lists" / "our-payment-providers"
    folder.mkdir(parents=True)
    (folder / "list.json").write_text(json.dumps({
        "name": "Known payment providers", "version": 2, "description": "Our PSPs' IBANs", "type": "string",
        "list": [IBAN], "matching_attributes": ["iban"]}), encoding="utf-8")
    loaded = cli.json("warninglist", "load", str(tmp_path / "lists"))
    assert loaded == [{"name": "our-payment-providers", "version": "2", "type": "string", "kinds": ["iban"],
                       "entries": 1}]
    flagged = cli.json("lookup", "NO93 8601 1117 947", "--as", boreal.email)["results"][0]
    assert (flagged["found"], flagged["warninglists"]) == (True, ["our-payment-providers"])
    single = tmp_path / "resolvers.json"
    single.write_text(json.dumps({"name": "Resolvers", "version": "1", "description": "d", "type": "cidr",
                                  "list": ["185.220.101.0/24"], "matching_attributes": ["ip-dst"]}), encoding="utf-8")
    assert [w["name"] for w in cli.json("warninglist", "load", str(single))] == ["resolvers"]
    assert [w["name"] for w in cli.json("warninglist", "list")] == ["our-payment-providers", "resolvers"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"name": "x", "version": 1, ', "not valid JSON"),
        ('{"name": "x", "version": 1, "description": "d", "type": "string"}', "missing field 'list'"),
        ('{"name": "x", "version": 1, "description": "d", "type": "fuzzy", "list": []}', "unknown type 'fuzzy'"),
        ('{"name": "x", "version": 1, "description": "d", "type": "cidr", "list": ["10.0.0.0/33"]}',
         "entry 0 ('10.0.0.0/33') is not an IP network"),
    ],
)
def test_a_bad_warninglist_file_is_one_error_line_naming_it(cli: Cli, tmp_path: Path, content: str,
                                                            problem: str) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text(content, encoding="utf-8")
    done = cli("warninglist", "load", str(bad), ok=False)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {bad}: ") and problem in line
    assert cli.json("warninglist", "list") == []
    nowhere = cli("warninglist", "load", str(tmp_path / "missing.json"), ok=False)
    assert nowhere.returncode == 1 and str(tmp_path / "missing.json") in nowhere.stderr
    assert len(nowhere.stderr.strip().splitlines()) == 1


def test_reindex(cli: Cli, engine: Engine, settings: Settings, two: tuple[Member, Member]) -> None:
    alpha, _boreal = two
    _store(engine, settings, alpha, _recent("10.1.2.3"),
           indicator(pattern="[x-bank-account:iban = 'NO93 8601 1117 948']"))
    with transaction(engine, write=False) as conn:
        before = set(map(tuple, conn.execute(select(observables)).all()))
        assert all(row[3] is None for row in before)
    done = cli.json("reindex")
    assert done == {"objects": 4, "observables": 3, "sightings": 0, "warnings": 1}
    with transaction(engine) as conn:
        assert set(map(tuple, conn.execute(select(observables)).all())) == before
    cli("warninglist", "load")
    text = cli("reindex").stdout
    assert "4 objects, 3 observables, 0 sightings indexed; 1 values not indexed" in text
    with transaction(engine, write=False) as conn:
        flags = {r.value: r.warninglists for r in conn.execute(select(observables.c.value, observables.c.warninglists))}
    assert flags == {"10.1.2.3": "rfc1918,rfc5735", "185.220.101.7": None, IBAN: None}
