"""Input and output models of the lookup, correlation, sighting and warninglist routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field


class LookupItem(BaseModel):
    kind: str = Field(description="ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256, sha512, iban, bic, "
                      "bin, wallet, phone or asn")
    #: An integer (an ASN or a BIN) within 64 bits: the answer repeats the value as given, and JSON
    #: numbers beyond that range are not portable (a larger one is refused with 422, not echoed).
    value: str | Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class LookupRequest(BaseModel):
    values: list[str | LookupItem] = Field(
        description="Values to screen: a string (its kind is detected) or {kind, value}. At most "
        "max_lookup_values (10,000 by default).",
        examples=[["185.220.101.7", "SE45 5000 0000 0583 9825 7466", {"kind": "phone", "value": "+46 8 123 456 78"}]],
    )
    subdomains: bool = Field(default=False, description="a domain (or a URL's host) also matches its reported "
                             "parent domains")
    include_stale: bool = Field(default=True, description="include matches whose decay score marks them stale (reporting members are "
                                  "counted either way)")


class MatchOut(BaseModel):
    id: str
    type: str
    name: str | None
    tlp: str
    confidence: int | None
    labels: list[str]
    creator: str = Field(description="short name of the reporting member, or 'anonymous member'")
    first_seen: str
    last_seen: str = Field(description="latest of the object's version and its sightings you may see")
    valid_until: str | None
    sightings: int = Field(description="sum of the counts of the sightings you may see")
    decay_score: float = Field(description="1.0 when just seen; halves every half-life of the kind")
    stale: bool = Field(description="past valid_until, or decay score below decay_stale_below")
    matched: dict[str, str] | None = Field(default=None, description="the stored value that matched, when it is "
                                           "not the value asked (a containing range, a parent domain, a URL's host)")


class LookupResult(BaseModel):
    index: int = Field(description="position of the value in the request")
    input: Any = Field(description="the value as given (a card number is masked)")
    error: str | None = None
    kind: str | None = None
    value: str | None = Field(default=None, description="the normalised value")
    found: bool | None = None
    warninglists: list[str] | None = Field(default=None, description="known-good lists the value is on: a likely "
                                           "false positive")
    matches: list[MatchOut] | None = None
    reporting_members: int | None = Field(default=None, description="distinct members that reported the value, "
                                          "counting those you may not see where their TLP allows")
    other_members: int | None = Field(default=None, description="of those, members whose reports you may not see")
    reported_by_you: bool | None = None


class LookupSummary(BaseModel):
    values: int
    matched: int
    errors: int


class LookupOut(BaseModel):
    results: list[LookupResult]
    summary: LookupSummary


class CorrelatedObservable(BaseModel):
    kind: str
    value: str
    warninglists: list[str]
    objects: list[MatchOut] = Field(description="other objects holding the value that you may see")
    reporting_members: int
    other_members: int
    reported_by_you: bool


class CorrelationsOut(BaseModel):
    id: str
    observables: list[CorrelatedObservable]
    correlated: int = Field(description="observables that another object or member also holds")


class ObservableOut(BaseModel):
    kind: str
    value: str
    warninglists: list[str]


class SightingCreate(BaseModel):
    count: int = Field(default=1, ge=0, le=999_999_999)
    first_seen: str | None = Field(default=None, description="STIX timestamp; default now")
    last_seen: str | None = Field(default=None, description="STIX timestamp; default first_seen")
    anonymous: bool = Field(default=False, description="show the CERT instead of your organisation as the sighter")
    tlp: str | None = Field(default=None, description="at least the sighted object's TLP; default the instance's")
    note: str | None = Field(default=None, max_length=10_000)


class SightingCreated(BaseModel):
    sighting: dict[str, Any]
    tlp: str


class TrendDay(BaseModel):
    date: str
    count: int


class Trend(BaseModel):
    direction: str = Field(description="none, new, rising, falling or steady (last 7 days against the 7 before)")
    days: list[TrendDay]


class SightingRecent(BaseModel):
    count: int
    first_seen: str
    last_seen: str
    tlp: str
    sighted_by: str


class SightingsOut(BaseModel):
    id: str
    count: int
    sightings: int
    first_seen: str | None
    last_seen: str | None
    members: int = Field(description="distinct members that sighted it (counted where their TLP allows)")
    members_last_7_days: int
    summary: str
    trend: Trend
    recent: list[SightingRecent]


class WarninglistOut(BaseModel):
    name: str
    version: str
    type: str
    kinds: list[str]
    enabled: bool
    entries: int
    description: str
