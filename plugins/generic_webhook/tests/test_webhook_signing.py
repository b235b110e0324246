"""Secrets, message ids and signatures follow the Standard Webhooks specification."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from recado_webhook.signing import (
    SecretFormatError,
    message_id,
    new_secret,
    secret_key,
    signature_header,
)
from standardwebhooks import Webhook, WebhookVerificationError


def _headers(msg_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_new_secret_refuses_sizes_outside_24_to_64_bytes() -> None:
    with pytest.raises(ValueError, match="24 to 64"):
        new_secret(16)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "starts with 'whsec_'"),
        ("whsec_not base64!!", "valid base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "this one holds 5"),
    ],
)
def test_malformed_secret_is_refused_without_showing_it(value: str, expected: str) -> None:
    with pytest.raises(SecretFormatError, match=expected) as caught:
        secret_key(value)
    assert value not in str(caught.value)


def test_message_id_is_the_same_for_the_same_delivery_and_event_type() -> None:
    assert message_id("rec_1", "call.record.created") == message_id("rec_1", "call.record.created")


def test_message_id_of_a_correction_differs_from_the_creation() -> None:
    assert message_id("rec_1", "call.record.updated") != message_id("rec_1", "call.record.created")


def test_signature_verifies_with_the_standardwebhooks_library() -> None:
    secret = new_secret()
    body = '{"type":"call.record.created","data":{"caller_name":"João"}}'.encode()
    now = int(time.time())
    header = signature_header([secret_key(secret)], "msg_1", now, body)
    payload = Webhook(secret).verify(body, _headers("msg_1", now, header))
    assert payload["data"]["caller_name"] == "João"


def test_each_rotation_secret_alone_verifies_the_message() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"type":"call.record.created"}'
    now = int(time.time())
    header = signature_header([secret_key(new), secret_key(old)], "msg_2", now, body)
    assert len(header.split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, _headers("msg_2", now, header))


def test_signature_under_another_secret_is_rejected() -> None:
    body = b"{}"
    now = int(time.time())
    header = signature_header([secret_key(new_secret())], "msg_3", now, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, _headers("msg_3", now, header))


def test_signature_matches_the_library_signer_byte_for_byte() -> None:
    secret = new_secret()
    now = datetime.now(UTC).replace(microsecond=0)
    body = '{"a":"ç"}'
    expected = Webhook(secret).sign("msg_4", now, body)
    assert signature_header([secret_key(secret)], "msg_4", int(now.timestamp()), body.encode()) == expected
