"""Who is asking: the address rate limits and live-client caps count against.

The peer of the connection, unless that peer is a trusted proxy (``TRUSTED_PROXIES``): then the
right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy, since every proxy
appends the address it saw and only the ones we trust can be believed. On Lambda, Mangum puts
API Gateway's ``sourceIp`` in the scope's client, which a caller cannot forge. IPv6 addresses
count per /64, the block one subscriber usually holds.
"""

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: object, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def _key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address)


def peer_key(host: str, proxies: Sequence[Network]) -> str | None:
    """What a TCP peer's connections count against (its address, IPv6 per /64); None for a
    trusted proxy, whose connections carry many clients."""
    peer = _parse(host)
    if peer is None or (proxies and _trusted(peer, proxies)):
        return None
    return _key(peer)


def client_address(conn: HTTPConnection, proxies: Sequence[Network]) -> str:
    peer = _parse(conn.client.host) if conn.client and conn.client.host else None
    if peer is None:
        return "unknown"
    if proxies and _trusted(peer, proxies):
        hops = [_parse(hop) for hop in conn.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed(hops):
            if hop is None:
                break
            if not _trusted(hop, proxies):
                return _key(hop)
    return _key(peer)
