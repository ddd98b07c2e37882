"""The errors services raise. No HTTP codes here: the web layer maps each to one status.

    NordcertError
     ├── NotFound          the thing does not exist, or the reader may not know it exists
     ├── Unauthenticated   no valid credentials
     ├── Forbidden         known reader, not allowed to do this
     ├── Invalid           input breaks a rule; ``details`` lists each problem
     ├── Conflict          the thing exists already / the change clashes with the store
     ├── NotAcceptable     no representation the client accepts (Accept header)
     ├── UnsupportedMediaType  the body's media type is not one we take
     └── TooLarge          the body exceeds what we accept
"""

from __future__ import annotations

from typing import Any


class NordcertError(Exception):
    """Base of every error a service raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, Any]] = details or []


class NotFound(NordcertError):
    code = "not_found"


class Unauthenticated(NordcertError):
    code = "unauthenticated"


class Forbidden(NordcertError):
    code = "forbidden"


class Invalid(NordcertError):
    code = "invalid"


class Conflict(NordcertError):
    code = "conflict"


class NotAcceptable(NordcertError):
    code = "not_acceptable"


class UnsupportedMediaType(NordcertError):
    code = "unsupported_media_type"


class TooLarge(NordcertError):
    code = "too_large"
