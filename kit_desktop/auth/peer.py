"""Which local account is on the other end of a loopback connection (stdlib only, no Qt).

Every account on this computer can connect to 127.0.0.1, so another account can deliver an
authorization code to the loopback receiver (SECURITY-CATALOGUE.md section G). The kernel
knows which account created the client's socket: on Linux each row of ``/proc/net/tcp`` and
``/proc/net/tcp6`` carries the uid of its socket's owner. :func:`peer_uid` finds the row of
the client's end of an accepted connection, and :func:`judge_peer` compares it with ours.

``/proc/net/tcp{,6}`` print addresses as the kernel holds them: each 32-bit word of the
address (one for IPv4, four for IPv6) as ``%08X`` of its network-order bytes read as a host
integer (so 127.0.0.1 is ``0100007F`` on little-endian machines), and the port as a plain
``%04X`` (8080 is ``1F90``). A row looks like::

    sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
     3: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 81723

Windows and macOS are not covered yet: :func:`peer_uid` answers None there (see
:func:`_windows_peer_owner` and :func:`_macos_peer_uid` for what they would need), and
:func:`judge_peer` answers :attr:`PeerVerdict.UNKNOWN`. On Linux a client the kernel has no
live socket for (it closed its end already) is :attr:`PeerVerdict.UNIDENTIFIED`.
"""

from __future__ import annotations

import enum
import ipaddress
import os
import sys
from collections.abc import Callable, Iterable
from typing import Literal

__all__ = [
    "Address",
    "PeerVerdict",
    "judge_peer",
    "parse_proc_net_address",
    "peer_uid",
    "proc_net_address",
    "uid_in_proc_net",
]

#: A socket address as ``getsockname``/``getpeername`` give it: ``(host, port)`` for
#: ``AF_INET``, ``(host, port, flowinfo, scope_id)`` for ``AF_INET6``.
Address = tuple[str, int] | tuple[str, int, int, int]
ByteOrder = Literal["little", "big"]

PROC_NET_TCP = "/proc/net/tcp"
PROC_NET_TCP6 = "/proc/net/tcp6"

#: Bytes asked of procfs per read: the kernel formats about this much per system call.
_READ_SIZE = 1 << 17
#: Columns of a ``/proc/net/tcp{,6}`` row (after ``split()``).
_LOCAL, _REMOTE, _STATE, _UID, _INODE = 1, 2, 3, 7, 9
#: ``st`` of a TIME_WAIT row: a socket already closed, printed with uid 0 and inode 0.
_TIME_WAIT = b"06"


class PeerVerdict(enum.Enum):
    """Whose socket is on the other end of a connection."""

    #: The client's socket belongs to this account.
    SAME_ACCOUNT = "same account"
    #: The client's socket belongs to another account on this computer.
    OTHER_ACCOUNT = "other account"
    #: The kernel was asked and has no live socket for the client: it closed its end
    #: already (a real browser waits for the answer), or it is not this computer's to see.
    UNIDENTIFIED = "unidentified"
    #: Not known: ``/proc`` is unreadable, or the platform is not covered.
    UNKNOWN = "unknown"


def proc_net_address(host: str, port: int, *, byteorder: ByteOrder = sys.byteorder) -> str:
    """Return ``host:port`` written as ``/proc/net/tcp{,6}`` write it.

    Args:
        host: An IPv4 or IPv6 literal (an IPv6 ``%scope`` suffix is ignored).
        port: The TCP port.
        byteorder: The byte order of the machine whose ``/proc`` is meant; this one's by
            default.

    Returns:
        For example ``0100007F:1F90`` for 127.0.0.1:8080 on a little-endian machine.

    Raises:
        ValueError: ``host`` is not an IP literal or ``port`` is not 0-65535.
    """
    if not 0 <= port <= 0xFFFF:
        raise ValueError(f"{port} is not a TCP port.")
    packed = ipaddress.ip_address(host.partition("%")[0]).packed
    words = "".join(
        f"{int.from_bytes(packed[i : i + 4], byteorder):08X}" for i in range(0, len(packed), 4)
    )
    return f"{words}:{port:04X}"


def parse_proc_net_address(field: str, *, byteorder: ByteOrder = sys.byteorder) -> tuple[str, int]:
    """Return ``(host, port)`` from an address column of ``/proc/net/tcp{,6}``.

    Args:
        field: For example ``0100007F:1F90`` or ``0000000000000000FFFF00000100007F:1F90``.
        byteorder: The byte order of the machine that printed ``field``; this one's by default.

    Returns:
        The address in its usual text form (``::ffff:127.0.0.1`` for an IPv4-mapped one) and
        the port.

    Raises:
        ValueError: ``field`` is not an address column.
    """
    host_hex, sep, port_hex = field.partition(":")
    if not sep or len(host_hex) not in (8, 32) or len(port_hex) != 4:
        raise ValueError(f"{field!r} is not a /proc/net/tcp address.")
    packed = b"".join(
        int(host_hex[i : i + 8], 16).to_bytes(4, byteorder) for i in range(0, len(host_hex), 8)
    )
    address = ipaddress.ip_address(packed)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}", int(port_hex, 16)
    return str(address), int(port_hex, 16)


def uid_in_proc_net(lines: Iterable[bytes], local_address: str, rem_address: str) -> int | None:
    """Return the uid of the first live row of ``lines`` with these two address columns.

    Args:
        lines: Rows of ``/proc/net/tcp`` or ``/proc/net/tcp6`` (the header may be included).
        local_address: The row's ``local_address`` as :func:`proc_net_address` writes it.
        rem_address: The row's ``rem_address``, likewise.

    Returns:
        The row's uid column, or None when no live row matches. Rows of closed sockets
        (TIME_WAIT, or orphaned with inode 0) are skipped: the kernel prints uid 0 for them,
        which says nothing about who opened them.
    """
    local = local_address.upper().encode("ascii")
    remote = rem_address.upper().encode("ascii")
    needle = b" " + local + b" " + remote + b" "
    for line in lines:
        if needle not in line:
            continue
        fields = line.split()
        if len(fields) <= _INODE or fields[_LOCAL] != local or fields[_REMOTE] != remote:
            continue
        if fields[_STATE] == _TIME_WAIT or fields[_INODE] == b"0":
            continue
        try:
            return int(fields[_UID])
        except ValueError:
            return None
    return None


def peer_uid(local: Address, peer: Address) -> int | None:
    """Return the uid owning the client's end of a TCP connection on this computer.

    Meant for connections a loopback server accepted: ``local`` is the accepted socket's own
    address (``getsockname()``), ``peer`` the client's (``getpeername()``), 127.0.0.1, ::1
    or ``::ffff:127.0.0.1``. Call it while the client is still connected; it reads the
    connection tables once, so call it per state-changing request, not per packet.

    Args:
        local: The server side's address.
        peer: The client side's address.

    Returns:
        The uid (as this process's user namespace sees it), or None when the client's socket
        is not found (closed, another network namespace, not on this computer), ``/proc`` is
        unreadable, an address is not an IP literal, or the platform is not Linux. Never
        raises.
    """
    lookup = _lookup_for(sys.platform)
    return None if lookup is None else lookup(local, peer)


def judge_peer(local: Address, peer: Address, *, uid: int | None = None) -> PeerVerdict:
    """Tell whether the client of a connection is this account, another one, or unknown.

    Args:
        local: The server side's address (``getsockname()`` of the accepted socket).
        peer: The client side's address (``getpeername()``).
        uid: The account to compare with; ``os.getuid()`` by default.

    Returns:
        :attr:`PeerVerdict.UNIDENTIFIED` when the lookup works here (:func:`lookup_available`)
        but finds no live socket for the client; :attr:`PeerVerdict.UNKNOWN` when it cannot
        be done, and always on Windows (accounts there are SIDs, not uids; see
        :func:`_windows_peer_owner`).
    """
    if sys.platform == "win32":
        return PeerVerdict.UNKNOWN
    owner = peer_uid(local, peer)
    if owner is None:
        return PeerVerdict.UNIDENTIFIED if lookup_available() else PeerVerdict.UNKNOWN
    mine = os.getuid() if uid is None else uid
    return PeerVerdict.SAME_ACCOUNT if owner == mine else PeerVerdict.OTHER_ACCOUNT


def lookup_available() -> bool:
    """Whether this computer can name a loopback client's account (Linux with ``/proc``)."""
    return _lookup_for(sys.platform) is _linux_peer_uid and os.access(PROC_NET_TCP, os.R_OK)


def _lookup_for(platform: str) -> Callable[[Address, Address], int | None] | None:
    """Return this platform's lookup: the hook where other systems' lookups plug in."""
    if platform.startswith("linux"):
        return _linux_peer_uid
    if platform == "darwin":
        return _macos_peer_uid
    return None  # Windows: see _windows_peer_owner; accounts there are SIDs.


def _linux_peer_uid(local: Address, peer: Address) -> int | None:
    """Find the client's row (local_address = peer, rem_address = local) in ``/proc``."""
    try:
        searches = _searches(local, peer)
    except ValueError:
        return None
    for path, row, rem in searches:
        try:
            with open(path, "rb", buffering=_READ_SIZE) as table:
                found = uid_in_proc_net(table, row, rem)
        except OSError:
            continue
        if found is not None:
            return found
    return None


def _searches(local: Address, peer: Address) -> list[tuple[str, str, str]]:
    """Return the tables to read and the client row's two addresses in each, likeliest first.

    An IPv4 connection can show up in either table: an ``AF_INET`` client is in ``tcp`` with
    plain IPv4 addresses, an ``AF_INET6`` client that connected to ``::ffff:127.0.0.1`` is
    in ``tcp6`` with IPv4-mapped ones, whichever family the server's socket has.
    """
    local_ip = _unmapped(local[0])
    peer_ip = _unmapped(peer[0])
    if local_ip.version != peer_ip.version:
        raise ValueError("Both ends of a connection share one address family.")
    if local_ip.version == 6:
        return [(PROC_NET_TCP6, *_row(str(peer_ip), peer[1], str(local_ip), local[1]))]
    return [
        (PROC_NET_TCP, *_row(str(peer_ip), peer[1], str(local_ip), local[1])),
        (PROC_NET_TCP6, *_row(f"::ffff:{peer_ip}", peer[1], f"::ffff:{local_ip}", local[1])),
    ]


def _unmapped(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(host.partition("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _row(row_host: str, row_port: int, rem_host: str, rem_port: int) -> tuple[str, str]:
    return proc_net_address(row_host, row_port), proc_net_address(rem_host, rem_port)


def _macos_peer_uid(local: Address, peer: Address) -> int | None:
    """Not implemented: macOS has no ``/proc``.

    What it would take: ``sysctlbyname("net.inet.tcp.pcblist_n")`` lists every TCP socket
    with its addresses and an ``xsocket_n`` whose ``so_uid`` is the owner, readable without
    privileges (what ``netstat`` reads). ``proc_pidinfo``/``proc_pidfdinfo``
    (``PROC_PIDFDSOCKETINFO``) would also work but only sees this account's processes, so it
    can prove "same account" but not name another one. Until then: None (unknown).
    """
    del local, peer
    return None


def _windows_peer_owner(local: Address, peer: Address) -> str | None:
    """Not implemented: where the Windows lookup would go.

    What it would take: ``GetExtendedTcpTable`` (``TCP_TABLE_OWNER_PID_CONNECTIONS``, and
    ``AF_INET6`` for ::1) gives the owning PID of the row whose local end is ``peer`` and
    remote end ``local``; ``OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION)``,
    ``OpenProcessToken`` and ``GetTokenInformation(TokenUser)`` turn it into the account's
    SID, to compare with this process's SID (not a uid). Opening another account's process
    may be refused; that proves nothing by itself, so the answer would then be None.
    """
    del local, peer
    return None
