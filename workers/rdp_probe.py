"""Readiness probe for Remote Desktop: TCP connect, then the X.224 connection handshake.

An open port is not enough (a half-booted Windows accepts TCP before the RDP service is up),
so we send an X.224 Connection Request with an RDP negotiation request and expect a
Connection Confirm back (ITU-T X.224 over TPKT, as [MS-RDPBCGR] 2.2.1.1 and 2.2.1.2).
"""

from __future__ import annotations

import socket
import struct

TPKT_VERSION = 3
X224_CONNECTION_REQUEST = 0xE0
X224_CONNECTION_CONFIRM = 0xD0
RDP_NEG_REQ = 0x01
PROTOCOL_SSL_HYBRID = 0x00000003  # TLS | CredSSP, what a modern client asks for


def connection_request() -> bytes:
    """TPKT + X.224 CR TPDU + RDP_NEG_REQ."""
    negotiation = struct.pack("<BBHI", RDP_NEG_REQ, 0, 8, PROTOCOL_SSL_HYBRID)
    # length indicator, CR code, DST-REF, SRC-REF, class option
    x224 = struct.pack("!BBHHB", 6 + len(negotiation), X224_CONNECTION_REQUEST, 0, 0, 0)
    payload = x224 + negotiation
    return struct.pack("!BBH", TPKT_VERSION, 0, 4 + len(payload)) + payload


def is_connection_confirm(data: bytes) -> bool:
    if len(data) < 11 or data[0] != TPKT_VERSION:
        return False
    (length,) = struct.unpack("!H", data[2:4])
    return length <= len(data) and data[5] & 0xF0 == X224_CONNECTION_CONFIRM


def probe(host: str, port: int = 3389, timeout: float = 3.0) -> bool:
    """True when an RDP server answers the first handshake step at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(connection_request())
            return is_connection_confirm(sock.recv(64))
    except OSError:
        return False
