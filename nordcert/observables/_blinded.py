"""Masked card numbers and blinded values: the two kinds that exist for fraud data's privacy.

``card``: a card as fraud reports name it, the BIN (first 6 to 8 digits, ISO/IEC 7812) and the
last 4 digits, with the digits between masked (``457173******1234``), as PCI DSS allows them to be
shown. Its normal form is ``BIN*LAST4``. A full card number is refused, never echoed.

``blinded``: a keyed hash of a personal value (docs/privacy.md): ``KEY_ID:KIND:DIGEST``, where the
digest is HMAC-SHA-256 under a sector key the platform never holds, of the value in its normal form
(:mod:`nordcert.privacy.blinding` computes it). The platform checks the shape only: it cannot tell
a digest from random hex, which is the point.
"""

from __future__ import annotations

import re

from nordcert.observables._financial import luhn_ok
from nordcert.observables._kind import FullCardNumber, Kind, _invalid

#: The kinds that may be blinded: those that name a person (an account holder, a phone's owner).
BLINDABLE: tuple[str, ...] = ("iban", "phone", "email", "card", "wallet")

_MASKED_RE = re.compile(r"([0-9]{6,8})[ -]*(?:[*xX\u2022\u00b7.\u2026][ -]*)+([0-9]{4})")
_PAN_LIKE_RE = re.compile(r"[0-9][0-9 -]*[0-9]")
CARD_MESSAGE = (
    "invalid card: a full payment card number (PAN) is not accepted; give the BIN and the last 4 digits "
    "with the digits between masked, e.g. 457173******1234"
)


def _norm_card(kind: Kind, text: str) -> tuple[Kind, str]:
    """``BIN*LAST4`` of a masked card number: 6 to 8 leading digits, one or more mask characters
    (``*``, ``x``, ``•``, ``·``, ``.``, ``…``; spaces and hyphens between allowed), 4 last digits."""
    m = _MASKED_RE.fullmatch(text)
    if m is None:
        if _PAN_LIKE_RE.fullmatch(text):
            digits = text.replace(" ", "").replace("-", "")
            if 13 <= len(digits) <= 19 and luhn_ok(digits):
                raise FullCardNumber(CARD_MESSAGE, kind=kind)
        raise _invalid(kind, "a card is its BIN (6 to 8 digits) and last 4 digits with the digits between "
                             "masked, e.g. 457173******1234")
    return kind, f"{m.group(1)}*{m.group(2)}"


_KEY_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_DIGEST_RE = re.compile(r"[0-9a-fA-F]{64}")


def _norm_blinded(kind: Kind, text: str) -> tuple[Kind, str]:
    """``KEY_ID:KIND:DIGEST``: a key id (1-40 of letters, digits, ``.``, ``_``, ``-``), a blindable
    kind, and 64 hex digits (lower-cased)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise _invalid(kind, "a blinded value is KEY_ID:KIND:DIGEST (three parts separated by ':')")
    key_id, inner, digest = parts
    if not _KEY_ID_RE.fullmatch(key_id):
        raise _invalid(kind, "the key id is 1 to 40 letters, digits, '.', '_' or '-'")
    if inner not in BLINDABLE:
        raise _invalid(kind, f"the blinded kind must be one of {', '.join(BLINDABLE)}")
    if not _DIGEST_RE.fullmatch(digest):
        raise _invalid(kind, "the digest is 64 hexadecimal digits (HMAC-SHA-256)")
    return kind, f"{key_id}:{inner}:{digest.lower()}"


def blinded_key_id(value: str) -> str:
    """The key id of a normalised blinded value."""
    return value.split(":", 1)[0]
