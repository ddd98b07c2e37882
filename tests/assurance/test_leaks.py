"""Nothing leaks: random instances read through every path, as every user and as nobody, over a real
server on 127.0.0.1, each answer checked against the oracle of DESIGN.md's sharing table
(tests/assurance/oracle.py): the objects seen are exactly those the table allows (none missing),
anonymous creators stay hidden, counts of members are what the table allows, and no answer holds the
text or values of anything its reader may not see. What is checked, and how to run longer:
docs/assurance-tests.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given

from nordcert.sharing.policy import Role
from nordcert.sharing.tlp import Tlp
from tests.assurance import paths_feeds, paths_observables, paths_rest, paths_taxii, paths_web
from tests.assurance.build import Built, build
from tests.assurance.checks import client, reader_pairs
from tests.assurance.conftest import ASSURANCE, Store
from tests.assurance.paths_federation import check_push
from tests.assurance.peer import Recorder, recording_peer
from tests.assurance.world import Peer, Share, Spec, Version, World, readers, worlds


@pytest.fixture(scope="module")
def peer() -> Iterator[tuple[str, Recorder]]:
    with recording_peer() as found:
        yield found


def _built(store: Store, world: World, peer_url: str) -> Built:
    store.fresh()
    return build(store.engine, store.settings, world, peer_url=peer_url)


@ASSURANCE
@given(world=worlds())
def test_rest_objects_show_each_reader_exactly_what_the_table_allows(
        store: Store, server: str, peer: tuple[str, Recorder], world: World) -> None:
    built = _built(store, world, peer[0])
    with client(server) as http:
        for user, oracle in reader_pairs(built, readers(world)):
            paths_rest.check(http, built, store.settings, user, oracle)


@ASSURANCE
@given(world=worlds())
def test_lookup_correlations_and_sightings_count_and_name_only_what_the_table_allows(
        store: Store, server: str, peer: tuple[str, Recorder], world: World) -> None:
    built = _built(store, world, peer[0])
    with client(server) as http:
        for user, oracle in reader_pairs(built, readers(world)):
            paths_observables.check(http, built, user, oracle)


@ASSURANCE
@given(world=worlds())
def test_taxii_collections_show_each_reader_exactly_what_the_table_allows(
        store: Store, server: str, peer: tuple[str, Recorder], world: World) -> None:
    built = _built(store, world, peer[0])
    with client(server) as http:
        for user, oracle in reader_pairs(built, readers(world)):
            paths_taxii.check(http, built, store.settings, user, oracle)


@ASSURANCE
@given(world=worlds())
def test_feeds_and_exports_hold_exactly_what_the_reader_may_see(
        store: Store, server: str, peer: tuple[str, Recorder], world: World) -> None:
    built = _built(store, world, peer[0])
    with client(server) as http:
        for user, oracle in reader_pairs(built, readers(world)):
            paths_feeds.check(http, built, store.settings, user, oracle)


@ASSURANCE
@given(world=worlds())
def test_web_pages_show_each_reader_exactly_what_the_table_allows(
        store: Store, server: str, peer: tuple[str, Recorder], world: World) -> None:
    built = _built(store, world, peer[0])
    with client(server) as http:
        for user, oracle in reader_pairs(built, readers(world)):
            if user is None or user.session is not None:  # a peer's service account has no web log-in
                paths_web.check(http, built, user, oracle)


@ASSURANCE
@given(world=worlds(peer=True))
def test_federation_push_sends_exactly_what_may_be_forwarded(
        store: Store, server: str, peer: tuple[str, Recorder], world: World) -> None:
    built = _built(store, world, peer[0])
    check_push(store.engine, store.settings, built, peer[1])


def test_a_peer_reads_no_more_than_its_configured_tlp_on_any_path(store: Store, server: str,
                                                                    peer: tuple[str, Recorder]) -> None:
    """What the suite found first: a peer configured for CLEAR read GREEN (and one configured for GREEN
    read AMBER of its groups) through the REST API, the lookup and the feeds; only its federation
    collection was capped."""
    for cap in (Tlp.CLEAR, Tlp.GREEN):
        share = {t: Share(t, 0 if t is Tlp.AMBER else None, frozenset(), False) for t in (Tlp.GREEN, Tlp.AMBER)}
        world = World(members=1, sectors=("bank",), groups=(frozenset({0, 2}),),
                      roles=((Role.ANALYST,), (Role.CERT_ADMIN,), (Role.PEER,)),
                      objects=(Spec("indicator", 0, (Version(share[Tlp.GREEN], False),), values=(3,)),
                               Spec("indicator", 0, (Version(share[Tlp.AMBER], False),), values=(3,))),
                      order=((0, 0), (1, 0)), peer=Peer(cap))
        built = _built(store, world, peer[0])
        user, oracle = next((u, o) for u, o in reader_pairs(built, readers(world)) if o.who.role is Role.PEER)
        assert oracle.latest_visible() == ({0} if cap is Tlp.GREEN else set())
        with client(server) as http:
            paths_rest.check(http, built, store.settings, user, oracle)
            paths_observables.check(http, built, user, oracle)
            paths_feeds.check(http, built, store.settings, user, oracle)
