"""The client portal's campaigns: upload a contacts file with its messages, follow each campaign."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.core import campaigns_admin
from hub.core.campaigns_text import VARIABLES
from hub.core.clients import Client
from hub.web.api_campaigns import read_upload, store_upload
from hub.web.context import check_csrf, web
from hub.web.errors import ApiError
from hub.web.pages import render
from hub.web.portal import ClientId, client_in_reach
from hub.web.tokens import Principal

router = APIRouter(prefix="/portal", include_in_schema=False)
LISBON = ZoneInfo("Europe/Lisbon")

#: Statuses shown as columns of the campaigns table, in the order a contact goes through them.
COLUMNS = ("pending", "in_progress", "sent", "delivered", "confirmed", "rescheduled", "message_played")
#: Statuses that end a contact without it being made.
NOT_MADE = ("no_answer", "failed", "opted_out", "skipped")


def _local(value: str | None) -> str:
    """An ISO time as Lisbon people read it: "2026-12-03 10:30"."""
    return datetime.fromisoformat(value).astimezone(LISBON).strftime("%Y-%m-%d %H:%M") if value else ""


def _page(
    request: Request,
    principal: Principal,
    csrf: str | None,
    client: Client,
    *,
    status_code: int = 200,
    errors: list[dict[str, Any]] | None = None,
    form: dict[str, str] | None = None,
    flash: str | None = None,
) -> Response:
    with web(request).store.connect() as conn:
        found = campaigns_admin.list_campaigns(conn, client=client.id)
    for item in found:
        item["created_local"] = _local(item["created_at"])
    return render(
        request,
        "portal_campaigns.html",
        principal=principal,
        csrf=csrf,
        client=client,
        campaigns=found,
        columns=COLUMNS,
        not_made=NOT_MADE,
        variables=VARIABLES,
        errors=errors or [],
        form=form or {},
        flash=flash,
        status_code=status_code,
    )


@router.get("/{client_id}/campaigns", response_class=HTMLResponse)
def campaigns(request: Request, client_id: ClientId, flash: str | None = None) -> Response:
    """The upload form and every campaign with its contacts counted by status."""
    principal, csrf, client = client_in_reach(request, client_id)
    return _page(request, principal, csrf, client, flash=flash)


@router.post("/{client_id}/campaigns", response_class=HTMLResponse)
async def upload(
    request: Request,
    client_id: ClientId,
    file: Annotated[UploadFile | None, File()] = None,
    template_pt: Annotated[str, Form(max_length=1000)] = "",
    template_en: Annotated[str, Form(max_length=1000)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    mode: Annotated[str, Form(max_length=16)] = "agent",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Store an uploaded campaign; a refused file shows every problem above the form (nothing stored)."""
    principal, expected, client = client_in_reach(request, client_id)
    check_csrf(expected, csrf)
    form = {"template_pt": template_pt, "template_en": template_en, "name": name, "mode": mode}
    try:
        data = await read_upload(file if file is not None and file.filename else None)
        campaign = await run_in_threadpool(
            store_upload, request, principal, client.id, data, {"pt": template_pt, "en": template_en}, name, mode
        )
    except ApiError as exc:
        if exc.status not in (409, 422):  # 409: the contract is over, said above the form like a bad file
            raise
        errors = exc.details or [{"text": exc.message}]
        return _page(request, principal, expected, client, status_code=exc.status, errors=errors, form=form)
    return RedirectResponse(f"/portal/{client_id}/campaigns/{campaign['id']}?flash=campaign_saved", status_code=303)


@router.get("/{client_id}/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign(
    request: Request,
    client_id: ClientId,
    campaign_id: Annotated[int, Path(ge=1, le=2**62)],
    flash: str | None = None,
) -> Response:
    """One campaign: its counts and every contact with its status."""
    principal, csrf, client = client_in_reach(request, client_id)
    try:
        found = campaigns_admin.show_campaign(web(request).store, campaign_id, client=client.id)
    except campaigns_admin.UnknownCampaign:
        raise ApiError(404, f"no campaign {campaign_id}") from None
    for contact in found["contact_list"]:
        contact["appointment_local"] = _local(contact["appointment_at"])
    return render(
        request,
        "portal_campaign.html",
        principal=principal,
        csrf=csrf,
        client=client,
        campaign=found,
        columns=COLUMNS,
        not_made=NOT_MADE,
        flash=flash,
    )
