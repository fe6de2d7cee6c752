"""Addresses of BACnet devices in the catalogue.

A device on a BACnet/IP subnet is reached at ``ip[:port]``. A device behind a BACnet router
(an MS/TP trunk, or another BACnet network) is reached through the router with a network
number (DNET) and its MAC on that network (DADR); BACnet tools write that ``network:mac``,
which is the form :func:`station` returns.
"""

from __future__ import annotations

import ipaddress
import re

IP_PORT_PATTERN = r"^\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$"
BACNET_IP_PORT = 47808
# 255 is the MS/TP (and ARCNET) broadcast MAC, never a station's
ONE_BYTE_MAC_MAX = 254
# MAC lengths in use: 1 (MS/TP, ARCNET), 2 and 7 (LonTalk), 3 (BACnet/IPv6 VMAC), 6 (Ethernet)
_HEX_MAC = re.compile(r"^0x(?:[0-9a-f]{2}){1,7}$")
_IP_MAC = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$")
_ROUTED_ADDRESS = re.compile(r"^\d+:\S+$")

MAC_FORMS = (
    f"0..{ONE_BYTE_MAC_MAX} (MS/TP), a quoted hex string '0x0a0b…' (1-7 bytes), "
    "or ip:port (BACnet/IP behind a router)"
)


def normalise_mac(value: object) -> str:
    """The MAC of a routed device in BACnet notation, or ValueError naming the forms taken."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"mac must be {MAC_FORMS} (got {value!r})")
    text = str(value).strip().lower()
    if text.isdigit():
        number = int(text)
        if number > ONE_BYTE_MAC_MAX:
            raise ValueError(
                f"mac {number} is not a one-byte MAC (0..{ONE_BYTE_MAC_MAX}); write longer "
                "MACs as a quoted hex string '0x…' or as ip:port"
            )
        return str(number)
    if _HEX_MAC.match(text):
        return text
    match = _IP_MAC.match(text)
    if match:
        host, port = match.group(1), int(match.group(2) or BACNET_IP_PORT)
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"mac {value!r}: {host} is not an IPv4 address") from None
        if not 1 <= port <= 65535:
            raise ValueError(f"mac {value!r}: port {port} is not 1..65535")
        return f"{host}:{port}"
    raise ValueError(f"mac must be {MAC_FORMS} (got {value!r})")


def check_ip_address(value: object) -> object:
    """Explain the two likely mistakes in ``address`` before its pattern rejects them."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 5:12 as the base-60 number 312
        raise ValueError(
            f"address must be a string ip[:port], got the number {value}; a routed device "
            "takes the router's ip:port here and its network and mac in their own keys"
        )
    if isinstance(value, str) and _ROUTED_ADDRESS.match(value) and not _IP_MAC.match(value):
        raise ValueError(
            f"address {value!r} looks like network:mac; a routed device takes the router's "
            "ip:port as address and network and mac in their own keys"
        )
    return value


def station(address: str, network: int | None, mac: str | None) -> str:
    """Where a device's requests go: ``ip:port``, or ``network:mac`` behind a router."""
    if network is None or mac is None:
        return address
    return f"{network}:{mac}"
