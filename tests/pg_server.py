# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A throw-away PostgreSQL server for tests: Debian's server binaries (initdb/pg_ctl) on 127.0.0.1, scram-sha-256
for TCP, trust on its own Unix socket directory for the ``postgres`` superuser; run as the ``postgres`` system user
when the tests run as root (initdb refuses root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator


def pg_bin() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    assert found, "PostgreSQL server binaries (Debian package postgresql) are not installed"
    return Path(found).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[Dict]:
    """Start a server; yield ``{"port", "socket", "admin"}`` (an autocommit superuser connection); remove it all."""
    import psycopg2  # pylint: disable=import-outside-toplevel
    bindir = pg_bin()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix=prefix))
    data = base / "data"
    if as_user:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()

    def run(*cmd):
        return subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
            "-E", "UTF8")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60", "start", "-o",
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} -c fsync=off")
        admin = psycopg2.connect(host=str(base), port=port, user="postgres", dbname="postgres")
        admin.autocommit = True
        try:
            yield {"port": port, "socket": str(base), "admin": admin}
        finally:
            admin.close()
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, check=False, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
