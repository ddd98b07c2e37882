"""Federation's outgoing view: what a push to the peer sends, over a real socket to a recording peer.

Every version federation may forward (CLEAR and GREEN, AMBER of the peer's groups, capped at the TLP
the peer is configured for; never AMBER+STRICT or RED) must arrive, once; nothing else may; an
anonymous version names neither its creator organisation nor its identity.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine

from nordcert.config import Settings
from nordcert.federation.sync import sync_peer
from tests.assurance.build import PEER_NAME, Built
from tests.assurance.checks import created_by, no_leak
from tests.assurance.oracle import Oracle, forwards
from tests.assurance.peer import Recorder


def check_push(engine: Engine, settings: Settings, built: Built, recorder: Recorder) -> None:
    world = built.world
    assert world.peer_org is not None
    peer = next(u for u in built.users if u.who.org == world.peer_org)
    oracle = Oracle(world, peer.who)
    recorder.clear()
    result = sync_peer(engine, settings, PEER_NAME)
    assert result.ok, f"the push failed: {result.error}"
    sent = Counter(built.version_of(obj) for obj in recorder.objects)
    assert all(n == 1 for n in sent.values()), f"versions pushed twice: {[k for k, n in sent.items() if n > 1]}"
    want = {(i, v) for i, spec in enumerate(world.objects) for v, version in enumerate(spec.versions)
            if forwards(world, version.share)}
    got = set(sent)
    assert got == want, f"push to a peer capped at {world.peer.max_tlp!r}: extra {sorted(got - want)}, " \
                        f"missing {sorted(want - got)}"
    for obj in recorder.objects:
        no_leak(str(obj), oracle, "federation push")
        created_by(built, settings, oracle, obj, "federation push")
    again = sync_peer(engine, settings, PEER_NAME)
    assert again.ok and again.sent == 0, f"a second push sent {again.sent} versions again"
