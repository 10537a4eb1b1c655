"""A loopback HTTP/1.1 proxy that loses answers: the network fault a retry must survive.

:class:`DroppingProxy` forwards every request to the API unchanged and relays its answer,
except for requests matched by :meth:`DroppingProxy.drop`: those reach the API, which does the
work and answers in full, and then the proxy closes the client's connection instead of
relaying the answer. The client sees a connection closed without a response (httpx:
``RemoteProtocolError``), exactly as when a network drops an answer in flight.

Only what the API and httpx speak is understood: bodies with ``Content-Length``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from typing import Self

from tests.servers import free_port

_TIMEOUT_S = 30.0


@dataclass
class Exchange:
    """One request that went through the proxy, and what became of its answer."""

    method: str
    path: str
    headers: dict[str, str]
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    dropped: bool = False


class DroppingProxy:
    """See the module docstring. ``exchanges`` records every request, in order."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.exchanges: list[Exchange] = []
        self._drops: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def drop(self, method: str, path_suffix: str) -> None:
        """Lose the answer of the next request of ``method`` whose path ends so (once)."""
        with self._lock:
            self._drops.append((method, path_suffix))

    def matching(self, method: str, path_suffix: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges
                    if e.method == method and e.path.split("?")[0].endswith(path_suffix)]

    def __enter__(self) -> Self:
        accept = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _take_drop(self, method: str, path: str) -> bool:
        with self._lock:
            for rule in self._drops:
                if rule[0] == method and path.split("?")[0].endswith(rule[1]):
                    self._drops.remove(rule)
                    return True
        return False

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(_TIMEOUT_S)
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), _TIMEOUT_S)
        with self._lock:
            self._sockets += [client, upstream]
        try:
            while not self._stopping.is_set():
                request = _read_message(client)
                if request is None:
                    return
                head, body = request
                request_line, headers = _parse_head(head)
                method, path, _ = request_line.split(" ", 2)
                exchange = Exchange(method, path, headers)
                with self._lock:
                    self.exchanges.append(exchange)
                upstream.sendall(head + body)
                response = _read_message(upstream)
                if response is None:
                    return
                status_line, exchange.response_headers = _parse_head(response[0])
                exchange.status = int(status_line.split(" ")[1])
                if self._take_drop(method, path):
                    exchange.dropped = True
                    return  # the API answered; the client never hears it
                client.sendall(response[0] + response[1])
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()
            upstream.close()


def _read_message(sock: socket.socket) -> tuple[bytes, bytes] | None:
    """One HTTP message (head with its blank line, body); ``None`` when the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    _, headers = _parse_head(head + b"\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", ""):
        raise NotImplementedError("the proxy relays Content-Length bodies only")
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head + b"\r\n\r\n", rest[:length]


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers
