"""The normalized data that flows between sources, the core and sinks.

Sources produce `CallEvent`s and `WrapUp`s, the core produces `CallRecord`s and
`RouteDecision`s, workers hand `Delivery`s to sinks and get `Outcome`s back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EventKind(StrEnum):
    """What happened to a call, as a telephony source reports it."""

    OFFERED = "offered"
    ANSWERED = "answered"
    BRIDGED = "bridged"
    ENDED = "ended"
    MESSAGE_PLAYED = "message_played"
    OUTBOUND_STARTED = "outbound_started"
    OUTBOUND_ANSWERED = "outbound_answered"
    OUTBOUND_FAILED = "outbound_failed"
    SMS_SENT = "sms_sent"
    #: The SMS gateway's delivery report: the message reached the phone, or never will.
    SMS_DELIVERED = "sms_delivered"
    SMS_FAILED = "sms_failed"


class Disposition(StrEnum):
    """How a call ended, from the client's point of view."""

    ANSWERED = "answered"
    MISSED = "missed"
    AFTER_HOURS = "after_hours"
    REFUSED_NO_BALANCE = "refused_no_balance"
    #: Answered, then marked by the agent as spam or a wrong number.
    SPAM = "spam"
    #: The client blocked the caller's number: refused, free.
    BLOCKED = "blocked"
    # Outbound contacts of a campaign (direction "outbound"):
    #: The person confirmed the appointment (priced).
    CONFIRMED = "confirmed"
    #: The person moved the appointment (priced).
    RESCHEDULED = "rescheduled"
    #: Nobody answered the call (free).
    NO_ANSWER = "no_answer"
    #: The recorded message was played to the person (priced).
    MESSAGE_PLAYED = "message_played"
    #: The SMS was accepted for sending (priced).
    SMS_SENT = "sms_sent"
    #: The SMS never reached the phone (free: its price is credited back).
    SMS_FAILED = "sms_failed"


class Language(StrEnum):
    """Languages the service answers in."""

    PT = "pt"
    EN = "en"


class CallEvent(BaseModel):
    """One normalized telephony event of one call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = "ingest"
    call_id: str = Field(min_length=1, max_length=200)
    kind: EventKind
    at: AwareDatetime
    did: str | None = None
    caller: str | None = None
    agent: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class WrapUp(BaseModel):
    """What the agent typed after the call: the answers to the client's script."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = "ingest"
    call_id: str = Field(min_length=1, max_length=200)
    agent: str | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    language: Language | None = None
    notes: str | None = None
    at: AwareDatetime | None = None
    #: The agent's verdict when the call was not a real one for the client.
    mark: Literal["spam", "wrong_number"] | None = None


class RouteAction(StrEnum):
    """What the telephony source must do with an offered call."""

    ANSWER = "answer"
    PLAY_MESSAGE = "play_message"
    NOT_ANSWERED = "not_answered"
    REFUSE = "refuse"


class RouteDecision(BaseModel):
    """The core's decision for an offered call, carried out by the source."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    client: str | None
    action: RouteAction
    disposition: Disposition | None = None
    language: Language = Language.PT
    queue: str | None = None
    preferred_agents: list[str] = Field(default_factory=list)
    agent_gender: Literal["any", "female", "male"] = "any"
    message: str | None = None
    price_cents: int = 0
    reason: str = ""


class CallRecord(BaseModel):
    """The final record of one call: what clients receive and what is priced."""

    model_config = ConfigDict(frozen=True)

    record_id: str
    source: str
    call_id: str
    client: str
    direction: Literal["inbound", "outbound"] = "inbound"
    channel: Literal["voice", "sms"] = "voice"
    disposition: Disposition
    caller: str | None = None
    caller_name: str | None = None
    did: str | None = None
    agent: str | None = None
    language: Language = Language.PT
    offered_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    talk_seconds: int = 0
    script_version: int | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = None
    category: str | None = None
    price_cents: int = 0
    balance_after_cents: int = 0
    incomplete: bool = False
    mark: Literal["spam", "wrong_number"] | None = None
    #: The text sent by SMS, or the recorded message played, for outbound contacts.
    message: str | None = None
    #: Who was contacted and why (campaign, contact id, name, appointment) for outbound contacts.
    contact: dict[str, Any] | None = None


def record_id_for(source: str, call_id: str) -> str:
    """The deterministic record id of a call: the same events always give the same id."""
    digest = hashlib.sha256(f"{source}\x00{call_id}".encode()).hexdigest()
    return f"rec_{digest[:26]}"


class Delivery(BaseModel):
    """One item handed to a sink: a record (or a notice) for one destination."""

    model_config = ConfigDict(frozen=True)

    delivery_id: int
    idempotency_key: str
    kind: Literal["record", "notice"] = "record"
    event_type: str = "call.record.created"
    client: dict[str, Any]
    destination_id: str
    record: CallRecord | None = None
    notice: dict[str, Any] | None = None
    mapped: dict[str, Any] = Field(default_factory=dict)
    account: dict[str, Any] = Field(default_factory=dict)
    attempt: int = 1
    test: bool = False


class Delivered(BaseModel):
    """The destination has the item; `remote_id` is its id there, when it has one."""

    model_config = ConfigDict(frozen=True)

    remote_id: str | None = None
    detail: str = ""


class Retry(BaseModel):
    """The destination could not take the item now; try again after `after_s` seconds."""

    model_config = ConfigDict(frozen=True)

    reason: str
    after_s: float | None = None


class Failed(BaseModel):
    """The destination refused this item for good (dead-letter it, keep the rest going)."""

    model_config = ConfigDict(frozen=True)

    reason: str


Outcome = Delivered | Retry | Failed
