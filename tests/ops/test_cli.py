"""`nordcert backup` and `nordcert restore` run as real processes: JSON reports, clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nordcert.config import Settings
from nordcert.ops import store
from tests.cli.conftest import Cli
from tests.ops.conftest import StoreFactory


def test_backup_then_restore_from_the_command_line(demo_settings: Settings, new_store: StoreFactory,
                                                   tmp_path: Path) -> None:
    archive = tmp_path / "cli.jsonl.gz"
    made = Cli(demo_settings).json("backup", "-o", str(archive))
    assert made["file"] == str(archive) and archive.stat().st_size == made["bytes"]
    assert made["alembic_revision"] == store.head_revision() and made["rows"] > 1000

    target = Cli(new_store())
    restored = target.json("restore", str(archive))
    assert restored["rows"] == made["rows"] and restored["tables"] == made["tables"]
    assert any("checksums match" in check for check in restored["verified"])
    assert target.json("org", "list")[0]["name"] == "Alpha Bank"

    again = target("restore", str(archive), ok=False)
    assert again.returncode == 1
    assert "error: the store is not empty" in again.stderr and "--force" in again.stderr
    assert target.json("restore", str(archive), "--force")["replaced"] is True

    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(archive.read_bytes()[:5000])
    refused = target("restore", str(cut), "--force", ok=False)
    assert refused.returncode == 1 and "is not a complete nordcert backup" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_backup_names_its_file_by_the_time(demo_settings: Settings, tmp_path: Path) -> None:
    cli = Cli(demo_settings)
    done = subprocess.run([sys.executable, "-m", "nordcert", "backup"], cwd=tmp_path, env=cli.env, capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    written = list(tmp_path.glob("nordcert-backup-*Z.jsonl.gz"))
    assert len(written) == 1 and "Backup written: " + written[0].name in done.stdout
    assert not list(tmp_path.glob("*.partial"))
