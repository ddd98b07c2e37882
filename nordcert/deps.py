"""What every API route may ask for: settings, store connections and the authenticated reader.

Routes name these as ``Annotated`` aliases (``ReadConn``, ``WriteConn``, ``CurrentReader``…) and hold
no SQL, commits or permission checks of their own.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from nordcert.accounts import credentials
from nordcert.audit import buffered
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Unauthenticated
from nordcert.sharing.policy import Reader


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def read_conn(request: Request) -> Iterator[Connection]:
    with transaction(get_engine(request), write=False) as conn:
        yield conn


def write_conn(request: Request) -> Iterator[Connection]:
    with transaction(get_engine(request), write=True) as conn:
        yield conn


def _credentials(request: Request) -> tuple[str, str | None] | None:
    """(token, email) from ``Authorization: Bearer TOKEN`` or ``Basic base64(email:token)``."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and value.strip():
        return value.strip(), None
    if scheme == "basic":
        try:
            email, sep, token = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise Unauthenticated("malformed Basic credentials") from None
        if sep and token:
            return token, email
        raise Unauthenticated("Basic credentials need the user's email and an API token as password")
    raise Unauthenticated("use Authorization: Bearer TOKEN, or Basic with your email and a token")


def reader_in(conn: Connection, request: Request) -> tuple[Reader | None, int | None]:
    """The request's reader (None without credentials) read on ``conn``, and a token id due a touch.

    For routes that do all their work in one transaction (the screening lookup's hot path).
    """
    creds = _credentials(request)
    if creds is None:
        return None, None
    token, email = creds
    try:
        return credentials.authenticate_token(conn, token, email=email)
    except Unauthenticated as exc:  # a log-in that failed: queued for the audit trail, never the token
        buffered.note(conn.engine, actor=None, email=(email or "")[:320] or None, action="api_auth.failed",
                      target=email or "bearer token", details={"reason": exc.message})
        raise


def touch(engine: Engine, token_id: int | None) -> None:
    """Record that a token was used (at most every few minutes, so reads rarely write)."""
    if token_id is not None:
        with transaction(engine) as conn:
            credentials.touch_token(conn, token_id)


def optional_reader(request: Request) -> Reader | None:
    """The authenticated reader, or None for a request without credentials (public reads)."""
    if request.headers.get("authorization") is None:
        return None
    engine = get_engine(request)
    with transaction(engine, write=False) as conn:
        reader, stale = reader_in(conn, request)
    touch(engine, stale)
    return reader


def current_reader(reader: Annotated[Reader | None, Depends(optional_reader)]) -> Reader:
    if reader is None:
        raise Unauthenticated("authentication required: Authorization: Bearer TOKEN")
    return reader


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadConn = Annotated[Connection, Depends(read_conn, scope="function")]
# "function" scope: the transaction commits (or rolls back) before the response is sent.
WriteConn = Annotated[Connection, Depends(write_conn, scope="function")]
OptionalReader = Annotated[Reader | None, Depends(optional_reader)]
CurrentReader = Annotated[Reader, Depends(current_reader)]
