# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Run the Airflow API stand-in in the foreground until SIGTERM/SIGINT (for playbooks and molecule).

    python -m tests.airflow_api --port 0 --dags-dir DIR --credentials-file F [--url-file F] [--pidfile F]

The credentials file is JSON ``{"username": ..., "password": ...}`` (keep it 0600). Prints the URL on the
first line of stdout once it is listening (the URL file and pidfile are written before that); the pidfile is
removed on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import List, Optional

from .server import AirflowApiServer


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.airflow_api", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: an ephemeral port)")
    parser.add_argument("--dags-dir", type=Path, required=True, help="the DAG folder the stand-in dag-processor reads")
    parser.add_argument("--credentials-file", type=Path, required=True, help='JSON {"username": ..., "password": ...}')
    parser.add_argument("--url-file", type=Path, help="write the URL here")
    parser.add_argument("--pidfile", type=Path, help="write the process id here")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    credentials = json.loads(args.credentials_file.read_text(encoding="utf-8"))
    if not isinstance(credentials, dict) or not all(isinstance(credentials.get(k), str) for k in ("username", "password")):
        parser.error("--credentials-file must hold a JSON object with string username and password")
    api = AirflowApiServer(args.dags_dir, credentials["username"], credentials["password"], args.host, args.port,
                           verbose=args.verbose)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *unused: stop.set())
    signal.signal(signal.SIGINT, lambda *unused: stop.set())
    api.start()
    try:
        if args.pidfile:
            args.pidfile.write_text(f"{os.getpid()}\n", encoding="utf-8")
        if args.url_file:
            args.url_file.write_text(api.url + "\n", encoding="utf-8")
        print(api.url, flush=True)
        stop.wait()
    finally:
        api.stop()
        if args.pidfile:
            args.pidfile.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
