"""Getting an access token from Salesforce's OAuth 2.0 token endpoint.

simple-salesforce's own logins build the token URL from a `domain` name under
salesforce.com, so a My Domain with a port or a test peer cannot be reached;
the two server-to-server flows are small enough to speak directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests

from hub.sinks import DestinationError, RetriableError
from recado_salesforce.config import ClientCredentialsAuth, JwtAuth, SalesforceConfig
from recado_salesforce.errors import retry_after_of

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Salesforce refuses assertions valid for longer than a few minutes.
ASSERTION_LIFETIME_S = 180


@dataclass(frozen=True)
class Token:
    """An access token and the instance it is valid for."""

    access_token: str = field(repr=False)
    instance_url: str


def token_request(config: SalesforceConfig) -> dict[str, str]:
    """The form body of the token request for the configured flow."""
    auth = config.auth
    if isinstance(auth, JwtAuth):
        claims = {
            "iss": auth.consumer_key,
            "sub": auth.username,
            "aud": config.audience,
            "exp": int(time.time()) + ASSERTION_LIFETIME_S,
        }
        assertion = jwt.encode(claims, auth.private_key.get_secret_value(), algorithm="RS256")
        return {"grant_type": JWT_BEARER, "assertion": assertion}
    assert isinstance(auth, ClientCredentialsAuth)
    return {
        "grant_type": "client_credentials",
        "client_id": auth.consumer_key,
        "client_secret": auth.consumer_secret.get_secret_value(),
    }


def fetch_token(config: SalesforceConfig, http: requests.Session) -> Token:
    """Sign in with the configured flow.

    Raises `DestinationError` when Salesforce refuses the credentials and
    `RetriableError` when it cannot be reached or answers with a server error.
    """
    try:
        response = http.post(config.token_url, data=token_request(config), timeout=config.timeout_s)
    except requests.RequestException as exc:
        raise RetriableError(f"Salesforce login unreachable: {type(exc).__name__}") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise RetriableError(
            f"Salesforce login answered HTTP {response.status_code}",
            after_s=retry_after_of(response.headers),
        )
    body = _json(response)
    if response.status_code != 200:
        # The error and its description name the problem (invalid_grant, invalid_client_id…)
        # and never echo the credentials.
        code = str(body.get("error") or f"HTTP {response.status_code}")
        detail = str(body.get("error_description") or "").strip()
        raise DestinationError(
            f"Salesforce refused the login ({config.auth.type}): {code}"
            + (f": {detail}" if detail else "")
        )
    token, instance = body.get("access_token"), body.get("instance_url")
    if not isinstance(token, str) or not isinstance(instance, str) or not token:
        raise RetriableError("Salesforce login answered without access_token/instance_url")
    return Token(access_token=token, instance_url=instance.rstrip("/"))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
