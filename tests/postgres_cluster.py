"""A throw-away PostgreSQL cluster for tests and benchmarks, on a free loopback port.

Finds the server binaries (``/usr/lib/postgresql/*/bin``); when there are
none it installs Debian's ``postgresql`` package (``apt-get update`` then
``apt-get install -y postgresql``; root, as in CI and this image). ``initdb``
refuses to run as root, so as root the cluster belongs to ``nobody`` and
every server command runs through ``runuser -u nobody``. The cluster lives in
a fresh directory under /tmp, listens on 127.0.0.1 only, trusts local
connections (it holds nothing but test data) and is removed on ``stop``.
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
from dataclasses import dataclass
from pathlib import Path

_BINARIES = "/usr/lib/postgresql/*/bin/initdb"


def find_binaries(install: bool = True) -> Path:
    found = sorted(glob.glob(_BINARIES))
    if not found and install:
        if os.geteuid() != 0:
            raise RuntimeError("PostgreSQL is not installed and we are not root to apt-get it")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env, timeout=900
        )
        found = sorted(glob.glob(_BINARIES))
    if not found:
        raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    bin: Path
    directory: Path
    port: int
    as_user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self, name: str) -> str:
        """A new, empty database on the cluster and its URL."""
        self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-q",
            "-c",
            f'CREATE DATABASE "{name}"',
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)

    def restart(self) -> None:
        """``pg_ctl restart -m immediate``: every connection dies; returns once it answers."""
        data = str(self.directory / "data")
        log = str(self.directory / "log")
        self._run("pg_ctl", "-D", data, "-l", log, "-m", "immediate", "-w", "-t", "60", "restart")

    def postmaster_pid(self) -> int:
        return int((self.directory / "data" / "postmaster.pid").read_text().split()[0])

    def server_pids(self) -> list[int]:
        """The postmaster (first) and every process it started (backends, auxiliaries)."""
        postmaster = self.postmaster_pid()
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:  # the parent's pid follows the state
                    children.append(int(Path(stat).parent.name))
        return [postmaster, *children]

    def freeze(self) -> list[int]:
        """SIGSTOP the postmaster, then its processes: the server answers nothing, though
        the kernel still accepts connections and acknowledges what is sent.

        The postmaster stops first, so it forks no backend after the listing; the
        listing repeats until it finds no process left running, since a backend
        forked while the postmaster was being stopped would otherwise keep serving.
        """
        stopped = [self.postmaster_pid()]
        os.kill(stopped[0], signal.SIGSTOP)
        while True:
            running = [pid for pid in self.server_pids() if pid not in stopped]
            if not running:
                return stopped
            for pid in running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            stopped.extend(running)

    def thaw(self, pids: list[int]) -> None:
        for pid in reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster(*, fast: bool = True, restartable: bool = False) -> Cluster:
    """initdb and start; ``fast`` turns fsync off (tests: nothing to keep after a crash).

    ``restartable`` keeps commits synchronous, so a commit that returned survives
    ``restart`` (a killed server; fsync only matters when the machine dies).
    """
    binaries = find_binaries()
    directory = Path(tempfile.mkdtemp(prefix="proctor-pg-"))
    as_user = "nobody" if os.geteuid() == 0 else None
    if as_user is not None:
        shutil.chown(directory, user=as_user)
    cluster = Cluster(binaries, directory, _free_port(), as_user)
    data = directory / "data"
    cluster._run(
        "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
    )
    options = (
        f"-p {cluster.port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=200"
    )
    if fast:
        options += " -c fsync=off -c full_page_writes=off"
        if not restartable:
            options += " -c synchronous_commit=off"
    cluster._run(
        "pg_ctl",
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(directory / "log"),
        "-w",
        "-t",
        "60",
        "start",
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", cluster.port), timeout=1):
                return cluster
        except OSError:
            time.sleep(0.1)
    cluster.stop()
    raise RuntimeError("PostgreSQL did not start")
