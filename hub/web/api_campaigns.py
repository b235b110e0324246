"""The API of outbound campaigns and opt-outs: `/api/v1/campaigns`, `/api/v1/optouts`.

A client token uploads and sees its own client's campaigns only; asking for another
client is answered 404. An operator token names the client of an upload.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from hub.core import campaigns_admin, ledger, optouts
from hub.core.campaigns_csv import CampaignFileError
from hub.core.contract_state import ContractOver
from hub.web.api import Who
from hub.web.context import require, web
from hub.web.errors import ApiError
from hub.web.tokens import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["campaigns"])

#: The largest contacts file accepted (10,000 contacts fit easily).
MAX_FILE_BYTES = 2 * 1024 * 1024


def campaign_client(who: Principal, asked: str | None) -> str:
    """The client an upload or a listing is about: a client token's own; what an operator names."""
    if who.role is Role.CLIENT:
        if asked and asked != who.client:
            raise ApiError(404, f"no client {asked!r}")
        return str(who.client)
    require(who, Role.OPERATOR)
    if not asked:
        raise ApiError(422, "client: an operator token must name the client of the campaign")
    return asked


def file_error(exc: CampaignFileError) -> ApiError:
    """The answer to a refused upload: 422 with one detail per problem (line, column, message)."""
    return ApiError(422, str(exc), details=[error.as_dict() for error in exc.errors])


def store_upload(
    request: Request,
    who: Principal,
    client: str,
    data: bytes,
    templates: dict[str, str | None],
    name: str | None,
    mode: str,
) -> dict[str, Any]:
    """Create the campaign (shared by the API and the portal).

    404 for an unknown client, 409 for a client whose contract is over, 422 for bad input.
    """
    context = web(request)
    try:
        return campaigns_admin.create_campaign(
            context.store,
            context.plugins.registry,
            client,
            data,
            templates,
            name=name,
            mode=mode,
            created_by=f"{who.role.value}:{who.client or who.agent or who.token_id}",
            now=datetime.now(UTC),
        )
    except ledger.UnknownAccount:
        raise ApiError(404, f"no client {client!r}") from None
    except ContractOver as exc:
        raise ApiError(409, str(exc)) from None
    except CampaignFileError as exc:
        raise file_error(exc) from None


async def read_upload(file: UploadFile | None) -> bytes:
    """The uploaded CSV, refused when missing or too large."""
    if file is None:
        raise ApiError(422, "file: a CSV of contacts is required (name, number, appointment, language, channel)")
    data = await file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(422, f"file: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return data


@router.post("/campaigns", summary="Upload a campaign", status_code=201)
async def campaign_upload(
    request: Request,
    who: Who,
    file: Annotated[UploadFile | None, File(description="CSV: name, number, appointment, language, channel.")] = None,
    template_pt: Annotated[str | None, Form(max_length=1000)] = None,
    template_en: Annotated[str | None, Form(max_length=1000)] = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
    mode: Annotated[str, Form(max_length=16, description="agent or message (phone contacts).")] = "agent",
    client: Annotated[str | None, Form(max_length=64, description="The client (operator tokens).")] = None,
) -> dict[str, Any]:
    """Check the contacts file and store the campaign; any bad row refuses it whole (422, one detail per row)."""
    target = campaign_client(who, client or request.query_params.get("client"))
    data = await read_upload(file)
    templates = {"pt": template_pt, "en": template_en}
    return await run_in_threadpool(store_upload, request, who, target, data, templates, name, mode)


@router.get("/campaigns", summary="List campaigns")
def campaigns_list(request: Request, who: Who, client: str | None = None) -> list[dict[str, Any]]:
    """Campaigns, newest first, with their contacts counted by status (a client token: its own)."""
    if who.role is Role.CLIENT:
        scope: str | None = campaign_client(who, client)
    else:
        require(who, Role.OPERATOR)
        scope = client
    with web(request).store.connect() as conn:
        return campaigns_admin.list_campaigns(conn, client=scope)


@router.get("/campaigns/{campaign_id}", summary="Show a campaign and its contacts")
def campaign_show(request: Request, campaign_id: Annotated[int, Path(ge=1, le=2**62)], who: Who) -> dict[str, Any]:
    """A campaign, its counts by status and every contact with its status, outcome and price."""
    if who.role is not Role.CLIENT:
        require(who, Role.OPERATOR)
    try:
        return campaigns_admin.show_campaign(
            web(request).store, campaign_id, client=who.client if who.role is Role.CLIENT else None
        )
    except campaigns_admin.UnknownCampaign:
        raise ApiError(404, f"no campaign {campaign_id}") from None


class OptOutRequest(BaseModel):
    """A number not to contact again: for one client, or (operators, no `client`) for all."""

    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=3, max_length=32)
    client: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=200)


@router.post("/optouts", summary="Opt a number out", status_code=201)
async def optouts_add(request: Request, who: Who, client: str | None = None) -> dict[str, Any]:
    """Never contact the number again (for the token's client, or as the operator says). Body: `OptOutRequest`.

    Idempotent; the number's contacts not yet made become `opted_out`.
    """
    if who.role is Role.CLIENT:
        campaign_client(who, client)
    else:
        require(who, Role.OPERATOR)
    try:
        document = json.loads(await request.body() or b"{}")
        body = OptOutRequest.model_validate(document)
    except (ValueError, ValidationError) as exc:
        problems = exc.errors() if isinstance(exc, ValidationError) else [{"loc": ("body",), "msg": "not JSON"}]
        raise ApiError(422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in problems)) from None
    scope = campaign_client(who, body.client or client) if who.role is Role.CLIENT else (body.client or client)

    def add() -> dict[str, Any]:
        with web(request).store.begin() as conn:
            return optouts.add(conn, body.number, client=scope, reason=body.reason)

    try:
        return await run_in_threadpool(add)
    except LookupError:
        raise ApiError(404, f"no client {scope!r}") from None
    except ValueError as exc:
        raise ApiError(422, f"number: {exc}") from None


@router.get("/optouts", summary="List opt-outs")
def optouts_list(request: Request, who: Who, client: str | None = None) -> list[dict[str, Any]]:
    """Numbers that opted out, newest first (a client token: those it opted out itself)."""
    with web(request).store.connect() as conn:
        if who.role is Role.CLIENT:
            own = campaign_client(who, client)
            return [entry for entry in optouts.listing(conn, client=own) if entry["client"] == own]
        require(who, Role.OPERATOR)
        return optouts.listing(conn, client=client)


@router.delete("/optouts/{number}", summary="Remove an opt-out")
def optouts_remove(request: Request, number: Annotated[str, Path(max_length=32)], who: Who) -> dict[str, Any]:
    """Let the number be contacted by new campaigns again (a client token: only its own opt-outs)."""
    if who.role is not Role.CLIENT:
        require(who, Role.OPERATOR)
    try:
        e164 = optouts.normalize(number)
    except ValueError as exc:
        raise ApiError(422, f"number: {exc}") from None
    with web(request).store.begin() as conn:
        entry = optouts.get(conn, e164)
        if entry is None or (who.role is Role.CLIENT and entry["client"] != who.client):
            raise ApiError(404, f"{e164} has not opted out")
        optouts.remove(conn, e164)
    return {"number": e164, "opted_out": False}
