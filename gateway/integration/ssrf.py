"""Where the gateway may send webhooks: no server-side request forgery.

A subscriber's URL must be http(s), name no credentials, and every address its host
resolves to must be a public one: never link-local or a cloud metadata address, never
the gateway itself or a service behind it; loopback and private ranges only where the
deployment allows them (``GATEWAY_WEBHOOK_ALLOW_LOOPBACK`` / ``_ALLOW_PRIVATE``). The
check runs when a subscription is registered and again on every new connection
(:class:`GuardedResolver`), so a name that later resolves elsewhere (DNS rebinding) is
still refused.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressKind = Literal["public", "loopback", "private", "link_local", "metadata", "reserved"]

# Cloud instance-metadata endpoints (AWS, GCP, Azure, OpenStack; AWS IPv6; ECS; Alibaba).
METADATA_ADDRESSES: frozenset[IP] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
RESOLVE_TIMEOUT_S = 5.0

MESSAGES: dict[str, dict[str, str]] = {
    "webhook_url_scheme": {
        "en": "The webhook URL must start with http:// or https://.",
        "id": "URL webhook harus diawali http:// atau https://.",
    },
    "webhook_url_credentials": {
        "en": "The webhook URL must not contain a user name or password.",
        "id": "URL webhook tidak boleh memuat nama pengguna atau kata sandi.",
    },
    "webhook_url_host": {
        "en": "The webhook URL has no valid host or port.",
        "id": "URL webhook tidak memiliki host atau port yang valid.",
    },
    "webhook_host_unresolvable": {
        "en": "The webhook host name does not resolve.",
        "id": "Nama host webhook tidak dapat di-resolve.",
    },
    "webhook_url_internal": {
        "en": "The webhook URL points at this gateway or a service behind it.",
        "id": "URL webhook menunjuk ke gateway ini atau layanan di belakangnya.",
    },
    "webhook_address_forbidden": {
        "en": "The webhook host resolves to an address webhooks may not be sent to",
        "id": "Host webhook mengarah ke alamat yang tidak boleh dikirimi webhook",
    },
}


class TargetRefused(Exception):
    """A webhook target the gateway will not call; ``code`` names the rule."""

    def __init__(self, code: str, kind: AddressKind | None = None, address: str = "") -> None:
        self.code = code
        self.kind = kind
        self.address = address
        super().__init__(f"{code}: {kind or ''} {address}".strip())

    def message(self) -> dict[str, str]:
        base = MESSAGES[self.code]
        if self.kind is None:
            return base
        return {
            "en": f"{base['en']} ({self.kind}: {self.address}).",
            "id": f"{base['id']} ({self.kind}: {self.address}).",
        }


@dataclass(frozen=True)
class AddressPolicy:
    allow_loopback: bool = False
    allow_private: bool = False
    # (address, port) pairs of the gateway and the services: never a webhook target.
    internal: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def allows(self, kind: AddressKind) -> bool:
        return (
            kind == "public"
            or (kind == "loopback" and self.allow_loopback)
            or (kind == "private" and self.allow_private)
        )


def _unwrap(ip: IP) -> IP:
    """The IPv4 address hidden in an IPv4-mapped, NAT64 or 6to4 IPv6 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def address_kind(address: str | IP) -> AddressKind:
    ip = _unwrap(ipaddress.ip_address(address) if isinstance(address, str) else address)
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_link_local:
        return "link_local"
    if ip.is_loopback:  # before reserved: ::1 lies in the reserved ::/8
        return "loopback"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved or ip in _THIS_NETWORK:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "private"
    return "public"


@dataclass(frozen=True)
class Target:
    host: str
    port: int


def parse_target(url: str) -> Target:
    """Shape checks that need no network: scheme, credentials, host and port."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("webhook_url_scheme")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("webhook_url_credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("webhook_url_host") from exc
    if not parts.hostname:
        raise TargetRefused("webhook_url_host")
    return Target(parts.hostname.rstrip(".").lower(), port)


def check_addresses(addresses: Iterable[str], port: int, policy: AddressPolicy) -> None:
    """Every address must be allowed: one bad answer among good ones still refuses."""
    for address in addresses:
        kind = address_kind(address)
        if not policy.allows(kind):
            raise TargetRefused("webhook_address_forbidden", kind, address)
        if (str(_unwrap(ipaddress.ip_address(address))), port) in policy.internal:
            raise TargetRefused("webhook_url_internal")


async def resolve(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
        )
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise TargetRefused("webhook_host_unresolvable") from exc
    addresses = sorted({str(info[4][0]).split("%")[0] for info in infos})
    if not addresses:
        raise TargetRefused("webhook_host_unresolvable")
    return addresses


async def check_url(url: str, policy: AddressPolicy) -> Target:
    """All checks, resolving the host now; raises :class:`TargetRefused`."""
    target = parse_target(url)
    check_addresses(await resolve(target.host, target.port), target.port, policy)
    return target


async def internal_endpoints(urls: Iterable[str]) -> frozenset[tuple[str, int]]:
    """The (address, port) pairs the gateway and the services answer on."""
    found: set[tuple[str, int]] = set()
    for url in urls:
        try:
            target = parse_target(url)
            found.update(
                (str(_unwrap(ipaddress.ip_address(a))), target.port)
                for a in await resolve(target.host, target.port)
            )
        except TargetRefused:
            continue  # a service URL that does not resolve cannot be reached by webhooks either
    return frozenset(found)


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that applies the policy to every address before connecting.

    aiohttp skips the resolver for IP literals, so the sender also checks literal
    hosts itself (:func:`check_literal`).
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        check_addresses([r["host"] for r in results], port, self.policy)
        return results

    async def close(self) -> None:
        await self._inner.close()


def check_literal(target: Target, policy: AddressPolicy) -> None:
    """For IP-literal hosts, the checks the resolver would have made."""
    try:
        ipaddress.ip_address(target.host)
    except ValueError:
        return
    check_addresses([target.host], target.port, policy)
