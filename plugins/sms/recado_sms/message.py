"""The SMS a delivery asks for: recipient, text, encoding and segments, checked before sending.

The text is the mapping's ``text`` or else the record's ``message``; the recipient is the
mapping's ``to`` or else the record's caller. Numbers without a country code are read as
Portuguese. Anything that can never be sent is a `MessageError` whose message says why,
with the number masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers

from hub.core.models import Delivery
from hub.core.privacy import mask_phone
from recado_sms.encoding import SegmentInfo, non_gsm_characters, segments

__all__ = ["MessageError", "OutgoingSms", "outgoing", "recipient"]

#: Numbers written without a country code belong to the service's country.
DEFAULT_REGION = "PT"
_SHOWN_CHARACTERS = 8


class MessageError(ValueError):
    """This delivery can never be sent as an SMS; the message says why (numbers masked)."""


@dataclass(frozen=True)
class OutgoingSms:
    """One SMS ready for the gateway."""

    to: str
    text: str
    reference: str
    idempotency_key: str
    info: SegmentInfo

    def payload(self, sender_id: str, callback_url: str | None) -> dict[str, Any]:
        """The JSON body of the gateway's send request."""
        body: dict[str, Any] = {
            "to": self.to,
            "from": sender_id,
            "text": self.text,
            "reference": self.reference,
            "encoding": self.info.encoding,
            "segments": self.info.segments,
        }
        if callback_url is not None:
            body["callback_url"] = callback_url
        return body


def recipient(value: Any) -> str:
    """`value` as an E.164 mobile number; MessageError (number masked) when it cannot get an SMS."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise MessageError("no number to send to: map `to`, or the record needs a caller number")
    try:
        parsed = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise MessageError(f"{mask_phone(text)} is not a phone number (expected E.164, e.g. +351912345678)") from None
    if not phonenumbers.is_valid_number(parsed):
        raise MessageError(f"{mask_phone(text)} is not a valid phone number (expected E.164, e.g. +351912345678)")
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise MessageError(f"{mask_phone(number)} is a fixed-line number: SMS go to mobile numbers")
    return number


def _text(delivery: Delivery) -> str:
    mapped = delivery.mapped.get("text")
    value = mapped if mapped not in (None, "") else (delivery.record.message if delivery.record else None)
    text = "" if value is None else str(value)
    if not text.strip():
        raise MessageError("no text to send: map `text`, or the record needs a `message`")
    return text


def _too_long(info: SegmentInfo, text: str, max_segments: int) -> str:
    units = "characters" if info.encoding == "UCS-2" else "septets"
    reason = (
        f"the text needs {info.segments} SMS segments ({info.encoding}, {info.units} {units})"
        f" and this destination sends at most {max_segments} (max_segments)"
    )
    if info.encoding == "UCS-2":
        odd = non_gsm_characters(text)
        shown = " ".join(odd[:_SHOWN_CHARACTERS]) + (" …" if len(odd) > _SHOWN_CHARACTERS else "")
        reason += f"; it goes as UCS-2 (70 characters per SMS, 67 per segment) because of: {shown}"
    return reason


def outgoing(delivery: Delivery, *, max_segments: int) -> OutgoingSms:
    """The SMS for `delivery`, or MessageError saying why it can never be sent."""
    if delivery.kind != "record" or delivery.record is None:
        raise MessageError("the sms sink sends the text of records; notices are not sent by SMS")
    text = _text(delivery)
    to = recipient(delivery.mapped.get("to") or delivery.record.caller)
    info = segments(text)
    if info.segments > max_segments:
        raise MessageError(_too_long(info, text, max_segments))
    return OutgoingSms(
        to=to,
        text=text,
        reference=delivery.record.record_id,
        idempotency_key=delivery.idempotency_key,
        info=info,
    )
