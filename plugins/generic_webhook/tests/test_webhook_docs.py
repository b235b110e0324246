"""The examples of docs/webhooks.md work against what the sink really sends."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from recado_webhook.config import WebhookConfig
from recado_webhook.signing import new_secret
from recado_webhook.sink import WebhookSink
from recado_webhook.testing import WebhookReceiver

from hub.core.models import Delivered
from hub.core.secrets import resolve_references
from hub.testing import make_batch, make_delivery

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


def _blocks(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def _python_example(defines: str) -> dict[str, Any]:
    """Run the documentation's Python block that defines `defines`; return its names."""
    [code] = [block for block in _blocks("python") if f" {defines}" in block]
    namespace: dict[str, Any] = {"__name__": "webhooks_doc_example"}
    exec(compile(code, str(DOC), "exec"), namespace)
    return namespace


@pytest.fixture
def doc_receiver(monkeypatch: pytest.MonkeyPatch, secret: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The documented standardwebhooks receiver, served on 127.0.0.1."""
    monkeypatch.setenv("ACME_HOOK_SECRET", secret)
    example = _python_example("RecadoHandler")
    server = HTTPServer(("127.0.0.1", 0), example["RecadoHandler"])
    server.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/recado", example
    server.shutdown()
    server.server_close()


async def test_documented_receiver_stores_each_record_once(
    allow_private: None, doc_receiver: tuple[str, dict[str, Any]], secret: str
) -> None:
    url, example = doc_receiver
    sink = WebhookSink(WebhookConfig(url=url, secret=secret))
    delivery = make_delivery(mapped={})
    try:
        first = await sink.deliver([delivery])
        again = await sink.deliver([delivery])
    finally:
        await sink.aclose()
    assert first == again == [Delivered(remote_id=delivery.idempotency_key, detail="HTTP 200")]
    assert [data["record_id"] for data in example["stored"]] == [delivery.idempotency_key]


async def test_documented_receiver_refuses_another_secret(
    allow_private: None, doc_receiver: tuple[str, dict[str, Any]]
) -> None:
    url, example = doc_receiver
    sink = WebhookSink(WebhookConfig(url=url, secret=new_secret()))
    try:
        health = await sink.check()
    finally:
        await sink.aclose()
    assert not health.ok and "HTTP 401" in health.detail
    assert example["stored"] == []


async def test_documented_hmac_function_verifies_single_and_rotated_signatures(
    allow_private: None, secret: str
) -> None:
    verify_webhook = _python_example("verify_webhook")["verify_webhook"]
    old = new_secret()
    with WebhookReceiver([secret]) as receiver:
        sink = WebhookSink(WebhookConfig(url=receiver.url, secret=secret, secrets=[old]))
        try:
            await sink.deliver(make_batch(1))
        finally:
            await sink.aclose()
    [received] = receiver.received
    assert verify_webhook(secret, dict(received.headers), received.body)
    assert verify_webhook(old, dict(received.headers), received.body)
    assert not verify_webhook(new_secret(), dict(received.headers), received.body)
    assert not verify_webhook(secret, dict(received.headers), received.body + b" ")


def test_documented_destinations_validate_once_secrets_are_resolved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("ACME_HOOK_SECRET", "ACME_HOOK_SECRET_NEW"):
        monkeypatch.setenv(name, new_secret())
    documents = [yaml.safe_load(block) for block in _blocks("yaml")]
    settings = [doc["destinations"][0]["settings"] for doc in documents if "destinations" in doc]
    settings += [doc["settings"] for doc in documents if "settings" in doc]
    assert len(settings) == 2
    for each in settings:
        resolved, secret_paths = resolve_references(each, base_dir=tmp_path)
        assert secret_paths
        WebhookConfig.model_validate(resolved)
