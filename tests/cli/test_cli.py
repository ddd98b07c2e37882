"""The operator's command line, run as a real process against the test's store."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.db import transaction
from tests.cli.conftest import Cli, count_objects
from tests.factories import bundle, indicator


def test_onboarding_a_member(cli: Cli, engine: Engine) -> None:
    assert cli.json("init")["status"] == "ready"
    org = cli.json("org", "add", "Lille Sparekasse", "--country", "dk", "--type", "bank", "--short", "LILLE")
    assert org["short_name"] == "LILLE" and org["country"] == "DK"
    assert "Lille Sparekasse" in cli("org", "list").stdout
    user = cli.json("user", "add", "soc@lille.example", "--org", "LILLE", "--role", "analyst")
    assert user["organisation"] == "Lille Sparekasse"
    token = cli("token", "create", "soc@lille.example").stdout
    assert token.count("\n") == 1 and token.startswith("nct_")
    with transaction(engine, write=False) as conn:
        assert credentials.authenticate(conn, token.strip()).email == "soc@lille.example"
    as_json = cli.json("token", "create", "soc@lille.example", "--expires", "30")
    assert as_json["token"].startswith("nct_") and as_json["expires_at"] > 0
    group = cli.json("group", "add", "DK savings banks", "--member", "LILLE")
    assert [m["short_name"] for m in group[0]["members"]] == ["LILLE"]
    assert [g["name"] for g in cli.json("group", "list")] == ["DK savings banks"]
    assert [u["email"] for u in cli.json("user", "list", "--org", "LILLE")] == ["soc@lille.example"]
    tokens = cli.json("token", "list", "--user", "soc@lille.example")
    assert len(tokens) == 2 and all("token" not in t for t in tokens)
    assert cli.json("token", "revoke", str(tokens[0]["id"]))["revoked"] is True


def test_errors_are_one_clear_line_and_nonzero(cli: Cli) -> None:
    bad = cli("org", "add", "X Bank", "--country", "XX", "--type", "bank", ok=False)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "error: country 'XX' is not an ISO 3166-1 alpha-2 code (e.g. DK, NO, SE, FI)"]
    missing = cli("user", "add", "a@b.example", "--org", "Nobody", "--role", "analyst", ok=False)
    assert missing.returncode == 1 and "no organisation 'Nobody'" in missing.stderr
    usage = cli("org", "add", ok=False)
    assert usage.returncode == 2 and "Missing" in usage.stderr


def _member(cli: Cli) -> None:
    cli("org", "add", "Alpha Bank", "--country", "DK", "--type", "bank", "--short", "ALPHA")
    cli("user", "add", "soc@alpha.example", "--org", "ALPHA", "--role", "analyst")


def test_import_reports_and_is_idempotent(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    _member(cli)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(*[indicator(f"10.9.0.{i}") for i in range(1, 251)])))
    first = cli.json("import", str(path), "--as", "soc@alpha.example", "--tlp", "green")
    assert (first["created"], first["updated"], first["unchanged"], first["rejected"]) == (250, 0, 0, 0)
    again = cli("import", str(path), "--as", "soc@alpha.example", "--tlp", "green")
    assert "0 created, 0 updated, 250 unchanged, 0 rejected" in again.stdout
    assert count_objects(engine) == 250


def test_import_of_an_invalid_bundle_names_the_object_and_stores_nothing(cli: Cli, engine: Engine,
                                                                          tmp_path: Path) -> None:
    _member(cli)
    objects = [indicator() for _ in range(20)]
    objects[7]["valid_from"] = "not a time"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle(*objects)))
    done = cli("import", str(path), "--as", "soc@alpha.example", ok=False)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "error: bad.json: 1 of 20 objects rejected; nothing was stored"
    assert f"index=7, id={objects[7]['id']}" in lines[1] and "valid_from" in lines[1]
    assert count_objects(engine) == 0
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"type": "bundle", "objects": [{"type": ')
    done = cli("import", str(garbage), "--as", "soc@alpha.example", ok=False)
    assert done.returncode == 1 and "not valid JSON" in done.stderr


def test_help_describes_every_command(cli: Cli) -> None:
    top = cli("--help").stdout
    for command in ("init", "serve", "demo", "import", "org", "user", "token", "group"):
        assert command in top
    assert "--tlp" in cli("import", "--help").stdout


def test_collections(cli: Cli) -> None:
    _member(cli)
    cli("group", "add", "DK banks", "--member", "ALPHA")
    sector = cli.json("collection", "add", "Sector", "--read-all", "--write-all")
    assert sector["kind"] == "sector" and sector["readers"] == "all members"
    group = cli.json("collection", "add", "DK banks feed", "--kind", "group", "--group", "DK banks")
    assert group["readers"] == ["ALPHA"] and group["writers"] == ["ALPHA"]
    outbox = cli.json("collection", "add", "Alpha outbox", "--kind", "outbox", "--org", "ALPHA", "--read-all")
    assert outbox["readers"] == "all members" and outbox["writers"] == ["ALPHA"]
    assert [c["title"] for c in cli.json("collection", "list")] == ["Alpha outbox", "DK banks feed", "Sector"]
    missing = cli("collection", "add", "Broken", "--kind", "group", ok=False)
    assert missing.returncode == 1 and "needs --group" in missing.stderr
    assert cli.json("collection", "remove", "Sector")["removed"] is True
    assert len(cli.json("collection", "list")) == 2
