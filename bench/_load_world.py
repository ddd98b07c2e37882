"""The world bench/load.py runs against: a store seeded through nordcert's own services, and the
values its lookups expect to find or not.

Six organisations (four in the sharing group "Nordic fraud"), an analyst with an API token in four
of them, a TAXII collection every member reads and writes, and ``count`` indicators from the six:
three quarters network indicators (bench/_data.py: ipv4, domain, url, sha256), one quarter fraud
indicators (an IBAN and a phone number, or a bitcoin wallet), with a TLP mix of CLEAR, GREEN, AMBER in
the group, AMBER without a group, AMBER+STRICT in the group and RED to one named recipient.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from _data import SEED, indicator
from _stores import Store
from sqlalchemy import text

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.demo.values import iban, p2pkh
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import Submission
from nordcert.sharing.tlp import Tlp
from nordcert.taxii import collections

GROUP = "Nordic fraud"
COLLECTION = "Sector intel"
#: (name, short name, country, sector type, has an analyst with a token, in GROUP)
ORGANISATIONS = (
    ("Nordbank ASA", "NB", "NO", "bank", True, True),
    ("Fjord Sparebank", "FS", "NO", "bank", True, True),
    ("Svea Handelsbank AB", "SH", "SE", "bank", True, True),
    ("Dansk Betalingsformidling A/S", "DB", "DK", "payment_system", False, True),
    ("Baltic Card Services", "BCS", "FI", "payment_system", True, False),
    ("Suomi Vakuutus Oy", "SV", "FI", "insurer", False, False),
)
#: Share of the seeded indicators by sharing: (TLP, in GROUP, with a named recipient), out of 20.
_SHARING = ((Tlp.CLEAR, False, False),) * 2 + ((Tlp.GREEN, False, False),) * 10 + \
    ((Tlp.AMBER, True, False),) * 5 + ((Tlp.AMBER, False, False),) * 1 + \
    ((Tlp.AMBER_STRICT, True, False),) * 1 + ((Tlp.RED, False, True),) * 1
_NS = uuid.UUID("2f0b5c1e-6a43-4b8e-9d1c-6c6f61642d62")


@dataclass
class World:
    tokens: list[str]
    collection_id: str
    #: Stored (kind, value) pairs every member may see (CLEAR and GREEN): lookups must find them.
    hits: list[tuple[str, str]]
    #: (kind, value) pairs never stored: lookups must not find them.
    misses: list[tuple[str, str]]
    #: Words and fragments searched for (family names, a value's fragment).
    common_words: list[str] = field(default_factory=list)
    rare_words: list[str] = field(default_factory=list)
    seed_info: dict[str, Any] = field(default_factory=dict)


def fraud_indicator(rng: random.Random, i: int) -> dict[str, Any]:
    """A fraud indicator: a mule account and the phone number used in the scam, or a wallet."""
    ts = f"2026-{(i % 11) + 1:02d}-{(i % 27) + 1:02d}T{i % 24:02d}:00:00.000Z"
    if i % 3:
        account = iban(("NO", "SE", "DK")[i % 3], rng)
        phone = f"+4670{(i * 7919) % 10_000_000:07d}"
        pattern = f"[x-bank-account:iban = '{account}'] OR [x-phone-number:value = '{phone}']"
        name, labels = f"Money mule account {account[:4]}… (vishing)", ["fraud", "money-mule"]
        description = "Account receiving payments from customers talked into 'safe account' transfers by phone."
    else:
        wallet = p2pkh(rng.getrandbits(160).to_bytes(20, "big"))
        pattern = f"[x-cryptocurrency-wallet:value = '{wallet}']"
        name, labels = f"Investment-fraud wallet {wallet[:8]}", ["fraud", "investment-scam"]
        description = "Bitcoin address victims of a fake trading platform were told to pay into."
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(_NS, f'fraud:{i}')}",
        "created": ts, "modified": ts, "name": name, "description": description, "pattern_type": "stix",
        "pattern": pattern, "valid_from": ts, "labels": labels, "confidence": 70,
        "indicator_types": ["malicious-activity"],
    }


def seed_indicator(rng: random.Random, i: int) -> dict[str, Any]:
    if i % 4 == 3:
        return fraud_indicator(rng, i)
    obj = indicator(rng, i)
    del obj["created_by_ref"], obj["object_marking_refs"]  # the server sets the creator; the submission the TLP
    return obj


def seed(store: Store, count: int, *, chunk: int = 2000, progress: bool = True) -> World:
    """Organisations, group, users, tokens, the collection, then ``count`` indicators through ``ingest``."""
    engine, settings = store.engine, store.settings
    orgs: list[int] = []
    tokens: list[str] = []
    with transaction(engine) as conn:
        for name, short, country, kind, analyst, _ in ORGANISATIONS:
            org = accounts.create_organisation(conn, name=name, short_name=short, country=country, sector_type=kind)
            orgs.append(org["id"])
            if analyst:
                email = f"soc@{short.lower()}.example"
                accounts.create_user(conn, email=email, organisation=org["id"], role="analyst")
                tokens.append(f"load-{short.lower()}-{uuid.uuid4().hex}")
                credentials.create_token(conn, user=email, token=tokens[-1], label="bench/load.py")
        group = accounts.create_group(conn, name=GROUP, members=[o for o, m in zip(orgs, ORGANISATIONS) if m[5]])
        coll = collections.create_collection(conn, title=COLLECTION, kind="sector", read_all=True, write_all=True,
                                             description="Everything a member may see; every member may add.")
    rng = random.Random(SEED)
    started = time.perf_counter()
    for first in range(0, count, chunk):
        objs = [seed_indicator(rng, i) for i in range(first, min(count, first + chunk))]
        parts: dict[int, list[dict[str, Any]]] = {}
        for j, obj in enumerate(objs):
            parts.setdefault((first + j) % len(_SHARING), []).append(obj)
        creator = orgs[(first // chunk) % len(orgs)]
        with transaction(engine) as conn:
            for share, part in parts.items():
                tlp, in_group, named = _SHARING[share]
                recipients = frozenset({orgs[(orgs.index(creator) + 1) % len(orgs)]}) if named else frozenset()
                sub = Submission(creator_org_id=creator, submitted_by=None, tlp=tlp,
                                 group_id=group["id"] if in_group else None, recipients=recipients,
                                 is_cert_staff=True)
                ingest(conn, part, sub, settings)
        if progress:
            print(f"  seeded {min(count, first + chunk):,} indicators", file=sys.stderr, end="\r")
    elapsed = time.perf_counter() - started
    if progress:
        print(file=sys.stderr)
    with transaction(engine, write=False) as conn:
        indexed = conn.execute(text("SELECT count(*) FROM observables")).scalar_one()
        n_orgs = conn.execute(text("SELECT count(*) FROM organisations")).scalar_one()
        by_kind = dict(conn.execute(text("SELECT kind, count(*) FROM observables GROUP BY kind")).all())
        visible = conn.execute(text(
            "SELECT o.kind, o.value FROM observables o JOIN stix_objects s ON s.date_added = o.date_added "
            f"WHERE s.tlp <= {int(Tlp.GREEN)} AND s.is_latest ORDER BY o.date_added")).all()
    if store.kind == "postgres":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    pick = random.Random(SEED + 7)
    hits = [(k, v) for k, v in pick.sample(visible, min(len(visible), 5000))]
    return World(
        tokens=tokens, collection_id=coll["id"], hits=hits, misses=_misses(pick, 5000),
        common_words=["emotet", "qakbot", "phishing", "mule", "lumma"],
        rare_words=[v.split("-")[1][:10] for k, v in hits if k == "domain"][:50] or ["nothing-like-this"],
        seed_info={"indicators": count, "observables": indexed, "observables_by_kind": by_kind,
                   "organisations": n_orgs, "tokens": len(tokens), "seconds": round(elapsed, 1),
                   "indicators_per_s": round(count / elapsed)},
    )


def _misses(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """Values of the same kinds that no seeded or ingested indicator holds."""
    out: list[tuple[str, str]] = []
    for i in range(n):
        k = i % 6
        if k == 0:
            out.append(("ipv4", f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{i % 250 + 1}"))  # never generated
        elif k == 1:
            out.append(("domain", f"never-{rng.getrandbits(48):x}.example"))
        elif k == 2:
            out.append(("sha256", f"{rng.getrandbits(256):064x}"))
        elif k == 3:
            out.append(("iban", iban("FI", rng)))
        elif k == 4:
            out.append(("phone", f"+35840{rng.randrange(10**7):07d}"))
        else:
            out.append(("url", f"https://never-{rng.getrandbits(40):x}.example/login"))
    return out
