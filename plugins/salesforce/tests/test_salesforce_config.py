"""Settings of a salesforce destination: login hosts, flows, and clear errors."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import jwt
import pytest
from pydantic import ValidationError
from recado_salesforce import SalesforceConfig, SalesforceSink
from recado_salesforce.auth import JWT_BEARER, token_request

CC = {"type": "client_credentials", "consumer_key": "3MVG9KEY", "consumer_secret": "s3cr3t-value"}


def jwt_auth(private_key_pem: str) -> dict[str, Any]:
    """JWT settings with the test key."""
    return {"type": "jwt", "consumer_key": "3MVG9KEY", "username": "int@acme.example",
            "private_key": private_key_pem}


def test_production_login_host_by_default(private_key_pem: str) -> None:
    config = SalesforceConfig(auth=jwt_auth(private_key_pem))
    assert config.token_url == "https://login.salesforce.com/services/oauth2/token"
    assert config.audience == "https://login.salesforce.com"


def test_test_domain_is_a_sandbox_login(private_key_pem: str) -> None:
    config = SalesforceConfig(domain="test", auth=jwt_auth(private_key_pem))
    assert config.token_url == "https://test.salesforce.com/services/oauth2/token"
    assert config.audience == "https://test.salesforce.com"


def test_my_domain_name_becomes_its_host() -> None:
    config = SalesforceConfig(my_domain="acme", auth=CC)
    assert config.token_url == "https://acme.my.salesforce.com/services/oauth2/token"


def test_sandbox_my_domain_uses_the_sandbox_audience(private_key_pem: str) -> None:
    config = SalesforceConfig(my_domain="acme--uat.sandbox.my.salesforce.com",
                              auth=jwt_auth(private_key_pem))
    assert config.audience == "https://test.salesforce.com"


def test_client_credentials_without_my_domain_is_refused() -> None:
    with pytest.raises(ValidationError, match="set my_domain"):
        SalesforceConfig(auth=CC)


def test_instance_url_must_be_https() -> None:
    with pytest.raises(ValidationError, match="instance_url"):
        SalesforceConfig(instance_url="http://acme.my.salesforce.com", auth=CC)


def test_malformed_private_key_is_named_and_not_echoed() -> None:
    bad = {**jwt_auth("-----BEGIN PRIVATE KEY-----\nnot-really\n"), "type": "jwt"}
    with pytest.raises(ValidationError) as caught:
        SalesforceConfig(auth=bad)
    assert "auth.jwt.private_key" in str(caught.value) and "PEM" in str(caught.value)
    assert "not-really" not in str(caught.value)


def test_private_key_on_one_line_with_escaped_newlines_is_accepted(private_key_pem: str) -> None:
    one_line = private_key_pem.strip().replace("\n", "\\n")
    config = SalesforceConfig(auth=jwt_auth(one_line))
    assert config.auth.private_key.get_secret_value() == private_key_pem  # type: ignore[union-attr]


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="sobjekt"):
        SalesforceConfig.model_validate({"my_domain": "acme", "auth": CC, "sobjekt": "Task"})


def test_sobject_must_be_an_api_name() -> None:
    with pytest.raises(ValidationError, match="not a Salesforce API name"):
        SalesforceConfig(my_domain="acme", auth=CC, sobject="Task; DROP")


def test_secrets_stay_out_of_repr(private_key_pem: str) -> None:
    config = SalesforceConfig(my_domain="acme", auth=CC)
    jwt_config = SalesforceConfig(auth=jwt_auth(private_key_pem))
    assert "s3cr3t-value" not in repr(config)
    assert "PRIVATE KEY" not in repr(jwt_config)


def test_jwt_assertion_carries_the_bearer_claims(private_key_pem: str) -> None:
    form = token_request(SalesforceConfig(auth=jwt_auth(private_key_pem)))
    claims = jwt.decode(form["assertion"], options={"verify_signature": False})
    assert form["grant_type"] == JWT_BEARER
    assert (claims["iss"], claims["sub"], claims["aud"]) == (
        "3MVG9KEY", "int@acme.example", "https://login.salesforce.com")


def test_entry_point_registers_the_salesforce_kind() -> None:
    [point] = [p for p in entry_points(group="recado") if p.name == "salesforce"]
    registered: list[tuple[str, Any, Any]] = []
    point.load().register_sinks(lambda *args: registered.append(args))
    assert registered == [("salesforce", SalesforceSink, SalesforceConfig)]
