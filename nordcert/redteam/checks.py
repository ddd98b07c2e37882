"""Checking input field by field: every problem is collected with the field it concerns, and the whole input is
refused at once (``Invalid`` with one detail per problem), so a form or an API client learns everything wrong in
one answer and nothing is stored."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from nordcert.errors import Invalid


class Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, reason: str) -> None:
        self.items.append({"field": field, "reason": reason})

    def has(self, field: str) -> bool:
        return any(p["field"] == field for p in self.items)

    def text(self, value: Any, field: str, *, limit: int, required: bool = True) -> str:
        """``value`` stripped; a problem when required and empty, too long, or not text."""
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(field, "text expected")
            return ""
        text = value.strip()
        if required and not text:
            self.add(field, f"required, 1 to {limit} characters")
        elif len(text) > limit:
            self.add(field, f"at most {limit} characters ({len(text)} given)")
        return text

    def choice(self, value: Any, field: str, options: Collection[str], *, required: bool = True) -> str | None:
        if value in (None, "") and not required:
            return None
        if not isinstance(value, str) or value not in options:
            self.add(field, f"{str(value)[:40]!r} is not one of: {', '.join(options)}")
            return None
        return value

    def day(self, value: Any, field: str, *, required: bool = False, not_after: date | None = None,
            not_before: date | None = None) -> date | None:
        """A calendar date from a ``date`` or ``YYYY-MM-DD`` text."""
        if value in (None, ""):
            if required:
                self.add(field, "required, a date (YYYY-MM-DD)")
            return None
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                self.add(field, f"{value[:20]!r} is not a date (YYYY-MM-DD)")
                return None
        if isinstance(value, datetime) or not isinstance(value, date):
            self.add(field, "a date (YYYY-MM-DD)")
            return None
        if not_after is not None and value > not_after:
            self.add(field, f"lies in the future (today is {not_after.isoformat()}, UTC)")
        elif not_before is not None and value < not_before:
            self.add(field, f"comes before {not_before.isoformat()}")
        return value

    def boolean(self, value: Any, field: str) -> bool:
        if isinstance(value, bool):
            return value
        if value in (None, "", "0", "false", "no", "off"):
            return False
        if value in ("1", "true", "yes", "on"):
            return True
        self.add(field, "true or false")
        return False

    def check(self, message: str) -> None:
        if self.items:
            raise Invalid(message, details=list(self.items))
