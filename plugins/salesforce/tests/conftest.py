"""A fake Salesforce org over real HTTPS (trustme certificates) and sinks pointed at it."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from recado_salesforce import ClientCredentialsAuth, JwtAuth, SalesforceConfig, SalesforceSink
from recado_salesforce.testing import FakeOrg

CONSUMER_KEY = "3MVG9FAKECONSUMERKEY"
USERNAME = "integration@acme.example"
CONSUMER_SECRET = "F4K3-consumer-secret-7d1e0c"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority for the fake org's certificate."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The CA certificate as a PEM file, as `ca_bundle` takes it."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    """The connected app's RSA key (the certificate's public half is at the fake org)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="session")
def fake_org(ca: trustme.CA, private_key_pem: str) -> Iterator[FakeOrg]:
    """One fake org for the session, on 127.0.0.1 over TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    public = serialization.load_pem_private_key(private_key_pem.encode(), None).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    with FakeOrg(context, consumer_key=CONSUMER_KEY, username=USERNAME, public_key=pem,
                 consumer_secret=CONSUMER_SECRET) as org:
        yield org


@pytest.fixture
def org(fake_org: FakeOrg) -> FakeOrg:
    """The fake org, emptied for this test."""
    fake_org.reset()
    return fake_org


@pytest.fixture
def make_config(org: FakeOrg, ca_file: str, private_key_pem: str) -> Callable[..., SalesforceConfig]:
    """Settings for the fake org with the JWT flow; keyword arguments override them."""

    def build(**overrides: Any) -> SalesforceConfig:
        settings: dict[str, Any] = {
            "instance_url": org.base_url,
            "auth": JwtAuth(consumer_key=CONSUMER_KEY, username=USERNAME,
                            private_key=private_key_pem),
            "ca_bundle": ca_file,
        }
        settings.update(overrides)
        return SalesforceConfig(**settings)

    return build


@pytest.fixture
def client_credentials() -> ClientCredentialsAuth:
    """Client credentials of the fake org's connected app."""
    return ClientCredentialsAuth(consumer_key=CONSUMER_KEY, consumer_secret=CONSUMER_SECRET)


@pytest_asyncio.fixture
async def make_sink(
    make_config: Callable[..., SalesforceConfig],
) -> AsyncIterator[Callable[..., SalesforceSink]]:
    """Build sinks on the fake org (closed at the end of the test)."""
    built: list[SalesforceSink] = []

    def build(**overrides: Any) -> SalesforceSink:
        sink = SalesforceSink(make_config(**overrides))
        built.append(sink)
        return sink

    yield build
    for sink in built:
        await sink.aclose()

