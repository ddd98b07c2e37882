"""A member's feedback report for one campaign: where it stands against the sector, its gaps against the
baseline, and what to do first (the model; :mod:`.report` lays it out as HTML and PDF).

The report holds the member's own figures and the sector's figures exactly as the member may see them
(suppressed groups without statistics), whoever asks for it: CERT staff previewing a member's report read what
the member reads. It never names or counts another member. Who may ask: the member's own users, once the
campaign is closed; CERT staff, for any member that submitted, at any time. An authority reads aggregates
only; another member's report answers as missing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from nordcert.accounts.tables import organisations
from nordcert.baseline.access import NON_MEMBER_SECTORS, require_user
from nordcert.baseline.benchmark import (
    BANDS,
    QUARTILE_METHOD,
    Audience,
    Cell,
    aggregate,
    band,
    campaign_out,
    cell_out,
    load,
    published,
    type_name,
)
from nordcert.baseline.scoring import recommendations
from nordcert.baseline.tables import baseline_responses
from nordcert.clock import iso, now_us
from nordcert.errors import Forbidden, Invalid, NotFound
from nordcert.sharing.policy import Reader

#: The report is the member's confidential copy: TLP:AMBER+STRICT, for its own organisation only.
TLP = "amber+strict"
_AS_MEMBER = Audience.MEMBER


def feedback_view(conn: Connection, *, reader: Reader, campaign_id: int, organisation_id: int | None,
                  min_group: int) -> dict[str, Any]:
    """The feedback report of ``organisation_id`` (default: the reader's own organisation) in a campaign.

    Returns ``campaign``, ``catalogue``, ``organisation``, ``submitted_at``, ``generated_at``, ``tlp``,
    ``min_group``, ``quartile_method``, ``bands``, ``overall`` and ``domains`` (the member's score, count of
    controls scored, the sector's and its type's cells, its band in the sector), ``controls`` (maturity, target,
    gap, the sector's median where published), ``recommendations`` (ranked, with guidance and next criteria)
    and ``summary`` (controls below target, by priority).
    """
    ctx = load(conn, reader=reader, campaign_id=campaign_id)
    if ctx.audience is Audience.AUTHORITY:
        raise Forbidden("an authority reads the sector's aggregates, not a member's feedback report")
    if ctx.audience is Audience.MEMBER:
        if organisation_id not in (None, reader.organisation_id):
            raise NotFound(f"no feedback report of organisation {organisation_id} in campaign {campaign_id}")
        organisation_id = reader.organisation_id
    elif organisation_id is None:
        raise Invalid("name the member", details=[{"field": "organisation_id",
                                                   "reason": "CERT staff name the member whose report they want"}])
    mine = next((s for s in ctx.submissions if s.organisation_id == organisation_id), None)
    if mine is None:
        raise NotFound(f"organisation {organisation_id} submitted no response to campaign {campaign_id}")
    o = organisations.c
    org = conn.execute(select(o.id, o.name, o.short_name, o.sector_type).where(o.id == organisation_id)
                       ).mappings().one()
    r = baseline_responses.c
    submitted_at = conn.execute(select(r.submitted_at).where(r.campaign_id == campaign_id,
                                                             r.organisation_id == organisation_id)).scalar_one()
    agg = aggregate(ctx.catalogue, ctx.submissions, member_types=ctx.member_types, min_group=min_group)
    score = agg.scores[organisation_id]
    cat = ctx.catalogue
    own_type = mine.member_type

    def position(value: float | None, sector: Cell, of_type: Cell) -> dict[str, Any]:
        where = band(value, published(sector, _AS_MEMBER))
        return {"own": value, "sector": cell_out(sector, _AS_MEMBER), "type": cell_out(of_type, _AS_MEMBER),
                "band": where, "band_text": BANDS[where] if where else None}

    medians = {cid: s.median if (s := published(row.sector, _AS_MEMBER)) else None
               for cid, row in agg.controls.items()}
    domains = [{"key": d.key, "name": d.name, "scored": score.domain(d.key).scored,
                "controls": score.domain(d.key).controls,
                **position(score.domain(d.key).score, agg.domains[d.key].sector, agg.domains[d.key].by_type[own_type])}
               for d in cat.domains]
    controls = [{"id": s.control.id, "title": s.control.title, "domain": s.control.domain,
                 "domain_name": cat.domain(s.control.domain).name, "priority": s.control.priority,
                 "maturity": s.maturity, "not_applicable": s.not_applicable, "target": s.control.target,
                 "gap": s.gap, "sector_median": medians[s.control.id],
                 "sector_suppressed": agg.controls[s.control.id].sector.suppressed}
                for s in score.controls]
    recs = [{"rank": rec.rank, "id": rec.control.id, "title": rec.control.title,
             "domain_name": cat.domain(rec.control.domain).name, "priority": rec.control.priority,
             "maturity": rec.maturity, "target": rec.control.target, "gap": rec.gap,
             "sector_median": rec.sector_median, "below_median": rec.below_median, "guidance": rec.control.guidance,
             "next_criteria": [{"id": k.id, "text": k.text, "level": k.level, "level_name": cat.level(k.level).name}
                               for k in rec.next_criteria]}
            for rec in recommendations(score, medians)]
    below = [c for c in controls if c["gap"]]
    return {
        "campaign": ctx.campaign, "catalogue": {"version": cat.version, "title": cat.title},
        "organisation": {"id": org["id"], "name": org["name"], "short_name": org["short_name"],
                         "sector_type": org["sector_type"], "type_name": type_name(org["sector_type"])},
        "submitted_at": iso(submitted_at), "generated_at": iso(now_us()), "tlp": TLP, "min_group": min_group,
        "quartile_method": QUARTILE_METHOD, "bands": BANDS,
        "scale": [{"level": m.level, "name": m.name} for m in cat.scale],
        "overall": {"scored": score.scored, "controls": len(cat.controls),
                    **position(score.overall, agg.overall.sector, agg.overall.by_type[own_type])},
        "domains": domains, "controls": controls, "recommendations": recs,
        "summary": {"below_target": len(below),
                    "by_priority": {p: sum(1 for c in below if c["priority"] == p)
                                    for p in ("essential", "important", "advanced")},
                    "not_applicable": sum(1 for c in controls if c["not_applicable"])},
    }


def submitters(conn: Connection, *, reader: Reader, campaign_id: int) -> list[dict[str, Any]]:
    """The members whose reports there are (they submitted), by name (CERT staff, to choose one)."""
    require_user(reader)
    if not reader.is_cert_staff:
        raise Forbidden("only CERT staff (cert_admin) choose among the members' reports")
    campaign_out(conn, campaign_id)
    r, o = baseline_responses.c, organisations.c
    q = (select(o.id, o.name, o.sector_type).join_from(baseline_responses, organisations, o.id == r.organisation_id)
         .where(r.campaign_id == campaign_id, r.status == "submitted", o.sector_type.not_in(NON_MEMBER_SECTORS))
         .order_by(o.name))
    return [{"id": row.id, "name": row.name, "type_name": type_name(row.sector_type)} for row in conn.execute(q)]
