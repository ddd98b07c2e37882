"""The misp-galaxy library (threat actors, malware, tools, attack patterns, sectors, countries) imports
completely, one STIX object per cluster, and again changes nothing."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.formats.imports import detect_format, run_import
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import stix_objects
from tests.factories import make_member

CLUSTERS = Path(__file__).resolve().parents[1] / "data" / "misp-galaxy" / "clusters"
#: STIX type of each galaxy's clusters (misp-stix's mapping) and the number of clusters the
#: data set's README states.
EXPECTED = {"threat-actor": ("threat-actor", 1041), "ransomware": ("malware", 2135),
            "mitre-attack-pattern": ("attack-pattern", 1266), "tool": ("tool", 608), "botnet": ("tool", 148),
            "banker": ("malware", 53), "sector": ("identity", 118), "country": ("location", 252)}


def _types(engine: Engine) -> Counter[str]:
    with transaction(engine, write=False) as conn:
        return Counter(dict(conn.execute(select(stix_objects.c.type, func.count()).group_by(stix_objects.c.type)).all()))


def test_every_galaxy_file_imports_one_object_per_cluster(engine: Engine, settings: Settings) -> None:
    member = make_member(engine, name="Nordic Financial CERT", sector_type="cert")
    source = str(CLUSTERS)
    assert detect_format(source) == "misp"
    for name, (stix_type, count) in EXPECTED.items():
        with gzip.open(CLUSTERS / f"{name}.json.gz") as fh:
            assert len(json.load(fh)["values"]) == count
    with transaction(engine) as conn:
        report = run_import(conn, source, "misp", submission_for(conn, member.reader, tlp="clear"), settings)
    assert report.events == 8 and report.result.rejected == 0
    clusters = sum(count for _, count in EXPECTED.values())
    # one object per cluster, one report per galaxy file, one identity for the library's authors
    assert report.result.created == clusters + 8 + 1
    stored = _types(engine)
    by_type = Counter()
    for stix_type, count in EXPECTED.values():
        by_type[stix_type] += count
    assert stored["report"] == 8  # the file, as a published event
    assert stored["identity"] == by_type["identity"] + 1
    assert all(stored[t] == n for t, n in by_type.items() if t != "identity"), stored
    with transaction(engine) as conn:
        again = run_import(conn, source, "misp", submission_for(conn, member.reader, tlp="clear"), settings).result
    assert (again.created, again.updated) == (0, 0) and again.unchanged == report.result.total
    with transaction(engine, write=False) as conn:
        lazarus = conn.execute(select(stix_objects.c.body).where(
            stix_objects.c.stix_id == "threat-actor--68391641-859f-4a9a-9a1e-3e5cf71ec376")).scalar_one()
    assert json.loads(lazarus)["name"] == "Lazarus Group"


def test_a_cluster_without_uuid_is_refused_by_index(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    member = make_member(engine)
    path = tmp_path / "actors.json"
    path.write_text(json.dumps({"authors": ["x"], "category": "actor", "name": "Actors", "type": "actors",
                                "uuid": "0a5b7e0e-6a8f-4a0a-8d1e-0b5c1c1f7a01", "version": 1,
                                "values": [{"value": "Good", "uuid": "1d6c5f8a-3b7c-4f0e-9a2d-5e4f3c2b1a00"},
                                           {"value": "Bad", "uuid": "not-a-uuid"}]}))
    assert detect_format(str(path)) == "misp"
    with transaction(engine) as conn, pytest.raises(Invalid) as refused:
        run_import(conn, str(path), "misp", submission_for(conn, member.reader), settings)
    assert refused.value.details[0]["cluster_index"] == 1 and "UUID" in refused.value.details[0]["reason"]
    assert sum(_types(engine).values()) == 0
