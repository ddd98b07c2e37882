"""Routes of /api/v1/baseline: catalogue versions (list, read, draft, edit, publish, diff, export, import),
self-assessment campaigns (open, close, progress) and members' responses (read, save a draft, submit, reopen)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Response

from nordcert.baseline import answers, campaigns, catalogues
from nordcert.baseline.catalogue import to_dict
from nordcert.baseline.schemas import (
    AnswersSave,
    CampaignCreate,
    CampaignOut,
    CampaignState,
    CatalogueDoc,
    ControlDoc,
    DiffOut,
    DraftCreate,
    DraftUpdate,
    ProgressOut,
    ResponseOut,
    ResponseSubmit,
    VersionDetailOut,
    VersionOut,
)
from nordcert.deps import CurrentReader, ReadConn, WriteConn

router = APIRouter(prefix="/baseline", tags=["baseline"])

_CONTROL_EXAMPLE = {
    "id": "GOV-07", "domain": "governance", "title": "Cyber insurance",
    "objective": "Residual ICT risk the entity keeps is insured where that is sensible.",
    "criteria": [{"text": "The cover and its exclusions are reviewed yearly against the top ICT risks.", "level": 3}],
    "target": 3, "priority": "important", "dora": [], "nis2": [], "csf": ["GV.RM"],
    "guidance": "Review the policy with the risk function each year.",
}
ControlBody = Annotated[dict[str, Any], Body(
    description="A control in the data file's shape (see ControlDoc); checked field by field, criteria numbered "
    "after the control when their ids are left out.", examples=[_CONTROL_EXAMPLE])]

# --- catalogue versions (fixed paths before /catalogues/{version}) ----------------------------------------


@router.get("/catalogues", response_model=list[VersionOut],
            summary="Catalogue versions, newest first (drafts for CERT staff only)")
def list_versions(reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return catalogues.list_versions(conn, reader=reader)


@router.post("/catalogues", response_model=VersionOut, status_code=201,
             summary="Make a draft version from an existing one (CERT staff)")
def create_draft(body: DraftCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return catalogues.create_draft(conn, reader=reader, **body.model_dump())


@router.post(
    "/catalogues/import", response_model=VersionOut, status_code=201,
    summary="Import a catalogue in the data file's shape as a new version (CERT staff)",
    description="The whole catalogue is checked first: every bad field is named (422) and nothing is stored; a "
    "version that exists answers 409. It is stored as a draft unless `publish` is true.",
)
def import_version(
    body: Annotated[dict[str, Any], Body(description="A catalogue (see CatalogueDoc).")], reader: CurrentReader,
    conn: WriteConn, publish: Annotated[bool, Query(description="Publish it at once.")] = False,
) -> dict[str, Any]:
    return catalogues.import_version(conn, reader=reader, data=body, publish=publish)


@router.get("/catalogues/diff", response_model=DiffOut, response_model_by_alias=True,
            summary="What changed between two versions: controls added, removed and changed field by field")
def diff(reader: CurrentReader, conn: ReadConn,
         from_: Annotated[str, Query(alias="from", description="The earlier version.")],
         to: Annotated[str, Query(description="The later version.")]) -> dict[str, Any]:
    return catalogues.diff_versions(conn, reader=reader, before=from_, after=to)


@router.get("/catalogues/{version}", response_model=VersionDetailOut, summary="One version with its catalogue")
def get_version(version: str, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return catalogues.get_version(conn, reader=reader, version=version)


@router.patch("/catalogues/{version}", response_model=VersionOut, summary="Change a draft's title (CERT staff)")
def update_draft(version: str, body: DraftUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return catalogues.update_draft(conn, reader=reader, version=version, title=body.title)


@router.delete("/catalogues/{version}", status_code=204, summary="Delete a draft version (CERT staff)")
def delete_draft(version: str, reader: CurrentReader, conn: WriteConn) -> Response:
    catalogues.delete_draft(conn, reader=reader, version=version)
    return Response(status_code=204)


@router.get("/catalogues/{version}/export", response_model=CatalogueDoc,
            summary="The version as a data file (the shipped file's shape), to download")
def export_version(version: str, reader: CurrentReader, conn: ReadConn) -> Response:
    data = catalogues.export_version(conn, reader=reader, version=version)
    return Response(orjson.dumps(data, option=orjson.OPT_INDENT_2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="baseline-{version}.json"'})


@router.post("/catalogues/{version}/publish", response_model=VersionOut,
             summary="Publish a draft (CERT staff): campaigns may use it and it never changes again")
def publish(version: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return catalogues.publish(conn, reader=reader, version=version)


@router.post("/catalogues/{version}/controls", response_model=ControlDoc, status_code=201,
             summary="Add a control to a draft (CERT staff)")
def add_control(version: str, body: ControlBody, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return catalogues.put_control(conn, reader=reader, version=version, control_id=None, data=body)


@router.put("/catalogues/{version}/controls/{control_id}", response_model=ControlDoc,
            summary="Change a control of a draft (CERT staff); published versions answer 409")
def change_control(version: str, control_id: str, body: ControlBody, reader: CurrentReader,
                   conn: WriteConn) -> dict[str, Any]:
    return catalogues.put_control(conn, reader=reader, version=version, control_id=control_id, data=body)


@router.delete("/catalogues/{version}/controls/{control_id}", response_model=VersionOut,
               summary="Remove a control from a draft (CERT staff)")
def remove_control(version: str, control_id: str, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return catalogues.remove_control(conn, reader=reader, version=version, control_id=control_id)


# --- campaigns -----------------------------------------------------------------------------------------------


@router.get("/campaigns", response_model=list[CampaignOut],
            summary="Campaigns, open ones first; a member's carry its own response's state")
def list_campaigns(reader: CurrentReader, conn: ReadConn, status: CampaignState | None = None
                   ) -> list[dict[str, Any]]:
    return campaigns.list_campaigns(conn, reader=reader, status=status)


@router.post("/campaigns", response_model=CampaignOut, status_code=201,
             summary="Open a campaign on a published catalogue version with a deadline (CERT staff)")
def open_campaign(body: CampaignCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return campaigns.open_campaign(conn, reader=reader, **body.model_dump())


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, summary="One campaign")
def get_campaign(campaign_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return campaigns.get_campaign(conn, campaign_id=campaign_id, reader=reader)


@router.get("/campaigns/{campaign_id}/catalogue", response_model=CatalogueDoc,
            summary="The catalogue version the campaign answers")
def campaign_catalogue(campaign_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    campaigns.get_campaign(conn, campaign_id=campaign_id, reader=reader)
    return to_dict(campaigns.campaign_catalogue(conn, campaign_id=campaign_id))


@router.post("/campaigns/{campaign_id}/close", response_model=CampaignOut,
             summary="Close a campaign (CERT staff): answers can no longer change (409 afterwards)")
def close_campaign(campaign_id: int, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return campaigns.close_campaign(conn, reader=reader, campaign_id=campaign_id)


@router.get("/campaigns/{campaign_id}/progress", response_model=ProgressOut,
            summary="Each member's state: not started, draft (k of n answered) or submitted (CERT staff)")
def progress(campaign_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return campaigns.progress(conn, reader=reader, campaign_id=campaign_id)


# --- responses ----------------------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/response", response_model=ResponseOut,
            summary="Your organisation's response with every answer")
def own_response(campaign_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return answers.get_response(conn, reader=reader, campaign_id=campaign_id)


@router.post(
    "/campaigns/{campaign_id}/response/answers", response_model=ResponseOut,
    summary="Save a draft of some or all of your organisation's answers (analyst, risk_officer)",
    description="Answers not given stay as they were; one with no maturity and not `not_applicable` leaves its "
    "control open again. Every bad answer is named (422) and nothing is stored; a submitted response or a closed "
    "campaign answers 409.",
)
def save_answers(campaign_id: int, body: AnswersSave, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return answers.save_draft(conn, reader=reader, campaign_id=campaign_id,
                              answers=[a.model_dump() for a in body.answers])


@router.post(
    "/campaigns/{campaign_id}/response/submit", response_model=ResponseOut,
    summary="Submit your organisation's response, with last answers if given (analyst, risk_officer)",
    description="Every control must be answered: otherwise 422 lists each open control (`answers.GOV-01`) and "
    "nothing is stored, not even the answers sent with it.",
)
def submit(campaign_id: int, reader: CurrentReader, conn: WriteConn,
           body: ResponseSubmit | None = None) -> dict[str, Any]:
    given = [a.model_dump() for a in body.answers] if body is not None else []
    return answers.submit(conn, reader=reader, campaign_id=campaign_id, answers=given)


@router.get("/campaigns/{campaign_id}/responses/{organisation_id}", response_model=ResponseOut,
            summary="A member's response (CERT staff; a member its own)")
def member_response(campaign_id: int, organisation_id: int, reader: CurrentReader, conn: ReadConn
                    ) -> dict[str, Any]:
    return answers.get_response(conn, reader=reader, campaign_id=campaign_id, organisation_id=organisation_id)


@router.post("/campaigns/{campaign_id}/responses/{organisation_id}/reopen", response_model=ResponseOut,
             summary="Return a submitted response to draft so that its member can change it (CERT staff)")
def reopen(campaign_id: int, organisation_id: int, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return answers.reopen(conn, reader=reader, campaign_id=campaign_id, organisation_id=organisation_id)
