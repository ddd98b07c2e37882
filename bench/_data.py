"""The benchmarks' data: distinct, realistic STIX 2.1 indicators from a fixed seed, as a bundle file.

Shared by bench/ingest.py, bench/taxii.py and bench/import.py so that every benchmark measures the
same objects.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from nordcert.config import NORDCERT_NAMESPACE

TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
ORG_NAME = "Bench Bank ASA"
ORG_IDENTITY = f"identity--{uuid.uuid5(NORDCERT_NAMESPACE, 'organisation:' + ORG_NAME)}"
SEED = 20261123

# --- generating the bundle ------------------------------------------------------------------

_WORDS = ("nordic", "fjord", "secure", "login", "pay", "bank", "cloud", "update", "verify", "account", "portal",
          "invoice", "mail", "cdn", "auth", "support", "wallet", "token", "online", "service", "kunde", "konto")
_TLDS = ("com", "net", "org", "info", "xyz", "top", "ru", "io", "online", "site", "biz", "cc")
_PATHS = ("login.php", "wp-admin/verify", "gate.php", "secure/update", "invoice.zip", "api/v2/beacon",
          "bank/auth", "payload.bin", "track", "dl/setup.exe")
_LABELS = ("phishing", "c2", "malware-distribution", "credential-theft", "ransomware", "botnet", "fraud",
           "banking-trojan", "scanning", "apt", "ddos", "anonymization")
_INDICATOR_TYPES = ("malicious-activity", "anomalous-activity", "compromised", "attribution")
_FAMILIES = ("QakBot", "Emotet", "IcedID", "AgentTesla", "Lumma", "RedLine", "Cobalt Strike", "DanaBot",
             "Vidar", "AsyncRAT")
_KINDS = ("ipv4", "domain", "url", "sha256")
_T0 = 1_735_689_600  # 2025-01-01T00:00:00Z
_SPAN = 690 * 86_400  # ~ until late 2026


def _ts(seconds: int, millis: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _domain(rng: random.Random, i: int) -> str:
    # The index keeps every value distinct; the words keep it looking like what feeds carry.
    return f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}{i:x}.{rng.choice(_TLDS)}"


def indicator(rng: random.Random, i: int) -> dict[str, Any]:
    """One realistic, distinct indicator (``i`` makes its observable unique)."""
    kind = _KINDS[i % 4]
    family = rng.choice(_FAMILIES)
    if kind == "ipv4":
        value = f"{(i >> 16) % 200 + 23}.{(i >> 8) & 255}.{i & 255}.{rng.randrange(1, 255)}"
        pattern = f"[ipv4-addr:value = '{value}']"
        name = f"{family} C2 server {value}"
        description = f"IPv4 address seen serving {family} command and control to member banks."
    elif kind == "domain":
        value = _domain(rng, i)
        pattern = f"[domain-name:value = '{value}']"
        name = f"Phishing domain {value}"
        description = f"Domain registered to harvest online-banking credentials; linked to {family} campaigns."
    elif kind == "url":
        value = f"https://{_domain(rng, i)}/{rng.choice(_PATHS)}?id={rng.getrandbits(32):08x}"
        pattern = f"[url:value = '{value}']"
        name = f"Malicious URL delivering {family}"
        description = f"URL observed in {family} malspam sent to finance staff; downloads the first stage."
    else:
        value = f"{rng.getrandbits(256):064x}"
        pattern = f"[file:hashes.'SHA-256' = '{value}']"
        name = f"{family} sample {value[:12]}"
        description = f"SHA-256 of a {family} loader recovered during incident response at a member."
    created = _T0 + rng.randrange(_SPAN)
    created_ms = rng.randrange(1000)
    modified = created + rng.choice((0, 0, 0, 3600, 86_400, 7 * 86_400))
    labels = rng.sample(_LABELS, rng.choice((1, 1, 2)))
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        "created_by_ref": ORG_IDENTITY,
        "created": _ts(created, created_ms),
        "modified": _ts(modified, created_ms),
        "name": name,
        "description": description,
        "indicator_types": [rng.choice(_INDICATOR_TYPES)],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": _ts(created, created_ms),
        "labels": labels,
        "confidence": rng.choice((50, 60, 70, 80, 85, 90, 95)),
        "object_marking_refs": [TLP_GREEN],
    }
    if rng.random() < 0.5:
        obj["valid_until"] = _ts(created + 90 * 86_400, created_ms)
    return obj


def write_bundle(path: Path, count: int) -> int:
    """Stream ``count`` indicators into a bundle file (memory stays flat); returns its size in bytes."""
    rng = random.Random(SEED)
    with path.open("wb") as fh:
        fh.write(b'{"type":"bundle","id":"bundle--' + str(uuid.UUID(int=rng.getrandbits(128), version=4)).encode()
                 + b'","objects":[\n')
        for i in range(count):
            if i:
                fh.write(b",\n")
            fh.write(orjson.dumps(indicator(rng, i)))
        fh.write(b"\n]}\n")
    return path.stat().st_size


def read_bundle(path: Path) -> list[dict[str, Any]]:
    return orjson.loads(path.read_bytes())["objects"]  # type: ignore[no-any-return]
