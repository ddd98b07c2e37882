"""Plain-text blocklists and a DNS response-policy zone: one normalised value per line.

What a firewall, proxy, DNS resolver or mail gateway loads: the values of one kind held by the
latest, unrevoked objects the reader may see, deduplicated, in byte order. By default a value is
left out when every object holding it is stale (:func:`nordcert.observables.service.decay`) or when
it is on an enabled warninglist (likely benign); ``include_stale`` and ``include_warninglisted``
keep them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

from sqlalchemy import Connection, func, or_

from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import is_postgres
from nordcert.errors import Invalid
from nordcert.formats._observed import Staleness, sightings_seen, visible_rows
from nordcert.formats._stream import stream_rows
from nordcert.intel.tables import stix_objects
from nordcert.observables.kinds import Kind
from nordcert.observables.warninglist_store import current_matcher
from nordcert.observables.warninglists import Matcher
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp

_s = stix_objects

#: Blocklist names and the index kinds each holds, in the order they are written. ``ipv4`` and
#: ``ipv6`` hold the addresses and the networks (CIDR) of one family; ``hash`` holds every digest.
BLOCKLIST_KINDS: dict[str, tuple[Kind, ...]] = {
    "ip": (Kind.IPV4, Kind.IPV6, Kind.CIDR),
    "ipv4": (Kind.IPV4, Kind.CIDR),
    "ipv6": (Kind.IPV6, Kind.CIDR),
    "domain": (Kind.DOMAIN,),
    "url": (Kind.URL,),
    "email": (Kind.EMAIL,),
    "hash": (Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512),
    "md5": (Kind.MD5,),
    "sha1": (Kind.SHA1,),
    "sha256": (Kind.SHA256,),
    "sha512": (Kind.SHA512,),
    "iban": (Kind.IBAN,),
    "bic": (Kind.BIC,),
    "phone": (Kind.PHONE,),
    "wallet": (Kind.WALLET,),
}

_FAMILY = {"ipv4": ".", "ipv6": ":"}
_NEVER = (0, 0)


def blocklist_kinds(name: str) -> tuple[Kind, ...]:
    """The index kinds of blocklist ``name``; a helpful :class:`Invalid` for an unknown one."""
    kinds = BLOCKLIST_KINDS.get(name.strip().lower())
    if kinds is None:
        raise Invalid(f"unknown blocklist kind {name!r}; one of {', '.join(BLOCKLIST_KINDS)}")
    return kinds


def iter_values(conn: Connection, reader: Reader | None, settings: Settings, name: str, *,
                include_stale: bool = False, include_warninglisted: bool = False, tlp_max: Tlp | None = None,
                as_of: int | None = None, matcher: Matcher | None = None) -> Iterator[list[str]]:
    """The values of blocklist ``name`` for ``reader``, in batches, deduplicated and in order.

    ``as_of`` (µs, default now) is the moment staleness is judged at; ``matcher`` the warninglists
    (default: the enabled ones now).
    """
    kinds = blocklist_kinds(name)
    stale = None if include_stale else Staleness(as_of if as_of is not None else now_us(), settings)
    sighted = sightings_seen(conn, reader) if stale is not None else {}
    check = None if include_warninglisted else (matcher or current_matcher(conn)).match
    family = _FAMILY.get(name.strip().lower())
    pg = is_postgres(conn)
    for kind in kinds:
        only = family if kind is Kind.CIDR and family else None
        yield from _kind_values(conn, reader, kind, stale, sighted, check, only, tlp_max, pg)


def _kind_values(conn: Connection, reader: Reader | None, kind: Kind, stale: Staleness | None,
                 sighted: dict[str, tuple[int, int]], check: Callable[[Kind, str], list[str]] | None,
                 family: str | None, tlp_max: Tlp | None, pg: bool) -> Iterator[list[str]]:
    """One kind's values. Staleness is judged in SQL where it can be (an object's own dates, with
    :class:`Staleness`'s cut-off); only holders that some visible sighting may refresh come back with
    their id and last-seen time to be judged here."""
    columns: tuple[Any, ...] = ()
    cutoff = 0
    if stale is not None:
        cutoff = stale.cutoff(kind.value)
        seen = func.coalesce(func.nullif(_s.c.modified, 0), _s.c.created, _s.c.date_added)
        columns = (_s.c.stix_id, seen) if sighted else ()
    stmt = visible_rows(reader, [kind.value], tlp_max=tlp_max, columns=columns, postgres=pg)
    if stale is not None:
        stmt = stmt.where(or_(_s.c.valid_until.is_(None), _s.c.valid_until > stale.now))
        if not sighted:
            stmt = stmt.where(seen >= cutoff)
    previous: str | None = None
    for rows in stream_rows(conn, stmt):
        out: list[str] = []
        for row in rows:
            value = row[0]
            if value == previous:
                continue  # written already, or judged with an earlier holder
            if family is not None and family not in value:
                continue
            if columns and max(row[2], sighted.get(row[1], _NEVER)[1]) < cutoff:
                continue  # this holder is stale; a later holder of the same value may not be
            previous = value
            if check is not None and check(kind, value):
                continue
            out.append(value)
        if out:
            yield out


def blocklist_chunks(conn: Connection, reader: Reader | None, settings: Settings, name: str, *,
                     include_stale: bool = False, include_warninglisted: bool = False, tlp_max: Tlp | None = None,
                     as_of: int | None = None, matcher: Matcher | None = None) -> Iterator[bytes]:
    """The blocklist as UTF-8 bytes, one value and ``\\n`` per line, in chunks of a few thousand lines."""
    for values in iter_values(conn, reader, settings, name, include_stale=include_stale,
                              include_warninglisted=include_warninglisted, tlp_max=tlp_max, as_of=as_of,
                              matcher=matcher):
        yield ("\n".join(values) + "\n").encode()


def write_blocklist(conn: Connection, reader: Reader | None, settings: Settings, kind: str, out: IO[bytes], *,
                    include_stale: bool = False, include_warninglisted: bool = False, tlp_max: Tlp | None = None,
                    as_of: int | None = None, on_progress: Callable[[int], None] | None = None) -> int:
    """Write blocklist ``kind`` for ``reader`` to ``out``; returns the number of lines written."""
    lines = 0
    for values in iter_values(conn, reader, settings, kind, include_stale=include_stale,
                              include_warninglisted=include_warninglisted, tlp_max=tlp_max, as_of=as_of):
        out.write(("\n".join(values) + "\n").encode())
        lines += len(values)
        if on_progress is not None:
            on_progress(lines)
    return lines


# --- DNS response policy zone (RPZ, draft-vixie-dnsop-dns-rpz) -------------------------------------

RPZ_TTL = 300


def rpz_header(serial: int, instance_name: str) -> str:
    """The zone's head: SOA and NS records, relative to the origin the resolver gives the zone."""
    return (
        f"; DNS response policy zone from {instance_name}: domains reported to the CERT.\n"
        "; Each domain and its subdomains answer NXDOMAIN (CNAME .).\n"
        f"$TTL {RPZ_TTL}\n"
        f"@ IN SOA localhost. hostmaster.localhost. {serial} 3600 600 864000 {RPZ_TTL}\n"
        "@ IN NS localhost.\n"
    )


def _rpz_lines(values: list[str]) -> str:
    return "".join(f"{v} CNAME .\n*.{v} CNAME .\n" for v in values)


def rpz_serial(moment_us: int) -> int:
    """A SOA serial from a time: seconds since the epoch (fits the 32-bit serial until 2106)."""
    return (moment_us // 1_000_000) % 2**32


def rpz_chunks(conn: Connection, reader: Reader | None, settings: Settings, *, serial: int,
               include_stale: bool = False, include_warninglisted: bool = False, tlp_max: Tlp | None = None,
               as_of: int | None = None, matcher: Matcher | None = None) -> Iterator[bytes]:
    """The domain blocklist as an RPZ zone file (RFC 1035 master file syntax), in chunks."""
    yield rpz_header(serial, settings.instance_name).encode()
    for values in iter_values(conn, reader, settings, "domain", include_stale=include_stale,
                              include_warninglisted=include_warninglisted, tlp_max=tlp_max, as_of=as_of,
                              matcher=matcher):
        yield _rpz_lines(values).encode()


def write_rpz(conn: Connection, reader: Reader | None, settings: Settings, out: IO[bytes], *,
              include_stale: bool = False, include_warninglisted: bool = False, tlp_max: Tlp | None = None,
              as_of: int | None = None, on_progress: Callable[[int], None] | None = None) -> int:
    """Write the RPZ zone of the domain blocklist to ``out``; returns the number of domains."""
    moment = as_of if as_of is not None else now_us()
    out.write(rpz_header(rpz_serial(moment), settings.instance_name).encode())
    domains = 0
    for values in iter_values(conn, reader, settings, "domain", include_stale=include_stale,
                              include_warninglisted=include_warninglisted, tlp_max=tlp_max, as_of=moment):
        out.write(_rpz_lines(values).encode())
        domains += len(values)
        if on_progress is not None:
            on_progress(domains)
    return domains
