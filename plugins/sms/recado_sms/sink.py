"""The ``sms`` sink: each record's text sent as an SMS through a generic HTTP gateway.

For every delivery the sink POSTs one JSON message to the gateway's send URL::

    POST <url>
    Authorization: Bearer <token>
    Idempotency-Key: <the record id>
    {"to": "+351912345678", "from": "ClinicaAcme", "text": "…", "reference": "rec_…",
     "encoding": "GSM-7", "segments": 1, "callback_url": "https://hub.example/sms/reports"}

and reads the gateway's message id from the JSON answer (``{"id": "…"}``). The
idempotency key makes a repeated delivery (a retry after a lost answer) send nothing
new at a gateway that honours it. Within a batch, the first answer that says "later"
(429, 5xx, a timeout) stops the batch: the rest get the same `Retry` without being sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from hub.core.models import Delivered, Delivery, Failed, Outcome, Retry
from hub.core.privacy import mask_phone
from hub.sinks import DestinationError, Health, Sink, parse_retry_after, read_at_most
from recado_sms import __version__
from recado_sms.answers import Answer, verdict
from recado_sms.config import SmsConfig
from recado_sms.message import MessageError, OutgoingSms, outgoing

__all__ = ["MAPPING_TARGETS", "SmsSink"]

log = logging.getLogger(__name__)

#: The fields a destination's mapping may fill: the recipient's number and the text.
MAPPING_TARGETS = ("to", "text")
#: How much of an answer is read: enough for an id or an error, not a flood.
MAX_ANSWER_BYTES = 8192
USER_AGENT = f"recado-sms/{__version__}"


class SmsSink(Sink):
    """Sends each delivery's text to its recipient through the gateway, from the destination's sender id."""

    kind: ClassVar[str] = "sms"
    max_batch: int = 10
    accepts_notices: ClassVar[bool] = False
    sends_messages: ClassVar[bool] = True

    def __init__(self, config: SmsConfig) -> None:
        super().__init__(config)
        self.config: SmsConfig = config
        self.max_batch = config.max_batch
        self._secrets = [config.token.get_secret_value()]
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Built on first use, inside the event loop that delivers.
        if self._client is None:
            timeout = httpx.Timeout(self.config.timeout, connect=min(self.config.timeout, 5.0))
            self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        """Close the connections to the gateway."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {
            "authorization": f"Bearer {self.config.token.get_secret_value()}",
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }
        if idempotency_key is not None:
            headers["idempotency-key"] = idempotency_key
        return headers

    def _host(self) -> str:
        return self.config.url.host or "the gateway"

    async def _request(self, method: str, url: str, **kwargs: Any) -> Answer | Retry:
        """One request; network failures become a `Retry` whose reason names the host only."""
        try:
            request = self._http().build_request(method, url, **kwargs)
            response = await self._http().send(request, stream=True)
            try:
                body = await read_at_most(response.aiter_raw(), MAX_ANSWER_BYTES)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return Retry(reason=f"no answer from {self._host()} within {self.config.timeout:g} s")
        except httpx.TransportError as exc:
            # The exception text may quote the request; only its type is safe to repeat.
            return Retry(reason=f"could not reach {self._host()}: {type(exc).__name__}")
        return Answer(
            status=response.status_code,
            body=body,
            content_type=response.headers.get("content-type"),
            retry_after=response.headers.get("retry-after"),
        )

    def _callback(self) -> str | None:
        return None if self.config.status_callback_url is None else str(self.config.status_callback_url)

    async def _send(self, sms: OutgoingSms) -> Outcome:
        body = sms.payload(self.config.sender_id, self._callback())
        answer = await self._request(
            "POST", str(self.config.url), json=body, headers=self._headers(sms.idempotency_key)
        )
        if isinstance(answer, Retry):
            log.info("sms to %s not sent: %s", mask_phone(sms.to), answer.reason)
            return answer
        return self._outcome(answer, sms)

    def _outcome(self, answer: Answer, sms: OutgoingSms) -> Outcome:
        reason = answer.reason(self._secrets)
        match verdict(answer.status):
            case "sent":
                remote = answer.message_id()
                log.info(
                    "sms to %s sent: %s, %d segment(s), gateway id %s",
                    mask_phone(sms.to),
                    sms.info.encoding,
                    sms.info.segments,
                    remote or "-",
                )
                detail = f"HTTP {answer.status}: {sms.info.encoding}, {sms.info.segments} segment(s)"
                return Delivered(remote_id=remote, detail=detail)
            case "retry":
                log.info("sms to %s deferred by the gateway: %s", mask_phone(sms.to), reason)
                return Retry(reason=reason, after_s=parse_retry_after(answer.retry_after))
            case "credentials":
                raise DestinationError(f"the gateway refused the token (bad credentials): {reason}")
            case "endpoint":
                raise DestinationError(
                    f"the gateway has no send endpoint at {self.config.url} ({reason});"
                    " check `url` (redirects are not followed)"
                )
            case _:
                log.info("sms to %s refused by the gateway: %s", mask_phone(sms.to), reason)
                return Failed(reason=reason)

    async def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        """Send each delivery's SMS in order; one outcome per delivery.

        A message that can never be sent (no text, a landline, too many segments) fails
        alone; an answer meaning "later" defers it and every message after it.
        """
        outcomes: list[Outcome] = []
        deferred: Retry | None = None
        for delivery in batch:
            try:
                sms = outgoing(delivery, max_segments=self.config.max_segments)
            except MessageError as exc:
                log.info("delivery %s cannot be sent by SMS: %s", delivery.delivery_id, exc)
                outcomes.append(Failed(reason=str(exc)))
                continue
            if deferred is not None:
                outcomes.append(deferred)
                continue
            outcome = await self._send(sms)
            if isinstance(outcome, Retry):
                deferred = outcome
            outcomes.append(outcome)
        return outcomes

    def preview(self, delivery: Delivery) -> dict[str, Any]:
        """The JSON body the gateway would receive for `delivery` (never the token), or why none."""
        try:
            sms = outgoing(delivery, max_segments=self.config.max_segments)
        except MessageError as exc:
            return {"error": str(exc)}
        return {
            "url": str(self.config.url),
            "idempotency_key": sms.idempotency_key,
            "body": sms.payload(self.config.sender_id, self._callback()),
        }

    def validate(self, mapping: Mapping[str, str]) -> list[str]:
        """Problems with `mapping`'s targets: an SMS has only `to` and `text`."""
        allowed = ", ".join(f"`{name}`" for name in MAPPING_TARGETS)
        return [
            f"mapping: {target!r} is not a field of an SMS; the sms sink takes {allowed}"
            for target in mapping
            if target not in MAPPING_TARGETS
        ]

    async def check(self) -> Health:
        """GET the gateway's health URL with the token: reachable and the token accepted?"""
        url = self.config.health_url()
        answer = await self._request("GET", url, headers=self._headers())
        if isinstance(answer, Retry):
            return Health(ok=False, detail=answer.reason)
        info = {"status": answer.status, "url": url}
        reason = answer.reason(self._secrets)
        match verdict(answer.status):
            case "sent":
                return Health(ok=True, detail=f"the gateway answered {reason} with the token", info=info)
            case "credentials":
                return Health(ok=False, detail=f"the gateway refused the token: {reason}", info=info)
            case _:
                return Health(ok=False, detail=f"the gateway answered {reason} at {url}", info=info)
