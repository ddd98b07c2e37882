"""Output models of the objects API (they document the answers in the OpenAPI spec)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FederationMeta(BaseModel):
    origin_instance: str = Field(description="the instance where the object was first shared")
    origin_organisation: str | None = Field(description="its creator there; null when submitted anonymously")
    received_from: str | None = Field(description="the peer that sent it here (null if that peer was removed)")
    path: list[str] = Field(description="identities of the instances it passed through, origin first")


class ObjectMeta(BaseModel):
    date_added: str = Field(description="when this server stored this version (strictly increasing)")
    tlp: str = Field(description="clear, green, amber, amber+strict or red")
    sharing_group: str | None
    creator: str = Field(description="creator organisation's short name, or 'anonymous member'")
    anonymous: bool
    revoked: bool
    version: str | None = Field(description="the version's `modified` timestamp")
    recipients: list[str] | None = Field(default=None, description="named recipients (TLP:RED), shown to the creator")
    federation: FederationMeta | None = Field(default=None, description="provenance of an object from a peer")


class ObjectOut(BaseModel):
    object: dict[str, Any] = Field(description="the STIX 2.1 object as stored")
    meta: ObjectMeta


class ObjectPage(BaseModel):
    objects: list[ObjectOut]
    next: str | None = Field(description="cursor of the next page; null on the last page")


class IngestWarning(BaseModel):
    index: int = Field(description="position of the object in the bundle")
    id: str
    reason: str = Field(description="why a value of the object was not indexed (the object is stored)")


class IngestRejection(BaseModel):
    index: int | None = Field(default=None, description="position of the object in the bundle")
    id: str | None = None
    reason: str


class IngestSummary(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="objects refused (always 0 here: one invalid object rejects the batch)")
    total: int
    rejections: list[IngestRejection] = Field(default=[], description="the refused objects, when any")
    observables_indexed: int = Field(description="observables written to the index")
    warning_count: int = Field(description="values not indexed because they are not valid for their kind")
    warnings: list[IngestWarning] = Field(description="the first of them (up to max_reported_errors)")


class VersionsOut(BaseModel):
    id: str
    versions: list[str]
