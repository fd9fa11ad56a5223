#!/usr/bin/env python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""STAND-IN for the ring1-init pod's effect in the lab (issue 13 replaces it with the real pod).

The lab's control plane is real, but its nodes are KWOK's: no container runs, so the ring1-init Job's pod
never creates the merge database tables that verify checks. This watcher plays that one effect: it
watches the Jobs of one namespace with the identity it is given (the lab passes the operator's
kubeconfig: reading Jobs is all it needs) and, each time the REAL Job controller marks a Job whose name
contains ``ring1-init`` Complete (a Job uid it has not seen yet), runs ``tests/lab/files/simulate_ring1.sh``
with the arguments after ``--``. The password reaches psql through ``PGPASSFILE`` (an owner-only file),
never the command line. Every run is logged as SIMULATED.

    python tests/lab/ring1_effect.py --kubeconfig K --namespace NS --pidfile P --state S -- CMD ARGS...
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kubernetes import client, config, watch

MATCH = "ring1-init"


def complete(job) -> bool:
    return any(c.type == "Complete" and c.status == "True" for c in (job.status.conditions or []))


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} ring1_effect: {message}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--state", required=True, help="file listing the Job uids already handled")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("the effect's command is missing (after --)")
    Path(args.pidfile).write_text(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    state = Path(args.state)
    done = set(state.read_text().split()) if state.exists() else set()
    config.load_kube_config(config_file=args.kubeconfig)
    batch = client.BatchV1Api()
    log(f"SIMULATED: watching Jobs *{MATCH}* in {args.namespace}; on Complete: {' '.join(command)}")
    while True:
        try:
            for event in watch.Watch().stream(batch.list_namespaced_job, args.namespace, timeout_seconds=300):
                job = event["object"]
                uid = job.metadata.uid
                if MATCH not in job.metadata.name or uid in done or not complete(job):
                    continue
                log(f"SIMULATED: Job {job.metadata.name} ({uid}) is Complete (real Job controller); running the effect")
                proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
                sys.stdout.write(proc.stdout)
                sys.stdout.write(proc.stderr)
                log(f"effect exit {proc.returncode}")
                if proc.returncode == 0:
                    done.add(uid)
                    state.write_text("".join(f"{u}\n" for u in sorted(done)))
        except Exception as exc:  # pylint: disable=broad-except  # the API server restarted, a watch expired...
            log(f"watch ended ({json.dumps(str(exc))[:300]}); again in 1 s")
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
