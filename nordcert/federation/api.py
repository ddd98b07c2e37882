"""Routes of /api/v1/federation: peers, their status, and "sync now" (CERT staff only)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from nordcert.accounts.service import require_cert_admin
from nordcert.deps import CurrentReader, ReadConn, SettingsDep, WriteConn
from nordcert.federation import peers, sync

router = APIRouter(tags=["federation"])

TlpCap = Literal["clear", "green", "amber"]


class PeerCreate(BaseModel):
    name: str = Field(description="The peer's name here: lower-case letters, digits and '-'.", examples=["no"])
    url: str = Field(description="The peer's TAXII discovery URL or API root.")
    instance_name: str = Field(description="The peer's instance name (its NORDCERT_INSTANCE_NAME).")
    country: str = Field(description="ISO 3166 alpha-2", examples=["NO"])
    direction: Literal["pull", "push", "both"] = "both"
    max_tlp: TlpCap = Field("amber", description="AMBER+STRICT and RED never cross.")
    groups: list[str] = Field(default_factory=list, description="Sharing groups whose AMBER may cross.")
    token: str | None = Field(None, description="The token the peer created for this instance.")
    interval_s: int = Field(300, ge=1)
    timeout_s: int = Field(60, ge=1)


class PeerUpdate(BaseModel):
    url: str | None = None
    token: str | None = None
    direction: Literal["pull", "push", "both"] | None = None
    max_tlp: TlpCap | None = None
    add_groups: list[str] = Field(default_factory=list)
    remove_groups: list[str] = Field(default_factory=list)
    enabled: bool | None = None
    interval_s: int | None = Field(None, ge=1)
    timeout_s: int | None = Field(None, ge=1)


@router.get("/federation/peers", summary="Every peer's configuration and sync status (cert_admin)")
def list_peers(reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    require_cert_admin(reader)
    return peers.status(conn)


@router.post("/federation/peers", status_code=201,
             summary="Add a peer; the answer holds the token for the peer's operator, once (cert_admin)")
def add_peer(body: PeerCreate, reader: CurrentReader, conn: WriteConn, settings: SettingsDep) -> dict[str, Any]:
    return peers.add_peer(conn, settings, actor=reader, **body.model_dump())


@router.patch("/federation/peers/{name}", summary="Change a peer's configuration (cert_admin)")
def update_peer(name: str, body: PeerUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return peers.update_peer(conn, name, actor=reader, **body.model_dump())


@router.delete("/federation/peers/{name}", summary="Stop federating with a peer (cert_admin)")
def remove_peer(name: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return peers.remove_peer(conn, name, actor=reader)


@router.post("/federation/peers/{name}/sync", status_code=202,
             summary="Ask the workers to sync a peer at their next round (cert_admin)")
def request_sync(name: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    require_cert_admin(reader)
    return sync.request_sync(conn, name)
