"""`nordcert import` as a member runs it: every format, a progress bar, a --json summary, idempotent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from tests.cli.conftest import Cli, count_objects
from tests.cli.test_cli import _member

DATA = Path(__file__).resolve().parents[1] / "data"
FEED = DATA / "digitalside-misp-feed" / "feed"


def test_a_misp_feed_folder_imports_event_by_event_and_again_changes_nothing(cli: Cli, engine: Engine) -> None:
    _member(cli)
    first = cli.json("import", str(FEED), "--as", "soc@alpha.example")
    assert first["format"] == "misp" and first["events"] == 2 and first["rejected"] == 0
    # 26 + 27 objects; the two events share their creator's identity, stored once
    assert (first["created"], first["unchanged"]) == (52, 1) and first["observables_indexed"] > 0
    again = cli.json("import", str(FEED), "--as", "soc@alpha.example")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 53)
    assert count_objects(engine) == 52


def test_a_file_that_is_not_an_event_is_named(cli: Cli, engine: Engine) -> None:
    _member(cli)
    done = cli("import", str(DATA / "pymisp-test-events" / "other" / "sharing_groups.json"), "--as",
               "soc@alpha.example", "--format", "misp", ok=False)
    assert done.returncode == 1 and "sharing_groups.json" in done.stderr and "not a MISP event" in done.stderr
    assert count_objects(engine) == 0


def test_csv_import_shows_progress_and_names_bad_lines(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    _member(cli)
    path = tmp_path / "mules.csv"
    path.write_text("IBAN;Comment\nNO9386011117947;mule\nSE4550000000058398257466;mule\nDK5000400440116243;x\n"
                    "NO9386011117948;typo\n")
    refused = cli("import", str(path), "--as", "soc@alpha.example", "--map", "IBAN=value", "--kind", "iban", ok=False)
    assert refused.returncode == 1 and "line 5" in refused.stderr and "nothing was stored" in refused.stderr
    assert count_objects(engine) == 0
    done = cli("import", str(path), "--as", "soc@alpha.example", "--map", "IBAN=value", "--map", "Comment=description",
               "--kind", "iban", "--skip-invalid")
    assert "importing csv" in done.stdout and "3 created" in done.stdout and "1 rejected" in done.stdout
    assert "line 5" in done.stdout
    again = cli.json("import", str(path), "--as", "soc@alpha.example", "--map", "IBAN=value", "--kind", "iban",
                     "--map", "Comment=description", "--skip-invalid")
    assert (again["created"], again["unchanged"], again["rejected"]) == (0, 3, 1)
    assert again["rejections"][0]["line"] == 5


def test_unknown_format_and_missing_source(cli: Cli) -> None:
    _member(cli)
    assert "no such file" in cli("import", "nowhere.json", "--as", "soc@alpha.example", ok=False).stderr
    bad = cli("import", str(FEED), "--as", "soc@alpha.example", "--format", "xml", ok=False)
    assert bad.returncode == 1 and "unknown format 'xml'" in bad.stderr


def test_a_member_subscribes_to_another_instances_misp_feed_over_http(cli: Cli, engine: Engine, base_url: str,
                                                                      tmp_path: Path) -> None:
    """Import a feed, serve it as a MISP feed, and import that feed by URL (credentials in the URL)."""
    _member(cli)
    cli("import", str(FEED), "--as", "soc@alpha.example", "--tlp", "green")
    cli("org", "add", "Beta Bank", "--country", "SE", "--type", "bank", "--short", "BETA")
    cli("user", "add", "soc@beta.example", "--org", "BETA", "--role", "analyst")
    token = cli("token", "create", "soc@beta.example").stdout.strip()
    host = base_url.removeprefix("http://")
    url = f"http://soc%40beta.example:{token}@{host}/feeds/misp/"
    pulled = cli.json("import", url, "--as", "soc@beta.example")
    assert pulled["format"] == "misp" and pulled["events"] >= 1 and pulled["rejected"] == 0
    assert pulled["total"] > 0 and token not in str(pulled) and pulled["source"].endswith("/feeds/misp/")
    refused = cli("import", f"http://{host}/feeds/misp/", "--as", "soc@beta.example", ok=False)
    assert refused.returncode == 1 and "401" in refused.stderr and token not in refused.stderr
