"""``nordcert export``, run as a real process against the test's store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from nordcert.config import Settings
from tests.factories import make_member
from tests.formats.test_export import fresh, submit

# The export command, registered here if the main command line does not have it yet.
_RUN = ("from nordcert.cli import export\n"
        "from nordcert.cli.main import app, run\n"
        "if not any(c.name == 'export' for c in app.registered_commands):\n"
        "    export.register(app)\n"
        "run()\n")


def nordcert(settings: Settings, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NORDCERT_HOME": str(settings.home)}
    if settings.database_url:
        env["NORDCERT_DATABASE_URL"] = settings.database_url
    done = subprocess.run([sys.executable, "-c", _RUN, *args], check=False, capture_output=True, text=True, env=env, timeout=120)
    if ok:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


@pytest.fixture
def member(engine: Engine, settings: Settings) -> Any:
    m = make_member(engine)
    submit(engine, settings, m, [fresh("[ipv4-addr:value = '203.0.113.9']"),
                                 fresh("[domain-name:value = 'phish.example']", description="phishing")],
           tlp="green")
    return m


def test_export_to_a_file_with_progress_and_a_json_summary(settings: Settings, member: Any, tmp_path: Path) -> None:
    out = tmp_path / "ip.txt"
    done = nordcert(settings, "export", "--as", member.email, "--format", "txt", "--kind", "ip", "-o", str(out))
    assert out.read_text() == "203.0.113.9\n"
    assert "exporting" in done.stderr and "1 lines" in done.stderr  # the progress line
    assert "1 lines" in done.stdout
    summary = json.loads(nordcert(settings, "export", "--as", member.email, "--format", "stix", "-o",
                                  str(tmp_path / "b.json"), "--json").stdout)
    assert summary["format"] == "stix" and summary["objects"] == 2 and summary["output"] == str(tmp_path / "b.json")
    assert summary["bytes"] == (tmp_path / "b.json").stat().st_size and summary["seconds"] >= 0
    assert len(json.loads((tmp_path / "b.json").read_text())["objects"]) == 2


def test_export_to_stdout(settings: Settings, member: Any) -> None:
    done = nordcert(settings, "export", "--as", member.email, "--format", "rpz")
    assert "phish.example CNAME .\n" in done.stdout and "exporting" not in done.stderr
    done = nordcert(settings, "export", "--as", member.email, "--format", "csv", "--kind", "domain", "--json")
    assert done.stdout.startswith("kind,value,") and '"rows": 1' in done.stderr


def test_helpful_errors(settings: Settings, member: Any) -> None:
    done = nordcert(settings, "export", "--as", member.email, "--format", "txt", "--kind", "ipz", ok=False)
    assert done.returncode == 1 and "unknown blocklist kind 'ipz'; one of ip, ipv4" in done.stderr
    done = nordcert(settings, "export", "--as", member.email, "--format", "xml", ok=False)
    assert done.returncode == 1 and "one of stix, misp, csv, txt, rpz" in done.stderr
    done = nordcert(settings, "export", "--as", member.email, "--format", "misp", ok=False)
    assert done.returncode == 1 and "folder" in done.stderr


def test_misp_feed_folder(settings: Settings, member: Any, tmp_path: Path) -> None:
    pytest.importorskip("nordcert.formats.misp_export")
    summary = json.loads(nordcert(settings, "export", "--as", member.email, "--format", "misp", "-o",
                                  str(tmp_path / "feed"), "--json").stdout)
    assert summary["format"] == "misp" and (tmp_path / "feed" / "manifest.json").exists()
