"""Standard Webhooks signatures: secrets, message ids and the `webhook-*` headers.

A secret is written ``whsec_`` followed by the base64 of random bytes; the
signature of a message is ``v1,`` + base64(HMAC-SHA256(secret bytes,
"{id}.{timestamp}.{body}")). During a secret rotation a message carries one
signature per secret, separated by spaces, so receivers holding either secret
accept it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence

SECRET_PREFIX = "whsec_"
#: The Standard Webhooks specification asks for secrets of 24 to 64 random bytes.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
DEFAULT_SECRET_BYTES = 32


class SecretFormatError(ValueError):
    """A webhook secret is not ``whsec_`` + base64 of 24 to 64 bytes (the value is never shown)."""


def new_secret(n_bytes: int = DEFAULT_SECRET_BYTES) -> str:
    """Return a fresh ``whsec_…`` secret made of `n_bytes` random bytes."""
    if not MIN_SECRET_BYTES <= n_bytes <= MAX_SECRET_BYTES:
        raise ValueError(f"a webhook secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {n_bytes}")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(n_bytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """Decode a ``whsec_…`` secret into the HMAC key bytes, or raise `SecretFormatError`."""
    if not secret.startswith(SECRET_PREFIX):
        raise SecretFormatError(
            "a webhook secret starts with 'whsec_' followed by base64 (generate one with `recado webhook secret`)"
        )
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError(
            "the part of a webhook secret after 'whsec_' must be valid base64"
            " (generate one with `recado webhook secret`)"
        ) from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise SecretFormatError(
            f"a webhook secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes once decoded,"
            f" this one holds {len(key)} (generate one with `recado webhook secret`)"
        )
    return key


def message_id(idempotency_key: str, event_type: str) -> str:
    """The ``webhook-id`` of one item: the same delivery and event type always give the same id.

    Receivers deduplicate on this id, so it must not change between retries;
    the event type is part of it so that a correction of a record
    (``call.record.updated``) is not mistaken for its creation.
    """
    digest = hashlib.sha256(f"{idempotency_key}\x00{event_type}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def batch_message_id(item_ids: Iterable[str]) -> str:
    """The ``webhook-id`` of a batch: derived from the ids of its items, in order."""
    digest = hashlib.sha256("\x00".join(item_ids).encode()).hexdigest()
    return f"msg_{digest[:32]}"


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of `body` sent as `msg_id` at `timestamp` (Unix seconds)."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per key, separated by spaces."""
    return " ".join(sign(key, msg_id, timestamp, body) for key in keys)


def verify(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes, signatures: str) -> bool:
    """Whether any ``v1`` signature in `signatures` matches `body` under any of `keys`."""
    expected = [sign(key, msg_id, timestamp, body) for key in keys]
    for candidate in signatures.split():
        if not candidate.startswith("v1,"):
            continue
        for signature in expected:
            # Constant-time comparison: timing must not reveal how much matched.
            if hmac.compare_digest(candidate.encode(), signature.encode()):
                return True
    return False
