"""Docs that tests keep honest: the quick start, the settings, the CLI and the README's API tour."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typer

from nordcert.cli.main import app as cli_app
from nordcert.config import Settings
from nordcert.db import make_engine
from nordcert.demo.builder import build_demo
from tests.server import running_server

README = (Path(__file__).parents[1] / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def _blocks(text: str, lang: str = "sh") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.DOTALL)


def test_quick_start_is_two_one_line_commands() -> None:
    blocks = _blocks(_section("Quick start"))
    assert [b.strip() for b in blocks] == ["make demo", "make test"]
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci and 'NORDCERT_TEST_POSTGRES_URL="$PG_URL" make test' in ci


def test_every_setting_is_documented() -> None:
    table = _section("Configuration")
    for name in Settings.model_fields:
        assert f"`NORDCERT_{name.upper()}`" in table, name
        assert Settings.model_fields[name].description, name


def _commands(app: typer.Typer, prefix: str = "") -> list[str]:
    names = [f"{prefix}{c.name or c.callback.__name__}".strip() for c in app.registered_commands]  # type: ignore[union-attr]
    for group in app.registered_groups:
        names += _commands(group.typer_instance, f"{prefix}{group.name} ")  # type: ignore[arg-type]
    return names


def test_every_cli_command_is_documented_and_has_help() -> None:
    text = _section("Command line")
    commands = _commands(cli_app)
    assert {"init", "serve", "demo", "import", "org add", "user add", "token create", "group add"} <= set(commands)
    for command in commands:
        words = command.split()
        assert all(w in text for w in words), command


@pytest.mark.skipif(shutil.which("curl") is None, reason="the API tour is written for curl")
def test_api_tour_works_as_written(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "demo", instance_name="Nordic Financial CERT (demo)")
    build_demo(settings, progress=False)
    engine = make_engine(settings)
    commands = [line for b in _blocks(_section("API tour")) for line in b.strip().splitlines()]
    assert len(commands) >= 12
    outputs = []
    with running_server(settings, engine) as url:
        for cmd in commands:
            done = subprocess.run(["bash", "-c", cmd.replace("http://127.0.0.1:8000", url)],
                                  check=False, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, (cmd, done.stderr)
            outputs.append(json.loads(done.stdout))
    engine.dispose()
    by_cmd = dict(zip(commands, outputs, strict=True))
    me = next(o for c, o in by_cmd.items() if c.endswith("/api/v1/me"))
    assert me["organisation"]["short_name"] == "ALPHA"
    submitted = next(o for c, o in by_cmd.items() if "anonymous=true" in c)
    assert submitted["created"] == 1
    nordpay = next(o for c, o in by_cmd.items() if "demo-nordpay-ops" in c)
    assert nordpay["meta"]["creator"] == "anonymous member"
    boreal = next(o for c, o in by_cmd.items() if "demo-boreal-fraud" in c)
    assert boreal["error"] == "not_found"
    public = next(o for c, o in by_cmd.items() if "report--" in c)
    assert public["meta"]["tlp"] == "clear"
    assert all("error" not in o for c, o in by_cmd.items() if "demo-boreal-fraud" not in c), by_cmd
    taxii = {c: o for c, o in by_cmd.items() if "/taxii2/" in c}
    assert len(taxii) == 4
    fraud = next(o for c, o in taxii.items() if "5b05/objects" in c)
    assert len(fraud["objects"]) == 3 and all(
        any(k in o.get("pattern", "") for k in ("x-bank-account", "x-phone-number", "x-cryptocurrency-wallet",
                                                "x-payment-card")) for o in fraud["objects"]), fraud
    screened = next(o for c, o in by_cmd.items() if "/api/v1/lookup -d" in c)
    by_input = {r["index"]: r for r in screened["results"]}
    assert by_input[0]["kind"] == "iban" and by_input[0]["reporting_members"] == 2 and by_input[0]["found"]
    assert by_input[1]["matches"][0]["matched"] == {"kind": "cidr", "value": "203.0.113.0/24"}
    assert "rfc1918" in by_input[2]["warninglists"]
    assert "error" in by_input[4] and "1111 1111 1111" not in json.dumps(screened)
    outsider = next(o for c, o in by_cmd.items() if "demo-fjord-risk" in c and "lookup?value=" in c)
    assert outsider["results"][0]["matches"] == [] and outsider["results"][0]["other_members"] == 2
    feeds = next(o for c, o in by_cmd.items() if c.endswith("/feeds/"))
    assert "ip.txt" in json.dumps(feeds) and "misp" in json.dumps(feeds)
    manifest = next(o for c, o in by_cmd.items() if c.endswith("/feeds/misp/manifest.json"))
    assert len(manifest) >= 3 and all("info" in event for event in manifest.values())
    listed = next(o for c, o in taxii.items() if c.endswith("/collections/"))
    assert {c["title"] for c in listed["collections"]} >= {"Sector", "DK banks", "Nordic fraud"}
    page = next(o for c, o in taxii.items() if "match[type]" in c)
    assert page["more"] is True and [o["type"] for o in page["objects"]] == ["indicator", "indicator"]
