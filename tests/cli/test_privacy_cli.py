"""A member's blinding and the CERT's privacy commands, run as real processes: keygen, key
registration, a blinded bundle imported, looked up, found, expired and erased."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select

from nordcert.db import transaction
from nordcert.privacy.tables import personal_data
from tests.cli.conftest import Cli, count_objects
from tests.factories import bundle, indicator, make_member

IBAN_SPACED = "NO93 8601 1117 947"


def test_a_member_blinds_and_the_cert_answers_a_data_subject_request(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    member = make_member(engine, name="Alpha Bank")
    ring = tmp_path / "sector.keyring"
    made = cli.json("blind", "keygen", "sector-2026a", "--keyring", str(ring))
    assert made["key_id"] == "sector-2026a" and len(made["check_value"]) == 16
    assert cli.json("blind", "check", "--keyring", str(ring)) == [
        {"key_id": "sector-2026a", "check_value": made["check_value"], "current": True}]
    digest = cli.json("blind", "value", "iban", IBAN_SPACED, "no9386011117947", "--keyring", str(ring))
    assert digest[0]["blinded"] == digest[1]["blinded"] and digest[0]["blinded"][0].startswith("sector-2026a:iban:")

    mule = indicator(pattern=f"[x-bank-account:iban = '{IBAN_SPACED}']", name=f"Mule {IBAN_SPACED}")
    source, blinded = tmp_path / "mules.json", tmp_path / "mules-blinded.json"
    source.write_text(json.dumps(bundle(mule)))
    summary = cli.json("blind", "bundle", str(source), "--keyring", str(ring), "-o", str(blinded))
    assert summary["blinded_values"] == 1 and "8601" not in blinded.read_text()

    refused = cli("import", str(blinded), "--as", member.email, ok=False)
    assert refused.returncode == 1 and "not registered here" in refused.stderr and count_objects(engine) == 0
    cli("privacy", "key", "add", "sector-2026a", made["check_value"])
    assert cli.json("privacy", "key", "list")[0]["active"] is True
    done = cli.json("import", str(blinded), "--as", member.email, "--legal-basis", "legal-obligation")
    assert done["created"] == 1
    with transaction(engine, write=False) as conn:
        assert conn.execute(select(personal_data.c.legal_basis)).scalars().all() == ["legal-obligation"]

    found = cli.json("privacy", "subject", "find", digest[0]["blinded"][0], "--kind", "blinded")
    assert [o["id"] for o in found["objects"]] == [mule["id"]]
    summary_out = cli.json("privacy", "summary")
    assert summary_out["versions"] == 1 and summary_out["by_kind"] == {"blinded": 1}
    assert cli.json("privacy", "purge") == {"versions": 0, "objects": 0}  # nothing has expired yet
    erased = cli.json("privacy", "subject", "erase", digest[0]["blinded"][0], "--kind", "blinded",
                      "--reason", "DSR-17")
    assert erased == {"objects": [mule["id"]], "versions": 1} and count_objects(engine) == 0
    bad = cli("privacy", "subject", "find", "NO93 8601 1117 948", "--kind", "iban", ok=False)
    assert bad.returncode == 1 and "not valid" in bad.stderr and "8601" not in bad.stderr
    cli("privacy", "key", "retire", "sector-2026a")
    assert cli.json("privacy", "key", "list")[0]["active"] is False
    lookup = json.loads(cli("blind", "lookup", IBAN_SPACED, "--keyring", str(ring)).stdout)
    assert lookup == {"values": [{"kind": "blinded", "value": digest[0]["blinded"][0]}]}
