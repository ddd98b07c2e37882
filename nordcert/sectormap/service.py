"""The sector map's vocabulary, access rules and graph loading, shared by every sectormap module.

Who may do what (the sharing policy decides: a member's part of the map is treated as TLP:RED without
recipients, so ``policy.visible`` gives "its own organisation and CERT staff"; the sector-wide view adds the
authorities' risk officers, as for the incidents' sector view):

| reader                                            | a member's part    | write it | providers, infrastructure | analysis       |
|---------------------------------------------------|--------------------|----------|---------------------------|----------------|
| cert_admin (CERT staff)                           | every member's     | no       | read all, write           | full, named    |
| risk_officer of an authority                      | every member's     | no       | read all                  | full, named    |
| analyst, risk_officer of a member                 | its own            | its own  | those it uses; infra all  | aggregates     |
| reader of a member                                | its own            | no       | those it uses; infra all  | aggregates     |
| a federation peer's service account               | nothing: NotFound, as for what does not exist; the map is not federated  ||||

A member never learns another member's processes, systems or which providers it uses: what reaches it about
the rest of the sector are counts, and the names of sector-wide providers and infrastructure (never which
members depend on them). Providers are sector-wide entities (DORA ITS on the register of information,
template B_05.01), deduplicated by LEI or else by normalised name, so concentration shows across members.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from nordcert.accounts.tables import organisations
from nordcert.errors import Forbidden, Invalid
from nordcert.sectormap.graph import Graph, Node
from nordcert.sectormap.tables import (
    sectormap_dependencies,
    sectormap_infrastructure,
    sectormap_processes,
    sectormap_providers,
    sectormap_services,
    sectormap_systems,
)
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Role, Sharing
from nordcert.sharing.tlp import Tlp

#: Categories of a critical business process (the function, ITS B_06.01), for "N % of payment functions…".
PROCESS_CATEGORIES: dict[str, str] = {
    "payments": "Payments",
    "card_processing": "Card processing",
    "lending": "Lending",
    "deposits": "Deposits and accounts",
    "securities": "Securities and custody",
    "cash": "Cash and ATMs",
    "online_banking": "Online and mobile banking",
    "insurance": "Insurance",
    "other": "Other",
}
#: ICT service types of the register of information (eba_TA:S01…S19, CIR 2024/2956).
SERVICE_TYPES: dict[str, str] = {
    "S01": "ICT project management", "S02": "ICT development", "S03": "ICT help desk and first-level support",
    "S04": "ICT security management", "S05": "Provision of data", "S06": "Data analysis",
    "S07": "ICT facilities and hosting (non-cloud)", "S08": "Computation", "S09": "Non-cloud data storage",
    "S10": "Telecom carrier", "S11": "Network infrastructure", "S12": "Hardware and physical devices",
    "S13": "Software licensing (not SaaS)", "S14": "ICT operation management", "S15": "ICT consulting",
    "S16": "ICT risk management", "S17": "Cloud: IaaS", "S18": "Cloud: PaaS", "S19": "Cloud: SaaS",
}
#: Substitutability of an ICT service (B_07.01), easiest first, with the EBA code each stands for.
SUBSTITUTABILITY: dict[str, str] = {"easy": "eba_ZZ:x962", "medium": "eba_ZZ:x961", "difficult": "eba_ZZ:x960",
                                    "impossible": "eba_ZZ:x959"}
#: Kinds of shared infrastructure CERT staff maintain.
INFRASTRUCTURE_KINDS: dict[str, str] = {
    "payment_system": "Payment system", "settlement_system": "Settlement system", "data_centre": "Data centre",
    "cloud_region": "Cloud region", "network_provider": "Network provider", "other": "Other",
}
#: Which kind of node may depend on which (a service's dependency on its provider is its provider).
DEPENDS: dict[str, tuple[str, ...]] = {
    "process": ("system", "service", "infrastructure"),
    "system": ("system", "service", "infrastructure"),
    "service": ("infrastructure",),
}
#: Sector types that watch the sector rather than being mapped in it.
NON_MEMBER_SECTORS = ("cert", "authority")
WRITERS = frozenset({Role.ANALYST, Role.RISK_OFFICER})
#: A provider or infrastructure node is named to members only when at least this many members depend on it.
SHARED_MIN_MEMBERS = 2
MAX_PAGE = 1000

_NODE_ID = re.compile(r"^(process|system|service|provider|infrastructure):([1-9][0-9]{0,17})$")
_LEGAL_FORMS = frozenset({
    "ab", "publ", "as", "asa", "a/s", "aps", "oy", "oyj", "hf", "ehf", "ltd", "limited", "plc", "inc", "incorporated",
    "llc", "gmbh", "ag", "se", "sa", "sas", "nv", "bv", "corp", "corporation", "co", "company", "srl", "spa",
})
_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")


# --- access ---------------------------------------------------------------------------------------


def sector_type(conn: Connection, organisation_id: int) -> str | None:
    found = conn.execute(select(organisations.c.sector_type).where(organisations.c.id == organisation_id)).scalar()
    return str(found) if found is not None else None


def may_see_sector(conn: Connection, reader: Reader) -> bool:
    """The whole map, with names: CERT staff and risk officers of an authority (the supervisor's view)."""
    if reader.is_cert_staff:
        return True
    return reader.role is Role.RISK_OFFICER and sector_type(conn, reader.organisation_id) == "authority"


def may_read(reader: Reader) -> bool:
    """Any user of any organisation on this instance; not a federation peer."""
    return policy.visible(Sharing(creator_org_id=None, tlp=Tlp.AMBER), reader)


def may_see_member(conn: Connection, reader: Reader, organisation_id: int) -> bool:
    """May ``reader`` see one member's part of the map? Its own users, CERT staff and authorities' risk officers."""
    if policy.visible(Sharing(creator_org_id=organisation_id, tlp=Tlp.RED), reader):
        return True
    return may_see_sector(conn, reader)


def require_member_writer(conn: Connection, reader: Reader) -> int:
    """The organisation whose part ``reader`` may write: its own, for a member's analysts and risk officers."""
    if reader.role not in WRITERS:
        if reader.is_cert_staff:
            raise Forbidden("a member maintains its own part of the map; CERT staff maintain providers and "
                            "shared infrastructure")
        raise Forbidden(f"role {reader.role.value} may read your organisation's map; changing it needs analyst "
                        "or risk_officer")
    if sector_type(conn, reader.organisation_id) in NON_MEMBER_SECTORS:
        raise Forbidden("only member organisations keep a part of the sector map")
    return reader.organisation_id


def require_staff(reader: Reader, doing: str) -> None:
    if not reader.is_cert_staff:
        raise Forbidden(f"only CERT staff (cert_admin) {doing}")


# --- names and identifiers ------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A name as compared: Unicode-normalised, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def provider_key(name: str) -> str:
    """A provider's name as deduplicated: :func:`name_key` without punctuation and trailing legal forms,
    so "Nordic Cloud AB", "Nordic Cloud (publ) AB" and "nordic cloud" are one provider."""
    words = re.sub(r"[^\w/&]+", " ", name_key(name)).split()
    while len(words) > 1 and words[-1] in _LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def lei_problem(lei: str) -> str | None:
    """Why ``lei`` is not an ISO 17442 LEI (20 characters, check digits by ISO 7064 MOD 97-10), or None."""
    if not _LEI.match(lei):
        return f"LEI {lei[:40]!r} is not 18 letters or digits and 2 check digits"
    if int("".join(str(int(c, 36)) for c in lei)) % 97 != 1:
        return f"LEI {lei!r} has wrong check digits"
    return None


def clean_text(values: dict[str, Any], name: str, limit: int, problems: list[dict[str, str]], *,
               required: bool = True) -> str | None:
    """``values[name]`` stripped, or a problem named after the field (None when optional and empty)."""
    text = str(values.get(name) or "").strip()
    if not text:
        if required:
            problems.append({"field": name, "reason": f"required, 1 to {limit} characters"})
        return None
    if len(text) > limit:
        problems.append({"field": name, "reason": f"at most {limit} characters"})
    return text


def node_id(kind: str, row_id: int) -> str:
    return f"{kind}:{row_id}"


def parse_node_id(text: str, field: str) -> tuple[str, int]:
    found = _NODE_ID.match(str(text).strip())
    if found is None:
        raise Invalid(f"{field} {str(text)[:60]!r} is not a node id", details=[
            {"field": field, "reason": "KIND:ID with KIND one of process, system, service, provider, infrastructure"}])
    return found.group(1), int(found.group(2))


# --- the graph ------------------------------------------------------------------------------------


def load_graph(conn: Connection) -> Graph:
    """The whole map as one :class:`Graph`: one query per node table and one for the edges."""
    p, s, v, pr, i, d = (sectormap_processes, sectormap_systems, sectormap_services, sectormap_providers,
                         sectormap_infrastructure, sectormap_dependencies)
    return graph_of_rows(
        conn.execute(select(p.c.id, p.c.organisation_id, p.c.name, p.c.critical, p.c.category)),
        conn.execute(select(s.c.id, s.c.organisation_id, s.c.name)),
        conn.execute(select(pr.c.id, pr.c.name, pr.c.lei, pr.c.other_id)),
        conn.execute(select(i.c.id, i.c.name, i.c.kind)),
        conn.execute(select(v.c.id, v.c.organisation_id, v.c.name, v.c.critical, v.c.service_type, v.c.provider_id)),
        conn.execute(select(d.c.dependent, d.c.dependency)),
    )


def graph_of_rows(processes: Iterable[Sequence[Any]], systems: Iterable[Sequence[Any]],
                  providers: Iterable[Sequence[Any]], infrastructure: Iterable[Sequence[Any]],
                  services: Iterable[Sequence[Any]], edges: Iterable[Sequence[Any]]) -> Graph:
    """The :class:`Graph` of :func:`load_graph`'s six row sets (in its column order), however they were fetched.

    A service depends on its provider (from ``provider_id``); a provider without an LEI or other identifier,
    and a service whose provider is not identified, are ``unknown``: named, not yet described. The edges come
    last: every node they name exists by then.
    """
    graph = Graph()
    for pid, org, name, critical, category in processes:
        graph.add(Node(node_id("process", pid), "process", name, org, bool(critical), category))
    for sid, org, name in systems:
        graph.add(Node(node_id("system", sid), "system", name, org))
    for prid, name, lei, other_id in providers:
        graph.add(Node(node_id("provider", prid), "provider", name, None, unknown=lei is None and other_id is None))
    for iid, name, kind in infrastructure:
        graph.add(Node(node_id("infrastructure", iid), "infrastructure", name, None, category=kind))
    for vid, org, name, critical, service_type, provider_id in services:
        graph.add(Node(node_id("service", vid), "service", name, org, bool(critical), service_type,
                       unknown=provider_id is None))
        if provider_id is not None:
            graph.link(node_id("service", vid), node_id("provider", provider_id))
    for dependent, dependency in edges:
        graph.link(dependent, dependency)
    return graph


def organisations_by_id(conn: Connection, ids: Iterable[int | None] | None = None) -> dict[int, dict[str, Any]]:
    """Organisation references ``{id, name, short_name, sector_type}`` by id (all, or those of ``ids``; None
    stands for no organisation and is skipped)."""
    o = organisations
    q = select(o.c.id, o.c.name, o.c.short_name, o.c.sector_type)
    if ids is not None:
        wanted = sorted({i for i in ids if i is not None})
        if not wanted:
            return {}
        q = q.where(o.c.id.in_(wanted))
    return {r.id: {"id": r.id, "name": r.name, "short_name": r.short_name, "sector_type": r.sector_type}
            for r in conn.execute(q)}




def parse_date(value: Any, field: str, problems: list[dict[str, str]]) -> date | None:
    """A calendar date from a ``date`` or ``YYYY-MM-DD`` text; None when empty; a problem otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append({"field": field, "reason": f"{str(value)[:20]!r} is not a date (YYYY-MM-DD)"})
        return None
