"""One owner per port: a second instance on a port that is taken fails at start-up.

Workers of one instance share their port with SO_REUSEPORT, and the kernel would just as
happily let a second instance (same user) join the group and take half the connections. So
before anything binds, the instance:

1. takes the port's lock, an abstract Unix socket named ``regimenguard-port-<port>`` (Linux; it
   belongs to the network namespace, like the port, and disappears with the last process that
   holds it, however it dies: no stale lock file). Forked workers inherit it, so an orphaned
   worker still counts as the owner;
2. binds the address itself, without SO_REUSEPORT, and lets it go: a port that any other
   program listens on fails here with EADDRINUSE.

Either failure is ``PortInUse`` with the one line "port 50051 is already in use".
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys

LOCK_PREFIX = "regimenguard-port-"


class PortInUse(OSError):
    """Another instance or program owns the port."""

    def __init__(self, port: int, detail: str = "") -> None:
        super().__init__(f"port {port} is already in use" + (f" ({detail})" if detail else ""))
        self.port = port


class PortLock:
    """Holds the port's lock until ``release()`` (or until every process holding it exits)."""

    def __init__(self, port: int, lock: socket.socket | None) -> None:
        self.port = port
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def claim_port(host: str, port: int) -> PortLock:
    """The port's lock, after checking that nothing listens on ``host:port``; PortInUse if
    another instance holds the lock or any program listens there. Port 0 claims nothing."""
    if port == 0:
        return PortLock(port, None)
    lock = _take_lock(port)
    try:
        probe_port(host, port)
    except PortInUse:
        if lock is not None:
            lock.close()
        raise
    return PortLock(port, lock)


def _take_lock(port: int) -> socket.socket | None:
    if not sys.platform.startswith("linux"):
        return None  # abstract sockets are Linux's; elsewhere the bind probe alone
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind(f"\0{LOCK_PREFIX}{port}")
    except OSError as error:
        lock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(port, "another RegimenGuard instance serves it") from None
        return None
    lock.set_inheritable(True)
    return lock


def bind_addresses(host: str, port: int) -> list[tuple[int, tuple]]:  # type: ignore[type-arg]
    """(family, sockaddr) of every address gRPC binds for ``host`` (``[::]``, ``localhost``,
    ``127.0.0.1``, ...)."""
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        infos = socket.getaddrinfo(
            name or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return []  # gRPC's own bind reports an address it cannot resolve
    seen: list[tuple[int, tuple]] = []  # type: ignore[type-arg]
    for family, _, _, _, address in infos:
        if (family, address) not in seen:
            seen.append((family, address))
    return seen


def probe_port(host: str, port: int) -> None:
    """PortInUse if any socket listens on ``host:port`` (checked by binding it, briefly)."""
    for family, address in bind_addresses(host, port):
        probe = socket.socket(family, socket.SOCK_STREAM)
        try:
            # SO_REUSEADDR as gRPC sets it: connections in TIME_WAIT from an earlier instance
            # do not count; a listening socket does. No SO_REUSEPORT: nobody may share.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                with contextlib.suppress(OSError):
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(port) from None
            # EADDRNOTAVAIL (no IPv6 here, say): gRPC's own bind decides.
        finally:
            probe.close()
