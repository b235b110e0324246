"""Data exports over the API: `/api/v1/privacy/…` for the operator, `/api/v1/clients/{id}/export` for a client.

Every export is logged in the privacy log before it is sent, with the token that asked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from hub.core import export, ledger, privacy_log
from hub.web.api import principal
from hub.web.context import require, require_client, web
from hub.web.errors import ApiError
from hub.web.tokens import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["privacy"])
Who = Annotated[Principal, Depends(principal)]


def _actor(who: Principal) -> str:
    return f"api {who.role.value} token {who.token_id}"


def _send(request: Request, who: Principal, document: dict[str, Any], subject: str, kind: str) -> JSONResponse:
    # Logged once the reading connection is closed: on SQLite a reader holds the write lock.
    with web(request).store.begin() as conn:
        export.log(
            conn,
            at=datetime.fromisoformat(document["generated_at"]),
            subject=subject,
            actor=_actor(who),
            kind=kind,
            written=export.counts(document),
        )
    return JSONResponse(document)


def _client_export(request: Request, who: Principal, client_id: str) -> JSONResponse:
    with web(request).store.connect() as conn:
        try:
            document = export.collect(conn, export.client_sections(conn, client_id, at=datetime.now(UTC)))
        except ledger.UnknownAccount:
            raise ApiError(404, f"no client {client_id!r}") from None
    return _send(request, who, document, client_id, "client")


@router.get("/privacy/export", summary="Export a client's or a caller's data")
def privacy_export(
    request: Request,
    who: Who,
    client: Annotated[str | None, Query(max_length=64, description="A client id.")] = None,
    number: Annotated[str | None, Query(max_length=32, description="A caller's number.")] = None,
) -> JSONResponse:
    """Everything the hub keeps of a client, or about a caller's number (operators only; logged)."""
    require(who, Role.OPERATOR)
    if (client is None) == (number is None):
        raise ApiError(422, "give either `client` or `number`")
    if client is not None:
        return _client_export(request, who, client)
    with web(request).store.connect() as conn:
        try:
            document = export.collect(conn, export.number_sections(conn, number or "", at=datetime.now(UTC)))
        except ValueError as exc:
            raise ApiError(422, f"number: {exc}") from None
    return _send(request, who, document, privacy_log.number_subject(document["number"]), "number")


@router.get("/clients/{client_id}/export", summary="Export a client's own data")
def client_export(request: Request, client_id: str, who: Who) -> JSONResponse:
    """Everything the hub keeps of this client, secrets as `***` (its own token or an operator's; logged)."""
    require_client(who, client_id)
    return _client_export(request, who, client_id)


@router.get("/privacy/log", summary="The privacy log")
def privacy_log_list(
    request: Request,
    who: Who,
    action: Annotated[str | None, Query(pattern="^(purge|export|erase)$")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[dict[str, Any]]:
    """Purges, exports and erasures, newest first (operators only)."""
    require(who, Role.OPERATOR)
    with web(request).store.connect() as conn:
        return privacy_log.entries(conn, action=action, limit=limit)
