"""The shipped catalogue and the catalogue's JSON shape: every mapping is a real DORA, NIS2 or CSF 2.0 reference,
ids are unique, every domain is populated, targets are on the scale; bad input is named field by field."""

from __future__ import annotations

import copy
import re
from collections import Counter
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from nordcert.baseline import catalogues
from nordcert.baseline.catalogue import (
    CSF_CATEGORIES,
    DOMAIN_KEYS,
    PRIORITIES,
    SHIPPED_VERSION,
    Catalogue,
    control_from_dict,
    from_dict,
    load_shipped,
    shipped_bytes,
    to_dict,
)
from nordcert.baseline.tables import baseline_catalogues
from nordcert.db import migrate, transaction
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from tests.baseline.conftest import World, call, row_counts

#: The NIST CSF 2.0 categories, spelt out here independently of the module (CSWP 29, 2024).
CSF_2_0 = {
    "GV": {"OC", "RM", "RR", "PO", "OV", "SC"}, "ID": {"AM", "RA", "IM"}, "PR": {"AA", "AT", "DS", "PS", "IR"},
    "DE": {"CM", "AE"}, "RS": {"MA", "AN", "CO", "MI"}, "RC": {"RP", "CO"},
}
#: Categories of CSF 1.1 that CSF 2.0 withdrew: a mapping to one of them is a mistake.
CSF_1_1_WITHDRAWN = {"ID.BE", "ID.GV", "ID.RM", "ID.SC", "PR.AC", "PR.IP", "PR.MA", "PR.PT", "DE.DP", "RS.RP",
                     "RS.IM", "RC.IM"}
DORA = re.compile(r"^Art (\d+)(\((\d+)\))?(\(([a-z])\))?$")


def shipped_raw() -> dict[str, Any]:
    return orjson.loads(shipped_bytes())  # type: ignore[no-any-return]


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(Invalid) as err:
        from_dict(data)
    return {d["field"]: d["reason"] for d in err.value.details}


# --- the shipped catalogue ----------------------------------------------------------------------------


def test_the_shipped_catalogue_loads_and_round_trips() -> None:
    cat = load_shipped()
    assert cat.version == SHIPPED_VERSION
    assert from_dict(to_dict(cat)) == cat
    assert to_dict(cat) == shipped_raw()


def test_every_domain_is_populated_with_at_least_four_controls() -> None:
    cat = load_shipped()
    assert [d.key for d in cat.domains] == list(DOMAIN_KEYS)
    counts = Counter(c.domain for c in cat.controls)
    assert set(counts) == set(DOMAIN_KEYS)
    assert min(counts.values()) >= 4
    assert 40 <= len(cat.controls) <= 55
    assert all(cat.controls_in(k) for k in DOMAIN_KEYS)


def test_ids_are_unique_and_criteria_numbered_after_their_control() -> None:
    cat = load_shipped()
    ids = [c.id for c in cat.controls]
    assert len(ids) == len(set(ids))
    for c in cat.controls:
        assert 2 <= len(c.criteria) <= 4, c.id
        assert [k.id for k in c.criteria] == [f"{c.id}.{n}" for n in range(1, len(c.criteria) + 1)]
        assert cat.control(c.id) is c


def test_targets_and_criteria_levels_are_on_the_scale_and_each_target_is_evidenced() -> None:
    cat = load_shipped()
    assert [m.level for m in cat.scale] == [0, 1, 2, 3, 4, 5]
    assert [m.name for m in cat.scale] == ["Non-existent", "Initial (ad hoc)", "Repeatable (informal)",
                                           "Defined (documented and implemented)", "Managed (measured)",
                                           "Adaptive (continuously improved)"]
    for c in cat.controls:
        assert 1 <= c.target <= 5 and c.priority in PRIORITIES
        assert all(1 <= k.level <= 5 for k in c.criteria)
        assert any(k.level == c.target for k in c.criteria), c.id
        assert c.guidance and c.objective and c.title


def test_csf_mappings_are_csf_2_0_categories_never_withdrawn_1_1_ids() -> None:
    allowed = {f"{f}.{c}" for f, cats in CSF_2_0.items() for c in cats}
    assert set(CSF_CATEGORIES) == allowed and len(allowed) == 22
    used = [ref for c in load_shipped().controls for ref in c.csf]
    assert used and set(used) <= allowed
    assert not set(used) & CSF_1_1_WITHDRAWN
    assert all(c.csf for c in load_shipped().controls)


def test_dora_mappings_cite_articles_that_oblige_financial_entities() -> None:
    cat = load_shipped()
    for c in cat.controls:
        assert c.dora, c.id
        for ref in c.dora:
            m = DORA.match(ref)
            assert m, ref
            article = int(m.group(1))
            assert 5 <= article <= 30 or article == 45, ref
    chapters = {int(DORA.match(r).group(1)) for c in cat.controls for r in c.dora}  # type: ignore[union-attr]
    # ICT risk management, incidents, testing, third parties and information sharing are all covered.
    for chapter in (range(5, 17), range(17, 24), range(24, 28), range(28, 31), range(45, 46)):
        assert chapters & set(chapter), chapter


def test_nis2_mappings_use_the_articles_forms() -> None:
    form = re.compile(r"^Art (20(\([12]\))?|21(\([1345]\)|\(2\)(\([a-j]\))?)?|23(\(([1-9]|1[01])\))?|29(\([1-5]\))?)$")
    refs = [ref for c in load_shipped().controls for ref in c.nis2]
    assert refs
    assert [r for r in refs if not form.match(r)] == []
    # Every point of Art 21(2) is served by some control.
    assert {r for r in refs if r.startswith("Art 21(2)(")} == {f"Art 21(2)({p})" for p in "abcdefghij"}


def test_the_shipped_version_is_in_a_new_store_once_and_published(engine: Engine) -> None:
    migrate(engine)
    with transaction(engine, write=False) as conn:
        rows = conn.execute(select(baseline_catalogues)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.version, row.published, row.shipped) == (SHIPPED_VERSION, True, True)
    assert from_dict(orjson.loads(row.body)) == load_shipped()


# --- checking input ------------------------------------------------------------------------------------


def test_every_bad_field_is_named() -> None:
    data = shipped_raw()
    data["version"] = "2026 2"
    data["scale"][2]["level"] = 7
    data["controls"][0]["csf"] = ["PR.AC", "GV.OV"]
    data["controls"][1]["dora"] = ["Art 3(1)", "Article 6"]
    data["controls"][2]["nis2"] = ["Art 21(2)(k)", "Art 22", "Art 23(1)(a)"]
    data["controls"][3]["target"] = 6
    data["controls"][4]["priority"] = "urgent"
    data["controls"][5]["criteria"][0]["text"] = " "
    data["controls"][6]["domain"] = "physical"
    data["controls"][7]["id"] = data["controls"][8]["id"]
    data["controls"][9]["colour"] = "red"
    found = problems(data)
    renumbered = {f"controls[7].criteria[{n}].id" for n in range(len(data["controls"][7]["criteria"]))}
    assert set(found) == {
        "version", "scale[2].level", "controls[0].csf[0]", "controls[1].dora[0]", "controls[1].dora[1]",
        "controls[2].nis2[0]", "controls[2].nis2[1]", "controls[2].nis2[2]", "controls[3].target",
        "controls[4].priority", "controls[5].criteria[0].text", "controls[6].domain", "controls[8].id",
        "controls[9].colour",
    } | renumbered
    assert "PR.AC" in found["controls[0].csf[0]"]
    assert "5 to 30 and 45" in found["controls[1].dora[0]"]
    assert "(a) to (j)" in found["controls[2].nis2[0]"]


def test_structure_problems_are_named() -> None:
    assert set(problems({"version": "x", "title": "t", "scale": [], "domains": [], "controls": []})) == {
        "scale", "domains", "controls"}
    data = shipped_raw()
    data["domains"] = data["domains"][:-1]
    data["controls"] = [c for c in data["controls"] if c["domain"] != "data_protection_backups"]
    assert "data_protection_backups" in problems(data)["domains"]
    data = shipped_raw()
    data["controls"][0]["criteria"] = [k for k in data["controls"][0]["criteria"] if k["level"] != 3]
    for n, k in enumerate(data["controls"][0]["criteria"]):
        k["id"] = f"GOV-01.{n + 1}"
    assert problems(data) == {"controls[0].criteria": "no criterion evidences the target level 3"}


def test_a_duplicated_mapping_and_a_wrong_type_are_refused() -> None:
    data = shipped_raw()
    data["controls"][0]["dora"] = ["Art 5(4)", "Art 5(4)"]
    data["controls"][1]["target"] = True
    data["controls"][2]["csf"] = "PR.AA"
    assert set(problems(data)) == {"controls[0].dora[1]", "controls[1].target", "controls[2].csf"}


def test_a_control_alone_is_checked_without_a_prefix_and_its_criteria_numbered() -> None:
    raw = copy.deepcopy(shipped_raw()["controls"][0])
    for k in raw["criteria"]:
        del k["id"]
    control = control_from_dict(raw)
    assert [k.id for k in control.criteria] == [f"GOV-01.{n}" for n in range(1, len(raw["criteria"]) + 1)]
    raw["target"] = 0
    raw["criteria"][0]["level"] = "3"
    with pytest.raises(Invalid) as err:
        control_from_dict(raw)
    assert {d["field"] for d in err.value.details} == {"target", "criteria[0].level"}


def test_a_catalogue_is_plain_data() -> None:
    cat = load_shipped()
    assert isinstance(cat, Catalogue)
    with pytest.raises(KeyError):
        cat.control("NOPE-01")
    with pytest.raises(AttributeError):
        cat.version = "x"  # type: ignore[misc]


# --- versions in the store ---------------------------------------------------------------------------------

def _edited_control(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(shipped_raw()["controls"][0])
    raw.update(changes)
    return raw


def test_staff_make_edit_publish_and_diff_a_version(engine: Engine, world: World) -> None:
    staff = world.admin.reader
    draft = call(engine, catalogues.create_draft, reader=staff, base_version=SHIPPED_VERSION, version="2026.2",
                 title="Baseline 2026.2")
    assert (draft["published"], draft["based_on"], draft["controls"]) == (False, SHIPPED_VERSION, 50)
    # change a control: target, one criterion's text, a mapping added
    changed = _edited_control(target=4, dora=["Art 5(2)(a)", "Art 5(4)", "Art 6(8)"])
    changed["criteria"][1]["text"] = "The management body receives the ICT risk report every quarter."
    stored = call(engine, catalogues.put_control, reader=staff, version="2026.2", control_id="GOV-01", data=changed)
    assert stored["target"] == 4
    # add one, remove one
    new = {"id": "GOV-07", "domain": "governance", "title": "Cyber insurance", "objective": "Residual risk is insured.",
           "criteria": [{"text": "The cover and its exclusions are reviewed yearly against the top ICT risks.",
                         "level": 3}],
           "target": 3, "priority": "important", "dora": [], "nis2": [], "csf": ["GV.RM"],
           "guidance": "Review the policy with the risk function."}
    assert call(engine, catalogues.put_control, reader=staff, version="2026.2", control_id=None,
                data=new)["criteria"][0]["id"] == "GOV-07.1"
    call(engine, catalogues.remove_control, reader=staff, version="2026.2", control_id="DET-06")
    published = call(engine, catalogues.publish, reader=staff, version="2026.2")
    assert published["published"] and published["published_at"]

    d = call(engine, catalogues.diff_versions, reader=staff, before=SHIPPED_VERSION, after="2026.2")
    assert (d["from"], d["to"]) == (SHIPPED_VERSION, "2026.2")
    assert [c["id"] for c in d["added"]] == ["GOV-07"]
    assert [c["id"] for c in d["removed"]] == ["DET-06"]
    assert [c["id"] for c in d["changed"]] == ["GOV-01"]
    changes = {c["field"]: c for c in d["changed"][0]["changes"]}
    assert set(changes) == {"target", "dora", "criteria GOV-01.2"}
    assert (changes["target"]["before"], changes["target"]["after"]) == (3, 4)
    assert (changes["dora"]["added"], changes["dora"]["removed"]) == (["Art 6(8)"], [])
    assert changes["criteria GOV-01.2"]["after"]["text"].endswith("every quarter.")
    assert d["unchanged"] == 48
    assert d["title"] == {"before": load_shipped().title, "after": "Baseline 2026.2"}

    # published: never edited again
    with pytest.raises(Conflict, match="published"):
        call(engine, catalogues.put_control, reader=staff, version="2026.2", control_id="GOV-01", data=changed)
    with pytest.raises(Conflict):
        call(engine, catalogues.publish, reader=staff, version="2026.2")
    with pytest.raises(Conflict):
        call(engine, catalogues.remove_control, reader=staff, version=SHIPPED_VERSION, control_id="GOV-01")


def test_a_refused_edit_names_its_fields_and_stores_nothing(engine: Engine, world: World) -> None:
    staff = world.admin.reader
    call(engine, catalogues.create_draft, reader=staff, base_version=SHIPPED_VERSION, version="2026.2")
    before = call(engine, catalogues.export_version, reader=staff, version="2026.2")
    bad = _edited_control(target=9, csf=["PR.AC"], priority="")
    bad["criteria"][0]["level"] = 0
    with pytest.raises(Invalid) as err:
        call(engine, catalogues.put_control, reader=staff, version="2026.2", control_id="GOV-01", data=bad)
    assert {d["field"] for d in err.value.details} == {"target", "csf[0]", "priority", "criteria[0].level"}
    with pytest.raises(Invalid) as err:
        call(engine, catalogues.put_control, reader=staff, version="2026.2", control_id="GOV-01",
             data=_edited_control(id="GOV-09"))
    assert err.value.details == [{"field": "id", "reason": "must be GOV-01 (the control edited)"}]
    with pytest.raises(Conflict):
        call(engine, catalogues.put_control, reader=staff, version="2026.2", control_id=None, data=_edited_control())
    with pytest.raises(NotFound):
        call(engine, catalogues.put_control, reader=staff, version="2026.2", control_id="GOV-99",
             data=_edited_control(id="GOV-99"))
    with pytest.raises(Conflict, match="exists already"):
        call(engine, catalogues.create_draft, reader=staff, base_version=SHIPPED_VERSION, version="2026.2")
    with pytest.raises(Invalid) as err:
        call(engine, catalogues.create_draft, reader=staff, base_version=SHIPPED_VERSION, version="v 2")
    assert err.value.details[0]["field"] == "version"
    assert call(engine, catalogues.export_version, reader=staff, version="2026.2") == before


def test_who_sees_and_edits_versions(engine: Engine, world: World) -> None:
    staff = world.admin.reader
    call(engine, catalogues.create_draft, reader=staff, base_version=SHIPPED_VERSION, version="2026.2")
    assert [v["version"] for v in call(engine, catalogues.list_versions, reader=staff)] == ["2026.2", "2026.1"]
    for m in (world.alpha, world.alpha_reader, world.fsa, world.cert_analyst):
        assert [v["version"] for v in call(engine, catalogues.list_versions, reader=m.reader)] == ["2026.1"]
        with pytest.raises(NotFound):  # a draft is not known to them
            call(engine, catalogues.get_version, reader=m.reader, version="2026.2")
        assert call(engine, catalogues.get_version, reader=m.reader, version="2026.1")["catalogue"] == shipped_raw()
        with pytest.raises(Forbidden):
            call(engine, catalogues.create_draft, reader=m.reader, base_version="2026.1", version="2026.3")
        with pytest.raises(Forbidden):
            call(engine, catalogues.put_control, reader=m.reader, version="2026.2", control_id="GOV-01",
                 data=_edited_control())
    with pytest.raises(NotFound):
        call(engine, catalogues.list_versions, reader=world.peer.reader)
    with pytest.raises(NotFound):
        call(engine, catalogues.get_version, reader=world.peer.reader, version="2026.1")


def test_export_and_import_round_trip_and_a_bad_import_stores_nothing(engine: Engine, world: World) -> None:
    staff = world.admin.reader
    exported = call(engine, catalogues.export_version, reader=staff, version=SHIPPED_VERSION)
    assert exported == shipped_raw()
    exported["version"] = "2027.1"
    exported["controls"][3]["target"] = 5
    exported["controls"][3]["criteria"][-1]["level"] = 5
    imported = call(engine, catalogues.import_version, reader=staff, data=exported)
    assert (imported["version"], imported["published"], imported["based_on"]) == ("2027.1", False, None)
    assert call(engine, catalogues.export_version, reader=staff, version="2027.1") == exported

    counts = row_counts(engine)
    bad = copy.deepcopy(exported)
    bad["version"] = "2027.2"
    bad["controls"][0]["csf"] = ["ID.BE"]
    bad["controls"][1]["nis2"] = ["Art 21(6)"]
    bad["controls"][2]["title"] = ""
    with pytest.raises(Invalid) as err:
        call(engine, catalogues.import_version, reader=staff, data=bad)
    assert {d["field"] for d in err.value.details} == {"controls[0].csf[0]", "controls[1].nis2[0]",
                                                       "controls[2].title"}
    with pytest.raises(Conflict):
        call(engine, catalogues.import_version, reader=staff, data=exported)
    with pytest.raises(Forbidden):
        call(engine, catalogues.import_version, reader=world.alpha.reader, data={**exported, "version": "x1"})
    assert row_counts(engine) == counts
    published = call(engine, catalogues.import_version, reader=staff, data={**exported, "version": "2027.3"},
                     publish=True)
    assert published["published"]


def test_a_draft_may_be_deleted_and_its_descendants_keep_their_base(engine: Engine, world: World) -> None:
    staff = world.admin.reader
    call(engine, catalogues.create_draft, reader=staff, base_version=SHIPPED_VERSION, version="d1")
    call(engine, catalogues.create_draft, reader=staff, base_version="d1", version="d2")
    call(engine, catalogues.delete_draft, reader=staff, version="d1")
    versions = {v["version"]: v for v in call(engine, catalogues.list_versions, reader=staff)}
    assert set(versions) == {"2026.1", "d2"} and versions["d2"]["based_on"] == "2026.1"
    with pytest.raises(Conflict):
        call(engine, catalogues.delete_draft, reader=staff, version=SHIPPED_VERSION)
