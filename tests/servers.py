"""Private server instances for tests that stop, restart or kill a server.

The shared PostgreSQL (5432) and Redis (6379) serve the rest of the suite and are never
touched: these helpers start their own ``redis-server`` or PostgreSQL cluster on a spare
loopback port, in a temporary directory, and remove it afterwards.

Example:
    >>> with RedisServer() as redis_server:            # doctest: +SKIP
    ...     url = redis_server.url(db=0)
    ...     redis_server.restart()                     # the queue is gone (no persistence)
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, timeout_s: float = 0.2) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout_s):
        return True
    return False


def _wait(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} within {timeout_s} s")


class _Server:
    """A server process in a private directory: start, stop (graceful), kill, restart."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"designloop-{type(self).__name__.lower()}-"))
        self.proc: subprocess.Popen[bytes] | None = None

    # subclasses: the command line, and how to know it is up
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _popen_kwargs(self) -> dict[str, object]:
        return {}

    @property
    def log_path(self) -> Path:
        return self.dir / "server.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout_s: float = 30.0) -> Self:
        if self.running:
            return self
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         **self._popen_kwargs())  # type: ignore[call-overload]
        try:
            _wait(lambda: self._ready() or not self.running, timeout_s, "server start")
        except TimeoutError:
            self.kill()
            raise
        if not self.running:
            raise RuntimeError(f"{self._command()[0]} exited at start:\n{self.log_tail()}")
        return self

    def _ready(self) -> bool:
        return port_open(self.port)

    def _stop_signal(self) -> int:
        return signal.SIGTERM

    def stop(self, timeout_s: float = 20.0) -> None:
        """Graceful shutdown; escalates to SIGKILL after ``timeout_s``."""
        if not self.running:
            return
        assert self.proc is not None
        self.proc.send_signal(self._stop_signal())
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
        _wait(lambda: not port_open(self.port), 10.0, "port closed")

    def kill(self) -> None:
        """SIGKILL the server's whole process group (a crash)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server (hard if needed) and remove its directory."""
        try:
            self.stop()
        finally:
            self.kill()
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class RedisServer(_Server):
    """A ``redis-server`` without persistence: a restart loses every queued message, which is
    what a production Redis without AOF does after a crash."""

    binary = "redis-server"

    @classmethod
    def available(cls) -> bool:
        return shutil.which(cls.binary) is not None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def _command(self) -> list[str]:
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.dir),
                "--daemonize", "no", "--protected-mode", "no"]

    def _ready(self) -> bool:
        import redis

        try:
            client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


class PostgresCluster(_Server):
    """A throw-away PostgreSQL cluster (``initdb`` + ``postgres``), trust auth, user postgres.

    PostgreSQL refuses to run as root; when the tests do, the cluster runs as the ``postgres``
    system user (its directory is handed over to it).
    """

    @classmethod
    def available(cls) -> bool:
        return _postgres_bin() is not None

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.bin = _postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL binaries (initdb, postgres) not found")
        self.data = self.dir / "data"
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user:
            shutil.chown(self.dir, self._user, self._user)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])

    def _popen_kwargs(self) -> dict[str, object]:
        return {"user": self._user, "group": self._user} if self._user else {}

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, timeout=120, check=False,
                              **self._popen_kwargs())  # type: ignore[call-overload]
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{done.stdout.decode()}"
                               f"{done.stderr.decode()}")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def _command(self) -> list[str]:
        assert self.bin is not None
        return [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
                "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=50"]

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                 dbname="postgres", connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    def _stop_signal(self) -> int:
        return signal.SIGINT  # PostgreSQL's "fast" shutdown: disconnect clients, then stop

    def create_database(self, name: str) -> str:
        """Create database ``name``; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)
