"""The demo instance: Nordic member organisations, sharing groups, users with known tokens, and intel.

The intel is real public STIX content (MITRE ATT&CK for ICS, OASIS example reports; see data/README.md)
plus synthetic fraud intel made here: mule IBANs with valid check digits, phishing domains under the
reserved .example TLD, documentation-range IP addresses, scam phone numbers and wallets.
"""

from __future__ import annotations

import random
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import make_engine, migrate, transaction
from nordcert.demo import baseline, privacy, redteam, resilience, sectormap
from nordcert.demo.values import iban, p2pkh
from nordcert.errors import Invalid, NotFound
from nordcert.intel.bundle import iter_objects_from_file
from nordcert.intel.ingest import ingest
from nordcert.intel.service import count_visible
from nordcert.intel.submission import submission_for
from nordcert.observables import warninglist_store
from nordcert.observables.kinds import Kind, ObservableError, normalise
from nordcert.observables.sightings import record_sighting
from nordcert.observables.warninglists import default_lists_dir
from nordcert.sharing.tlp import Tlp, tlp2_marking_definition
from nordcert.taxii import collections

DATA = Path(__file__).parent / "data"
MARKER = ".nordcert-demo"
_NS = uuid.UUID("2f0f6f5e-3b1c-4d7e-9a43-6e6f7264656d")

ORGANISATIONS = [
    ("Nordic Financial CERT", "NFCERT", "DK", "cert"),
    ("Alpha Bank", "ALPHA", "DK", "bank"),
    ("Boreal Bank", "BOREAL", "NO", "bank"),
    ("Sjöstad Sparbank", "SJOSTAD", "SE", "bank"),
    ("Fennica Pankki", "FENNICA", "FI", "bank"),
    ("Nordpay Clearing", "NORDPAY", "DK", "payment_system"),
    ("Polar Hosting", "POLAR", "FI", "data_centre"),
    ("Fjord Insurance", "FJORD", "NO", "insurer"),
    ("Financial Supervisory Authority (demo)", "FSA", "DK", "authority"),
    ("Vesterhav Sparekasse", "VESTERHAV", "DK", "bank"),
    ("Nordlys Sparebank", "NORDLYS", "NO", "bank"),
    ("Koivu Säästöpankki", "KOIVU", "FI", "bank"),
    ("Øresund Realkredit", "ORESUND", "DK", "mortgage"),
    ("Fjäll Pensionskassa", "FJALL", "SE", "pension"),
]
GROUPS = [
    ("DK banks", "Danish banks and their payment system", ["ALPHA", "NORDPAY", "NFCERT"]),
    ("Nordic fraud", "Fraud teams of the Nordic member banks", ["ALPHA", "BOREAL", "SJOSTAD", "FENNICA", "NORDPAY"]),
    ("Payments", "Card and account-to-account payment operators", ["NORDPAY", "ALPHA", "BOREAL"]),
]
#: email, name, organisation, role, the known demo token
USERS = [
    ("admin@nfcert.example", "Ingrid Holm (CERT)", "NFCERT", "cert_admin", "demo-cert-admin"),
    ("soc@alphabank.example", "Mette Sørensen (SOC)", "ALPHA", "analyst", "demo-alpha-soc"),
    ("fraud@borealbank.example", "Lars Berg (fraud)", "BOREAL", "analyst", "demo-boreal-fraud"),
    ("soc@sjostad.example", "Karin Lind (SOC)", "SJOSTAD", "analyst", "demo-sjostad-soc"),
    ("soc@fennica.example", "Aino Virtanen (SOC)", "FENNICA", "reader", "demo-fennica-reader"),
    ("ops@nordpay.example", "Jens Dahl (payments)", "NORDPAY", "analyst", "demo-nordpay-ops"),
    ("risk@fjord.example", "Siri Nilsen (risk)", "FJORD", "risk_officer", "demo-fjord-risk"),
    ("risk@alphabank.example", "Henrik Madsen (risk)", "ALPHA", "risk_officer", "demo-alpha-risk"),
    ("supervision@fsa.example", "Karen Vestergaard (supervision)", "FSA", "risk_officer", "demo-fsa-risk"),
]
#: id, title, kind, options: TAXII collections (fixed ids, so the README's examples work)
COLLECTIONS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b01", "Sector", "sector",
     {"read_all": True, "write_all": True, "description": "Everything each member may see"}),
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b02", "DK banks", "group", {"group": "DK banks"}),
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b03", "Nordic fraud", "group", {"group": "Nordic fraud"}),
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b04", "Alpha Bank outbox", "outbox",
     {"organisation": "ALPHA", "read_all": True, "description": "What Alpha Bank shares"}),
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b05", "Fraud", "fraud",
     {"read_all": True, "description": "Mule accounts, scam phone numbers and wallets, attacked card BINs"}),
]
def build_demo(settings: Settings, *, progress: bool = True) -> dict[str, Any]:
    """Create the demo instance in ``settings.home`` from scratch; returns what to tell the user."""
    if settings.environment == "production":
        raise Invalid("the demo's tokens are public: it refuses to run with environment=production")
    home = settings.home
    if home.exists() and any(home.iterdir()) and not (home / MARKER).exists():
        raise Invalid(f"{home} holds something other than a demo instance; choose another --instance folder")
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / MARKER).write_text("built by nordcert demo; rebuilt on every run\n")
    engine = make_engine(settings)
    migrate(engine)
    console = Console(quiet=not progress)
    with transaction(engine) as conn:
        for name, short, country, kind in ORGANISATIONS:
            accounts.create_organisation(conn, name=name, short_name=short, country=country, sector_type=kind)
        for name, description, members in GROUPS:
            accounts.create_group(conn, name=name, description=description, members=list[str | int](members))
        for email, name, org, role, token in USERS:
            accounts.create_user(conn, email=email, name=name, organisation=org, role=role)
            credentials.create_token(conn, user=email, token=token, label="demo")
            credentials.set_password(conn, email, token)  # the web log-in password: the same known word
        for cid, title, kind, options in COLLECTIONS:
            collections.create_collection(conn, collection_id=cid, title=title, kind=kind, **options)
        warninglist_store.load(conn, [default_lists_dir()])
        # The demo's made-up infrastructure lives in the documentation ranges (RFC 5737, RFC 3849), which
        # these lists rightly flag; a real instance keeps them enabled.
        for name in ("rfc5735", "rfc3849"):
            warninglist_store.set_enabled(conn, name, False)
    steps = _intel_steps()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("loading demo intel", total=len(steps))
        for email, options, objects in steps:
            with transaction(engine) as conn:
                sub = submission_for(conn, accounts.reader_for(conn, email), **options)
                ingest(conn, objects(), sub, settings)
            bar.advance(task)
    with transaction(engine) as conn:
        _sightings(conn, settings)
    with transaction(engine) as conn:
        resilience.build(conn)
        sectormap.build(conn)
        campaigns = baseline.build(conn)
        tests = redteam.build(conn)
        fraud = privacy.build(conn, settings)
    with transaction(engine, write=False) as conn:
        admin = accounts.reader_for(conn, USERS[0][0])
        counts = count_visible(conn, admin)
    engine.dispose()
    return {"instance": str(home), "objects": sum(counts.values()), "by_type": counts,
            "users": [{"email": u[0], "organisation": u[2], "role": u[3], "token": u[4], "password": u[4]}
                      for u in USERS],
            "baseline": campaigns, "redteam": tests, "privacy": fraud,
            "banner": _banner(counts, _journeys(settings, campaigns, tests, fraud))}


def _sightings(conn: Any, settings: Settings) -> None:
    """Members sight each other's fraud and C2 indicators over the last two weeks (a rising trend)."""
    from sqlalchemy import select

    from nordcert.intel.tables import stix_objects

    rng = random.Random(7)  # nosec B311 # reproducible made-up demo data, no secret
    now = datetime.now(UTC)
    targets = conn.execute(
        select(stix_objects.c.stix_id, stix_objects.c.name).where(
            stix_objects.c.is_latest.is_(True), stix_objects.c.type == "indicator",
            stix_objects.c.name.like("Phishing domain%") | stix_objects.c.name.like("Banking-trojan C2%")
            | stix_objects.c.name.like("Money-mule%") | stix_objects.c.name.like("Vishing%"))
        .order_by(stix_objects.c.stix_id)
    ).all()
    sighters = [USERS[1][0], USERS[2][0], USERS[3][0], USERS[5][0]]
    for stix_id, _name in rng.sample(targets, min(40, len(targets))):
        for email in rng.sample(sighters, rng.randint(1, 3)):
            reader = accounts.reader_for(conn, email)
            try:
                for _ in range(rng.randint(1, 3)):
                    days = 13 * rng.random() ** 2  # more sightings lately: a rising trend
                    last = now - timedelta(days=days)
                    first = last - timedelta(hours=rng.uniform(0, 30))
                    record_sighting(conn, reader, settings, stix_id, count=rng.randint(1, 40),
                                    first_seen=_stix_ts(first), last_seen=_stix_ts(last),
                                    anonymous=rng.random() < 0.2)
            except NotFound:
                continue  # a member that may not see the indicator does not sight it


def _stix_ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _file(name: str) -> Any:
    def objects() -> Any:
        with (DATA / name).open("rb") as fh:
            yield from iter_objects_from_file(fh)
    return objects


def _intel_steps() -> list[tuple[str, dict[str, Any], Any]]:
    rng = random.Random(2026)  # nosec B311 # reproducible made-up demo data, no secret
    fraud = _FraudIntel(rng)
    admin, alpha, boreal, sjostad, nordpay = (USERS[0][0], USERS[1][0], USERS[2][0], USERS[3][0], USERS[5][0])
    tlp_markings = [tlp2_marking_definition(t) for t in Tlp]
    return [
        (admin, {"tlp": "clear"}, lambda: tlp_markings),
        (admin, {"tlp": "clear"}, _file("ics-attack-18.1.json")),
        (admin, {"tlp": "green"}, _file("apt1.json")),
        (admin, {"tlp": "green"}, _file("poisonivy.json")),
        (admin, {"tlp": "clear"}, lambda: fraud.advisory()),
        (alpha, {"tlp": "amber", "group": "DK banks", "anonymous": True}, lambda: fraud.phishing("alphabank", 40)),
        (alpha, {"tlp": "green"}, lambda: fraud.c2_servers(30)),
        (boreal, {"tlp": "amber", "group": "Nordic fraud"}, lambda: fraud.mule_ibans("NO", 35)),
        (boreal, {"tlp": "red", "recipients": ["ALPHA", "SJOSTAD"]}, lambda: fraud.mule_ibans("SE", 8)),
        (sjostad, {"tlp": "amber", "group": "Nordic fraud"}, lambda: fraud.scam_phones(25)),
        (sjostad, {"tlp": "green"}, lambda: fraud.phishing("sjostad", 20)),
        (nordpay, {"tlp": "amber+strict", "group": "Payments"}, lambda: fraud.wallets(12)),
        (nordpay, {"tlp": "amber", "group": "Payments"}, lambda: fraud.card_bins(10)),
        # The same values reported by other members: correlation across the sector.
        (alpha, {"tlp": "amber", "group": "Nordic fraud"}, lambda: fraud.rereport("iban", 6, "Alpha")),
        (sjostad, {"tlp": "green"}, lambda: fraud.rereport("c2", 5, "Sjostad")),
        (nordpay, {"tlp": "green"}, lambda: fraud.c2_range()),
        (sjostad, {"tlp": "green"}, lambda: fraud.false_positives()),
    ]


class _FraudIntel:
    """Synthetic, realistic fraud indicators with deterministic ids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # Relative to today, so the demo's intel is fresh whenever it is built.
        self.now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.reported: dict[str, list[tuple[str, str]]] = {}  # what was reported, for re-reports

    def _ts(self, days_ago: float) -> str:
        return (self.now - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _indicator(self, key: str, name: str, pattern: str, labels: list[str], description: str) -> dict[str, Any]:
        ts = self._ts(self.rng.uniform(0, 30))
        return {
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(_NS, key)}",
            "created": ts, "modified": ts, "name": name, "description": description,
            "indicator_types": ["malicious-activity"], "pattern": pattern, "pattern_type": "stix",
            "valid_from": ts, "labels": labels, "confidence": self.rng.choice([50, 70, 85, 95]),
        }

    def phishing(self, brand: str, n: int) -> list[dict[str, Any]]:
        words = ["secure", "login", "verify", "konto", "mitid", "bankid", "update", "support", "refund", "nets"]
        out = []
        for i in range(n):
            domain = f"{brand}-{self.rng.choice(words)}-{self.rng.choice(words)}{i}.example"
            out.append(self._indicator(f"phish:{domain}", f"Phishing domain imitating {brand}",
                                       f"[domain-name:value = '{domain}']", ["phishing", "fraud"],
                                       "Credential-phishing site reached through SMS links; asks for online-banking "
                                       "credentials and a one-time code."))
            if i % 4 == 0:
                url = f"https://{domain}/auth/start?session={self.rng.randrange(10**8):08d}"
                out.append(self._indicator(f"url:{url}", f"Phishing URL imitating {brand}",
                                           f"[url:value = '{url}']", ["phishing"], "Landing page of an SMS phishing wave."))
        return out

    def c2_servers(self, n: int) -> list[dict[str, Any]]:
        self.reported["c2"] = [(f"203.0.113.{i + 10}", "ipv4-addr:value") for i in range(n)]
        return [self._indicator(f"c2:{i}", f"Banking-trojan C2 203.0.113.{i + 10}",
                                f"[ipv4-addr:value = '203.0.113.{i + 10}']", ["c2", "banking-trojan"],
                                "Command-and-control server of an Android banking trojan seen in customer devices.")
                for i in range(n)]

    def c2_range(self) -> list[dict[str, Any]]:
        return [self._indicator("c2-range", "Bulletproof hosting range 203.0.113.0/24",
                                "[ipv4-addr:value = '203.0.113.0/24']", ["c2", "bulletproof-hosting"],
                                "Range of a bulletproof hoster that keeps hosting banking-trojan C2 servers.")]

    def rereport(self, what: str, n: int, who: str) -> list[dict[str, Any]]:
        """Indicators of another member for values reported before (same value, own object)."""
        out = []
        for value, path in self.rng.sample(self.reported[what], n):
            out.append(self._indicator(f"re:{who}:{value}", f"Reported again by {who}: {value[:4]}…{value[-4:]}",
                                       f"[{path} = '{value}']", ["fraud"] if what == "iban" else ["c2"],
                                       "Seen independently in our own cases."))
        return out

    def false_positives(self) -> list[dict[str, Any]]:
        """Values a member reported by mistake, which warninglists flag (well-known domains and addresses)."""
        return [
            self._indicator("fp:1", "Suspicious DNS resolver", "[ipv4-addr:value = '192.168.1.1']",
                            ["needs-review"], "Seen in a customer's router settings."),
            self._indicator("fp:2", "Suspicious empty attachment", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
                            ["needs-review"], "Attachment of a phishing mail."),
        ]

    def mule_ibans(self, country: str, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            value = iban(country, self.rng)
            self.reported.setdefault("iban", []).append((value, "x-bank-account:iban"))
            out.append(self._indicator(f"iban:{value}", f"Money-mule account {value[:4]}…{value[-4:]}",
                                       f"[x-bank-account:iban = '{value}']", ["money-mule", "fraud"],
                                       "Beneficiary account receiving proceeds of safe-account and investment scams."))
        return out

    def scam_phones(self, n: int) -> list[dict[str, Any]]:
        prefixes = ["+4670", "+4673", "+4791", "+4540", "+35840"]
        out: list[dict[str, Any]] = []
        while len(out) < n:
            number = self.rng.choice(prefixes) + "".join(self.rng.choice("0123456789") for _ in range(7))
            try:
                normalise(Kind.PHONE, number)
            except ObservableError:
                continue  # not a number in an allocated range: draw again
            out.append(self._indicator(f"phone:{number}", "Vishing caller posing as bank security",
                                       f"[x-phone-number:value = '{number}']", ["vishing", "fraud"],
                                       "Caller spoofs the bank's fraud department and talks customers into a "
                                       "'safe account' transfer."))
        return out

    def wallets(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            addr = p2pkh(bytes(self.rng.randrange(256) for _ in range(20)))
            out.append(self._indicator(f"btc:{addr}", "Scam cash-out wallet",
                                       f"[x-cryptocurrency-wallet:value = '{addr}']",
                                       ["investment-scam", "crypto"], "Wallet receiving funds from investment-scam victims."))
        return out

    def card_bins(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            bin_ = self.rng.choice(["4", "5"]) + "".join(self.rng.choice("0123456789") for _ in range(5))
            out.append(self._indicator(f"bin:{bin_}", f"Card BIN under enumeration attack {bin_}",
                                       f"[x-payment-card:bin = '{bin_}']", ["card-fraud"],
                                       "BIN attacked by card-testing bots at small e-commerce merchants."))
        return out

    def advisory(self) -> list[dict[str, Any]]:
        ts = self._ts(1)
        domains = [f"safe-account-{w}.example" for w in ("dk", "no", "se")]
        inds = [self._indicator(f"adv:{d}", f"Safe-account scam site {d}", f"[domain-name:value = '{d}']",
                                ["fraud", "advisory"], "Site used in the safe-account scam wave.") for d in domains]
        report = {
            "type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid5(_NS, 'advisory:safe-account')}",
            "created": ts, "modified": ts, "published": ts, "name": "Safe-account scam wave across the Nordics",
            "description": "Criminals call bank customers posing as the bank's fraud team or the police and persuade "
            "them to move savings to a 'safe account'. Never move money because a caller asks you to.",
            "report_types": ["threat-report"], "labels": ["advisory", "fraud"],
            "object_refs": [i["id"] for i in inds],
        }
        return [*inds, report]


def _journeys(settings: Settings, campaigns: dict[str, int], tests: dict[str, Any], fraud: dict[str, Any]
              ) -> list[str]:
    """What to log in as to walk the resilience journeys, and why a view would be suppressed."""
    k = settings.baseline_min_group
    keyring = fraud["keyring"]
    lines = [
        (f"  Baseline  risk@alphabank.example: /baseline/campaigns/{campaigns['open']} (Alpha's draft, half "
         f"answered) and /baseline/campaigns/{campaigns['closed']}/feedback (its report against the sector); "
         "admin@nfcert.example: each campaign's progress; supervision@fsa.example: the benchmark and heat map"),
        ("  Red team  risk@alphabank.example: Alpha's TLPT \"Heron\" in its remediation plan, measures overdue "
         "(soc@alphabank.example, the blue team, does not see it); supervision@fsa.example: every test; "
         "any member: /redteam/sector"),
        (f"  Privacy   sector key {fraud['key_id']} registered; members' keyring: {keyring} (mode 0600). A "
         "blinded lookup finds Boreal's blinded and Alpha's clear report of one mule account:"),
        (f"    nordcert blind lookup {fraud['shared_iban']} --keyring {keyring} | curl -s -X POST -H "
         "'Authorization: Bearer demo-sjostad-soc' -H 'Content-Type: application/json' "
         "http://127.0.0.1:8000/api/v1/lookup -d @-"),
    ]
    if len(tests["counted_members"]) < k:
        lines.append(f"  The sector's red-team findings are suppressed: {len(tests['counted_members'])} members have "
                     f"counted tests, fewer than NORDCERT_BASELINE_MIN_GROUP={k}.")
    if campaigns["submitted"] < k:
        lines.append(f"  The baseline benchmark is suppressed: {campaigns['submitted']} members submitted, fewer "
                     f"than NORDCERT_BASELINE_MIN_GROUP={k}.")
    return lines


def _banner(counts: dict[str, int], journeys: list[str]) -> str:
    lines = [(f"[bold]Demo instance ready[/]: {sum(counts.values()):,} objects "
              f"({', '.join(f'{n} {t}' for t, n in sorted(counts.items(), key=lambda kv: -kv[1])[:5])}, …)"), "",
             "[bold]Users and their API tokens[/] (demo only; each token is also the user's web log-in password):"]
    for email, _name, org, role, token in USERS:
        lines.append(f"  {token:<22} {email:<28} {org:<8} {role}")
    lines += ["", "Log in at http://127.0.0.1:8000/login as soc@alphabank.example with the password demo-alpha-soc",
              "Try:  curl -s -H 'Authorization: Bearer demo-alpha-soc' http://127.0.0.1:8000/api/v1/me", "",
              "[bold]Resilience journeys[/] (log in as the user named):", *journeys]
    return "\n".join(lines)
