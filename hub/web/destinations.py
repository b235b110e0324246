"""Editing a destination in the portal: settings and mapping, a preview, a test record.

The preview renders the edited mapping against the client's most recent record;
the test record is sent at once through the edited settings (nothing is saved)
and marked as a test, so people can check a destination before saving it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from hub.core import store as t
from hub.core.clients import Client
from hub.core.config_files import ConfigError
from hub.core.dispatch import AccountViews, account_views, client_view_of
from hub.core.mapping import Mapper, mapping_context
from hub.core.models import CallRecord, Delivered, Delivery, Failed
from hub.web import queries
from hub.web.client_updates import ClientUpdateRefused, restore_secrets, update_client, with_destination
from hub.web.context import WebContext, check_csrf, web
from hub.web.errors import ApiError
from hub.web.pages import render
from hub.web.portal import ClientId, client_in_reach

router = APIRouter(prefix="/portal", include_in_schema=False)
DestinationId = Annotated[str, Path(max_length=64)]
Text = Annotated[str, Form(max_length=20_000)]
Csrf = Annotated[str, Form(max_length=100)]


def _as_mapping(text: str, field: str) -> dict[str, Any]:
    try:
        value = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{field}: not valid YAML: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{field}: expected `name: value` lines")
    return value


def _destination(client: Client, destination_id: str) -> dict[str, Any]:
    for destination in client.destinations:
        if destination.id == destination_id:
            return destination.model_dump(mode="json")
    raise ApiError(404, f"no destination {destination_id!r}")


def _account(context: WebContext, client: Client) -> AccountViews:
    with context.store.connect() as conn:
        return account_views(conn, client.id)


def _sample_record(context: WebContext, client: Client) -> CallRecord | None:
    with context.store.connect() as conn:
        found = queries.recent_record(conn, client.id)
    return None if found is None else CallRecord.model_validate(found)


def preview(context: WebContext, client: Client, mapping: dict[str, Any]) -> dict[str, Any]:
    """The fields `mapping` gives for the client's most recent record."""
    record = _sample_record(context, client)
    if record is None:
        raise ValueError("there is no record yet to preview the mapping with")
    mapper = Mapper(context.plugins.registry.filters)
    mapper.validate({str(k): str(v) for k, v in mapping.items()}, client.script.field_names())
    account = _account(context, client)
    context_values = mapping_context(record, client.script.field_names(), client_view_of(client), account.mapping)
    return mapper.render({str(k): str(v) for k, v in mapping.items()}, context_values)


async def send_test(
    context: WebContext, client: Client, kind: str, settings: dict[str, Any], mapping: dict[str, Any]
) -> str:
    """Send the most recent record, marked as a test, through `settings`; say what the destination answered."""
    record = _sample_record(context, client)
    if record is None:
        raise ValueError("there is no record yet to send as a test")
    mapped = preview(context, client, mapping)
    sink = context.plugins.registry.build_sink(kind, settings)
    delivery = Delivery(
        delivery_id=0,
        idempotency_key=f"test:{record.record_id}:{datetime.now(UTC).isoformat()}",
        event_type="call.record.test",
        client=client_view_of(client),
        destination_id="test",
        record=record,
        mapped=mapped,
        account=_account(context, client).delivery,
        test=True,
    )
    try:
        outcomes = await sink.deliver([delivery])
    except Exception as exc:  # whatever the platform answered, people must see it
        return f"not delivered: {type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    finally:
        await sink.aclose()
    outcome = outcomes[0] if outcomes else None
    if isinstance(outcome, Delivered):
        return f"delivered {outcome.remote_id or ''} {outcome.detail}".strip()
    if isinstance(outcome, Failed):
        return f"refused: {outcome.reason}"
    return f"not delivered now: {getattr(outcome, 'reason', 'no answer')}"


def _page(
    request: Request,
    client_id: str,
    destination_id: str,
    *,
    settings_text: str | None = None,
    mapping_text: str | None = None,
    **values: Any,
) -> Response:
    principal, csrf, client = client_in_reach(request, client_id)
    destination = _destination(client, destination_id)
    return render(
        request,
        "portal_destination.html",
        principal=principal,
        csrf=csrf,
        client=client,
        destination=destination,
        settings_text=settings_text
        if settings_text is not None
        else yaml.safe_dump(destination["settings"], allow_unicode=True, sort_keys=False),
        mapping_text=mapping_text
        if mapping_text is not None
        else yaml.safe_dump(destination["mapping"], allow_unicode=True, sort_keys=False),
        **values,
    )


@router.get("/{client_id}/destinations/{destination_id}", response_class=HTMLResponse)
def edit(request: Request, client_id: ClientId, destination_id: DestinationId) -> Response:
    """The destination's settings (secrets as `***`) and mapping."""
    return _page(request, client_id, destination_id)


@router.post("/{client_id}/destinations/{destination_id}", response_class=HTMLResponse)
async def act(
    request: Request,
    client_id: ClientId,
    destination_id: DestinationId,
    settings: Text = "",
    mapping: Text = "",
    action: Annotated[str, Form(max_length=16)] = "save",
    csrf: Csrf = "",
) -> Response:
    """Preview the mapping, send a test record, or save the destination."""
    principal, expected, client = client_in_reach(request, client_id)
    check_csrf(expected, csrf)
    context = web(request)
    current = _destination(client, destination_id)
    values: dict[str, Any] = {"settings_text": settings, "mapping_text": mapping}
    try:
        new_settings = _as_mapping(settings, "settings")
        new_mapping = _as_mapping(mapping, "mapping")
        if action == "preview":
            values["preview"] = preview(context, client, new_mapping)
        elif action == "test":
            with context.store.connect() as conn:
                stored = conn.execute(select(t.clients.c.config).where(t.clients.c.id == client_id)).scalar_one()
            box = context.store.secret_box()
            restored = restore_secrets({"destinations": [current | {"settings": new_settings}]}, dict(stored), box)[
                "destinations"
            ][0]["settings"]
            values["test_result"] = await send_test(context, client, current["kind"], restored, new_mapping)
        elif action == "save":
            document = with_destination(client, current | {"settings": new_settings, "mapping": new_mapping})
            update_client(
                context.store,
                context.plugins.registry,
                client_id,
                document,
                destinations_only=principal.role.value == "client",
            )
            values = {"flash": "saved"}
        else:
            raise ValueError(f"action: expected save, preview or test, got {action!r}")
    except ClientUpdateRefused as exc:
        raise ApiError(403, str(exc)) from None
    except (ConfigError, ValueError) as exc:
        values["error"] = str(exc)
    return _page(request, client_id, destination_id, **values)
