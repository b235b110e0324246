"""The ``webhook`` sink: records and notices POSTed as signed JSON events."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from hub.core.models import Delivered, Delivery, Failed, Outcome, Retry
from hub.sinks import DestinationError, Health, Sink, parse_retry_after, read_at_most
from recado_webhook import __version__
from recado_webhook.config import WebhookConfig
from recado_webhook.guard import AddressRefused, webhook_transport
from recado_webhook.payload import (
    Event,
    PayloadError,
    batch_event,
    encode,
    event_for,
    now_timestamp,
    ping_event,
)
from recado_webhook.responses import Answer, remote_id, verdict
from recado_webhook.signing import signature_header

#: How much of an answer is read: enough for an id or an error message, not a flood.
MAX_ANSWER_BYTES = 4096
USER_AGENT = f"recado-webhook/{__version__}"


class WebhookSink(Sink):
    """Delivers each record (or a batch of them) to one URL, signed per Standard Webhooks."""

    kind: ClassVar[str] = "webhook"
    max_batch: int = 1
    accepts_notices: ClassVar[bool] = True

    def __init__(self, config: WebhookConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(config)
        self.config: WebhookConfig = config
        self.max_batch = config.max_batch
        self._keys = config.signing_keys()
        self._secrets = config.secret_values()
        self._ssl_context = ssl_context
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Built on first use, inside the event loop that delivers.
        if self._client is None:
            timeout = httpx.Timeout(self.config.timeout, connect=min(self.config.timeout, 5.0))
            limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
            self._client = httpx.AsyncClient(
                transport=webhook_transport(limits=limits, ssl_context=self._ssl_context),
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        """Close the connections to the receiver."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _headers(self, event: Event, body: bytes) -> dict[str, str]:
        timestamp = int(time.time())
        headers = dict(self.config.headers)
        headers.update(
            {
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                "webhook-id": event.msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature_header(self._keys, event.msg_id, timestamp, body),
            }
        )
        return headers

    async def _post(self, event: Event) -> Answer:
        """POST one signed event; network failures surface as httpx errors."""
        body = encode(event)
        request = self._http().build_request(
            "POST", str(self.config.url), content=body, headers=self._headers(event, body)
        )
        response = await self._http().send(request, stream=True)
        try:
            received = await read_at_most(response.aiter_raw(), MAX_ANSWER_BYTES)
        finally:
            await response.aclose()
        return Answer(
            status=response.status_code,
            body=received,
            content_type=response.headers.get("content-type"),
            retry_after=response.headers.get("retry-after"),
            location=response.headers.get("location"),
        )

    def _host(self) -> str:
        return self.config.url.host or "the receiver"

    async def _send(self, event: Event) -> Answer | Retry:
        """Send `event`; a network failure becomes a `Retry`, an unreachable address an error."""
        try:
            return await self._post(event)
        except AddressRefused as exc:
            raise DestinationError(str(exc)) from None
        except httpx.TimeoutException:
            return Retry(reason=f"no answer from {self._host()} within {self.config.timeout:g} s")
        except httpx.TransportError as exc:
            detail = str(exc) or type(exc).__name__
            return Retry(reason=f"could not reach {self._host()}: {detail}"[:300])

    def _outcome(self, answer: Answer, count: int) -> Outcome:
        """The outcome of each of the `count` items that `answer` answered."""
        match verdict(answer.status):
            case "delivered":
                found = remote_id(answer.body, answer.content_type) if count == 1 else None
                return Delivered(remote_id=found, detail=f"HTTP {answer.status}")
            case "gone":
                raise DestinationError(
                    f"the receiver said the endpoint is gone ({answer.reason(self._secrets)})",
                    disable=True,
                )
            case "retry":
                return Retry(
                    reason=answer.reason(self._secrets),
                    after_s=parse_retry_after(answer.retry_after),
                )
            case _:
                reason = answer.reason(self._secrets)
                if 300 <= answer.status < 400:
                    reason += "; redirects are not followed: use the final URL as the destination"
                return Failed(reason=reason)

    async def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        """POST each delivery (or one batch event when `max_batch` > 1); one outcome per item."""
        timestamp = now_timestamp()
        outcomes: list[Outcome | None] = [None] * len(batch)
        events: list[tuple[int, Event]] = []
        for position, delivery in enumerate(batch):
            try:
                event = event_for(delivery, timestamp)
                encode(event)
            except (PayloadError, ValueError) as exc:
                outcomes[position] = Failed(reason=f"cannot build the webhook payload: {exc}")
                continue
            events.append((position, event))
        if len(events) == 1 or (events and self.max_batch == 1):
            for position, event in events:
                outcomes[position] = await self._deliver_one(event)
        elif events:
            await self._deliver_batch(events, timestamp, outcomes)
        return [self._settled(outcome) for outcome in outcomes]

    @staticmethod
    def _settled(outcome: Outcome | None) -> Outcome:
        if outcome is None:  # every position is filled above; keep mypy and readers sure
            raise RuntimeError("a delivery was left without an outcome")
        return outcome

    async def _deliver_one(self, event: Event) -> Outcome:
        sent = await self._send(event)
        if isinstance(sent, Retry):
            return sent
        return self._outcome(sent, 1)

    async def _deliver_batch(
        self, events: list[tuple[int, Event]], timestamp: str, outcomes: list[Outcome | None]
    ) -> None:
        sent = await self._send(batch_event([event for _, event in events], timestamp))
        if isinstance(sent, Retry):
            for position, _ in events:
                outcomes[position] = sent
            return
        outcome = self._outcome(sent, len(events))
        if isinstance(outcome, Failed):
            # A refused batch does not say which record was at fault: send each
            # alone, so that only the refused ones fail.
            for position, event in events:
                outcomes[position] = await self._deliver_one(event)
            return
        for position, _ in events:
            outcomes[position] = outcome

    def preview(self, delivery: Delivery) -> dict[str, Any]:
        """The JSON body this destination would receive for `delivery`, and its headers' names."""
        event = event_for(delivery, now_timestamp())
        return {"webhook-id": event.msg_id, "type": event.type, "body": event.body}

    def validate(self, mapping: Mapping[str, str]) -> list[str]:
        """Problems with `mapping`'s target names: any name is a JSON key, but not ``record_id``."""
        problems = []
        for target in mapping:
            if not target.strip():
                problems.append("mapping: a target name cannot be empty")
            elif target == "record_id":
                problems.append(
                    "mapping: 'record_id' is filled in by the webhook sink with the record's id; map to another name"
                )
        return problems

    async def check(self) -> Health:
        """POST a signed ``recado.ping`` event and report what the receiver answered."""
        event = ping_event(f"msg_ping_{uuid.uuid4().hex}", now_timestamp())
        try:
            sent = await self._send(event)
        except DestinationError as exc:
            return Health(ok=False, detail=exc.reason)
        if isinstance(sent, Retry):
            return Health(ok=False, detail=sent.reason)
        info = {"status": sent.status}
        match verdict(sent.status):
            case "delivered":
                detail = f"the receiver accepted a signed ping: {sent.reason(self._secrets)}"
                return Health(ok=True, detail=detail, info=info)
            case "gone":
                detail = f"the receiver said the endpoint is gone: {sent.reason(self._secrets)}"
            case _:
                detail = f"the receiver refused a signed ping: {sent.reason(self._secrets)}"
        return Health(ok=False, detail=detail, info=info)
