"""HTTP feeds under /feeds/: what firewalls, proxies, resolvers and SIEMs pull on a schedule.

Authenticated (HTTP Basic with e-mail and API token, or Bearer), streamed, and cacheable by
revalidation: each answer carries a strong ETag (RFC 9110 §8.8.3) naming the state its body is made
from (:func:`nordcert.formats.export.feed_etag`), and ``If-None-Match`` with that ETag is answered
304 Not Modified (RFC 9110 §13.1.2) without the body being produced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection
from starlette.background import BackgroundTask

from nordcert.audit import service as audit
from nordcert.clock import now_us
from nordcert.deps import CurrentReader
from nordcert.errors import Invalid, NotFound
from nordcert.formats import export
from nordcert.formats.blocklist import blocklist_kinds
from nordcert.formats.export import BLOCKLIST_KINDS, CsvFilter, StixFilter
from nordcert.intel.validate import format_timestamp
from nordcert.observables.warninglist_store import current_matcher
from nordcert.observables.warninglists import Matcher
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp

router = APIRouter(prefix="/feeds", tags=["feeds"])

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"
RPZ_MEDIA_TYPE = "text/dns; charset=utf-8"  # RFC 4027: a DNS master file

IncludeStale = Annotated[bool, Query(description="Keep values whose decay score is stale.")]
IncludeWarninglisted = Annotated[bool, Query(description="Keep values on an enabled warninglist.")]
TlpMax = Annotated[str | None, Query(alias="tlp", description="Only objects at most this TLP (e.g. green).")]
Since = Annotated[str | None, Query(description="Added after: a timestamp, a date (2026-11-01) or an age (7d).")]
Types = Annotated[list[str] | None, Query(alias="type", description="STIX types; repeat or separate by commas.")]

#: Chunks of the body, made in the open snapshot: (connection, decay moment, warninglists, ETag).
Body = Callable[[Connection, int, Matcher | None, str], Iterator[bytes]]


def etag_matches(header: str | None, tag: str) -> bool:
    """``If-None-Match`` (RFC 9110 §13.1.2): ``*`` or any listed tag, compared weakly."""
    if not header:
        return False
    for part in header.split(","):
        candidate = part.strip().removeprefix("W/")
        if candidate in ("*", tag):
            return True
    return False


def _closing(chunks: Iterator[bytes], stack: ExitStack) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        stack.close()


def _serve(request: Request, reader: Reader, feed: str, params: dict[str, Any], media_type: str, body: Body, *,
           decays: bool, warninglists: bool, filename: str) -> Response:
    """Answer one feed request: 304 when the client's ETag is current, else the streamed body.

    The ETag's state and the body are read in one snapshot of the store, held open while streaming.
    """
    settings = request.app.state.settings
    stack = ExitStack()
    try:
        conn = stack.enter_context(export.snapshot(request.app.state.engine))
        matcher = current_matcher(conn) if warninglists else None
        now = now_us()
        state = export.feed_state(conn, reader, settings, matcher=matcher, decays=decays, now=now)
        tag = export.feed_etag(feed, params, state)
        headers = {"ETag": tag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}
        if etag_matches(request.headers.get("if-none-match"), tag):
            stack.close()
            return Response(status_code=304, headers=headers)
        versions, newest, sensitive = state["rows"]
        audit.record_export(request.app.state.engine, reader, feed, {
            "params": {k: v if isinstance(v, (bool, int, type(None))) else str(v) for k, v in params.items()},
            "etag": tag, "snapshot": format_timestamp(newest) if newest else None,
            "versions_visible": versions, "amber_or_stricter_visible": sensitive})
        chunks = body(conn, export.decay_moment(now), matcher, tag)
    except BaseException:
        stack.close()
        raise
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return StreamingResponse(_closing(chunks, stack), media_type=media_type, headers=headers,
                             background=BackgroundTask(stack.close))


_STIX_TYPE = re.compile(r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]")  # STIX 2.1 §3.1


def _types(values: list[str] | None) -> tuple[str, ...]:
    """The ``type`` filter; refused before the answer starts (a streamed answer cannot turn into a 422)."""
    found = tuple(sorted({t.strip() for v in values or () for t in v.split(",") if t.strip()}))
    for name in found:
        if not _STIX_TYPE.fullmatch(name):
            raise Invalid(f"type {name[:60]!r} is not a STIX type name (lower-case letters, digits and '-')")
    return found


def _labels(values: list[str] | None) -> tuple[str, ...]:
    found = tuple(sorted(set(values or ())))
    if any("\x00" in label for label in found):
        raise Invalid("label: a label holds no NUL character")
    return found


def _since(value: str | None) -> int | None:
    """An age (``7d``) counts from the start of the hour, so the ETag holds for that hour."""
    return export.parse_since(value, export.decay_moment(now_us())) if value else None


def _tlp(value: str | None) -> Tlp | None:
    return Tlp.parse(value) if value else None


@router.get("/", summary="The feeds this caller may pull, with their URLs")
def feeds_index(request: Request, reader: CurrentReader) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + "/feeds"
    feeds = [
        {"name": "stix", "url": f"{base}/stix", "media_type": STIX_MEDIA_TYPE,
         "description": "STIX 2.1 bundle of the latest versions you may see (type, since, label, tlp, "
                        "include_revoked)"},
        {"name": "csv", "url": f"{base}/csv", "media_type": CSV_MEDIA_TYPE,
         "description": "CSV of indexed values with their object, sharing and decay (kind, type, since, tlp)"},
        *({"name": f"{kind}.txt", "url": f"{base}/{kind}.txt", "media_type": TEXT_MEDIA_TYPE,
           "description": f"blocklist: one {kind} value per line"} for kind in BLOCKLIST_KINDS),
        {"name": "domain.rpz", "url": f"{base}/domain.rpz", "media_type": RPZ_MEDIA_TYPE,
         "description": "DNS response-policy zone of the domain blocklist"},
    ]
    feeds.append({"name": "misp", "url": f"{base}/misp/manifest.json", "media_type": "application/json",
                  "description": "MISP feed (manifest.json, hashes.csv, one file per event) a MISP instance "
                                 "subscribes to"})
    return {
        "reader": reader.email,
        "authentication": "HTTP Basic with your e-mail and an API token, or Authorization: Bearer TOKEN",
        "caching": "each feed has a strong ETag; send it back in If-None-Match to get 304 when nothing changed",
        "blocklist_options": {"include_stale": "keep values whose decay score is stale",
                              "include_warninglisted": "keep values on an enabled warninglist",
                              "tlp": "only objects at most this TLP"},
        "feeds": feeds,
    }


@router.get("/stix", summary="STIX 2.1 bundle of the latest versions you may see")
def stix_feed(request: Request, reader: CurrentReader, types: Types = None, since: Since = None,
              added_after: Annotated[str | None, Query(description="Same as since.")] = None,
              label: Annotated[list[str] | None, Query(description="Objects with any of these labels.")] = None,
              tlp: TlpMax = None, include_revoked: bool = False) -> Response:
    when = since or added_after
    filters = StixFilter(types=_types(types), added_after=_since(when),
                         labels=_labels(label), tlp_max=_tlp(tlp), include_revoked=include_revoked)
    params = {"types": ",".join(filters.types), "since": filters.added_after, "labels": ",".join(filters.labels),
              "tlp": filters.tlp_max, "include_revoked": include_revoked}

    def body(conn: Connection, _moment: int, _matcher: Matcher | None, tag: str) -> Iterator[bytes]:
        return export.bundle_chunks(conn, reader, request.app.state.settings, filters, bundle_seed=tag)

    return _serve(request, reader, "stix", params, STIX_MEDIA_TYPE, body, decays=False, warninglists=False,
                  filename="nordcert-bundle.json")


@router.get("/csv", summary="CSV of the indexed values you may see")
def csv_feed(request: Request, reader: CurrentReader, kind: str | None = None, types: Types = None,
             since: Since = None, tlp: TlpMax = None, include_stale: IncludeStale = False,
             include_warninglisted: IncludeWarninglisted = False,
             formula_guard: Annotated[bool, Query(description="Guard cells a spreadsheet would run.")] = True,
             ) -> Response:
    if kind is not None and kind.lower() not in BLOCKLIST_KINDS:
        blocklist_kinds(kind)  # raises Invalid with the kinds there are
    filters = CsvFilter(kind=kind.lower() if kind else None, types=_types(types),
                        added_after=_since(since), tlp_max=_tlp(tlp),
                        include_stale=include_stale, include_warninglisted=include_warninglisted,
                        formula_guard=formula_guard)
    params = {"kind": filters.kind, "types": ",".join(filters.types), "since": filters.added_after,
              "tlp": filters.tlp_max, "include_stale": include_stale, "include_warninglisted": include_warninglisted,
              "formula_guard": formula_guard}

    def body(conn: Connection, moment: int, matcher: Matcher | None, _tag: str) -> Iterator[bytes]:
        return export.csv_chunks(conn, reader, request.app.state.settings, filters, as_of=moment, matcher=matcher)

    return _serve(request, reader, "csv", params, CSV_MEDIA_TYPE, body, decays=True, warninglists=True,
                  filename=f"nordcert-{filters.kind or 'observables'}.csv")


@router.get("/domain.rpz", summary="DNS response-policy zone of the domains you may see")
def rpz_feed(request: Request, reader: CurrentReader, tlp: TlpMax = None, include_stale: IncludeStale = False,
             include_warninglisted: IncludeWarninglisted = False) -> Response:
    tlp_max = _tlp(tlp)
    params = {"tlp": tlp_max, "include_stale": include_stale, "include_warninglisted": include_warninglisted}

    def body(conn: Connection, moment: int, matcher: Matcher | None, _tag: str) -> Iterator[bytes]:
        serial = export.rpz_serial(moment)
        return export.rpz_chunks(conn, reader, request.app.state.settings, serial=serial,
                                 include_stale=include_stale, include_warninglisted=include_warninglisted,
                                 tlp_max=tlp_max, as_of=moment, matcher=matcher)

    return _serve(request, reader, "rpz", params, RPZ_MEDIA_TYPE, body, decays=True, warninglists=True,
                  filename="nordcert-domain.rpz")


@router.get("/{kind}.txt", summary="Blocklist: one value of a kind per line")
def blocklist_feed(kind: str, request: Request, reader: CurrentReader, tlp: TlpMax = None,
                   include_stale: IncludeStale = False,
                   include_warninglisted: IncludeWarninglisted = False) -> Response:
    name = kind.lower()
    if name not in BLOCKLIST_KINDS:
        raise NotFound(f"no blocklist {kind!r}; the blocklists are {', '.join(k + '.txt' for k in BLOCKLIST_KINDS)}")
    tlp_max = _tlp(tlp)
    params = {"tlp": tlp_max, "include_stale": include_stale, "include_warninglisted": include_warninglisted}

    def body(conn: Connection, moment: int, matcher: Matcher | None, _tag: str) -> Iterator[bytes]:
        return export.blocklist_chunks(conn, reader, request.app.state.settings, name, include_stale=include_stale,
                                       include_warninglisted=include_warninglisted, tlp_max=tlp_max, as_of=moment,
                                       matcher=matcher)

    return _serve(request, reader, f"{name}.txt", params, TEXT_MEDIA_TYPE, body, decays=True, warninglists=True,
                  filename=f"nordcert-{name}.txt")
