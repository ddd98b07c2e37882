"""The oracle: what each reader may see of a world, written from DESIGN.md's sharing table.

It never calls :mod:`nordcert.sharing.policy`; it speaks of organisations, group membership and the
five TLP rows, and answers for every read path what the set of objects (or versions) must be:

| TLP          | who may read it                                            | may federation forward it       |
|--------------|------------------------------------------------------------|---------------------------------|
| CLEAR        | anyone, also without logging in                            | yes                             |
| GREEN        | every member organisation                                  | yes, to every peer              |
| AMBER        | the group's members (without a group, every member)        | to peers in that group          |
| AMBER+STRICT | the group's member organisations only                      | never                           |
| RED          | the named recipient organisations only                     | never                           |

The creator organisation always sees its own; CERT staff see everything; an anonymous object shows
the instance, not its creator, to everyone but the creator and CERT staff. A peer's service account
reads what may be forwarded to it (capped at the TLP its peer is configured for) and nothing else.
"Reported by N members" counts what the reader may see and AMBER of other groups (it learns that
some member holds a value it holds too, never which); AMBER+STRICT and RED never count outside their
audience, and nothing counts for a peer or the public.
"""

from __future__ import annotations

from dataclasses import dataclass

from nordcert.sharing.policy import Role
from nordcert.sharing.tlp import Tlp
from tests.assurance.world import POOL, Share, Spec, Who, World, marker, own_domain


def member_of(world: World, org: int, group: int | None) -> bool:
    return group is not None and org in world.groups[group]


def forwards(world: World, share: Share) -> bool:
    """May federation send this version to the world's peer?"""
    assert world.peer is not None and world.peer_org is not None
    if share.tlp > world.peer.max_tlp:
        return False
    if share.tlp in (Tlp.CLEAR, Tlp.GREEN):
        return True
    if share.tlp is Tlp.AMBER:
        return member_of(world, world.peer_org, share.group)
    return False


def may_read(world: World, creator: int, share: Share, who: Who) -> bool:
    if who.org is None:
        return share.tlp is Tlp.CLEAR
    if who.role is Role.CERT_ADMIN:
        return True
    if who.role is Role.PEER:
        return forwards(world, share)
    if who.org == creator:
        return True
    if share.tlp in (Tlp.CLEAR, Tlp.GREEN):
        return True
    if share.tlp is Tlp.AMBER:
        return share.group is None or member_of(world, who.org, share.group)
    if share.tlp is Tlp.AMBER_STRICT:
        return member_of(world, who.org, share.group)
    return who.org in share.recipients


def creator_known(creator: int, share: Share, who: Who) -> bool:
    if not share.anonymous:
        return True
    return who.org is not None and (who.role is Role.CERT_ADMIN or who.org == creator)


def countable(world: World, creator: int, share: Share, who: Who) -> bool:
    if may_read(world, creator, share, who):
        return True
    return who.org is not None and who.role is not Role.PEER and share.tlp is Tlp.AMBER


@dataclass(frozen=True)
class Oracle:
    """Answers about one world for one reader."""

    world: World
    who: Who

    def latest(self, i: int) -> int:
        return len(self.world.objects[i].versions) - 1

    def sees(self, i: int, v: int) -> bool:
        spec = self.world.objects[i]
        return may_read(self.world, spec.creator, spec.versions[v].share, self.who)

    def knows_creator(self, i: int, v: int) -> bool:
        spec = self.world.objects[i]
        return creator_known(spec.creator, spec.versions[v].share, self.who)

    def counts(self, i: int) -> bool:
        spec = self.world.objects[i]
        return countable(self.world, spec.creator, spec.versions[-1].share, self.who)

    def revoked(self, i: int) -> bool:
        return self.world.objects[i].versions[-1].revoked

    def visible_versions(self, i: int) -> list[int]:
        return [v for v in range(len(self.world.objects[i].versions)) if self.sees(i, v)]

    def latest_visible(self, *, include_revoked: bool = False, kinds: tuple[str, ...] = ()) -> set[int]:
        """Objects whose latest version the reader may see (REST lists, TAXII ``last``, feeds)."""
        return {i for i, s in enumerate(self.world.objects)
                if self.sees(i, self.latest(i)) and (include_revoked or not self.revoked(i))
                and (not kinds or s.kind in kinds)}

    def holders(self, value: int) -> list[int]:
        """Objects whose latest, unrevoked version holds pool value ``value`` (the index)."""
        return [i for i, s in enumerate(self.world.objects) if value in s.values and not self.revoked(i)]

    def matches_of(self, holders: list[int]) -> set[int]:
        """The holders of a value a lookup shows: those whose latest version the reader may see."""
        return {i for i in holders if self.sees(i, self.latest(i))}

    def members(self, holders: list[int]) -> tuple[int, int]:
        """(reporting_members, other_members) of a value held by ``holders``."""
        counted = {self.world.objects[i].creator for i in holders if self.counts(i)}
        seen = {self.world.objects[i].creator for i in holders if self.sees(i, self.latest(i))}
        return len(counted), len(counted - seen)

    def sightings_of(self, target: int) -> tuple[list[int], set[int]]:
        """(visible sightings, countable sighting organisations) of object ``target``."""
        mine = [i for i, s in enumerate(self.world.objects)
                if s.kind == "sighting" and s.refs == (target,) and not self.revoked(i)]
        shown = [i for i in mine if self.sees(i, self.latest(i))]
        counted = {self.world.objects[i].creator for i in mine if self.counts(i)}
        return shown, counted

    def forbidden(self) -> list[str]:
        """Texts no answer to this reader may hold: the markers of versions it may not see, and values
        held by no object it may see a version of."""
        texts = []
        seen_values: set[str] = set()
        for i, spec in enumerate(self.world.objects):
            visible = self.visible_versions(i)
            texts.extend(marker(i, v) for v in range(len(spec.versions)) if v not in visible)
            if visible:
                seen_values.update(values_of(i, spec))
        hidden = {v for i, spec in enumerate(self.world.objects) for v in values_of(i, spec)} - seen_values
        return texts + sorted(hidden)


def values_of(i: int, spec: Spec) -> list[str]:
    """The observable values in every version of object ``i`` (versions keep their values)."""
    out = [POOL[v][1] for v in spec.values]
    if spec.kind == "indicator":
        out.append(own_domain(i))
    return out
