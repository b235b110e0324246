"""Stripe's error answers as `PaymentError`s that say what to do, without any secret.

Stripe answers errors as ``{"error": {"type", "code", "message", "param"}}``.
A 401 message repeats part of the key, so it is never passed on; other messages
are passed on with any occurrence of the key removed.
"""

from __future__ import annotations

from typing import Any

import httpx

from hub.payments import PaymentError


def _retry_after(response: httpx.Response) -> str:
    value = response.headers.get("retry-after")
    return f" (retry after {value} s)" if value and value.isdigit() else ""


def _details(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def from_response(response: httpx.Response, secrets: list[str]) -> PaymentError:
    """The `PaymentError` for an unsuccessful Stripe `response`."""
    status = response.status_code
    error = _details(response)
    message = str(error.get("message") or "").strip()
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    kind = str(error.get("type") or "")
    param = f" (parameter {error['param']})" if error.get("param") else ""
    if status == 401:
        return PaymentError("Stripe refused the API key (401): check api_key in [payments.stripe]", status=status)
    if status == 403:
        return PaymentError(f"the API key may not do this (403): {message or 'permission denied'}", status=status)
    if status == 402 or kind == "card_error":
        decline = f", {error['decline_code']}" if error.get("decline_code") else ""
        return PaymentError(
            f"the card was declined ({error.get('code') or 'card_error'}{decline}): {message}", status=status
        )
    if status == 429:
        return PaymentError(
            f"Stripe is rate limiting requests (429){_retry_after(response)}", retriable=True, status=status
        )
    if status >= 500:
        return PaymentError(f"Stripe is unavailable ({status}); try again shortly", retriable=True, status=status)
    if kind == "idempotency_error":
        return PaymentError(
            f"Stripe refused the idempotency key: an earlier request with it had other parameters ({message})",
            status=status,
        )
    if status == 404:
        return PaymentError(f"Stripe does not know this object (404): {message}", status=status)
    label = kind or "invalid_request_error"
    return PaymentError(f"Stripe refused the request ({status} {label}){param}: {message}", status=status)


def from_transport(exc: httpx.TransportError) -> PaymentError:
    """The `PaymentError` for a request that never got an answer."""
    if isinstance(exc, httpx.TimeoutException):
        return PaymentError("Stripe did not answer in time; try again shortly", retriable=True)
    return PaymentError(f"Stripe cannot be reached ({type(exc).__name__}); try again shortly", retriable=True)
