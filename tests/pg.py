"""A throwaway PostgreSQL cluster in a temporary folder, for the tests.

`initdb` refuses to run as root, and CI runs as root: the cluster then runs as `nobody`, in a
folder that user owns. Nothing is skipped: when PostgreSQL cannot start, the fixture fails
with the reason (`make test` installs PostgreSQL where it is missing).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from servers import free_port


def pg_bin() -> Path:
    """The folder of `initdb`: $SYNTHMILL_TEST_PG_BIN, the newest /usr/lib/postgresql/*/bin, or PATH."""
    if os.environ.get("SYNTHMILL_TEST_PG_BIN"):
        return Path(os.environ["SYNTHMILL_TEST_PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(
            "PostgreSQL is not installed (no initdb): run `make postgres` or set SYNTHMILL_TEST_PG_BIN"
        )
    return Path(initdb).parent


class PostgresCluster:
    def __init__(self) -> None:
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="synthmill-pg-"))
        self.port = free_port()
        self._as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if self._as_user:
            shutil.chown(self.dir, "nobody")

    def _run(self, *cmd: str) -> None:
        result = subprocess.run([*self._as_user, *cmd], capture_output=True, text=True)
        if result.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed: {result.stdout}{result.stderr}{tail}")

    def start(self) -> PostgresCluster:
        data = self.dir / "data"
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.dir / "server.log"),
            "-w",
            "start",
        )
        return self

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def url(self, name: str, port: int | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
