"""`recado destinations …`: preview and test what a client's destination receives."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from sqlalchemy import select, update

from hub.commands.context import InputError, get, print_json
from hub.core import directory
from hub.core import store as t
from hub.core.dispatch import Dispatcher, Item
from hub.core.models import CallRecord, Delivered, Disposition, Failed, Language
from hub.sinks import DestinationError, RetriableError

app = typer.Typer(help="Preview and test a client's destinations.", no_args_is_help=True)

TEST_NOTE = "Registo de teste enviado pelo Recado / Test record sent by Recado"


def latest_record(conn: Any, client: str) -> CallRecord | None:
    """The client's most recent record, if any."""
    row = conn.execute(
        select(t.records.c.data)
        .where(t.records.c.client == client)
        .order_by(t.records.c.offered_at.desc(), t.records.c.record_id.desc())
        .limit(1)
    ).first()
    return None if row is None else CallRecord.model_validate(row.data)


def test_record(client: Any, base: CallRecord | None) -> CallRecord:
    """A clearly marked test record: the shape of a real one, an id of its own."""
    now = datetime.now(UTC).replace(microsecond=0)
    answers = {field.name: f"TEST {field.name}" for field in client.script.fields}
    if base is not None:
        answers.update(base.answers)
    return CallRecord(
        record_id=f"test_{uuid.uuid4().hex[:22]}",
        source="test",
        call_id=f"test-{uuid.uuid4().hex[:12]}",
        client=client.id,
        disposition=Disposition.ANSWERED,
        caller=base.caller if base else "+351210000000",
        did=client.dids[0],
        agent=base.agent if base else "test",
        language=base.language if base else Language.PT,
        offered_at=now - timedelta(minutes=3),
        answered_at=now - timedelta(minutes=3) + timedelta(seconds=5),
        ended_at=now,
        talk_seconds=175,
        script_version=client.script.version,
        answers=answers,
        notes=TEST_NOTE,
        category=client.script.category.value,
    )


def _dispatcher(ctx: typer.Context) -> Dispatcher:
    context = get(ctx)
    box = context.store.secret_box()
    return Dispatcher(context.store, context.plugins.registry, box)


def _destination(dispatcher: Dispatcher, client: str, destination: str) -> Any:
    try:
        return dispatcher.destination(client, destination)
    except LookupError as exc:
        raise InputError(str(exc)) from None
    except ValueError as exc:  # settings that no longer validate (e.g. the environment changed)
        raise InputError(f"destination {destination!r} of {client!r} cannot be used: {exc}") from None


@app.command("preview")
def preview(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    destination: str = typer.Argument(..., help="Destination id."),
) -> None:
    """Print, as JSON, the payload the client's latest record gets at this destination."""
    dispatcher = _dispatcher(ctx)
    target = _destination(dispatcher, client, destination)
    with dispatcher.store.connect() as conn:
        record = latest_record(conn, client)
    sample = record is None
    if record is None:
        record = test_record(target.client, None)
    item = Item(delivery_id=0, idempotency_key=record.record_id, record_id=None, test=sample)
    delivery = dispatcher.delivery(target, item, record)
    print_json(
        {
            "client": client,
            "destination": destination,
            "kind": target.kind,
            "record_id": record.record_id,
            "sample": sample,
            "payload": target.sink.preview(delivery),
        }
    )


@app.command("test")
def test(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    destination: str = typer.Argument(..., help="Destination id."),
) -> None:
    """Send a clearly marked test record now and print what the platform answered.

    Exit code 1 when the platform did not accept it.
    """
    dispatcher = _dispatcher(ctx)
    target = _destination(dispatcher, client, destination)
    with dispatcher.store.connect() as conn:
        base = latest_record(conn, client)
    record = test_record(target.client, base)
    item = Item(delivery_id=0, idempotency_key=record.record_id, test=True)
    delivery = dispatcher.delivery(target, item, record)

    async def send() -> dict[str, Any]:
        try:
            outcomes = await target.sink.deliver([delivery])
        except RetriableError as exc:
            return {"ok": False, "outcome": "retry", "detail": exc.reason, "retry_after_s": exc.after_s}
        except DestinationError as exc:
            return {"ok": False, "outcome": "destination_error", "detail": exc.reason}
        finally:
            await dispatcher.aclose()
        outcome = outcomes[0]
        if isinstance(outcome, Delivered):
            return {"ok": True, "outcome": "delivered", "remote_id": outcome.remote_id, "detail": outcome.detail}
        if isinstance(outcome, Failed):
            return {"ok": False, "outcome": "failed", "detail": outcome.reason}
        return {"ok": False, "outcome": "retry", "detail": outcome.reason, "retry_after_s": outcome.after_s}

    result = asyncio.run(send())
    print_json({"client": client, "destination": destination, "record_id": record.record_id} | result)
    if not result["ok"]:
        raise typer.Exit(1)


@app.command("resume")
def resume(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    destination: str = typer.Argument(..., help="Destination id."),
) -> None:
    """Resume a paused (or disabled by its platform) destination; dead letters need `deliveries replay`.

    The destination is enabled again unless the client's file disables it.
    """
    context = get(ctx)
    with context.store.begin() as conn:
        configured = directory.get_client(conn, client)
        wanted = next((d for d in configured.destinations if d.id == destination), None) if configured else None
        if wanted is None:
            raise InputError(f"client {client!r} has no destination {destination!r}")
        conn.execute(
            update(t.destinations)
            .where(t.destinations.c.client == client, t.destinations.c.id == destination)
            .values(paused_until=None, paused_reason=None, enabled=wanted.enabled)
        )
    print_json({"client": client, "destination": destination, "resumed": True, "enabled": wanted.enabled})
