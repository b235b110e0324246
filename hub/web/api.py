"""The REST API, `/api/v1/…`: clients, accounts, records, deliveries and agents.

Every route needs `Authorization: Bearer <token>`. A client token sees its own
client only, whatever the query asks; other clients are answered 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Security
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub.core import accounts, blocklist, contracts, directory, ledger, outbox
from hub.core.config_files import ConfigError
from hub.core.contract_state import ContractOver
from hub.core.models import Disposition
from hub.core.tariff import document_for_message, document_for_plan, document_for_topup
from hub.web import queries
from hub.web.client_updates import ClientUpdateRefused, update_client
from hub.web.context import api_principal, bearer, require, require_client, serves, web
from hub.web.errors import ApiError
from hub.web.tokens import Principal, Role, list_tokens

router = APIRouter(prefix="/api/v1", tags=["api"])


def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> Principal:
    """The token holder of an API request."""
    return api_principal(request, credentials)


Who = Annotated[Principal, Depends(principal)]


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class TopUp(BaseModel):
    """A balance top-up, in whole euros (20, 30 or 50 by default)."""

    model_config = ConfigDict(extra="forbid")
    amount_eur: int = Field(ge=1, le=100_000)


class Purchase(BaseModel):
    """A contract (`item` 12m or 6m) or the recorded message option (`item` pt or pt+en)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["contract", "message"]
    item: str = Field(min_length=1, max_length=16)


def _scope(who: Principal, client: str | None) -> str | None:
    """The client whose rows a listing may show: a client token's own, whatever was asked."""
    if who.role is Role.CLIENT:
        return who.client
    require(who, Role.OPERATOR)
    return client


@router.get("/clients", summary="List clients")
def clients_list(request: Request, who: Who) -> list[dict[str, Any]]:
    """Clients within the token's reach (secrets shown as `***`)."""
    with web(request).store.connect() as conn:
        found = directory.list_clients(conn)
    if who.role is Role.CLIENT:
        found = [c for c in found if c.id == who.client]
    elif who.role is Role.AGENT:
        found = [c for c in found if serves(c, who.agent or "")]
    return [client.model_dump(mode="json") for client in found]


@router.get("/clients/{client_id}", summary="Show a client")
def client_show(request: Request, client_id: str, who: Who) -> dict[str, Any]:
    """One client (secrets shown as `***`)."""
    with web(request).store.connect() as conn:
        client = directory.get_client(conn, client_id)
    visible = client is not None and (
        who.may_see_client(client_id) or (who.role is Role.AGENT and serves(client, who.agent or ""))
    )
    if client is None or not visible:
        raise ApiError(404, f"no client {client_id!r}")
    return client.model_dump(mode="json")


@router.put("/clients/{client_id}", summary="Create or change a client")
def client_put(
    request: Request, client_id: str, who: Who, document: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Validate and save a client document, as `recado clients apply` does; `***` keeps a stored secret.

    A client token may change its own destinations only.
    """
    if who.role is Role.CLIENT:
        require_client(who, client_id)
    else:
        require(who, Role.OPERATOR)
    context = web(request)
    try:
        report = update_client(
            context.store,
            context.plugins.registry,
            client_id,
            document,
            destinations_only=who.role is Role.CLIENT,
        )
    except ClientUpdateRefused as exc:
        raise ApiError(403, str(exc)) from None
    except (ConfigError, ValueError) as exc:
        raise ApiError(422, str(exc)) from None
    return report.as_dict()


@router.get("/accounts/{client_id}", summary="Account at a glance")
def account_show(request: Request, client_id: str, who: Who) -> dict[str, Any]:
    """Balance, calls this month, price of the next call, contract end."""
    require_client(who, client_id)
    context = web(request)
    try:
        with context.store.connect() as conn:
            return accounts.show(conn, client_id, datetime.now(UTC), context.settings.tariff)
    except ledger.UnknownAccount:
        raise ApiError(404, f"no client {client_id!r}") from None


def _buy(request: Request, client_id: str, document: Any) -> dict[str, Any]:
    context = web(request)
    try:
        body = accounts.purchase(
            context.store,
            context.plugins.registry,
            client_id,
            document,
            datetime.now(UTC),
            context.settings.tariff,
            context.plugins.call_guarded,
        )
    except ledger.UnknownAccount:
        raise ApiError(404, f"no client {client_id!r}") from None
    except (ledger.InsufficientBalance, ContractOver) as exc:
        raise ApiError(409, str(exc)) from None
    return body


@router.post("/accounts/{client_id}/topup", summary="Top up a balance")
def account_topup(request: Request, client_id: str, who: Who, topup: TopUp) -> dict[str, Any]:
    """Credit a top-up (operators only); an interrupted service resumes when the balance covers a call."""
    require(who, Role.OPERATOR)
    try:
        document = document_for_topup(topup.amount_eur, config=web(request).settings.tariff)
    except ValueError as exc:
        raise ApiError(422, f"amount_eur: {exc}") from None
    return _buy(request, client_id, document)


@router.post("/accounts/{client_id}/buy", summary="Buy a contract or an option")
def account_buy(request: Request, client_id: str, who: Who, purchase: Purchase) -> dict[str, Any]:
    """Record a contract or the recorded-message option (operators only)."""
    require(who, Role.OPERATOR)
    tariff = web(request).settings.tariff
    try:
        if purchase.kind == "contract":
            document = document_for_plan(purchase.item, config=tariff)
        else:
            document = document_for_message(purchase.item, config=tariff)
    except ValueError as exc:
        raise ApiError(422, f"item: {exc}") from None
    return _buy(request, client_id, document)


class Renewal(BaseModel):
    """A contract renewal: the plan (12m or 6m by default)."""

    model_config = ConfigDict(extra="forbid")
    plan: str = Field(min_length=1, max_length=16)


def operator(who: Who) -> Principal:
    """The token holder, who must be an operator (checked before the body is read)."""
    require(who, Role.OPERATOR)
    return who


@router.post("/accounts/{client_id}/renew", summary="Renew a contract")
def account_renew(
    request: Request, client_id: str, who: Annotated[Principal, Depends(operator)], renewal: Renewal
) -> dict[str, Any]:
    """Renew the contract (operators only), keeping the numbers and the recorded message at no cost.

    Before the end the contract is extended from its end; an ended contract is restarted
    within `lifecycle.renewal_grace_days` of its end (409 after that).
    """
    context = web(request)
    try:
        return contracts.renew(
            context.store,
            context.plugins.registry,
            client_id,
            renewal.plan,
            datetime.now(UTC),
            context.settings,
            context.plugins.call_guarded,
        )
    except ValueError as exc:
        raise ApiError(422, f"plan: {exc}") from None
    except ledger.UnknownAccount:
        raise ApiError(404, f"no client {client_id!r}") from None
    except ContractOver as exc:
        raise ApiError(409, str(exc)) from None


@router.get("/accounts/{client_id}/statement", summary="Statement")
def account_statement(request: Request, client_id: str, who: Who) -> list[dict[str, Any]]:
    """Every ledger entry of the client, oldest first."""
    require_client(who, client_id)
    with web(request).store.connect() as conn:
        if directory.get_client(conn, client_id) is None:
            raise ApiError(404, f"no client {client_id!r}")
        return ledger.statement(conn, client_id)


class BlockRequest(BaseModel):
    """A caller to block for a client."""

    number: str = Field(min_length=3, max_length=32)
    note: str | None = Field(default=None, max_length=200)


def _blocking_client(request: Request, client_id: str, who: Principal) -> None:
    require_client(who, client_id)
    with web(request).store.connect() as conn:
        if directory.get_client(conn, client_id) is None:
            raise ApiError(404, f"no client {client_id!r}")


@router.get("/clients/{client_id}/blocked", summary="Numbers the client blocked")
def blocked_list(request: Request, client_id: str, who: Who) -> list[dict[str, Any]]:
    """Callers whose calls to this client are refused (free, recorded as `blocked`)."""
    _blocking_client(request, client_id, who)
    with web(request).store.connect() as conn:
        return blocklist.listing(conn, client_id)


@router.post("/clients/{client_id}/blocked", summary="Block a caller", status_code=201)
def blocked_add(
    request: Request, client_id: str, who: Who, document: Annotated[dict[str, Any] | None, Body()] = None
) -> dict[str, Any]:
    """Block a caller for this client (idempotent). Body: `{"number": "+351…", "note": "…"}`."""
    # Reach first, then the body: another client's request learns nothing from a 422.
    _blocking_client(request, client_id, who)
    try:
        body = BlockRequest.model_validate(document or {})
    except ValidationError as exc:
        raise ApiError(422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    try:
        with web(request).store.begin() as conn:
            number = blocklist.block(conn, client_id, body.number, body.note)
    except ValueError as exc:
        raise ApiError(422, f"number: {exc}") from None
    return {"client": client_id, "number": number, "blocked": True}


@router.delete("/clients/{client_id}/blocked/{number}", summary="Unblock a caller")
def blocked_remove(request: Request, client_id: str, number: str, who: Who) -> dict[str, Any]:
    """Let a blocked caller through again."""
    _blocking_client(request, client_id, who)
    try:
        with web(request).store.begin() as conn:
            was = blocklist.unblock(conn, client_id, number)
    except ValueError as exc:
        raise ApiError(422, f"number: {exc}") from None
    if not was:
        raise ApiError(404, f"{number} is not blocked for {client_id}")
    return {"client": client_id, "number": number, "blocked": False}


def _record_filter(
    who: Principal,
    client: str | None,
    since: datetime | None,
    until: datetime | None,
    disposition: Disposition | None,
    q: str | None,
    limit: int,
    offset: int,
) -> queries.RecordFilter:
    return queries.RecordFilter(
        client=_scope(who, client),
        since=since,
        until=until,
        disposition=disposition.value if disposition else None,
        text=q,
        limit=limit,
        offset=offset,
    )


Since = Annotated[AwareDatetime | None, Query(description="Offered at or after (ISO 8601 with offset).")]
Until = Annotated[AwareDatetime | None, Query(description="Offered before (ISO 8601 with offset).")]
Limit = Annotated[int, Query(ge=1, le=10_000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Text = Annotated[str | None, Query(max_length=200, description="Text in the caller, name, answers or notes.")]


@router.get("/records", summary="List records")
def records_list(
    request: Request,
    who: Who,
    client: str | None = None,
    since: Since = None,
    until: Until = None,
    disposition: Disposition | None = None,
    q: Text = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Records, newest first; a client token gets its own whatever `client` says."""
    where = _record_filter(who, client, since, until, disposition, q, limit, offset)
    with web(request).store.connect() as conn:
        return queries.list_records(conn, where)


@router.get(
    "/records.csv",
    summary="Export records as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def records_csv(
    request: Request,
    who: Who,
    client: str | None = None,
    since: Since = None,
    until: Until = None,
    disposition: Disposition | None = None,
    q: Text = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Response:
    """The same records as `/records`, as CSV."""
    where = _record_filter(who, client, since, until, disposition, q, limit, 0)
    with web(request).store.connect() as conn:
        found = queries.list_records(conn, where)
    return Response(
        queries.records_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="records.csv"'},
    )


@router.get("/records/{record_id}", summary="Show a record and its deliveries")
def record_show(request: Request, record_id: str, who: Who) -> dict[str, Any]:
    """One record with its delivery log per destination."""
    with web(request).store.connect() as conn:
        record = queries.get_record(conn, record_id)
        if record is None or not who.may_see_client(str(record["client"])):
            raise ApiError(404, f"no record {record_id!r}")
        return {"record": record, "deliveries": queries.deliveries_of_record(conn, record_id)}


@router.get("/deliveries", summary="List deliveries")
def deliveries_list(
    request: Request,
    who: Who,
    client: str | None = None,
    status: DeliveryStatus | None = None,
    limit: Limit = 500,
) -> list[dict[str, Any]]:
    """Outbox rows, oldest first; a client token gets its own whatever `client` says."""
    scope = _scope(who, client)
    with web(request).store.connect() as conn:
        return outbox.list_rows(conn, status=status.value if status else None, client=scope, limit=limit)


@router.post("/deliveries/{delivery_id}/replay", summary="Send a dead delivery again")
def delivery_replay(request: Request, delivery_id: Annotated[int, Path(ge=1, le=2**62)], who: Who) -> dict[str, int]:
    """A dead delivery becomes pending again, its attempts reset."""
    context = web(request)
    with context.store.connect() as conn:
        row = queries.delivery_row(conn, delivery_id)
    if row is None or not who.may_see_client(row.client):
        raise ApiError(404, f"no delivery {delivery_id}")
    if row.status != outbox.DEAD:
        raise ApiError(409, f"delivery {delivery_id} is {row.status}; only dead deliveries are replayed")
    return {"replayed": outbox.replay(context.store, ids=[delivery_id])}


@router.get("/agents", summary="List agents")
def agents_list(request: Request, who: Who) -> list[dict[str, Any]]:
    """Agents with their state and the clients they serve (an agent token sees itself)."""
    if who.role is Role.CLIENT:
        raise ApiError(403, "this needs an operator or agent token, not client")
    context = web(request)
    states: dict[str, str] = context.extras.get("agent_states", lambda: {})()
    with context.store.connect() as conn:
        clients = directory.list_clients(conn)
    names = {token["agent"] for token in list_tokens(context.store) if token["agent"] and not token["revoked_at"]}
    names |= set(states) | {agent for client in clients for agent in client.agents.preferred}
    if who.role is Role.AGENT:
        names = {who.agent or ""}
    return [
        {
            "id": name,
            "state": states.get(name, "logged_out"),
            "clients": [client.id for client in clients if serves(client, name)],
        }
        for name in sorted(names)
    ]
