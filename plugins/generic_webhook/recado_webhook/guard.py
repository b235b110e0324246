"""The guard against server-side request forgery: webhooks go to public addresses only.

A destination URL is written by a client or an operator; without a guard it
could make the hub POST into the operator's own network (a database admin page,
a cloud metadata service). The guard refuses loopback, private, link-local,
reserved and other non-global addresses twice:

- when a destination is validated, for hosts written as addresses or as
  ``localhost`` (no DNS look-up at that point);
- when the hub connects, on every address the host name resolves to. The
  connection goes to the address that was checked, so a name that resolves to
  a public address for the check and a private one for the connection (DNS
  rebinding) gets nowhere. TLS still verifies the certificate against the
  host name.

``RECADO_WEBHOOK_ALLOW_PRIVATE=true`` lifts the guard (tests, the demo, a
receiver on the operator's own network).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Iterable

import anyio
import httpcore
import httpx

ALLOW_PRIVATE_VARIABLE = "RECADO_WEBHOOK_ALLOW_PRIVATE"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def private_allowed() -> bool:
    """Whether the operator allows webhooks to non-public addresses (read at each call)."""
    value = os.environ.get(ALLOW_PRIVATE_VARIABLE, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{ALLOW_PRIVATE_VARIABLE} must be true or false, not {value!r}")


class AddressRefused(Exception):
    """The destination host is, or resolves to, an address webhooks may not reach."""


def address_kind(address: IPAddress) -> str | None:
    """Why `address` is off limits ("loopback", "private", …), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 reaches 127.0.0.1: judge the IPv4 address inside.
        address = address.ipv4_mapped
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        # Shared address space (100.64.0.0/10), documentation ranges and the like.
        ("non-public", not address.is_global),
    )
    for kind, applies in checks:
        if applies:
            return kind
    return None


def refusal(host: str, address: IPAddress, kind: str) -> str:
    """The message that explains why `host` (at `address`) is refused and how to allow it."""
    where = host if host == str(address) else f"{host} (resolves to {address})"
    return (
        f"webhook URL host {where} is a {kind} address; webhooks to loopback, private,"
        f" link-local or reserved addresses are refused unless {ALLOW_PRIVATE_VARIABLE}=true"
    )


def check_host_literal(host: str) -> None:
    """Refuse `host` when it is written as a non-public address or as ``localhost``.

    Host names other than ``localhost`` are checked when the hub connects,
    once they are resolved.
    """
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        raise AddressRefused(refusal(host, ipaddress.ip_address("127.0.0.1"), "loopback"))
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return
    kind = address_kind(address)
    if kind is not None:
        raise AddressRefused(refusal(host, address, kind))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that resolves host names itself and connects to public addresses only."""

    def __init__(self, policy: Callable[[IPAddress], str | None] = address_kind) -> None:
        # `policy` says why an address is refused (None: allowed); the default is
        # `address_kind`, another one serves a stricter or looser operator rule.
        self._policy = policy
        self._backend = httpcore.AnyIOBackend()

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"looking up {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"could not look up {host}: {exc}") from None
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve `host`, refuse it if any address is not public, connect to a checked one."""
        addresses = await self._resolve(host, port, timeout)
        # One non-public address is enough to refuse: which one the connection
        # would use is not ours to predict.
        for address in addresses:
            kind = self._policy(address)
            if kind is not None:
                raise AddressRefused(refusal(host, address, kind))
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        if last_error is not None:
            raise last_error
        raise httpcore.ConnectError(f"{host} resolves to no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are local by nature: webhooks never use them."""
        raise AddressRefused("webhooks are never delivered over a Unix socket")

    async def sleep(self, seconds: float) -> None:
        """Sleep as the underlying backend does."""
        await self._backend.sleep(seconds)


def webhook_transport(*, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None) -> httpx.AsyncHTTPTransport:
    """httpx's transport for webhooks: TLS verified, no proxy from the environment, guarded.

    A proxy would be the only peer the hub connects to, so the guard could not
    see the receiver's address: webhooks therefore connect directly. The guard
    is left out when the operator allows private addresses.
    """
    context = ssl_context if ssl_context is not None else httpx.create_ssl_context(trust_env=False)
    transport = httpx.AsyncHTTPTransport(verify=context, trust_env=False, limits=limits)
    if not private_allowed():
        # httpx has no public way to hand its connection pool a network backend,
        # so build the pool it would build, with the guarded backend in it.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(),
        )
    return transport
