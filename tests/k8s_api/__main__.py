# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Run the test API server in the foreground until SIGTERM/SIGINT (for playbooks and molecule).

    python -m tests.k8s_api --port 0 --kubeconfig /tmp/k/kubeconfig --pidfile /tmp/k/pid [--node n1] [--seed x.yml]
        [--jobs succeed] [--job-delay 0.5] [--job-outcome 'NAME_OR_GLOB=fail'] [--deployments ready] [--deployment-delay 0.5]

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
from typing import List, Optional, Tuple

import yaml

from .deployment_controller import DeploymentController
from .job_controller import OUTCOMES, JobController
from .server import ApiServer


def _job_outcome(text: str) -> Tuple[str, str]:
    name, sep, outcome = text.partition("=")
    if not sep or not name or outcome not in OUTCOMES:
        raise argparse.ArgumentTypeError(f"expected NAME_OR_GLOB=OUTCOME with OUTCOME one of {', '.join(OUTCOMES)}, got {text!r}")
    return name, outcome


def _job_effect(text: str) -> Tuple[str, str]:
    name, sep, command = text.partition("=")
    if not sep or not name or not command.strip():
        raise argparse.ArgumentTypeError(f"expected NAME_OR_GLOB=COMMAND, got {text!r}")
    return name, command


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
    parser.add_argument("--jobs", choices=("off", *OUTCOMES), default="off",
                        help="play the Job controller: every new Job gets a pod and this outcome (default off)")
    parser.add_argument("--job-delay", type=float, default=0.5, metavar="SECONDS",
                        help="seconds from a Job's creation to its outcome (default 0.5)")
    parser.add_argument("--job-outcome", action="append", type=_job_outcome, default=[], metavar="NAME=OUTCOME",
                        help="outcome for Jobs of this name or shell glob (repeatable; with --jobs off only these Jobs are played)")
    parser.add_argument("--job-effect", action="append", type=_job_effect, default=[], metavar="NAME=COMMAND",
                        help="shell command run when a Job of this name or glob succeeds, standing in for its effect "
                             "(repeatable; a failing command fails the Job)")
    parser.add_argument("--deployments", choices=("off", "ready"), default="off",
                        help="SIMULATED roll-outs: every new or changed Deployment gets ready stand-in pods and its Services "
                             "v1 Endpoints (default off)")
    parser.add_argument("--deployment-delay", type=float, default=0.5, metavar="SECONDS",
                        help="seconds from a Deployment's change to its roll-out (default 0.5)")
    args = parser.parse_args(argv)

    api = ApiServer(args.host, args.port, kubeconfig_path=args.kubeconfig, namespace=args.namespace, verbose=args.verbose)
    for node in args.node:
        api.add_node(node)
    for seed in args.seed:
        for doc in yaml.safe_load_all(seed.read_text(encoding="utf-8")):
            # A document is one object or a kind: List of objects (the form `kubectl get -o yaml` prints).
            for obj in (doc.get("items") or [] if doc and doc.get("kind") == "List" else [doc] if doc else []):
                api.store.put(obj)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *args: stop.set())
    signal.signal(signal.SIGINT, lambda *args: stop.set())
    api.start()
    controller = None
    if args.jobs != "off" or args.job_outcome:
        controller = JobController(api, delay=args.job_delay, outcomes=dict(args.job_outcome),
                                   default=None if args.jobs == "off" else args.jobs,
                                   effects=dict(args.job_effect)).start()
    rollouts = DeploymentController(api, delay=args.deployment_delay).start() if args.deployments == "ready" else None
    try:
        if args.pidfile:
            args.pidfile.write_text(f"{os.getpid()}\n", encoding="utf-8")
        if args.url_file:
            args.url_file.write_text(api.url + "\n", encoding="utf-8")
        print(api.url, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        if controller is not None:
            controller.stop()
        if rollouts is not None:
            rollouts.stop()
        api.stop()
        if args.pidfile:
            try:
                args.pidfile.unlink()
            except FileNotFoundError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
