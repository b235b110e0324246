"""Stripe's webhook signatures: ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256>``.

The signed text is ``"<t>.<raw body>"`` and the key is the endpoint's signing
secret (``whsec_…``) as it is written. A header may carry several ``v1``
signatures (while a secret is being rolled); one match is enough. Calls signed
more than `TOLERANCE_S` seconds ago are refused, so that a captured call cannot
be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from hub.payments import InvalidWebhook

HEADER = "stripe-signature"
TOLERANCE_S = 300


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """The hex ``v1`` signature of `body` sent at `timestamp`."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value for `body`, as Stripe sends it."""
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},v1={compute(secret, at, body)}"


def verify(
    secret: str, body: bytes, value: str | None, *, now: float | None = None, tolerance_s: int = TOLERANCE_S
) -> int:
    """Check header `value` against `body`; return its timestamp or raise `InvalidWebhook`."""
    if not value:
        raise InvalidWebhook("the Stripe-Signature header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in value.split(","):
        name, _, part = item.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(part)
            except ValueError:
                raise InvalidWebhook("the Stripe-Signature header has an unreadable timestamp") from None
        elif name == "v1":
            signatures.append(part)
    if timestamp is None or not signatures:
        raise InvalidWebhook("the Stripe-Signature header needs t=… and v1=…")
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise InvalidWebhook("the Stripe-Signature does not match the body (wrong signing secret, or altered body)")
    age = (time.time() if now is None else now) - timestamp
    if age > tolerance_s:
        raise InvalidWebhook(f"the call was signed {int(age)} s ago, more than the {tolerance_s} s allowed")
    return timestamp
