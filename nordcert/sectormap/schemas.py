"""Input and output models of the sector map API (/api/v1/sectormap): the map and its analysis (the register and
the survey are in :mod:`.register_schemas`).

Vocabularies (categories, ICT service types, substitutability, kinds) are checked by the service layer, so a web
form, the CSV import and the API give the same answer; here they are documented. Node ids read ``KIND:ID``
(``process:17``); dates are calendar dates, moments ISO 8601 in UTC (``Z``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nordcert.sectormap.service import INFRASTRUCTURE_KINDS, PROCESS_CATEGORIES, SERVICE_TYPES, SUBSTITUTABILITY

NodeIds = list[str]


def _enum(values: Any) -> dict[str, Any]:
    return {"enum": list(values)}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- a member's part --------------------------------------------------------------------------------


class ProcessCreate(_In):
    name: str = Field(min_length=1, max_length=300, examples=["Domestic instant payments"])
    category: str = Field(json_schema_extra=_enum(PROCESS_CATEGORIES), examples=["payments"])
    critical: bool = Field(default=False, description="A critical or important function (DORA Art 3(22)).")
    function_ref: str | None = Field(default=None, max_length=100, description="Your function id (ITS B_06.01).")
    description: str = Field(default="", max_length=32767)
    depends_on: NodeIds | None = Field(default=None, description="Your systems and services, shared infrastructure.")


class ProcessUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    category: str | None = Field(default=None, json_schema_extra=_enum(PROCESS_CATEGORIES))
    critical: bool | None = None
    function_ref: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=32767)
    depends_on: NodeIds | None = Field(default=None, description="Replaces the process's dependencies.")


class SystemCreate(_In):
    name: str = Field(min_length=1, max_length=300, examples=["Payment hub"])
    description: str = Field(default="", max_length=32767)
    depends_on: NodeIds | None = None
    supports: NodeIds | None = Field(default=None, description="Your processes and systems that depend on it.")


class SystemUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=32767)
    depends_on: NodeIds | None = None
    supports: NodeIds | None = None


class ProviderRef(_In):
    """A provider by id, or by LEI and/or name (found across the sector, registered if new)."""

    id: int | None = None
    name: str | None = Field(default=None, max_length=300, examples=["Nordic Cloud AB"])
    lei: str | None = Field(default=None, max_length=20, examples=["529900T8BM49AURSDO55"])
    other_id: str | None = Field(default=None, max_length=100)
    other_id_type: str | None = Field(default=None, max_length=32, examples=["EUID"])
    country: str | None = Field(default=None, max_length=2, examples=["SE"])


class ServiceCreate(_In):
    name: str | None = Field(default=None, max_length=300, description="Default: provider, type and contract.")
    provider: ProviderRef | None = Field(default=None, description="None: the provider is not identified yet.")
    service_type: str | None = Field(default=None, json_schema_extra=_enum(SERVICE_TYPES), examples=["S17"])
    critical: bool = Field(default=False, description="Supports a critical or important function.")
    substitutability: str | None = Field(default=None, json_schema_extra=_enum(SUBSTITUTABILITY))
    storage_locations: list[str] = Field(default=[], description="Countries where data is stored (ISO 3166).")
    processing_locations: list[str] = Field(default=[], description="Countries where data is processed.")
    contract_reference: str | None = Field(default=None, max_length=100)
    contract_end: date | None = None
    depends_on: NodeIds | None = None
    supports: NodeIds | None = None


class ServiceUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    provider: ProviderRef | None = None
    service_type: str | None = Field(default=None, json_schema_extra=_enum(SERVICE_TYPES))
    critical: bool | None = None
    substitutability: str | None = Field(default=None, json_schema_extra=_enum(SUBSTITUTABILITY))
    storage_locations: list[str] | None = None
    processing_locations: list[str] | None = None
    contract_reference: str | None = Field(default=None, max_length=100)
    contract_end: date | None = None
    depends_on: NodeIds | None = None
    supports: NodeIds | None = None


class OrganisationRef(BaseModel):
    id: int
    name: str
    short_name: str
    sector_type: str


class _NodeOut(BaseModel):
    id: int
    node_id: str
    organisation: OrganisationRef
    name: str
    depends_on: NodeIds
    created_at: str
    updated_at: str


class ProcessOut(_NodeOut):
    category: str
    critical: bool
    function_ref: str | None
    description: str


class SystemOut(_NodeOut):
    description: str
    supports: NodeIds


class ServiceProviderOut(BaseModel):
    id: int
    node_id: str
    name: str
    lei: str | None
    country: str | None


class ServiceOut(_NodeOut):
    provider: ServiceProviderOut | None
    service_type: str | None
    service_type_name: str | None
    critical: bool
    substitutability: str | None
    storage_locations: list[str]
    processing_locations: list[str]
    contract_reference: str | None
    contract_end: str | None
    supports: NodeIds


class Dependency(_In):
    dependent: str = Field(examples=["system:4"])
    dependency: str = Field(examples=["infrastructure:2"])


class ImportOut(BaseModel):
    rows: int
    processes: dict[str, int]
    systems: dict[str, int]
    services: dict[str, int]
    dependencies: dict[str, int]
    services_removed: int


# --- sector-wide entities ---------------------------------------------------------------------------


class ProviderCreate(_In):
    name: str = Field(min_length=1, max_length=300)
    lei: str | None = Field(default=None, max_length=20)
    other_id: str | None = Field(default=None, max_length=100)
    other_id_type: str | None = Field(default=None, max_length=32)
    country: str | None = Field(default=None, max_length=2)


class ProviderUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    lei: str | None = Field(default=None, max_length=20)
    other_id: str | None = Field(default=None, max_length=100)
    other_id_type: str | None = Field(default=None, max_length=32)
    country: str | None = Field(default=None, max_length=2)


class ProviderOut(BaseModel):
    id: int
    node_id: str
    name: str
    lei: str | None
    other_id: str | None
    other_id_type: str | None
    country: str | None
    unknown: bool
    usage: dict[str, int] | None = Field(description="Members and services using it (CERT staff, authorities).")
    created_at: str
    updated_at: str


class InfrastructureCreate(_In):
    name: str = Field(min_length=1, max_length=300, examples=["RIX-INST"])
    kind: str = Field(json_schema_extra=_enum(INFRASTRUCTURE_KINDS), examples=["payment_system"])
    operator: str = Field(default="", max_length=300, examples=["Sveriges Riksbank"])
    country: str | None = Field(default=None, max_length=2)
    description: str = Field(default="", max_length=32767)


class InfrastructureUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    kind: str | None = Field(default=None, json_schema_extra=_enum(INFRASTRUCTURE_KINDS))
    operator: str | None = Field(default=None, max_length=300)
    country: str | None = Field(default=None, max_length=2)
    description: str | None = Field(default=None, max_length=32767)


class InfrastructureOut(BaseModel):
    id: int
    node_id: str
    name: str
    kind: str
    kind_name: str
    operator: str
    country: str | None
    description: str
    members_depending: int | None
    created_at: str
    updated_at: str


# --- the graph and its analysis ---------------------------------------------------------------------


class NodeOut(BaseModel):
    id: str
    kind: str
    name: str
    organisation: OrganisationRef | None = Field(description="The member maintaining it; None for shared nodes.")
    critical: bool
    category: str | None
    category_name: str | None
    unknown: bool


class GraphOut(BaseModel):
    organisation_id: int | None
    nodes: list[NodeOut]
    edges: list[Dependency]


class ConcentrationRow(BaseModel):
    node: NodeOut
    direct_functions: int
    direct_members: int
    functions: int = Field(description="Critical functions depending on it, directly or transitively.")
    members: int
    function_share: float = Field(description="Of all critical functions, 0 to 1.")
    member_share: float
    depending_members: list[OrganisationRef] | None = Field(description="Sector view only.")
    you_depend: bool | None = Field(description="Member view only: your critical functions depend on it.")


class ConcentrationOut(BaseModel):
    scope: Literal["sector", "member"]
    function_category: str | None
    critical_functions: int
    members: int
    nodes: list[ConcentrationRow]


class ShareOut(BaseModel):
    provider: dict[str, Any]
    count: int
    share: float = Field(description="Percent of the category, 0 to 100.")
    members: int


class CategoryHHIOut(BaseModel):
    category: str
    category_name: str
    basis: str
    total: int
    hhi: float
    reading: str
    providers: list[ShareOut]
    other_providers: dict[str, Any] | None = Field(description="Member view: providers too few members rely on.")


class HHIOut(BaseModel):
    scope: Literal["sector", "member"]
    basis: str
    bands: dict[str, int]
    categories: list[CategoryHHIOut]


class WhatIfIn(_In):
    down: NodeIds = Field(min_length=1, max_length=100, examples=[["provider:3"]])
    function_category: str | None = Field(default=None, json_schema_extra=_enum(PROCESS_CATEGORIES))


class MemberTypeLoss(BaseModel):
    member_type: str
    members: int
    functions: int


class MemberLoss(BaseModel):
    organisation: OrganisationRef
    total_functions: int
    lost: list[NodeOut]


class OwnLoss(BaseModel):
    total_functions: int
    lost: list[NodeOut]


class WhatIfOut(BaseModel):
    scope: Literal["sector", "member"]
    down: list[NodeOut]
    function_category: str | None
    functions: int
    function_share: float
    member_share: float
    by_member_type: list[MemberTypeLoss]
    lost_counts: dict[str, int]
    members: list[MemberLoss] | None = Field(description="Sector view only.")
    lost: dict[str, list[NodeOut]] | None = Field(description="Sector view only: every lost node by kind.")
    own: OwnLoss | None = Field(description="Member view only: your lost functions by name.")


class CyclesOut(BaseModel):
    scope: Literal["sector", "member"]
    total: int
    cycles: list[list[NodeOut]]


class IncompleteOut(BaseModel):
    node: NodeOut
    reason: Literal["unknown", "unmapped"]


class UnknownOut(BaseModel):
    scope: Literal["sector", "member"]
    counts: dict[str, int]
    items: list[IncompleteOut]
