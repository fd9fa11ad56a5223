# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Run the test API server in the foreground until SIGTERM/SIGINT (for playbooks and molecule).

    python -m tests.k8s_api --port 0 --kubeconfig /tmp/k/kubeconfig --pidfile /tmp/k/pid [--node n1] [--seed x.yml]

Prints the URL on the first line of stdout once it is listening (the kubeconfig and pidfile are written before
that), then serves until terminated; the pidfile is removed on exit.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import List, Optional

import yaml

from .server import ApiServer


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.k8s_api", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: an ephemeral port)")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig (mode 0600) for the server here")
    parser.add_argument("--namespace", default="default", help="the kubeconfig context's namespace")
    parser.add_argument("--pidfile", type=Path, help="write the process id here")
    parser.add_argument("--url-file", type=Path, help="write the URL here")
    parser.add_argument("--node", action="append", default=[], help="add a Ready node of this name (repeatable)")
    parser.add_argument("--seed", action="append", type=Path, default=[], help="YAML file of objects to preload (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    api = ApiServer(args.host, args.port, kubeconfig_path=args.kubeconfig, namespace=args.namespace, verbose=args.verbose)
    for node in args.node:
        api.add_node(node)
    for seed in args.seed:
        for doc in yaml.safe_load_all(seed.read_text(encoding="utf-8")):
            if doc:
                api.store.put(doc)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *args: stop.set())
    signal.signal(signal.SIGINT, lambda *args: stop.set())
    api.start()
    try:
        if args.pidfile:
            args.pidfile.write_text(f"{os.getpid()}\n", encoding="utf-8")
        if args.url_file:
            args.url_file.write_text(api.url + "\n", encoding="utf-8")
        print(api.url, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        api.stop()
        if args.pidfile:
            try:
                args.pidfile.unlink()
            except FileNotFoundError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
