"""The operator's federation commands as real processes, and the /api/v1/federation routes: two real
instances configured as peers only through the CLI, synced by `federation sync` and `worker --once`."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.db import transaction
from tests.cli.conftest import Cli
from tests.federation.conftest import Instance
from tests.federation.helpers import indicator


def _cli(inst: Instance) -> Cli:
    cli = Cli(inst.settings)
    cli.env["NORDCERT_INSTANCE_NAME"] = inst.name
    cli.env["COLUMNS"] = "160"  # an operator's terminal, not the 80 columns of a pipe
    return cli


def test_two_operators_federate_with_the_command_line(instances: Callable[..., Instance]) -> None:
    dk, no = instances("nordcert-dk", "DK"), instances("nordcert-no", "NO")
    on_dk, on_no = _cli(dk), _cli(no)
    for inst, cli in ((dk, on_dk), (no, on_no)):
        cli("group", "add", "Nordic fraud")
    dk.member("DB", ("Nordic fraud",))
    no.member("DNB", ("Nordic fraud",))
    # DK's operator adds NO and hands over the token printed once; NO's does the same the other way.
    added = on_dk.json("federation", "peer", "add", "no", "--url", no.taxii, "--instance", no.name,
                       "--country", "NO", "--group", "Nordic fraud", "--interval", "60")
    assert added["groups"] == ["Nordic fraud"] and added["inbound_token"].startswith("nct_")
    assert not added["token_set"] and added["max_tlp"] == "amber" and added["direction"] == "both"
    back = on_no.json("federation", "peer", "add", "dk", "--url", dk.taxii, "--instance", dk.name, "--country", "DK",
                      "--group", "Nordic fraud", "--token", added["inbound_token"])
    on_dk("federation", "peer", "update", "no", "--token", back["inbound_token"])
    text = on_dk("federation", "peer", "add", "x", "--url", "ftp://x", "--instance", "i", "--country", "FI", ok=False)
    assert text.returncode == 1 and "must be an http(s) URL" in text.stderr
    strict = on_dk("federation", "peer", "update", "no", "--max-tlp", "red", ok=False)
    assert "never cross" in strict.stderr

    dk.submit(dk.members["DB"], [indicator("a.example"), indicator("b.example")], tlp="amber", group="Nordic fraud")
    no.submit(no.members["DNB"], [indicator("c.example")], tlp="green")
    dk.submit(dk.members["DB"], [indicator("secret.example")], tlp="amber+strict", group="Nordic fraud")

    [result] = on_dk.json("federation", "sync", "no")
    assert result["ok"] and result["sent"] == 2 and result["received"]["created"] == 1
    human = on_dk("federation", "sync")
    assert "ok" in human.stdout and "0 stored" in human.stdout
    status = on_dk.json("federation", "status")
    assert status[0]["name"] == "no" and status[0]["state"] == "ok" and status[0]["objects_out"] == 2
    assert status[0]["objects_in"] == 1 and status[0]["pending_out"] == 0 and "token" not in status[0]
    table = on_dk("federation", "status").stdout
    assert "nordcert-no" in table and "AMBER" in table
    assert no.count() == 3 and dk.count() == 4

    # The worker syncs what is due; NO's worker finds nothing new to fetch.
    on_no("worker", "--once")
    assert no.count() == 3
    # A disabled peer is not synced; `sync` without a name says there is nothing to do.
    on_dk("federation", "peer", "update", "no", "--disable")
    nothing = on_dk("federation", "sync", ok=False)
    assert nothing.returncode == 1 and "no enabled peers" in nothing.stderr
    removed = on_dk.json("federation", "peer", "remove", "no")
    assert removed == {"name": "no", "removed": True}
    assert on_dk.json("federation", "status") == []


def test_federation_api_is_for_cert_staff(instances: Callable[..., Instance]) -> None:
    dk = instances("nordcert-dk", "DK")
    analyst = dk.member("DB")
    with transaction(dk.engine) as conn:
        accounts.create_organisation(conn, name="CERT DK", short_name="CERT", country="DK", sector_type="cert")
        accounts.create_user(conn, email="staff@cert.dk", organisation="CERT", role="cert_admin")
        staff = credentials.create_token(conn, user="staff@cert.dk").token
        member = credentials.create_token(conn, user=analyst).token
    with httpx.Client(base_url=dk.url + "/api/v1", headers={"Authorization": f"Bearer {staff}"}) as api:
        made = api.post("/federation/peers", json={"name": "se", "url": "http://127.0.0.1:9/taxii2/",
                                                   "instance_name": "nordcert-se", "country": "SE"})
        assert made.status_code == 201 and made.json()["inbound_token"].startswith("nct_")
        bad = api.post("/federation/peers", json={"name": "fi", "url": "http://127.0.0.1:9/", "instance_name": "f",
                                                  "country": "FI", "max_tlp": "red"})
        assert bad.status_code == 422
        dup = api.post("/federation/peers", json={"name": "se", "url": "http://127.0.0.1:9/",
                                                  "instance_name": "nordcert-se", "country": "SE"})
        assert dup.status_code == 409
        assert api.patch("/federation/peers/se", json={"max_tlp": "green"}).json()["max_tlp"] == "green"
        assert api.post("/federation/peers/se/sync").status_code == 202
        [peer] = api.get("/federation/peers").json()
        assert peer["name"] == "se" and peer["next_attempt_at"] == 0 and peer["state"] == "never synced"
        assert api.delete("/federation/peers/se").json()["removed"]
        assert api.get("/federation/peers/nope/sync").status_code in (404, 405)
    with httpx.Client(base_url=dk.url + "/api/v1", headers={"Authorization": f"Bearer {member}"}) as api:
        assert api.get("/federation/peers").status_code == 403
        assert api.post("/federation/peers", json={"name": "se", "url": "http://127.0.0.1:9/",
                                                   "instance_name": "nordcert-se", "country": "SE"}).status_code == 403


def test_a_peer_account_reads_only_the_federation_collection(instances: Callable[..., Instance]) -> None:
    """The peer's token opens the federation collection and nothing else, and its reads follow the forward rule."""
    from tests.federation.conftest import link
    dk, no = instances("nordcert-dk", "DK"), instances("nordcert-no", "NO")
    dk.group("G")
    no.group("G")
    dk.member("DB", ("G",))
    link(dk, no)  # the peer is in no group on DK
    dk.submit(dk.members["DB"], [indicator("green.example")], tlp="green")
    dk.submit(dk.members["DB"], [indicator("amber.example")], tlp="amber", group="G")
    dk.submit(dk.members["DB"], [indicator("amber-all.example")], tlp="amber")
    with transaction(no.engine, write=False) as conn:
        from nordcert.federation.peers import get_peer
        token = get_peer(conn, "dk").token
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"}
    with httpx.Client(base_url=dk.url, headers=headers) as taxii:
        colls = taxii.get("/taxii2/api/collections/").json()["collections"]
        assert [c["title"] for c in colls] == ["Federation"]
        objs = taxii.get(f"/taxii2/api/collections/{colls[0]['id']}/objects/").json()["objects"]
        assert [o["name"] for o in objs] == ["green.example"]  # not AMBER of a group it is not in, nor group-less
        api = taxii.get("/api/v1/objects", headers={"Accept": "application/json"}).json()
        assert [o["object"]["name"] for o in api["objects"]] == ["green.example"]
