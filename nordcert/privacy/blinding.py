"""Blinding on the member's side: keyed hashes of personal values under a sector key (docs/privacy.md).

Members hold a keyring of sector keys; the platform holds none. A value is blinded as

    HMAC-SHA-256(key, "nordcert-blind-v1" 0x1F kind 0x1F normalised value)

with the same normalisation as the platform's index (:func:`nordcert.observables.kinds.normalise`),
so "NO93 8601 1117 947" and "no9386011117947" blind alike, and a blinded value a member submits
matches a blinded lookup by any other key holder. The result travels as ``KEY_ID:KIND:DIGEST``
(observable kind ``blinded``). Rotation: a keyring keeps older keys beside the current one; new
values are blinded under the current key, lookups under every key in the ring, so values blinded
under an older key stay findable until they expire and the old key is dropped.

Use from Python::

    from nordcert.privacy.blinding import Keyring, blind
    ring = Keyring.load(path)
    blind("iban", "NO93 8601 1117 947", ring.current)      # 'sector-2026a:iban:5f0c…'
    lookup_items(["+47 912 34 567"], ring)                 # what to send to POST /api/v1/lookup

Nothing here touches a store or the network: it is what a member runs before submitting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nordcert.observables.kinds import BLINDABLE, Kind, ObservableError, detect, normalise

_DOMAIN = b"nordcert-blind-v1"
_CHECK = b"nordcert-key-check-v1"
KEY_BYTES = 32


class KeyringError(ValueError):
    """A keyring file that cannot be used; the message says why (never the secret)."""


@dataclass(frozen=True, slots=True)
class SectorKey:
    """One sector key: its id (public) and its secret (held by members only)."""

    key_id: str
    secret: bytes

    @property
    def check_value(self) -> str:
        """A public fingerprint of the secret: members compare it with the one the CERT registered."""
        return hmac.new(self.secret, _CHECK, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Keyring:
    """The keys a member holds: the current one blinds, all of them look up."""

    keys: tuple[SectorKey, ...]
    current_id: str

    @property
    def current(self) -> SectorKey:
        return next(k for k in self.keys if k.key_id == self.current_id)

    @classmethod
    def load(cls, path: Path) -> Keyring:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise KeyringError(f"no keyring at {path}") from None
        except (OSError, ValueError) as exc:
            raise KeyringError(f"the keyring {path} is not readable JSON ({type(exc).__name__})") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Keyring:
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
            raise KeyringError("a keyring is an object with a non-empty 'keys' list and 'current'")
        keys: list[SectorKey] = []
        for i, entry in enumerate(data["keys"]):
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("secret"), str):
                raise KeyringError(f"keys[{i}] needs an 'id' and a base64 'secret'")
            _check_key_id(entry["id"])
            try:
                secret = base64.b64decode(entry["secret"], validate=True)
            except ValueError:
                raise KeyringError(f"keys[{i}] ({entry['id']}): the secret is not base64") from None
            if len(secret) < KEY_BYTES:
                raise KeyringError(f"keys[{i}] ({entry['id']}): the secret has {len(secret)} bytes; at least {KEY_BYTES}")
            keys.append(SectorKey(entry["id"], secret))
        ids = [k.key_id for k in keys]
        if len(set(ids)) != len(ids):
            raise KeyringError("two keys share an id")
        current = data.get("current")
        if current not in ids:
            raise KeyringError(f"'current' must name one of the keys: {', '.join(ids)}")
        return cls(tuple(keys), str(current))

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current_id,
                "keys": [{"id": k.key_id, "secret": base64.b64encode(k.secret).decode()} for k in self.keys]}

    def with_new_key(self, key_id: str) -> Keyring:
        """A keyring with a fresh random key added and made current (rotation)."""
        _check_key_id(key_id)
        if any(k.key_id == key_id for k in self.keys):
            raise KeyringError(f"the keyring already holds a key {key_id!r}")
        return Keyring((*self.keys, new_key(key_id)), key_id)

    def without(self, key_id: str) -> Keyring:
        """The keyring without an old key (once everything blinded under it has expired)."""
        if key_id == self.current_id:
            raise KeyringError("the current key cannot be dropped; rotate to a new one first")
        if not any(k.key_id == key_id for k in self.keys):
            raise KeyringError(f"the keyring holds no key {key_id!r}")
        return Keyring(tuple(k for k in self.keys if k.key_id != key_id), self.current_id)

    def save(self, path: Path) -> None:
        """Write the keyring readable by its owner only."""
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.to_dict(), out, indent=2)
        tmp.replace(path)


def new_key(key_id: str) -> SectorKey:
    _check_key_id(key_id)
    return SectorKey(key_id, secrets.token_bytes(KEY_BYTES))


def _check_key_id(key_id: str) -> None:
    try:
        normalise(Kind.BLINDED, f"{key_id}:iban:{'0' * 64}")
    except ObservableError:
        raise KeyringError(f"key id {key_id!r}: 1 to 40 letters, digits, '.', '_' or '-'") from None


def blindable_kind(kind: Kind | str) -> Kind:
    """The kind, if values of it may be blinded; ObservableError otherwise."""
    k = kind if isinstance(kind, Kind) else Kind(str(kind).strip().lower())
    if k.value not in BLINDABLE:
        raise ObservableError(f"{k.value} values are not blinded; blindable kinds: {', '.join(BLINDABLE)}")
    return k


def blind_normalised(kind: Kind, value: str, key: SectorKey) -> str:
    """``KEY_ID:KIND:DIGEST`` of an already normalised value."""
    digest = hmac.new(key.secret, _DOMAIN + b"\x1f" + kind.value.encode() + b"\x1f" + value.encode(), hashlib.sha256)
    return f"{key.key_id}:{kind.value}:{digest.hexdigest()}"


def blind(kind: Kind | str, value: str, key: SectorKey, *, phone_region: str | None = None) -> str:
    """Normalise ``value`` as the index does and blind it under ``key``; ObservableError if invalid."""
    k = blindable_kind(kind)
    normal_kind, normal = normalise(k, value, phone_region=phone_region)
    return blind_normalised(normal_kind, normal, key)


def lookup_items(values: Iterable[str | tuple[str, str]], ring: Keyring, *,
                 phone_region: str | None = None) -> list[dict[str, str]]:
    """The items of a blinded screening lookup (``POST /api/v1/lookup``): each value blinded under
    every key of the ring. A value is ``(kind, value)`` or a bare value whose kind is detected."""
    items: list[dict[str, str]] = []
    for given in values:
        if isinstance(given, tuple):
            kind, normal = normalise(blindable_kind(given[0]), given[1], phone_region=phone_region)
        else:
            found = detect(given, phone_region=phone_region)
            if found is None:
                raise ObservableError("not a value of any kind we index")
            kind, normal = found
            blindable_kind(kind)
        items += [{"kind": "blinded", "value": blind_normalised(kind, normal, key)} for key in ring.keys]
    return items
