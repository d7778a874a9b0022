"""A throwaway PostgreSQL cluster on 127.0.0.1 for the PostgreSQL store tests (no mocks).

``initdb`` and ``postgres`` come from Debian's ``postgresql`` package
(``/usr/lib/postgresql/<version>/bin``). PostgreSQL refuses to run as root: as root, the
cluster's directory is made in a temporary directory owned by the ``postgres`` user (or
``nobody``) and the binaries run as that user (``subprocess``'s ``user=``/``group=``, which
is ``runuser -u`` without a parent process in between: ``runuser`` stops itself when its
child is stopped, which would leave the frozen-server tests' server unreaped).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

INSTALL_HINT = "PostgreSQL not found: apt-get install postgresql"


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb, or the PATH's."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: (
            int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def require_postgres() -> Path:
    """The binaries' directory, or skip (fail when the ``CI`` variable is set) without them."""
    bindir = find_bindir()
    if bindir is None or not (bindir / "postgres").exists():
        if os.environ.get("CI"):
            pytest.fail(f"{INSTALL_HINT} (CI is set: the PostgreSQL tests must run there)")
        pytest.skip(INSTALL_HINT)
    return bindir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The user to run PostgreSQL as when running as root (None when not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists")


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only."""

    def __init__(self) -> None:
        self.bindir = require_postgres()
        self.port = free_port()
        self.user = _unprivileged_user()
        # Not under pytest's tmp_path: an unprivileged user could not reach it as root.
        self.root = Path(tempfile.mkdtemp(prefix="hookseal-pg-"))
        self.datadir = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self._as_user(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.datadir),
                "-U", "hookseal",
                "--auth=trust",  # loopback only, a throwaway cluster
                "--encoding=UTF8",
                "--no-sync",
            ]
        )  # fmt: skip

    def _as_user(self, command: list[str]) -> None:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
            **self._as_user_kwargs(),
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}")

    def _as_user_kwargs(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=hookseal dbname=postgres"

    def start(self) -> PostgresServer:
        import psycopg

        log = self.logfile.open("ab")
        try:
            self.proc = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D", str(self.datadir),
                    "-p", str(self.port),
                    "-c", "listen_addresses=127.0.0.1",
                    "-c", "unix_socket_directories=",
                    "-c", "fsync=off",  # a test cluster: a clean shutdown still keeps data
                    "-c", "max_connections=100",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                **self._as_user_kwargs(),
            )  # fmt: skip
        finally:
            log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.conninfo, connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tail = self.logfile.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"postgres did not start:\n{tail}") from None
                time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGINT) -> None:
        """Stop the server (SIGINT: PostgreSQL's fast shutdown) and wait for it."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        self.resume()
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGQUIT)  # immediate shutdown
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def pause(self) -> None:
        """Freeze the postmaster and every backend (SIGSTOP): connected, never answering."""
        self._signal_all(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal_all(signal.SIGCONT)

    def _signal_all(self, sig: signal.Signals) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pid = self.proc.pid
        children = []
        for stat_file in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
                fields = Path(stat_file).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    children.append(int(Path(stat_file).parent.name))
        for each in [pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, sig)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
