"""A private PostgreSQL cluster on a loopback port, for the examples that keep state in one.

Debian's PostgreSQL server binaries (`apt-get install postgresql`) run a throwaway cluster
in a temporary directory: `initdb`, then `pg_ctl start` listening on 127.0.0.1 only, with
its Unix socket in that directory. PostgreSQL refuses to run as root, so as root the
cluster belongs to the `postgres` user the package creates. Password logins over TCP
(scram-sha-256), as an application would connect; the superuser only over the socket.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import free_port

POSTGRES_USER = "postgres"


@dataclass(frozen=True)
class Postgres:
    port: int
    socket_dir: Path
    database: str
    user: str
    password: str
    run_as: list[str]
    bindir: Path

    @property
    def pdo_dsn(self) -> str:
        """The DSN PHP's PDO takes, credentials included."""
        return (
            f"pgsql:host=127.0.0.1;port={self.port};dbname={self.database};"
            f"user={self.user};password={self.password}"
        )

    def psql(self, sql: str, *, as_app: bool = True) -> str:
        """Run SQL with psql (tuples only, `|`-separated); its output."""
        user, database = (self.user, self.database) if as_app else (POSTGRES_USER, "postgres")
        command = [*self.run_as, str(self.bindir / "psql"), "-h", str(self.socket_dir)]
        command += ["-p", str(self.port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1"]
        command += ["-A", "-t", "-q", "-c", sql]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr}")
        return done.stdout.strip()


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return found[-1].parent


@contextmanager
def postgres_cluster(database: str = "app", user: str = "app") -> Iterator[Postgres]:
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        entry = pwd.getpwnam(POSTGRES_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        run_as = ["runuser", "-u", POSTGRES_USER, "--"]
    data = root / "data"
    port = free_port()
    password = os.urandom(12).hex()

    def run(*command: str) -> None:
        done = subprocess.run([*run_as, *command], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", POSTGRES_USER, "--auth-local=trust",
        "--auth-host=scram-sha-256", "-E", "UTF8")  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    cluster = Postgres(port, root, database, user, password, run_as, bindir)
    try:
        cluster.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'", as_app=False)
        cluster.psql(f"CREATE DATABASE {database} OWNER {user}", as_app=False)
        yield cluster
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
