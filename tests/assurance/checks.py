"""Checks every answer goes through: no text of what the reader may not see, anonymous creators hidden,
and the set of objects seen equal to the oracle's."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson

from nordcert.config import Settings
from tests.assurance.build import Built, User
from tests.assurance.oracle import Oracle
from tests.assurance.world import Who


def no_leak(body: str | bytes, oracle: Oracle, where: str) -> None:
    """``body`` holds no marker of a version, nor a value of an object, the reader may not see."""
    text = body.decode() if isinstance(body, bytes) else body
    for secret in oracle.forbidden():
        assert secret not in text, f"{where} as {oracle.who}: holds {secret!r}, which it may not see"


def same_set(got: Iterable[int], expected: Iterable[int], oracle: Oracle, where: str) -> None:
    got_set, want = set(got), set(expected)
    assert got_set == want, (f"{where} as {oracle.who}: extra (leaked) {sorted(got_set - want)}, "
                             f"missing {sorted(want - got_set)}")


def created_by(built: Built, settings: Settings, oracle: Oracle, obj: dict[str, Any], where: str) -> None:
    """An anonymous version names the instance, not its creator, to whoever may not know the creator."""
    if "created_by_ref" not in obj and obj.get("modified") is None:
        return  # cyber-observables carry no creator
    i, v = built.version_of(obj)
    creator = built.world.objects[i].creator
    ref = obj.get("created_by_ref")
    if oracle.knows_creator(i, v):
        assert ref == built.org_identities[creator], f"{where} as {oracle.who}: {obj['id']} lost its creator"
    else:
        assert ref in (settings.instance_identity_id, None), (
            f"{where} as {oracle.who}: anonymous {obj['id']} names its creator {ref}")
        shown = orjson.dumps(obj).decode()
        for name in (built.org_identities[creator], built.org_names[creator]):
            assert name not in shown, f"{where} as {oracle.who}: anonymous {obj['id']} holds {name!r}"


def creator_label(built: Built, oracle: Oracle, i: int, v: int, shown: str, where: str) -> None:
    """A "creator" field: the creator's short name, or "anonymous member" for a hidden creator."""
    creator = built.world.objects[i].creator
    expected = built.org_shorts[creator] if oracle.knows_creator(i, v) else "anonymous member"
    assert shown == expected, f"{where} as {oracle.who}: creator of object {i} shown as {shown!r}, not {expected!r}"


def headers(user: User | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"} if user is not None else {}


@contextmanager
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as c:
        yield c


def reader_pairs(built: Built, readers: list[Who]) -> Iterator[tuple[User | None, Oracle]]:
    for who in readers:
        yield built.user(who), Oracle(built.world, who)
