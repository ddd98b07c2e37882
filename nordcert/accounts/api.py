"""Routes of /api/v1 for the caller, organisations, users, tokens and sharing groups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from nordcert.accounts import credentials, service
from nordcert.accounts.schemas import (
    GroupCreate,
    GroupMember,
    GroupOut,
    MeOut,
    OrganisationCreate,
    OrganisationOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
)
from nordcert.deps import CurrentReader, ReadConn, WriteConn

router = APIRouter(tags=["accounts"])


@router.get("/me", response_model=MeOut, summary="Who am I: user, organisation, role, sharing groups")
def me(reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    user = service.get_user(conn, reader.user_id)
    return {
        "email": user["email"],
        "name": user["name"],
        "role": user["role"],
        "organisation": service.get_organisation(conn, reader.organisation_id),
        "sharing_groups": sorted(service.get_group(conn, g)["name"] for g in reader.group_ids),
    }


@router.get("/organisations", response_model=list[OrganisationOut], summary="Member organisations")
def list_organisations(_reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return service.list_organisations(conn)


@router.post("/organisations", response_model=OrganisationOut, status_code=201, summary="Add an organisation")
def create_organisation(body: OrganisationCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.create_organisation(conn, actor=reader, **body.model_dump())


@router.get("/organisations/{ref}", response_model=OrganisationOut, summary="One organisation by id or name")
def get_organisation(ref: str, _reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return service.get_organisation(conn, ref)


@router.get("/users", response_model=list[UserOut], summary="Users (cert_admin)")
def list_users(reader: CurrentReader, conn: ReadConn, organisation: str | None = None) -> list[dict[str, Any]]:
    service.require_cert_admin(reader)
    return service.list_users(conn, organisation=organisation)


@router.post("/users", response_model=UserOut, status_code=201, summary="Add a user (cert_admin)")
def create_user(body: UserCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.create_user(conn, actor=reader, **body.model_dump())


@router.post("/users/{ref}/deactivate", response_model=UserOut,
             summary="Deactivate a user (cert_admin): tokens, sessions and password stop working at once")
def deactivate_user(ref: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.set_user_active(conn, ref, False, actor=reader)


@router.post("/users/{ref}/activate", response_model=UserOut, summary="Reactivate a user (cert_admin)")
def activate_user(ref: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.set_user_active(conn, ref, True, actor=reader)


@router.get("/tokens", response_model=list[TokenOut], summary="API tokens: yours, or a user's (cert_admin)")
def list_tokens(reader: CurrentReader, conn: ReadConn, user: str | None = None) -> list[dict[str, Any]]:
    if user is not None and user.strip().lower() != reader.email:
        service.require_cert_admin(reader)
    return credentials.list_tokens(conn, user=user or reader.user_id)


@router.post("/tokens", response_model=TokenCreated, status_code=201,
             summary="Create an API token (shown once; stored only as a hash)")
def create_token(body: TokenCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    new = credentials.create_token(conn, user=body.user or reader.user_id, expires_days=body.expires_days,
                               label=body.label, actor=reader)
    return {"id": new.id, "token": new.token, "user": new.user_email, "expires_at": new.expires_at}


@router.delete("/tokens/{token_id}", summary="Revoke an API token, effective at once")
def revoke_token(token_id: int, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return credentials.revoke_token(conn, token_id, actor=reader)


@router.get("/groups", response_model=list[GroupOut], summary="Sharing groups and their members")
def list_groups(_reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return service.list_groups(conn)


@router.post("/groups", response_model=GroupOut, status_code=201, summary="Add a sharing group (cert_admin)")
def create_group(body: GroupCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.create_group(conn, name=body.name, description=body.description,
                                members=list(body.members), actor=reader)


@router.get("/groups/{ref}", response_model=GroupOut, summary="One sharing group")
def get_group(ref: str, _reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return service.get_group(conn, ref)


@router.post("/groups/{ref}/members", response_model=GroupOut, summary="Add a member (cert_admin)")
def add_member(ref: str, body: GroupMember, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.add_group_member(conn, ref, body.organisation, actor=reader)


@router.delete("/groups/{ref}/members/{organisation}", response_model=GroupOut, summary="Remove a member (cert_admin)")
def remove_member(ref: str, organisation: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.remove_group_member(conn, ref, organisation, actor=reader)
