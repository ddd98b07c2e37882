"""The operations of bench/load.py's mix: each makes one request as a member's analyst and checks its
answer (a wrong answer counts as an error, like a status other than the one expected)."""

from __future__ import annotations

import itertools
import random
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from _data import indicator
from _load_client import Answer, Connection
from _load_world import GROUP, World, fraud_indicator

TAXII = b"application/taxii+json;version=2.1"
#: Identifiers of the objects added during the run start here, clear of the seeded ones.
_FIRST_NEW = 10_000_000


def _headers(token: str, *extra: bytes) -> bytes:
    return b"Authorization: Bearer " + token.encode() + b"\r\n" + b"".join(e + b"\r\n" for e in extra)


def _json(status: int, body: bytes, expect: int) -> Any:
    if status != expect:
        raise Answer(status, f"HTTP {status}: {body[:300].decode(errors='replace')}")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Answer("bad-json", f"not JSON: {exc}") from None


class _Op:
    name = ""
    #: Shared by every operation that adds: each new indicator gets its own number (its id and values).
    _numbers = itertools.count(_FIRST_NEW)

    def __init__(self, world: World) -> None:
        self.world = world
        self.auth = [_headers(t) for t in world.tokens]

    def token_of(self, client: int) -> int:
        return client % len(self.world.tokens)

    def new_objects(self, n: int, rng: random.Random) -> list[dict[str, Any]]:
        """``n`` indicators never stored before (a quarter of them fraud indicators)."""
        out = []
        for i in itertools.islice(self._numbers, n):
            if i % 4 == 3:
                out.append(fraud_indicator(rng, i))
            else:
                obj = indicator(rng, i)
                del obj["created_by_ref"]
                out.append(obj)
        return out


class Ingest(_Op):
    """``POST /api/v1/objects``: a bundle of ``batch`` new indicators, TLP:GREEN or AMBER in the group."""

    name = "ingest"

    def __init__(self, world: World, batch: int, in_group: frozenset[int]) -> None:
        super().__init__(world)
        self.batch, self.in_group = batch, in_group

    async def run(self, conn: Connection, client: int, rng: random.Random) -> int:
        t = self.token_of(client)
        objects = self.new_objects(self.batch, rng)
        for o in objects:
            o.pop("object_marking_refs", None)
        share = {"group": GROUP} if t in self.in_group and rng.random() < 0.3 else {"tlp": "green"}
        body = orjson.dumps({"type": "bundle", "id": f"bundle--{objects[0]['id'].split('--')[1]}", "objects": objects})
        status, answer = await conn.request("POST", "/api/v1/objects?" + urlencode(share),
                                            self.auth[t] + b"Content-Type: application/json\r\n", body)
        got = _json(status, answer, 201)
        if got.get("created") != self.batch:
            raise Answer("wrong-answer", f"created {got.get('created')} of {self.batch}: {answer[:200]!r}")
        return self.batch


class TaxiiAdd(_Op):
    """TAXII 2.1 add: an envelope of ``batch`` new TLP:GREEN indicators to the collection."""

    name = "taxii_add"

    def __init__(self, world: World, batch: int) -> None:
        super().__init__(world)
        self.batch = batch
        self.path = f"/taxii2/api/collections/{world.collection_id}/objects/"
        self.auth = [_headers(t, b"Accept: " + TAXII, b"Content-Type: " + TAXII) for t in world.tokens]

    async def run(self, conn: Connection, client: int, rng: random.Random) -> int:
        body = orjson.dumps({"objects": self.new_objects(self.batch, rng)})
        status, answer = await conn.request("POST", self.path, self.auth[self.token_of(client)], body)
        got = _json(status, answer, 202)
        if got.get("status") != "complete" or got.get("success_count") != self.batch:
            raise Answer("wrong-answer", f"status {got.get('status')}, {got.get('success_count')} of {self.batch} "
                                         f"added: {answer[:200]!r}")
        return self.batch


class TaxiiRead(_Op):
    """TAXII 2.1 get objects, ``limit`` a page: each client pages through the collection following
    ``next``, and starts again from the first page when ``more`` is false."""

    name = "taxii_read"

    def __init__(self, world: World, limit: int) -> None:
        super().__init__(world)
        self.path = f"/taxii2/api/collections/{world.collection_id}/objects/?limit={limit}"
        self.auth = [_headers(t, b"Accept: " + TAXII) for t in world.tokens]
        self.next: dict[int, str | None] = {}

    async def run(self, conn: Connection, client: int, rng: random.Random) -> int:
        cursor = self.next.get(client)
        target = self.path + (f"&next={quote(cursor, safe='')}" if cursor else "")
        status, answer = await conn.request("GET", target, self.auth[self.token_of(client)])
        got = _json(status, answer, 200)
        self.next[client] = got.get("next") if got.get("more") else None
        return len(got.get("objects", ()))


class Lookup(_Op):
    """``GET /api/v1/lookup?kind=…&value=…``: one value, half of them stored (and visible), half never stored."""

    name = "lookup"

    async def run(self, conn: Connection, client: int, rng: random.Random) -> int:
        hit = rng.random() < 0.5
        kind, value = rng.choice(self.world.hits if hit else self.world.misses)
        status, answer = await conn.request("GET", f"/api/v1/lookup?kind={kind}&value={quote(value, safe='')}",
                                            self.auth[self.token_of(client)])
        found = _json(status, answer, 200)["results"][0].get("found")
        if found is not hit:
            raise Answer("wrong-answer", f"{kind} {value}: found is {found}, expected {hit}")
        return 1


class LookupBatch(_Op):
    """``POST /api/v1/lookup`` of ``size`` values, half stored: exactly those must be found."""

    name = "lookup_batch"

    def __init__(self, world: World, size: int) -> None:
        super().__init__(world)
        self.size = size
        self.auth = [a + b"Content-Type: application/json\r\n" for a in self.auth]

    async def run(self, conn: Connection, client: int, rng: random.Random) -> int:
        n_hits = self.size // 2
        values = rng.sample(self.world.hits, n_hits) + rng.sample(self.world.misses, self.size - n_hits)
        body = orjson.dumps({"values": [{"kind": k, "value": v} for k, v in values]})
        status, answer = await conn.request("POST", "/api/v1/lookup", self.auth[self.token_of(client)], body)
        found = sum(1 for r in _json(status, answer, 200)["results"] if r.get("found"))
        if found != n_hits:
            raise Answer("wrong-answer", f"{found} of {self.size} values found, expected {n_hits}")
        return self.size


class Search(_Op):
    """``GET /api/v1/objects``, 50 a page: the newest objects, by label, by type and TLP, or by a
    common word in name or description (a malware family)."""

    name = "search"

    def query(self, rng: random.Random) -> dict[str, str]:
        return rng.choice(({}, {"label": "fraud"}, {"type": "indicator", "tlp": "amber"},
                           {"q": rng.choice(self.world.common_words)}))

    async def run(self, conn: Connection, client: int, rng: random.Random) -> int:
        target = "/api/v1/objects?" + urlencode({**self.query(rng), "limit": 50})
        status, answer = await conn.request("GET", target, self.auth[self.token_of(client)])
        return len(_json(status, answer, 200)["objects"])


class SearchText(Search):
    """``GET /api/v1/objects?q=…`` for a fragment of one stored value: few or no matches, so the
    whole store is read (there is no text index)."""

    name = "search_text"

    def query(self, rng: random.Random) -> dict[str, str]:
        return {"q": rng.choice(self.world.rare_words)}


class Hello:
    """The reference: ``GET /hello`` of a bare app on the same stack."""

    name = "hello"

    async def run(self, conn: Connection, client: int, rng: random.Random) -> int:
        status, answer = await conn.request("GET", "/hello", b"")
        if status != 200 or answer != b'{"hello":"world"}':
            raise Answer(status, f"HTTP {status}: {answer[:100]!r}")
        return 1
