"""The address guard: which addresses webhooks may reach, checked where the hub connects."""

from __future__ import annotations

import ipaddress
import socket

import httpcore
import pytest
from recado_webhook.guard import AddressRefused, GuardedBackend, address_kind
from recado_webhook.testing import WebhookReceiver


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        ("192.0.2.10", "private"),
    ],
)
def test_non_public_address_is_named_by_its_kind(address: str, kind: str) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_address_is_allowed(address: str) -> None:
    assert address_kind(ipaddress.ip_address(address)) is None


def _resolves_to_loopback(name: str) -> bool:
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


async def test_backend_refuses_a_name_before_connecting() -> None:
    if not _resolves_to_loopback("localhost"):
        pytest.skip("localhost does not resolve to a loopback address here")
    with WebhookReceiver() as receiver:
        async with httpcore.AsyncConnectionPool(network_backend=GuardedBackend()) as pool:
            with pytest.raises(AddressRefused, match=r"localhost \(resolves to 127\.0\.0\.1\)"):
                await pool.request("POST", f"http://localhost:{receiver.port}/hooks", content=b"{}")
        assert receiver.received == []


async def test_backend_connects_to_the_checked_address_and_keeps_the_host_name() -> None:
    if not _resolves_to_loopback("localhost"):
        pytest.skip("localhost does not resolve to a loopback address here")
    checked: list[str] = []

    def allow_and_note(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
        checked.append(str(address))
        return None

    with WebhookReceiver() as receiver:
        backend = GuardedBackend(policy=allow_and_note)
        async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
            response = await pool.request("POST", f"http://localhost:{receiver.port}/hooks", content=b"{}")
        assert receiver.received[0].headers["host"] == f"localhost:{receiver.port}"
    assert response.status == 200
    assert checked and all(ipaddress.ip_address(a).is_loopback for a in checked)


async def test_backend_never_uses_a_unix_socket() -> None:
    with pytest.raises(AddressRefused, match="Unix socket"):
        await GuardedBackend().connect_unix_socket("/run/app.sock")
