"""ThrowawayPostgres: a private PostgreSQL server for fault tests, one per test.

Tests that crash, stop or restart a database must never do it to the shared
server, so this helper runs ``initdb`` into a temporary directory and starts a
postmaster of its own on a free port of 127.0.0.1 (unix socket in the same
directory). ``kill()`` SIGKILLs the postmaster and all its backends to
simulate a crash, ``pause()``/``resume()`` freeze and thaw them (a hung host),
``stop()`` is a fast shutdown, ``start()`` brings the server back on the same
data directory and port, ``close()`` stops it and removes everything.

PostgreSQL refuses to run as root. When the tests run as root the server's
processes are started as the ``postgres`` OS user (``subprocess``'s ``user=`` /
``group=``, which switch uid/gid in the child just before exec — unlike
``runuser``/``su``, no wrapper process sits between us and the postmaster, so
its pid is the one we signal), and the temporary directory is chowned to it.

Durability is the production one (fsync, synchronous_commit and full page
writes on): a crash test only means something if a commit means "on disk".

Used by ``tests/store/test_postgres.py`` and ``tests/faults/``; skip a test
when :func:`postgres_binaries` returns None (no server binaries installed).
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
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

_READY_TIMEOUT_S = 30.0


def postgres_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``, or None if there is none."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
    # Debian/Ubuntu keep one directory per major version; prefer the newest.
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    candidates.extend(Path(p) for p in reversed(versioned))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayPostgres:
    """A private PostgreSQL cluster in a temporary directory.

    Usage::

        with ThrowawayPostgres() as server:
            store = PostgresStore(server.dsn)
            ...
            server.kill()   # crash
            server.start()  # recovery on the same data directory and port
            server.pause()  # hang (SIGSTOP); resume() thaws it
    """

    def __init__(self, *, os_user: str = "postgres") -> None:
        bindir = postgres_binaries()
        if bindir is None:
            raise RuntimeError(
                "no PostgreSQL server binaries (initdb, postgres) found: "
                "install postgresql or put its bin directory on PATH"
            )
        self.bindir = bindir
        self.port = free_port()
        self._run_as: dict[str, Any] = {}
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            owner = pwd.getpwnam(os_user)
            self._run_as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        self.root = Path(tempfile.mkdtemp(prefix="gridtui-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_path = self.root / "postgres.log"
        self.socket_dir.mkdir()
        self.log_path.touch()
        if owner is not None:
            for path in (self.root, self.socket_dir, self.log_path):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._process: subprocess.Popen[bytes] | None = None
        self._initdb()

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self._run_as:
            env["HOME"] = str(self.root)
        return env

    def _initdb(self) -> None:
        # --no-sync: only initdb's final flush of the fresh cluster is skipped;
        # the server itself runs with fsync on.
        subprocess.run(
            [
                str(self.bindir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            env=self._env(),
            cwd=self.root,
            timeout=120,
            **self._run_as,
        )

    def start(self) -> None:
        """Start the server (again) and wait until it accepts connections."""
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.socket_dir),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=on",
                    "-c",
                    "synchronous_commit=on",
                    "-c",
                    "full_page_writes=on",
                    "-c",
                    "max_connections=30",
                    "-c",
                    "shared_buffers=32MB",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                cwd=self.root,
                # Its own session: a Ctrl-C at the test runner's terminal is not
                # delivered to it, the helper decides when it stops.
                start_new_session=True,
                **self._run_as,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        pid_file = self.data_dir / "postmaster.pid"
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with {self._process.returncode} while starting:\n"
                    + self.log_tail()
                )
            with contextlib.suppress(OSError):
                lines = pid_file.read_text().splitlines()
                # Line 8 of postmaster.pid is the server's status ("ready" once
                # it accepts connections, after crash recovery has finished).
                if len(lines) >= 8 and lines[7].strip() == "ready" and self._accepts():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"postgres not ready after {_READY_TIMEOUT_S}s:\n" + self.log_tail())

    def _accepts(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """Fast shutdown: abort open transactions, checkpoint, exit."""
        if self._process is None:
            return
        process, self._process = self._process, None
        if process.poll() is None:
            pids = self._server_pids(process)
            _signal(pids, signal.SIGCONT)  # a paused server cannot shut down
            process.send_signal(signal.SIGINT)  # SIGINT is the postmaster's "fast" mode
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _signal(pids, signal.SIGKILL)
                process.wait(timeout=30)
            _wait_gone(pids)

    def kill(self) -> None:
        """Crash: SIGKILL the postmaster and every backend of it, no shutdown at all.

        All of the server's processes die at once, as on a power cut or an OOM
        kill of the container; clients see their sockets reset. The next start()
        runs crash recovery from the WAL.
        """
        if self._process is None:
            return
        process, self._process = self._process, None
        pids = self._server_pids(process)
        _signal(pids, signal.SIGKILL)
        process.wait(timeout=30)
        _wait_gone(pids)

    def pause(self) -> None:
        """Freeze every process of the server (SIGSTOP): a hung host, not a dead one.

        Connections stay open and nothing answers, which is what timeouts are for.
        """
        if self._process is not None:
            _signal(self._server_pids(self._process), signal.SIGSTOP)

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        if self._process is not None:
            _signal(self._server_pids(self._process)[::-1], signal.SIGCONT)

    @staticmethod
    def _server_pids(process: subprocess.Popen[bytes]) -> list[int]:
        """The postmaster, then its children.

        Each backend calls setsid(), so a process-group signal would reach the
        postmaster alone. The postmaster is stopped first: it cannot fork a
        child we would miss while the list is taken (SIGCONT undoes this for
        :meth:`resume`, SIGKILL needs no undoing).
        """
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGSTOP)
        return [process.pid, *_children(process.pid)]

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def close(self) -> None:
        """Stop the server if it runs and delete the temporary directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _children(parent: int) -> list[int]:
    """Pids whose parent is ``parent``."""
    if not os.path.isdir("/proc"):  # not Linux
        out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]
    children = []
    for pid, state, ppid in _proc_table():
        if ppid == parent and state not in ("Z", "X"):
            children.append(pid)
    return children


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie holds no resources: it counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # not Linux: a signal 0 tells whether it exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat[stat.rfind(")") + 2] not in ("Z", "X")


def _wait_gone(pids: list[int]) -> None:
    # Backends orphaned by the postmaster's death must be gone before a new
    # postmaster starts: it refuses to while they still hold shared memory.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.02)


def _proc_table() -> Iterator[tuple[int, str, int]]:
    """``(pid, state, ppid)`` of every process, from /proc."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp ...
        fields = stat[stat.rfind(")") + 2 :].split()
        yield int(entry.name), fields[0], int(fields[1])
