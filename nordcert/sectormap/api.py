"""Routes of /api/v1/sectormap: members keep their part of the map (processes, systems, ICT services, their
dependencies; CSV import of the register of information), CERT staff the sector-wide providers and shared
infrastructure; the graph and its analysis (concentration, HHI, single points of failure, what-if, cycles,
what is unknown) as each reader may see it; the sector risk register and the yearly concerns survey."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from nordcert.db import transaction
from nordcert.deps import CurrentReader, ReadConn, WriteConn
from nordcert.errors import TooLarge
from nordcert.sectormap import csv_import, dependencies, progress, registry, risks, shared, survey, views
from nordcert.sectormap.register_schemas import (
    AnswerOut,
    MeasureCreate,
    MeasureOut,
    MeasureUpdate,
    NoteCreate,
    ProgressOut,
    ResultsOut,
    RiskCreate,
    RiskOut,
    RiskState,
    RiskUpdate,
    SurveyAnswer,
    SurveyCreate,
    SurveyOut,
)
from nordcert.sectormap.schemas import (
    ConcentrationOut,
    CyclesOut,
    Dependency,
    GraphOut,
    HHIOut,
    ImportOut,
    InfrastructureCreate,
    InfrastructureOut,
    InfrastructureUpdate,
    ProcessCreate,
    ProcessOut,
    ProcessUpdate,
    ProviderCreate,
    ProviderOut,
    ProviderUpdate,
    ServiceCreate,
    ServiceOut,
    ServiceUpdate,
    SystemCreate,
    SystemOut,
    SystemUpdate,
    UnknownOut,
    WhatIfIn,
    WhatIfOut,
)
from nordcert.sectormap.service import (
    INFRASTRUCTURE_KINDS,
    PROCESS_CATEGORIES,
    SERVICE_TYPES,
    SUBSTITUTABILITY,
)
from nordcert.sharing.policy import Reader

router = APIRouter(prefix="/sectormap", tags=["sector map"])
OrgFilter = Annotated[int | None, Query(description="One member's part (CERT staff and authorities)")]
ColumnMap = Annotated[list[str], Query(alias="map", description="COLUMN=FIELD, by header name or number")]
FunctionCategory = Annotated[str | None, Query(description="Count only critical functions of this category")]


@router.get("/vocabulary", summary="Categories, ICT service types, substitutability and infrastructure kinds")
def vocabulary(reader: CurrentReader) -> dict[str, Any]:
    return {"process_categories": PROCESS_CATEGORIES, "service_types": SERVICE_TYPES,
            "substitutability": list(SUBSTITUTABILITY), "infrastructure_kinds": INFRASTRUCTURE_KINDS,
            "risk_categories": risks.RISK_CATEGORIES, "measure_states": list(risks.MEASURE_STATES)}


# --- a member's part --------------------------------------------------------------------------------


@router.post("/processes", response_model=ProcessOut, status_code=201,
             summary="Add a critical business process (function) to your organisation's map")
def create_process(body: ProcessCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return registry.create_node(conn, reader, "process", values=body.model_dump(exclude_unset=True))


@router.get("/processes", response_model=list[ProcessOut], summary="Processes you may see (a member: its own)")
def list_processes(reader: CurrentReader, conn: ReadConn, organisation_id: OrgFilter = None) -> list[dict[str, Any]]:
    return registry.list_nodes(conn, reader, "process", organisation_id=organisation_id)


@router.get("/processes/{process_id}", response_model=ProcessOut, summary="One process")
def get_process(process_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return registry.get_node(conn, reader, "process", process_id)


@router.patch("/processes/{process_id}", response_model=ProcessOut, summary="Change one of your processes")
def update_process(process_id: int, body: ProcessUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return registry.update_node(conn, reader, "process", process_id, changes=body.model_dump(exclude_unset=True))


@router.delete("/processes/{process_id}", status_code=204, summary="Delete one of your processes and its edges")
def delete_process(process_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    registry.delete_node(conn, reader, "process", process_id)
    return Response(status_code=204)


@router.post("/systems", response_model=SystemOut, status_code=201, summary="Add a system to your organisation's map")
def create_system(body: SystemCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return registry.create_node(conn, reader, "system", values=body.model_dump(exclude_unset=True))


@router.get("/systems", response_model=list[SystemOut], summary="Systems you may see (a member: its own)")
def list_systems(reader: CurrentReader, conn: ReadConn, organisation_id: OrgFilter = None) -> list[dict[str, Any]]:
    return registry.list_nodes(conn, reader, "system", organisation_id=organisation_id)


@router.get("/systems/{system_id}", response_model=SystemOut, summary="One system")
def get_system(system_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return registry.get_node(conn, reader, "system", system_id)


@router.patch("/systems/{system_id}", response_model=SystemOut, summary="Change one of your systems")
def update_system(system_id: int, body: SystemUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return registry.update_node(conn, reader, "system", system_id, changes=body.model_dump(exclude_unset=True))


@router.delete("/systems/{system_id}", status_code=204, summary="Delete one of your systems and its edges")
def delete_system(system_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    registry.delete_node(conn, reader, "system", system_id)
    return Response(status_code=204)


@router.post("/services", response_model=ServiceOut, status_code=201,
             summary="Add an ICT service you use from a third-party provider (register of information)")
def create_service(body: ServiceCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return registry.create_node(conn, reader, "service", values=body.model_dump(exclude_unset=True))


@router.get("/services", response_model=list[ServiceOut], summary="ICT services you may see (a member: its own)")
def list_services(reader: CurrentReader, conn: ReadConn, organisation_id: OrgFilter = None) -> list[dict[str, Any]]:
    return registry.list_nodes(conn, reader, "service", organisation_id=organisation_id)


@router.get("/services/{service_id}", response_model=ServiceOut, summary="One ICT service")
def get_service(service_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return registry.get_node(conn, reader, "service", service_id)


@router.patch("/services/{service_id}", response_model=ServiceOut, summary="Change one of your ICT services")
def update_service(service_id: int, body: ServiceUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return registry.update_node(conn, reader, "service", service_id, changes=body.model_dump(exclude_unset=True))


@router.delete("/services/{service_id}", status_code=204, summary="Delete one of your ICT services and its edges")
def delete_service(service_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    registry.delete_node(conn, reader, "service", service_id)
    return Response(status_code=204)


@router.get("/dependencies", response_model=list[Dependency], summary="Dependencies you may see")
def list_dependencies(reader: CurrentReader, conn: ReadConn, organisation_id: OrgFilter = None
                      ) -> list[dict[str, str]]:
    return dependencies.list_dependencies(conn, reader, organisation_id=organisation_id)


@router.post("/dependencies", response_model=Dependency, status_code=201,
             summary="One of your nodes depends on another of yours or on shared infrastructure")
def add_dependency(body: Dependency, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return dependencies.add_dependency(conn, reader, dependent=body.dependent, dependency=body.dependency)


@router.delete("/dependencies", status_code=204, summary="Remove one of your dependencies")
def remove_dependency(reader: CurrentReader, conn: WriteConn, dependent: Annotated[str, Query()],
                      dependency: Annotated[str, Query()]) -> Response:
    dependencies.remove_dependency(conn, reader, dependent=dependent, dependency=dependency)
    return Response(status_code=204)


@router.post(
    "/import", response_model=ImportOut,
    summary="Import your register of information from CSV (all or nothing; re-importing changes nothing)",
    description="The body is the CSV file (UTF-8; comma, semicolon, tab or bar separated; a header row). One row "
    "per function and ICT service. Columns are recognised by their header or named with `map=COLUMN=FIELD` "
    f"(fields: {', '.join(sorted(csv_import.FIELDS))}). A bad line refuses the file with 422 naming every "
    "line and problem; nothing is stored. `replace=true` removes your services the file does not name.",
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_register(
    request: Request, reader: CurrentReader,
    map_: ColumnMap = [],  # noqa: B006
    delimiter: Annotated[str | None, Query(min_length=1, max_length=1)] = None,
    replace: bool = False,
) -> dict[str, Any]:
    data = await _read_body(request, csv_import.MAX_BYTES)
    return await run_in_threadpool(_import_sync, request, reader, data, map_, delimiter, replace)


def _import_sync(request: Request, reader: Reader, data: bytes, mapping: list[str], delimiter: str | None,
                 replace: bool) -> dict[str, Any]:
    with transaction(request.app.state.engine) as conn:
        return csv_import.import_register(conn, reader, data, mapping=mapping, delimiter=delimiter, replace=replace)


async def _read_body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# --- sector-wide entities ---------------------------------------------------------------------------


@router.get("/providers", response_model=list[ProviderOut],
            summary="ICT third-party providers (CERT staff, authorities: all with usage; a member: those it uses)")
def list_providers(reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return shared.list_providers(conn, reader)


@router.post("/providers", response_model=ProviderOut, status_code=201, summary="Register a provider (CERT staff)")
def create_provider(body: ProviderCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return shared.create_provider(conn, reader, values=body.model_dump())


@router.get("/providers/{provider_id}", response_model=ProviderOut, summary="One provider")
def get_provider(provider_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return shared.get_provider(conn, reader, provider_id)


@router.patch("/providers/{provider_id}", response_model=ProviderOut, summary="Correct a provider (CERT staff)")
def update_provider(provider_id: int, body: ProviderUpdate, reader: CurrentReader, conn: WriteConn
                    ) -> dict[str, Any]:
    return shared.update_provider(conn, reader, provider_id, changes=body.model_dump(exclude_unset=True))


@router.delete("/providers/{provider_id}", status_code=204, summary="Remove an unused provider (CERT staff)")
def delete_provider(provider_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    shared.delete_provider(conn, reader, provider_id)
    return Response(status_code=204)


@router.get("/infrastructure", response_model=list[InfrastructureOut], summary="Shared infrastructure")
def list_infrastructure(reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return shared.list_infrastructure(conn, reader)


@router.post("/infrastructure", response_model=InfrastructureOut, status_code=201,
             summary="Add shared infrastructure members can depend on (CERT staff)")
def create_infrastructure(body: InfrastructureCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return shared.create_infrastructure(conn, reader, values=body.model_dump())


@router.get("/infrastructure/{infrastructure_id}", response_model=InfrastructureOut, summary="One shared node")
def get_infrastructure(infrastructure_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return shared.get_infrastructure(conn, reader, infrastructure_id)


@router.patch("/infrastructure/{infrastructure_id}", response_model=InfrastructureOut,
              summary="Change shared infrastructure (CERT staff)")
def update_infrastructure(infrastructure_id: int, body: InfrastructureUpdate, reader: CurrentReader,
                          conn: WriteConn) -> dict[str, Any]:
    return shared.update_infrastructure(conn, reader, infrastructure_id,
                                        changes=body.model_dump(exclude_unset=True))


@router.delete("/infrastructure/{infrastructure_id}", status_code=204,
               summary="Remove shared infrastructure and every dependency on it (CERT staff)")
def delete_infrastructure(infrastructure_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    shared.delete_infrastructure(conn, reader, infrastructure_id)
    return Response(status_code=204)


# --- the graph and its analysis ---------------------------------------------------------------------


@router.get("/graph", response_model=GraphOut,
            summary="Nodes and edges to draw: the whole map (CERT staff, authorities) or a member's part")
def graph(reader: CurrentReader, conn: ReadConn, organisation_id: OrgFilter = None) -> dict[str, Any]:
    return views.graph_view(conn, reader, organisation_id=organisation_id)


@router.get("/analysis/concentration", response_model=ConcentrationOut,
            summary="Nodes by the critical functions depending on them (members: their own and shared nodes)")
def concentration(reader: CurrentReader, conn: ReadConn, function_category: FunctionCategory = None,
                  limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> dict[str, Any]:
    return views.concentration_view(conn, reader, function_category=function_category, limit=limit)


@router.get("/analysis/spofs", response_model=ConcentrationOut,
            summary="Single points of failure: nodes whose loss alone loses a critical function")
def spofs(reader: CurrentReader, conn: ReadConn, function_category: FunctionCategory = None,
          limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> dict[str, Any]:
    return views.concentration_view(conn, reader, function_category=function_category, spof_only=True, limit=limit)


@router.get("/analysis/hhi", response_model=HHIOut,
            summary="Herfindahl-Hirschman index of reliance on providers per ICT service type")
def hhi(reader: CurrentReader, conn: ReadConn,
        basis: Annotated[str, Query(pattern="^(functions|members)$")] = "functions") -> dict[str, Any]:
    return views.hhi_view(conn, reader, basis=basis)


@router.post("/analysis/what-if", response_model=WhatIfOut,
             summary="What is lost if these nodes are down (members: counts by member type and their own by name)")
def what_if(body: WhatIfIn, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return views.what_if_view(conn, reader, down=body.down, function_category=body.function_category)


@router.get("/analysis/cycles", response_model=CyclesOut, summary="Dependency cycles")
def cycles(reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return views.cycles_view(conn, reader)


@router.get("/analysis/unknown", response_model=UnknownOut,
            summary="Dependencies not yet described, and critical functions mapped to nothing")
def unknown(reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return views.unknown_view(conn, reader)


# --- the risk register ------------------------------------------------------------------------------


@router.get("/risks", response_model=list[RiskOut], summary="The sector risk register, highest score first")
def list_risks(reader: CurrentReader, conn: ReadConn, status: RiskState | None = None,
               category: str | None = None) -> list[dict[str, Any]]:
    return risks.list_risks(conn, reader, status=status, category=category)


@router.post("/risks", response_model=RiskOut, status_code=201, summary="Add a sector risk (CERT staff)")
def create_risk(body: RiskCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return risks.create_risk(conn, reader, **body.model_dump())


@router.get("/risks/{risk_id}", response_model=RiskOut, summary="One risk with its measures and score history")
def get_risk(risk_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return risks.get_risk(conn, reader, risk_id)


@router.patch("/risks/{risk_id}", response_model=RiskOut, summary="Change a risk (CERT staff)")
def update_risk(risk_id: int, body: RiskUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return risks.update_risk(conn, reader, risk_id, changes=body.model_dump(exclude_unset=True))


@router.post("/risks/{risk_id}/measures", response_model=MeasureOut, status_code=201,
             summary="Add a measure with its owner (CERT staff)")
def add_measure(risk_id: int, body: MeasureCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return risks.add_measure(conn, reader, risk_id, **body.model_dump())


@router.patch("/measures/{measure_id}", response_model=MeasureOut,
              summary="Change a measure (CERT staff), or its status (its owner organisation)")
def update_measure(measure_id: int, body: MeasureUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return risks.update_measure(conn, reader, measure_id, changes=body.model_dump(exclude_unset=True))


@router.post("/measures/{measure_id}/notes", response_model=MeasureOut, status_code=201,
             summary="Add a dated progress note (CERT staff, or the owner organisation)")
def add_note(measure_id: int, body: NoteCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return risks.add_measure_note(conn, reader, measure_id, text=body.text, noted_on=body.noted_on)


@router.get("/register/progress", response_model=ProgressOut,
            summary="Measures by status per month and each risk's score over time")
def register_progress(reader: CurrentReader, conn: ReadConn,
                      months: Annotated[int, Query(ge=1, le=120)] = 12) -> dict[str, Any]:
    return progress.register_progress(conn, reader, months=months)


# --- the concerns survey ----------------------------------------------------------------------------


@router.get("/surveys", response_model=list[SurveyOut], summary="Concerns surveys, newest first")
def list_surveys(reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return survey.list_surveys(conn, reader)


@router.post("/surveys", response_model=SurveyOut, status_code=201,
             summary="Open the year's concerns survey with its topics (CERT staff)")
def open_survey(body: SurveyCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return survey.open_survey(conn, reader, year=body.year, topics=body.topics)


@router.get("/surveys/{year}", response_model=SurveyOut, summary="One year's survey")
def get_survey(year: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return survey.get_survey(conn, reader, year)


@router.post("/surveys/{year}/close", response_model=SurveyOut, summary="Close a survey (CERT staff)")
def close_survey(year: int, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return survey.close_survey(conn, reader, year)


@router.put("/surveys/{year}/response", response_model=AnswerOut,
            summary="Your organisation's top concerns (replaces its earlier answer)")
def submit_answer(year: int, body: SurveyAnswer, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return survey.submit_response(conn, reader, year, ranking=body.ranking, comment=body.comment)


@router.get("/surveys/{year}/response", response_model=AnswerOut, summary="Your organisation's answer")
def own_answer(year: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return survey.get_own_response(conn, reader, year)


@router.get("/surveys/{year}/results", response_model=ResultsOut,
            summary="Per topic: members ranking it, ranked first, mean rank (never who said what)")
def results(year: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return survey.survey_results(conn, reader, year)
