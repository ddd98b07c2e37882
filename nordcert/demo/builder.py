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

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import make_engine, migrate, transaction
from nordcert.errors import Invalid
from nordcert.intel.bundle import iter_objects_from_file
from nordcert.intel.ingest import ingest, submission_for
from nordcert.intel.service import count_visible
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
]
#: id, title, kind, options: TAXII collections (fixed ids, so the README's examples work)
COLLECTIONS = [
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b01", "Sector", "sector",
     {"read_all": True, "write_all": True, "description": "Everything each member may see"}),
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b02", "DK banks", "group", {"group": "DK banks"}),
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b03", "Nordic fraud", "group", {"group": "Nordic fraud"}),
    ("7c3b4f0e-2c55-4e1b-9d61-2f6f8a1e5b04", "Alpha Bank outbox", "outbox",
     {"organisation": "ALPHA", "read_all": True, "description": "What Alpha Bank shares"}),
]
_BBAN_LENGTH = {"DK": 14, "NO": 11, "SE": 20, "FI": 14}


def iban(country: str, rng: random.Random) -> str:
    """A syntactically valid IBAN (ISO 13616 mod-97 check digits) for a made-up account."""
    bban = "".join(rng.choice("0123456789") for _ in range(_BBAN_LENGTH[country]))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


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
            accounts.create_group(conn, name=name, description=description, members=members)
        for email, name, org, role, token in USERS:
            accounts.create_user(conn, email=email, name=name, organisation=org, role=role)
            accounts.create_token(conn, user=email, token=token, label="demo")
        for cid, title, kind, options in COLLECTIONS:
            collections.create_collection(conn, collection_id=cid, title=title, kind=kind, **options)
    steps = _intel_steps()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("loading demo intel", total=len(steps))
        for email, options, objects in steps:
            with transaction(engine) as conn:
                sub = submission_for(conn, accounts.reader_for(conn, email), **options)
                ingest(conn, objects(), sub, settings)
            bar.advance(task)
    with transaction(engine, write=False) as conn:
        admin = accounts.reader_for(conn, USERS[0][0])
        counts = count_visible(conn, admin)
    engine.dispose()
    return {"instance": str(home), "objects": sum(counts.values()), "by_type": counts,
            "users": [{"email": u[0], "organisation": u[2], "role": u[3], "token": u[4]} for u in USERS],
            "banner": _banner(counts)}


def _file(name: str) -> Any:
    def objects() -> Any:
        with (DATA / name).open("rb") as fh:
            yield from iter_objects_from_file(fh)
    return objects


def _intel_steps() -> list[tuple[str, dict[str, Any], Any]]:
    rng = random.Random(2026)
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
    ]


class _FraudIntel:
    """Synthetic, realistic fraud indicators with deterministic ids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

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
        return [self._indicator(f"c2:{i}", f"Banking-trojan C2 203.0.113.{i + 10}",
                                f"[ipv4-addr:value = '203.0.113.{i + 10}']", ["c2", "banking-trojan"],
                                "Command-and-control server of an Android banking trojan seen in customer devices.")
                for i in range(n)]

    def mule_ibans(self, country: str, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            value = iban(country, self.rng)
            out.append(self._indicator(f"iban:{value}", f"Money-mule account {value[:4]}…{value[-4:]}",
                                       f"[x-bank-account:iban = '{value}']", ["money-mule", "fraud"],
                                       "Beneficiary account receiving proceeds of safe-account and investment scams."))
        return out

    def scam_phones(self, n: int) -> list[dict[str, Any]]:
        prefixes = ["+4670", "+4673", "+4791", "+4540", "+35840"]
        out = []
        for _ in range(n):
            number = self.rng.choice(prefixes) + "".join(self.rng.choice("0123456789") for _ in range(7))
            out.append(self._indicator(f"phone:{number}", "Vishing caller posing as bank security",
                                       f"[x-phone-number:value = '{number}']", ["vishing", "fraud"],
                                       "Caller spoofs the bank's fraud department and talks customers into a "
                                       "'safe account' transfer."))
        return out

    def wallets(self, n: int) -> list[dict[str, Any]]:
        alphabet = "023456789acdefghjklmnpqrstuvwxyz"
        out = []
        for _ in range(n):
            addr = "bc1q" + "".join(self.rng.choice(alphabet) for _ in range(38))
            out.append(self._indicator(f"btc:{addr}", "Scam cash-out wallet", f"[x-crypto-wallet:value = '{addr}']",
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


def _banner(counts: dict[str, int]) -> str:
    lines = [f"[bold]Demo instance ready[/]: {sum(counts.values()):,} objects "
             f"({', '.join(f'{n} {t}' for t, n in sorted(counts.items(), key=lambda kv: -kv[1])[:5])}, …)", "",
             "[bold]Users and their API tokens[/] (demo only):"]
    for email, _name, org, role, token in USERS:
        lines.append(f"  {token:<22} {email:<28} {org:<8} {role}")
    lines += ["", "Try:  curl -s -H 'Authorization: Bearer demo-alpha-soc' http://127.0.0.1:8000/api/v1/me"]
    return "\n".join(lines)
