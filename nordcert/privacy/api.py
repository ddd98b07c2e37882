"""Routes of /api/v1/privacy: legal bases and retention, the sector keys' public ids, data-subject
requests and the retention run (CERT staff)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from nordcert.deps import CurrentReader, ReadConn, SettingsDep, WriteConn
from nordcert.privacy import keys, retention, subjects

router = APIRouter(prefix="/privacy", tags=["privacy"])


class KeyCreate(BaseModel):
    key_id: str = Field(description="the sector key's public id, as in the members' keyrings")
    check_value: str = Field(description="16 hex digits that `nordcert blind keygen` prints for the key")
    note: str = ""


class SubjectRequest(BaseModel):
    values: list[str | dict[str, Any]] = Field(
        description="values to find: a bare value (its kind detected), or {kind, value}; blinded values as "
        "{kind: blinded, value: KEY_ID:KIND:DIGEST}", min_length=1, max_length=subjects.MAX_VALUES)


class ErasureRequest(SubjectRequest):
    reason: str = Field(description="why: the data-subject request's reference", min_length=1)


@router.get("/legal-bases", summary="The legal bases personal data may be shared under, and its retention")
def legal_bases(reader: CurrentReader, settings: SettingsDep) -> dict[str, Any]:
    return {"legal_bases": settings.legal_bases, "default": settings.default_legal_basis or None,
            "retention_days": settings.retention_days}


@router.get("/keys", summary="The sector keys registered for blinded values (public ids and check values)")
def list_keys(reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return keys.list_keys(conn)


@router.post("/keys", status_code=201, summary="Register a sector key's id and check value (CERT staff)")
def register_key(body: KeyCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return keys.register_key(conn, reader=reader, key_id=body.key_id, check_value=body.check_value, note=body.note)


@router.post("/keys/{key_id}/retire", summary="Retire a sector key: no new values under it (CERT staff)")
def retire_key(key_id: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return keys.retire_key(conn, reader=reader, key_id=key_id)


@router.get("/summary", summary="Personal data held, by legal basis and kind, and the next expiry (CERT staff)")
def summary(reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    from nordcert.accounts.service import require_cert_admin

    require_cert_admin(reader)
    return retention.summary(conn)


@router.post("/subjects/search", summary="Every object holding a person's values, all versions (CERT staff)")
def subject_search(body: SubjectRequest, reader: CurrentReader, conn: WriteConn, settings: SettingsDep
                   ) -> dict[str, Any]:
    return subjects.find(conn, reader=reader, values=body.values, settings=settings)


@router.post("/subjects/export", summary="A STIX bundle of every version holding a person's values (CERT staff)")
def subject_export(body: SubjectRequest, reader: CurrentReader, conn: WriteConn, settings: SettingsDep
                   ) -> dict[str, Any]:
    return subjects.export(conn, reader=reader, values=body.values, settings=settings)


@router.post("/subjects/erase", summary="Delete every object holding a person's values (CERT staff)")
def subject_erase(body: ErasureRequest, reader: CurrentReader, conn: WriteConn, settings: SettingsDep
                  ) -> dict[str, Any]:
    return subjects.erase(conn, reader=reader, values=body.values, settings=settings, reason=body.reason)


@router.post("/purge", summary="Delete the personal data whose retention has expired now (CERT staff)")
def purge(reader: CurrentReader, conn: WriteConn, settings: SettingsDep) -> dict[str, Any]:
    from nordcert.accounts.service import require_cert_admin

    require_cert_admin(reader)
    return retention.purge_expired(conn, settings)
