"""Routes of /api/v1/collections: managing TAXII collections (cert_admin)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from nordcert.accounts.service import require_cert_admin
from nordcert.deps import CurrentReader, ReadConn, WriteConn
from nordcert.taxii import collections

router = APIRouter(tags=["taxii"])


class CollectionCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200, examples=["Sector"])
    kind: Literal["sector", "group", "outbox", "fraud"] = Field(
        default="sector", description="sector: everything a reader may see; group: one sharing group's objects; "
        "outbox: one organisation's own objects; fraud: objects holding an IBAN, BIC, BIN, wallet or phone number")
    description: str = ""
    group: str | None = Field(default=None, description="sharing group (kind 'group')")
    organisation: str | None = Field(default=None, description="owner organisation (kind 'outbox')")
    read_all: bool = Field(default=False, description="every member organisation may read")
    write_all: bool = Field(default=False, description="every member organisation may write")
    readers: list[str] = Field(default_factory=list, description="organisations that may read")
    writers: list[str] = Field(default_factory=list, description="organisations that may write")


@router.get("/collections", summary="TAXII collections and who may read and write them (cert_admin)")
def list_collections(reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    require_cert_admin(reader)
    return collections.list_all(conn)


@router.post("/collections", status_code=201, summary="Add a TAXII collection (cert_admin)")
def create_collection(body: CollectionCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return collections.create_collection(conn, actor=reader, **body.model_dump())


@router.delete("/collections/{ref}", summary="Remove a TAXII collection (cert_admin); its objects stay")
def remove_collection(ref: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return collections.remove_collection(conn, ref, actor=reader)
