"""The one shape of every REST error, and the one table from service errors to HTTP statuses."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from nordcert.app import STATUS, error_body
from nordcert.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotAcceptable,
    NotFound,
    TooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from tests.server import running_server


def test_error_body_shape() -> None:
    assert error_body("invalid", "bad", [{"index": 1}]) == {"error": "invalid", "message": "bad",
                                                             "details": [{"index": 1}]}
    assert error_body("not_found", "gone") == {"error": "not_found", "message": "gone", "details": []}


def test_status_table() -> None:
    assert STATUS == {NotFound: 404, Unauthenticated: 401, Forbidden: 403, Invalid: 422, Conflict: 409,
                      NotAcceptable: 406, UnsupportedMediaType: 415, TooLarge: 413}


def test_framework_errors_use_the_same_shape(settings, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with running_server(settings, engine) as url:
        unknown = httpx.get(f"{url}/api/v1/no-such-thing")
        assert unknown.status_code == 404 and set(unknown.json()) == {"error", "message", "details"}
        wrong_method = httpx.put(f"{url}/api/v1/me")
        assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"
        home = httpx.get(url + "/")
        assert home.status_code == 200 and "nordcert" in home.text
        assert httpx.get(url + "/healthz").json()["status"] == "ok"
        spec = httpx.get(url + "/api/openapi.json").json()
        assert "/api/v1/objects" in spec["paths"] and "/api/v1/me" in spec["paths"]
        assert httpx.get(url + "/api/docs").status_code == 200
