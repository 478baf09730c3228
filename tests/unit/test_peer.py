"""Who is on the other end of a loopback connection: real sockets, a real second account."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from kit_desktop.auth.peer import (
    PeerVerdict,
    judge_peer,
    parse_proc_net_address,
    peer_uid,
    proc_net_address,
    uid_in_proc_net,
)
from tests.helpers.realparts import require
from tests.helpers.second_account import (
    OTHER_UID,
    other_account_command,
    require_other_account,
    script_folder,
)

LINUX = sys.platform.startswith("linux")
on_linux = pytest.mark.skipif(not LINUX, reason="the lookup reads Linux's /proc/net/tcp")

#: Rows of /proc/net/tcp captured on a little-endian machine (uids edited): a listener on
#: 127.0.0.1:52061 and the server's end of a connection from port 38114 (uid 0), the client's
#: end (uid 1000), a TIME_WAIT row and an orphaned row of earlier connections (uid 0, inode 0).
TCP_SAMPLE = b"""\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:CB5D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 69272 1 000000002af99e6f 100 0 0 10 0
   1: 0100007F:CB5D 0100007F:94E2 01 00000000:00000000 00:00000000 00000000     0        0 69274 1 0000000001ebb958 20 4 30 10 -1
   2: 0100007F:94E2 0100007F:CB5D 01 00000000:00000000 00:00000000 00000000  1000        0 69275 1 000000003555e45c 20 4 30 10 -1
   3: 0100007F:94E3 0100007F:CB5D 06 00000000:00000000 03:000007CE 00000000     0        0 0 3 000000008fafe8d5
   4: 0100007F:94E4 0100007F:CB5D 04 00000001:00000000 01:00000014 00000000     0        0 0 2 000000003555e45c 20 0 0 10 -1
"""  # noqa: E501 - kernel rows are long

#: Rows of /proc/net/tcp6 captured the same way: a dual-stack listener on ::ffff:127.0.0.1:52907
#: and an AF_INET6 client (uid 65534) that connected from ::ffff:127.0.0.1:40558; then ::1.
TCP6_SAMPLE = b"""\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:CEAB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 90961 1 0000000004cbde09 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:CEAB 0000000000000000FFFF00000100007F:9E6E 01 00000000:00000000 00:00000000 00000000     0        0 90963 1 00000000b81dec0f 20 0 0 10 -1
   2: 0000000000000000FFFF00000100007F:9E6E 0000000000000000FFFF00000100007F:CEAB 01 00000000:00000000 00:00000000 00000000 65534        0 90962 1 00000000a1d2c3f4 20 0 0 10 -1
   3: 00000000000000000000000001000000:C40E 00000000000000000000000001000000:923D 01 00000000:00000000 00:00000000 00000000  1001        0 69280 1 00000000cde5edbe 20 0 0 10 -1
"""  # noqa: E501 - kernel rows are long

#: A client for the other account (stdlib only): connect, say from which port, hold the
#: connection until stdin closes.
CLIENT_SCRIPT = """\
import socket, sys

host, port = sys.argv[1], int(sys.argv[2])
with socket.create_connection((host, port), timeout=20) as sock:
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
"""


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@contextmanager
def _listener(host: str) -> Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if family == socket.AF_INET6:
        require(_ipv6_loopback(), "IPv6 loopback (::1)")
    with socket.socket(family, socket.SOCK_STREAM) as server:
        if host.startswith("::ffff:"):
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        server.bind((host, 0))
        server.listen(8)
        yield server


@contextmanager
def _connection(server: socket.socket, host: str) -> Iterator[tuple[socket.socket, socket.socket]]:
    """Connect a client of this process to ``server`` via ``host``; yield (client, accepted)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with ExitStack() as stack:
        client = stack.enter_context(socket.socket(family, socket.SOCK_STREAM))
        client.connect((host, server.getsockname()[1]))
        accepted = stack.enter_context(server.accept()[0])
        yield client, accepted


@contextmanager
def _other_account_client(
    tmp_path: Path, host: str, port: int
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Run the client as the other account; yield the process and its source port."""
    script = tmp_path / "peer_client.py"
    script.write_text(CLIENT_SCRIPT, encoding="utf-8")
    with script_folder(script) as folder:
        process = subprocess.Popen(
            other_account_command(folder / script.name, [host, str(port)]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=folder,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.strip():
                _, err = process.communicate(timeout=20)
                pytest.fail(f"the other account's client did not connect: {err[-2000:]}")
            yield process, int(line)
        finally:
            _, err = process.communicate(timeout=20)
            assert process.returncode == 0, err[-2000:]


# -- the /proc encoding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "little", "big"),
    [
        ("127.0.0.1", 8080, "0100007F:1F90", "7F000001:1F90"),
        ("10.1.2.3", 1, "0302010A:0001", "0A010203:0001"),
        ("::1", 65535, "00000000000000000000000001000000:FFFF", "0" * 31 + "1:FFFF"),
        (
            "::ffff:127.0.0.1",
            443,
            "0000000000000000FFFF00000100007F:01BB",
            "00000000000000000000FFFF7F000001:01BB",
        ),
        ("fe80::1%lo", 80, "000080FE000000000000000001000000:0050", None),
    ],
)
def test_addresses_are_written_as_the_kernel_writes_them(
    host: str, port: int, little: str, big: str | None
) -> None:
    assert proc_net_address(host, port, byteorder="little") == little
    assert parse_proc_net_address(little, byteorder="little") == (host.partition("%")[0], port)
    if big is not None:
        assert proc_net_address(host, port, byteorder="big") == big
        assert parse_proc_net_address(big, byteorder="big") == (host, port)


def test_this_machine_writes_127_0_0_1_in_its_own_byte_order() -> None:
    expected = "0100007F:1F90" if sys.byteorder == "little" else "7F000001:1F90"
    assert proc_net_address("127.0.0.1", 8080) == expected


@pytest.mark.parametrize("field", ["", "0100007F", "0100007F:1F9", "01007F:1F90", "0100007G:1F90"])
def test_a_malformed_column_is_refused(field: str) -> None:
    with pytest.raises(ValueError):
        parse_proc_net_address(field, byteorder="little")


@pytest.mark.parametrize(("host", "port"), [("localhost", 80), ("127.0.0.1", 65536)])
def test_a_bad_address_is_refused(host: str, port: int) -> None:
    with pytest.raises(ValueError):
        proc_net_address(host, port)


# -- finding the client's row in captured lines -------------------------------------------------


def _v4(port: int) -> str:
    return proc_net_address("127.0.0.1", port, byteorder="little")


def _v6(host: str, port: int) -> str:
    return proc_net_address(host, port, byteorder="little")


def test_the_client_row_gives_the_uid_not_the_server_row() -> None:
    lines = TCP_SAMPLE.splitlines(keepends=True)
    assert uid_in_proc_net(lines, _v4(38114), _v4(52061)) == 1000
    assert uid_in_proc_net(lines, _v4(52061), _v4(38114)) == 0  # the server's own end
    assert uid_in_proc_net(lines, _v4(38114), _v4(52062)) is None


def test_closed_sockets_tell_nothing() -> None:
    lines = TCP_SAMPLE.splitlines(keepends=True)
    assert uid_in_proc_net(lines, _v4(0x94E3), _v4(52061)) is None  # TIME_WAIT
    assert uid_in_proc_net(lines, _v4(0x94E4), _v4(52061)) is None  # orphaned FIN_WAIT1


def test_rows_are_read_one_at_a_time_and_the_first_match_wins() -> None:
    seen: list[bytes] = []

    def rows() -> Iterator[bytes]:
        for line in TCP_SAMPLE.splitlines(keepends=True):
            seen.append(line)
            yield line
        pytest.fail("read past the matching row")

    assert uid_in_proc_net(rows(), _v4(38114), _v4(52061)) == 1000
    assert len(seen) == 4


def test_ipv4_mapped_and_ipv6_rows() -> None:
    lines = TCP6_SAMPLE.splitlines(keepends=True)
    mapped = "::ffff:127.0.0.1"
    assert uid_in_proc_net(lines, _v6(mapped, 40558), _v6(mapped, 52907)) == OTHER_UID
    assert uid_in_proc_net(lines, _v6("::1", 0xC40E), _v6("::1", 0x923D)) == 1001
    assert uid_in_proc_net(lines, _v6("::1", 40558), _v6("::1", 52907)) is None
    assert parse_proc_net_address("0000000000000000FFFF00000100007F:9E6E", byteorder="little") == (
        mapped,
        40558,
    )


def test_lower_case_columns_are_matched_too() -> None:
    lines = TCP_SAMPLE.splitlines(keepends=True)
    assert uid_in_proc_net(lines, _v4(38114).lower(), _v4(52061).lower()) == 1000


# -- real sockets -------------------------------------------------------------------------------


@on_linux
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_a_client_of_this_process_is_the_same_account(host: str) -> None:
    with _listener(host) as server, _connection(server, host) as (_, accepted):
        local, peer = accepted.getsockname(), accepted.getpeername()
        assert peer_uid(local, peer) == os.getuid()
        assert judge_peer(local, peer) is PeerVerdict.SAME_ACCOUNT
        assert judge_peer(local, peer, uid=os.getuid() + 1) is PeerVerdict.OTHER_ACCOUNT


@on_linux
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_a_client_of_another_account_is_told_apart(tmp_path: Path, host: str) -> None:
    require_other_account()
    with (
        _listener(host) as server,
        _other_account_client(tmp_path, host, server.getsockname()[1]) as (_, port),
        server.accept()[0] as theirs,
        _connection(server, host) as (_, ours),
    ):
        assert theirs.getpeername()[1] == port
        local, peer = theirs.getsockname(), theirs.getpeername()
        assert peer_uid(local, peer) == OTHER_UID
        assert judge_peer(local, peer) is PeerVerdict.OTHER_ACCOUNT
        assert judge_peer(local, peer, uid=OTHER_UID) is PeerVerdict.SAME_ACCOUNT
        assert judge_peer(ours.getsockname(), ours.getpeername()) is PeerVerdict.SAME_ACCOUNT


@on_linux
@pytest.mark.parametrize("client_host", ["127.0.0.1", "::ffff:127.0.0.1"])
def test_ipv4_clients_of_a_dual_stack_listener(client_host: str) -> None:
    """The server sees ``::ffff:127.0.0.1``; the client's row is in tcp (AF_INET) or tcp6."""
    with _listener("::ffff:127.0.0.1") as server, _connection(server, client_host) as (_, ours):
        local, peer = ours.getsockname(), ours.getpeername()
        assert peer[0] == "::ffff:127.0.0.1"
        assert peer_uid(local, peer) == os.getuid()
        assert judge_peer(local, peer) is PeerVerdict.SAME_ACCOUNT
        # The same connection named with plain IPv4 addresses is found all the same.
        assert peer_uid(("127.0.0.1", local[1]), ("127.0.0.1", peer[1])) == os.getuid()


@on_linux
@pytest.mark.parametrize("client_host", ["127.0.0.1", "::ffff:127.0.0.1"])
def test_another_account_on_a_dual_stack_listener(tmp_path: Path, client_host: str) -> None:
    require_other_account()
    with (
        _listener("::ffff:127.0.0.1") as server,
        _other_account_client(tmp_path, client_host, server.getsockname()[1]) as (_, port),
        server.accept()[0] as theirs,
    ):
        assert theirs.getpeername()[:2] == ("::ffff:127.0.0.1", port)
        assert peer_uid(theirs.getsockname(), theirs.getpeername()) == OTHER_UID
        assert judge_peer(theirs.getsockname(), theirs.getpeername()) is PeerVerdict.OTHER_ACCOUNT


@on_linux
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_a_closed_client_is_unidentified(host: str) -> None:
    # A client that sends its request and closes at once has no live socket left: the
    # kernel cannot name its account, and the routes that matter refuse it (not UNKNOWN).
    with _listener(host) as server:
        with _connection(server, host) as (client, accepted):
            local, peer = accepted.getsockname(), accepted.getpeername()
            client.close()  # orphaned: FIN_WAIT, uid 0, inode 0
            assert peer_uid(local, peer) is None
            assert judge_peer(local, peer) is PeerVerdict.UNIDENTIFIED
        # both closed: the client's end lingers in TIME_WAIT, uid 0
        assert judge_peer(local, peer) is PeerVerdict.UNIDENTIFIED


@on_linux
def test_addresses_nobody_holds_are_unidentified() -> None:
    with _listener("127.0.0.1") as server:
        local = server.getsockname()
        unidentified = PeerVerdict.UNIDENTIFIED
        assert judge_peer(local, ("127.0.0.1", local[1])) is unidentified
        assert judge_peer(local, ("::1", 40000, 0, 0)) is unidentified  # mixed families
        assert judge_peer(local, ("localhost", 40000)) is unidentified  # not an IP
        assert judge_peer(local, ("127.0.0.1", 70000)) is unidentified  # not a port


@pytest.mark.skipif(LINUX, reason="other platforms only: Linux identifies peers via /proc")
def test_other_platforms_say_unknown() -> None:
    with _listener("127.0.0.1") as server, _connection(server, "127.0.0.1") as (_, accepted):
        assert judge_peer(accepted.getsockname(), accepted.getpeername()) is PeerVerdict.UNKNOWN
