"""The model of a random instance for the leak tests, and the hypothesis strategy that draws one.

Organisations, groups and objects are indices here; :mod:`tests.assurance.build` gives them ids in a
store. Every version of every object carries its own sharing (TLP, group, named recipients,
anonymous flag), as a re-shared object does, and its own marker text (:func:`marker`), so that an
answer that holds the text of a version its reader may not see is caught by a substring search.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from nordcert.sharing.policy import Role
from nordcert.sharing.tlp import Tlp

#: Values several objects may hold, so that values collide across organisations: (kind, value, pattern path).
POOL: tuple[tuple[str, str, str], ...] = (
    ("ipv4", "198.51.100.7", "ipv4-addr:value"),
    ("domain", "mule-pay.example", "domain-name:value"),
    ("url", "https://login-bank.example/reset", "url:value"),
    ("iban", "DK5000400440116243", "x-bank-account:iban"),
    ("iban", "NO9386011117947", "x-bank-account:iban"),
    ("phone", "+46701234567", "x-phone-number:value"),
    ("phone", "+4791234567", "x-phone-number:value"),
)
FRAUD_KINDS = frozenset({"iban", "bic", "bin", "wallet", "phone"})
#: Sector types of the member organisations (one CERT besides them).
MEMBER_SECTORS = ("bank", "insurer", "payment_system", "mortgage", "pension", "authority")
MEMBER_ROLES = (Role.ANALYST, Role.READER, Role.RISK_OFFICER)
#: Object kinds: STIX types, and the two fraud cyber-observables.
SDO_KINDS = ("indicator", "report", "note", "identity")
SCO_KINDS = ("x-bank-account", "x-phone-number")


@dataclass(frozen=True)
class Share:
    """The sharing of one version."""

    tlp: Tlp
    group: int | None  # index of a sharing group (AMBER and AMBER+STRICT only)
    recipients: frozenset[int]  # organisation indices (RED only)
    anonymous: bool


@dataclass(frozen=True)
class Version:
    share: Share
    revoked: bool


@dataclass(frozen=True)
class Spec:
    """One object: its kind, creator organisation, versions (oldest first) and what it holds."""

    kind: str
    creator: int
    versions: tuple[Version, ...]
    values: tuple[int, ...] = ()  # indices into POOL
    refs: tuple[int, ...] = ()  # earlier objects it names (sighted, related, reported, noted)
    count: int = 1  # a sighting's count


@dataclass(frozen=True)
class Peer:
    """The federation peer organisation: its groups come from ``World.groups``."""

    max_tlp: Tlp


@dataclass(frozen=True)
class World:
    """``members`` member organisations (0..members-1), then the CERT, then the peer if there is one."""

    members: int
    sectors: tuple[str, ...]
    groups: tuple[frozenset[int], ...]
    roles: tuple[tuple[Role, ...], ...]  # per organisation (peer: its service account only)
    objects: tuple[Spec, ...]
    order: tuple[tuple[int, int], ...]  # (object, version) in the order they are ingested
    peer: Peer | None

    @property
    def cert(self) -> int:
        return self.members

    @property
    def peer_org(self) -> int | None:
        return self.members + 1 if self.peer is not None else None

    @property
    def orgs(self) -> int:
        return self.members + 1 + (self.peer is not None)


@dataclass(frozen=True)
class Who:
    """A reader: a user of organisation ``org`` with ``role``, or nobody logged in (``org`` None)."""

    org: int | None
    role: Role | None

    def __str__(self) -> str:
        return "nobody" if self.org is None else f"{self.role} of org {self.org}"


NOBODY = Who(None, None)


def marker(obj: int, version: int) -> str:
    """The text only version ``version`` of object ``obj`` holds (fixed width: none contains another)."""
    return f"zq{obj:02d}v{version}x"


def own_domain(obj: int) -> str:
    """A value only object ``obj`` holds (indicators)."""
    return f"zq{obj:02d}d.example"


def readers(world: World) -> list[Who]:
    """Every user of the world, and nobody."""
    return [NOBODY, *(Who(org, role) for org in range(world.orgs) for role in world.roles[org])]


@st.composite
def shares(draw: st.DrawFn, orgs: int, groups: int, *, anonymous: bool = True) -> Share:
    tlp = draw(st.sampled_from(Tlp))
    group = None
    if tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) and groups:
        group = draw(st.none() | st.integers(0, groups - 1))
    recipients: frozenset[int] = frozenset()
    if tlp is Tlp.RED:
        recipients = draw(st.frozensets(st.integers(0, orgs - 1), max_size=3))
    return Share(tlp, group, recipients, draw(st.booleans()) if anonymous else False)


@st.composite
def _spec(draw: st.DrawFn, index: int, kinds: list[str], orgs: int, creators: int, groups: int) -> Spec:
    earlier_sdos = [i for i, k in enumerate(kinds) if k in SDO_KINDS]
    earlier_indicators = [i for i, k in enumerate(kinds) if k == "indicator"]
    options = ["indicator", "indicator", *SCO_KINDS, "identity"]
    if earlier_indicators:
        options += ["sighting", "sighting"]
    if earlier_sdos:
        options += ["report", "note"]
    if len(earlier_sdos) >= 2:
        options.append("relationship")
    kind = draw(st.sampled_from(options))
    creator = draw(st.integers(0, creators - 1))
    n_versions = 1 if kind in SCO_KINDS else draw(st.integers(1, 3))
    versions = []
    for v in range(n_versions):
        share = draw(shares(orgs, groups))
        revoked = v == n_versions - 1 and kind not in SCO_KINDS and draw(st.integers(0, 5)) == 0
        versions.append(Version(share, revoked))
    values: tuple[int, ...] = ()
    refs: tuple[int, ...] = ()
    count = 1
    if kind == "indicator":
        values = tuple(sorted(draw(st.frozensets(st.integers(0, len(POOL) - 1), max_size=2))))
    elif kind in SCO_KINDS:
        wanted = "iban" if kind == "x-bank-account" else "phone"
        values = (draw(st.sampled_from([i for i, p in enumerate(POOL) if p[0] == wanted])),)
    elif kind == "sighting":
        refs = (draw(st.sampled_from(earlier_indicators)),)
        count = draw(st.integers(1, 5))
    elif kind == "relationship":
        refs = tuple(draw(st.lists(st.sampled_from(earlier_sdos), min_size=2, max_size=2)))
    elif kind in ("report", "note"):
        refs = tuple(sorted(draw(st.frozensets(st.sampled_from(earlier_sdos), min_size=1, max_size=3))))
    return Spec(kind, creator, tuple(versions), values, refs, count)


@st.composite
def worlds(draw: st.DrawFn, *, min_objects: int = 5, max_objects: int = 25, peer: bool | None = None) -> World:
    """3-6 organisations (2-4 members of random sector types, the CERT, maybe a federation peer),
    0-3 sharing groups, users of random roles and ``min_objects``-``max_objects`` objects."""
    members = draw(st.integers(2, 4))
    with_peer = draw(st.booleans()) if peer is None else peer
    orgs = members + 1 + with_peer
    sectors = tuple(draw(st.sampled_from(MEMBER_SECTORS)) for _ in range(members))
    groups = tuple(draw(st.lists(st.frozensets(st.integers(0, orgs - 1), min_size=1), max_size=3)))
    roles: list[tuple[Role, ...]] = [
        tuple(draw(st.lists(st.sampled_from(MEMBER_ROLES), min_size=1, max_size=2, unique=True)))
        for _ in range(members)]
    roles.append((Role.CERT_ADMIN, *((Role.ANALYST,) if draw(st.booleans()) else ())))
    if with_peer:
        roles.append((Role.PEER,))
    n = draw(st.integers(min_objects, max_objects))
    kinds: list[str] = []
    specs: list[Spec] = []
    for i in range(n):
        spec = draw(_spec(i, kinds, orgs, members + 1, len(groups)))
        kinds.append(spec.kind)
        specs.append(spec)
    pairs = [(i, v) for i, s in enumerate(specs) for v in range(len(s.versions))]
    # Mostly in order; sometimes an older version arrives after a newer one.
    order = tuple(draw(st.permutations(pairs))) if draw(st.integers(0, 3)) == 0 else tuple(pairs)
    max_tlp = draw(st.sampled_from([Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER]))
    return World(members, sectors, groups, tuple(roles), tuple(specs), order,
                 Peer(max_tlp) if with_peer else None)
