"""Shared helpers of the MISP tests (imported explicitly: tests/formats is shared with other formats)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.formats.imports import run_import
from nordcert.intel.submission import submission_for
from tests.factories import Member

DATA = Path(__file__).resolve().parent.parent / "data"
PYMISP_EVENTS = sorted((DATA / "pymisp-test-events").glob("*.json"))
FEED = DATA / "digitalside-misp-feed" / "feed"
FEED_EVENTS = sorted(FEED.glob("*-*.json"))


def event_of(path: Path) -> dict[str, Any]:
    doc = orjson.loads(path.read_bytes())
    event: dict[str, Any] = doc.get("Event", doc)
    return event


def import_file(engine: Engine, settings: Settings, member: Member, source: Path | str,
                **sharing: Any) -> dict[str, Any]:
    with transaction(engine) as conn:
        sub = submission_for(conn, member.reader, **sharing)
        return run_import(conn, str(source), "misp", sub, settings).as_dict()
