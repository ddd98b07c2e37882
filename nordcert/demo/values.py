"""Made-up values that pass every check a real one would: IBANs with valid check digits, bitcoin addresses
with valid checksums. Used by the demo and the lookup benchmark."""

from __future__ import annotations

import hashlib
import random

_BBAN_LENGTH = {"DK": 14, "NO": 11, "SE": 20, "FI": 14}


def iban(country: str, rng: random.Random) -> str:
    """A syntactically valid IBAN (ISO 13616 mod-97 check digits) for a made-up account."""
    bban = "".join(rng.choice("0123456789") for _ in range(_BBAN_LENGTH[country]))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def p2pkh(key_hash: bytes) -> str:
    """A bitcoin P2PKH address (version 0, Base58Check) for a made-up 20-byte key hash."""
    payload = b"\x00" + key_hash
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + out
