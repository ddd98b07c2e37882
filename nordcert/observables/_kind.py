"""The kinds of observables and the errors of their values (see :mod:`nordcert.observables.kinds`)."""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    """The kinds of observables in the index."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    IBAN = "iban"
    BIC = "bic"
    BIN = "bin"
    WALLET = "wallet"
    PHONE = "phone"
    ASN = "asn"
    #: BIN and last 4 digits of a card, the middle masked (``457173*1234``)
    CARD = "card"
    #: a keyed hash of a personal value (``KEY_ID:KIND:DIGEST``, docs/privacy.md)
    BLINDED = "blinded"


FRAUD_KINDS: frozenset[Kind] = frozenset({Kind.IBAN, Kind.BIC, Kind.BIN, Kind.WALLET, Kind.PHONE, Kind.CARD,
                                          Kind.BLINDED})
#: Kinds whose values can name a person (an account holder, a phone's or an address's owner): objects
#: holding one carry a legal basis and a retention period (docs/privacy.md).
PERSONAL_KINDS: frozenset[Kind] = frozenset({Kind.IBAN, Kind.PHONE, Kind.EMAIL, Kind.WALLET, Kind.CARD,
                                             Kind.BLINDED})
HASH_KINDS: frozenset[Kind] = frozenset({Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512})
IP_KINDS: frozenset[Kind] = frozenset({Kind.IPV4, Kind.IPV6, Kind.CIDR})
HASH_LENGTHS: dict[int, Kind] = {32: Kind.MD5, 40: Kind.SHA1, 64: Kind.SHA256, 128: Kind.SHA512}


class ObservableError(ValueError):
    """A value that is not valid for its kind. The message names the kind and says why; it never
    repeats the value."""

    def __init__(self, message: str, *, kind: Kind | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


PAN_MESSAGE = (
    "invalid bin: a full payment card number (PAN) is not accepted; share only the BIN, the first 6 to 8 digits"
)


class FullCardNumber(ObservableError):
    """A full payment card number (PAN) where only a BIN may go (PCI DSS). The message is fixed and
    never contains the digits given."""

    def __init__(self, message: str = PAN_MESSAGE, *, kind: Kind | None = Kind.BIN) -> None:
        super().__init__(message, kind=kind)


def _invalid(kind: Kind, why: str) -> ObservableError:
    return ObservableError(f"invalid {kind.value}: {why}", kind=kind)
