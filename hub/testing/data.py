"""Realistic deliveries for sink tests: records of PT and EN callers, notices, accounts.

The same arguments always give the same data, so a batch can be built again to be
replayed; record ids are distinct within a batch and across seeds.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.core.models import CallRecord, Delivery, Disposition, Language, record_id_for

_FIRST = ["João", "Inês", "Maria", "Rui", "Ana", "Tiago", "Conceição", "Gonçalo", "Beatriz"]
_LAST = ["Gonçalves", "Simões", "Araújo", "Fernandes", "Câmara", "Lourenço", "Magalhães"]
_REASONS = ["booking", "info", "complaint"]
_MOBILE_PREFIXES = ["91", "92", "93", "96"]
_BASE_TIME = datetime(2026, 6, 15, 9, 12, tzinfo=UTC)  # a Monday, 10:12 in Lisbon (WEST)


def sample_client(**overrides: Any) -> dict[str, Any]:
    """The `Delivery.client` dict of a realistic client with a three-field script (name, reason, callback)."""
    client: dict[str, Any] = {
        "id": "acme",
        "name": "Clínica Acme",
        "languages": ["pt", "en"],
        "script": {
            "version": 1,
            "category": "customer_service",
            "fields": [
                {"name": "name", "label": {"pt": "Nome", "en": "Name"}, "type": "text", "required": True},
                {"name": "reason", "label": {"pt": "Motivo", "en": "Reason"}, "type": "choice", "choices": _REASONS},
                {"name": "callback", "label": {"pt": "Ligar de volta", "en": "Call back"}, "type": "bool"},
            ],
        },
    }
    client.update(overrides)
    return client


def sample_account(balance_cents: int = 12_345, answered: int = 42, outbound: int = 3) -> dict[str, Any]:
    """The `Delivery.account` dict: the client's balance and calls this month."""
    return {"balance_cents": balance_cents, "month": {"answered": answered, "outbound": outbound}}


def sample_record(**overrides: Any) -> CallRecord:
    """A realistic answered inbound call of the sample client, in Portuguese."""
    call_id = str(overrides.pop("call_id", "conformance-0"))
    source = str(overrides.pop("source", "conformance"))
    answered = _BASE_TIME + timedelta(seconds=4)
    fields: dict[str, Any] = {
        "record_id": record_id_for(source, call_id),
        "source": source,
        "call_id": call_id,
        "client": "acme",
        "disposition": Disposition.ANSWERED,
        "caller": "+351912345678",
        "caller_name": "João Gonçalves",
        "did": "+351217000001",
        "agent": "ana",
        "language": Language.PT,
        "offered_at": _BASE_TIME,
        "answered_at": answered,
        "ended_at": answered + timedelta(minutes=3, seconds=10),
        "talk_seconds": 190,
        "script_version": 1,
        "answers": {"name": "João Gonçalves", "reason": "booking", "callback": True},
        "notes": "Quer marcação para quinta às 15h; prefere ser contactado por SMS.",
        "category": "customer_service",
        "price_cents": 150,
        "balance_after_cents": 12_345,
    }
    fields.update(overrides)
    return CallRecord(**fields)


def sample_notice(type: str = "service_interrupted", at: datetime | None = None) -> dict[str, Any]:
    """The `Delivery.notice` dict of a notice to the client (e.g. service interrupted)."""
    when = at or _BASE_TIME
    messages = {
        "service_interrupted": {
            "pt": "O saldo não cobre a próxima chamada: o serviço está interrompido. Carregue o saldo para o retomar.",
            "en": "Your balance does not cover the next call: the service is interrupted. Top up to resume it.",
        },
        "service_resumed": {
            "pt": "O saldo foi carregado: o serviço foi retomado.",
            "en": "Your balance was topped up: the service has resumed.",
        },
    }
    message = messages.get(type, {"pt": type, "en": type})
    return {"type": type, "at": when.isoformat(), "message": message}


def default_mapped(record: CallRecord) -> dict[str, Any]:
    """What a simple field mapping would produce for `record` (caller, name, reason, ...)."""
    return {
        "caller": record.caller,
        "name": record.answers.get("name"),
        "reason": record.answers.get("reason"),
        "agent": record.agent,
        "answered_at": record.answered_at.isoformat() if record.answered_at else None,
    }


MappedSpec = Mapping[str, Any] | Callable[[CallRecord], dict[str, Any]] | None
"""`mapped` for the builders: a fixed dict, a function of the record, or None (the default)."""


def make_delivery(
    record: CallRecord | None = None,
    *,
    delivery_id: int = 1,
    destination_id: str = "dest",
    mapped: MappedSpec = None,
    account: dict[str, Any] | None = None,
    kind: str = "record",
    notice: dict[str, Any] | None = None,
    client: dict[str, Any] | None = None,
) -> Delivery:
    """One `Delivery` as a worker hands it to a sink; the idempotency key is the record id.

    With ``kind="notice"`` the delivery carries `notice` (default: `sample_notice()`)
    and no record, and its key is derived from the client, notice type and time.
    """
    client_dict = client if client is not None else sample_client()
    account_dict = account if account is not None else sample_account()
    if kind == "notice":
        notice_dict = notice if notice is not None else sample_notice()
        seed = f"{client_dict.get('id')}\x00{notice_dict.get('type')}\x00{notice_dict.get('at')}"
        return Delivery(
            delivery_id=delivery_id,
            idempotency_key="ntc_" + hashlib.sha256(seed.encode()).hexdigest()[:26],
            kind="notice",
            event_type=f"client.{notice_dict.get('type', 'notice')}",
            client=client_dict,
            destination_id=destination_id,
            notice=notice_dict,
            account=account_dict,
        )
    if kind != "record":
        raise ValueError(f"kind must be 'record' or 'notice', got {kind!r}")
    rec = record if record is not None else sample_record()
    if mapped is None:
        mapped_dict = default_mapped(rec)
    elif callable(mapped):
        mapped_dict = mapped(rec)
    else:
        mapped_dict = dict(mapped)
    return Delivery(
        delivery_id=delivery_id,
        idempotency_key=rec.record_id,
        client=client_dict,
        destination_id=destination_id,
        record=rec,
        mapped=mapped_dict,
        account=account_dict,
    )


def make_batch(
    n: int,
    *,
    seed: int = 0,
    first_delivery_id: int = 1,
    destination_id: str = "dest",
    mapped: MappedSpec = None,
    account: dict[str, Any] | None = None,
    client: dict[str, Any] | None = None,
) -> list[Delivery]:
    """`n` deliveries of distinct, realistic records (PT and EN callers, E.164 mobiles).

    The same `n` and `seed` always give the same records, so a batch can be replayed.
    """
    rng = random.Random(seed)
    batch = []
    for i in range(n):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        caller = "+351" + rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        offered = _BASE_TIME + timedelta(minutes=7 * i)
        answered = offered + timedelta(seconds=rng.randint(2, 15))
        talk = rng.randint(30, 420)
        english = i % 4 == 3  # about a quarter of the callers speak English
        record = sample_record(
            call_id=f"conformance-{seed}-{i}",
            caller=caller,
            caller_name=f"{first} {last}",
            agent=rng.choice(["ana", "rui"]),
            language=Language.EN if english else Language.PT,
            offered_at=offered,
            answered_at=answered,
            ended_at=answered + timedelta(seconds=talk),
            talk_seconds=talk,
            answers={"name": f"{first} {last}", "reason": rng.choice(_REASONS), "callback": rng.random() < 0.5},
            notes="Prefers e-mail." if english else "Prefere contacto por e-mail.",
        )
        batch.append(
            make_delivery(
                record,
                delivery_id=first_delivery_id + i,
                destination_id=destination_id,
                mapped=mapped,
                account=account,
                client=client,
            )
        )
    return batch
