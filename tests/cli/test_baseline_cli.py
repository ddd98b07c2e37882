"""nordcert baseline catalogue list|export|import and campaign open|close|list|progress, run as real processes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from nordcert.baseline import answers
from nordcert.baseline.catalogue import load_shipped, shipped_bytes
from nordcert.db import transaction
from tests.cli.conftest import Cli
from tests.factories import make_member


def test_catalogue_and_campaign_commands(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    staff = make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert")
    alpha = make_member(engine, name="Alpha Bank", role="risk_officer")
    make_member(engine, name="Boreal Bank", role="analyst")
    as_staff = ("--as", staff.email)

    assert [v["version"] for v in cli.json("baseline", "catalogue", "list", *as_staff)] == ["2026.1"]
    assert "2026.1" in cli("baseline", "catalogue", "list", *as_staff).stdout
    out = tmp_path / "baseline.json"
    cli("baseline", "catalogue", "export", "2026.1", *as_staff, "-o", str(out))
    assert json.loads(out.read_bytes()) == json.loads(shipped_bytes())
    assert json.loads(cli("baseline", "catalogue", "export", "2026.1", *as_staff).stdout)["version"] == "2026.1"

    data = json.loads(out.read_bytes())
    data["version"] = "2027.1"
    data["controls"][0]["csf"] = ["PR.AC"]
    data["controls"][1]["target"] = 9
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    refused = cli("baseline", "catalogue", "import", str(bad), *as_staff, ok=False)
    assert refused.returncode == 1 and "controls[0].csf[0]" in refused.stderr and "controls[1].target" in refused.stderr
    data["controls"][0]["csf"] = ["GV.OV"]
    data["controls"][1]["target"] = 3
    bad.write_text(json.dumps(data))
    imported = cli.json("baseline", "catalogue", "import", str(bad), *as_staff, "--publish")
    assert (imported["version"], imported["published"]) == ("2027.1", True)
    member_refused = cli("baseline", "catalogue", "import", str(bad), "--as", alpha.email, ok=False)
    assert member_refused.returncode == 1 and "cert_admin" in member_refused.stderr

    opened = cli.json("baseline", "campaign", "open", "Baseline 2027", *as_staff, "--version", "2027.1",
                      "--deadline", "2030-06-30")
    assert opened["closes_at"] == "2030-06-30T23:59:59Z" and opened["status"] == "open"
    late = cli("baseline", "campaign", "open", "Old", *as_staff, "--version", "2027.1", "--deadline", "2001-01-01",
               ok=False)
    assert late.returncode == 1 and "closes_at" in late.stderr
    with transaction(engine) as conn:
        answers.save_draft(conn, reader=alpha.reader, campaign_id=opened["id"],
                           answers=[{"control_id": c.id, "maturity": 2} for c in load_shipped().controls[:7]])
    progress = cli.json("baseline", "campaign", "progress", str(opened["id"]), *as_staff)
    assert progress["counts"] == {"not_started": 1, "draft": 1, "submitted": 0}
    table = cli("baseline", "campaign", "progress", str(opened["id"]), *as_staff).stdout
    assert "Alpha Bank" in table and "7/50" in table
    assert [c["name"] for c in cli.json("baseline", "campaign", "list", *as_staff, "--status", "open")] == [
        "Baseline 2027"]
    assert cli.json("baseline", "campaign", "close", str(opened["id"]), *as_staff)["status"] == "closed"
    again = cli("baseline", "campaign", "close", str(opened["id"]), *as_staff, ok=False)
    assert again.returncode == 1 and "closed already" in again.stderr
    assert cli.json("baseline", "campaign", "list", *as_staff, "--status", "open") == []
