#!/usr/bin/env python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Time-to-report of a Job whose pod fails about 1 s after it starts, on the real control plane, measured in one run.

(a) datasurface.yellow.k8s_job through ansible (``ansible localhost -m``, start-up included) and (a') as a task of an
``ansible-playbook`` run (profile_tasks' figure for the task: what a playbook pays for it), against
(b) the manual flow: ``kubectl apply -f job.yaml`` + ``kubectl wait --for=condition=complete --timeout=60s job/NAME``,
which never returns early on a failed Job and sits out its timeout.

The control plane is tests/cluster's (real kube-apiserver, Job controller and scheduler; KWOK simulating the nodes):
``$YELLOW_CLUSTER_DIR`` when it names a running one, else one started for this run in a temporary directory (and
stopped after). Both Jobs have ``backoffLimit: 0`` and the pod-template label of KWOK's chaos stage
(``pod-container-running-failed.stage.kwok.x-k8s.io: "true"``, delay annotation ``--fail-after``), so the real Job
controller sets ``Failed`` (BackoffLimitExceeded) about that long after the pod runs. Both run as the operator
identity; kubectl is the harness's (``cluster.kubectl_path``).

Measured: the wall time of each whole run; the time from the Failed condition to each report, against two clocks -
a watch of our own on the Job (the moment the Failed condition is first seen, millisecond resolution) and the
condition's ``lastTransitionTime`` (one second resolution, truncated: that figure is up to 1 s too long). Prints
both and the ratios b/a. Absolute times on a loaded 2-core machine are noisy; the ratios are the point.

usage: .venv/bin/python benchmarks/job_wait.py [--fail-after 1s] [--timeout 60]   (from the repository root)
Needs: make setup (the venv with ansible and the kubernetes client); Go to build the control plane if not cached.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402  pylint: disable=wrong-import-position

from tests.cluster import Cluster  # noqa: E402  pylint: disable=wrong-import-position

FAIL_LABEL = "pod-container-running-failed.stage.kwok.x-k8s.io"


def log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def job(name: str, namespace: str, fail_after: str) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": namespace},
            "spec": {"backoffLimit": 0, "template": {
                "metadata": {"labels": {FAIL_LABEL: "true"}, "annotations": {f"{FAIL_LABEL}/delay": fail_after}},
                "spec": {"restartPolicy": "Never", "containers": [
                    {"name": "init", "image": "registry.example.com/datasurface/datasurface:v1.2.3", "args": ["ring1-init"]}]}}}}


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:150] if lines else ""


def stamp(text: str) -> float:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


class FailedWatch(threading.Thread):
    """``kubectl get jobs --field-selector metadata.name=NAME -w`` (admin; a collection, so it may start before the Job
    exists): the wall-clock time the Failed condition is first seen."""

    def __init__(self, cluster: Cluster, namespace: str, name: str) -> None:
        super().__init__(daemon=True)
        self.seen: Optional[float] = None
        self.transition: Optional[str] = None
        self.proc = subprocess.Popen([str(cluster.kubectl_path), "--kubeconfig", str(cluster.admin_kubeconfig), "get", "jobs",
                                      "-n", namespace, f"--field-selector=metadata.name={name}", "-w", "--output-watch-events",
                                      "-o", "json"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def run(self) -> None:
        decoder, buffer = json.JSONDecoder(), ""
        for chunk in iter(self.proc.stdout.readline, ""):
            buffer += chunk
            while buffer.strip():
                try:
                    event, end = decoder.raw_decode(buffer.lstrip())
                except ValueError:
                    break
                buffer = buffer.lstrip()[end:]
                for cond in ((event.get("object") or {}).get("status") or {}).get("conditions") or []:
                    if cond.get("type") == "Failed" and cond.get("status") == "True" and self.seen is None:
                        self.seen, self.transition = time.time(), cond.get("lastTransitionTime")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@contextlib.contextmanager
def control_plane() -> Iterator[Cluster]:
    directory = os.environ.get("YELLOW_CLUSTER_DIR")
    if directory and Cluster(directory).running():
        log(f"using the running control plane at {directory}")
        yield Cluster(directory)
        return
    with tempfile.TemporaryDirectory(prefix="job-wait-cluster-") as tmp:
        log("starting a control plane (tests/cluster; building the components when they are not cached)")
        cluster = Cluster(Path(tmp) / "cluster").up()
        try:
            yield cluster
        finally:
            cluster.down()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--fail-after", default="1s", help="KWOK chaos delay: a running pod fails after it (default 1s)")
    parser.add_argument("--timeout", type=int, default=60, help="timeout for both k8s_job and kubectl wait (default 60)")
    args = parser.parse_args()

    bindir = Path(sys.executable).parent
    ansible = bindir / "ansible"
    if not ansible.exists():
        log(f"needs {ansible} (make setup)")
        return 2

    with control_plane() as cluster, tempfile.TemporaryDirectory(prefix="job-wait-bench-") as tmp:
        work = Path(tmp)
        (work / "tmp").mkdir()
        namespace = f"hb-bench-{os.getpid()}"
        cluster.create_namespace(namespace)
        try:
            deadline = time.monotonic() + 60
            while cluster.kubectl("get", "serviceaccount", "default", "-n", namespace, check=False).returncode != 0:
                if time.monotonic() > deadline:
                    log("the ServiceAccount controller created no default ServiceAccount")
                    return 1
                time.sleep(0.2)
            env: Dict[str, str] = dict(
                os.environ, **cluster.env(operator=True), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
                ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_CALLBACK_RESULT_FORMAT="json",
                ANSIBLE_NOCOLOR="1", TMPDIR=str(work / "tmp"), KUBECACHEDIR=str(work / "kube-cache"))
            env["PATH"] = f"{bindir}:{env['PATH']}"

            def k8s_job(module_args: dict) -> subprocess.CompletedProcess:
                return subprocess.run([str(ansible), "localhost", "-i", "localhost,", "-c", "local",
                                       "-e", f"ansible_python_interpreter={sys.executable}",
                                       "-m", "datasurface.yellow.k8s_job", "-a", json.dumps(module_args)],
                                      env=env, cwd=ROOT, capture_output=True, text=True, check=False)

            # (0) what ansible itself costs here: the module with nothing to do (state=absent of a missing Job)
            t0 = time.monotonic()
            k8s_job({"name": "nothing", "namespace": namespace, "state": "absent", "kubeconfig": str(cluster.operator_kubeconfig)})
            overhead = time.monotonic() - t0

            # (a) k8s_job: creates the Job, watches it, reports the failure
            src = work / "a.yaml"
            src.write_text(yaml.safe_dump(job("bench-k8s-job", namespace, args.fail_after)), encoding="utf-8")
            module_args = {"src": str(src), "kubeconfig": str(cluster.operator_kubeconfig), "timeout": args.timeout}
            log(f"(a) ansible localhost -m datasurface.yellow.k8s_job (src {src.name}, timeout {args.timeout})")
            watch_a = FailedWatch(cluster, namespace, "bench-k8s-job")
            watch_a.start()
            time.sleep(1)  # the watch is listening
            t0 = time.monotonic()
            proc = k8s_job(module_args)
            t1, a_end = time.monotonic(), time.time()
            watch_a.stop()
            try:
                result = json.loads(proc.stdout.split(" => ", 1)[1])
            except (IndexError, ValueError):
                log(f"k8s_job printed no result:\n{proc.stdout}\n{proc.stderr}")
                return 1
            a_total = t1 - t0
            a_said = result.get("msg", "")

            # (a') the same, as a task of a playbook: what a site.yml or day-2 run pays for it (profile_tasks' figure:
            # the task from its start to its result; ansible-playbook's own start-up is outside it)
            src_task = work / "a-task.yaml"
            src_task.write_text(yaml.safe_dump(job("bench-k8s-task", namespace, args.fail_after)), encoding="utf-8")
            book = work / "task.yml"
            book.write_text(yaml.safe_dump([{"name": "Bench", "hosts": "localhost", "gather_facts": False, "tasks": [
                {"name": "Run the doomed Job", "datasurface.yellow.k8s_job": {**module_args, "src": str(src_task)},
                 "ignore_errors": True}]}]), encoding="utf-8")
            log("(a') the same k8s_job as a task of an ansible-playbook run (profile_tasks)")
            played = subprocess.run([str(bindir / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                                     "-e", f"ansible_python_interpreter={sys.executable}", str(book)],
                                    env=dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
                                             ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks"),
                                    cwd=ROOT, capture_output=True, text=True, check=False)
            found = re.search(r"^Run the doomed Job -+ ([0-9.]+)s$", played.stdout, re.M)
            if not found or "BackoffLimitExceeded" not in played.stdout:
                log(f"the playbook's k8s_job task did not report the failed Job:\n{played.stdout}\n{played.stderr}")
                return 1
            a_task = float(found.group(1))

            # (b) the manual flow: kubectl apply, then kubectl wait for the Complete condition
            manifest = work / "b.yaml"
            manifest.write_text(yaml.safe_dump(job("bench-kubectl", namespace, args.fail_after)), encoding="utf-8")
            kubectl = str(cluster.kubectl_path)
            log(f"(b) kubectl apply + kubectl wait --for=condition=complete --timeout={args.timeout}s (sits out the timeout)")
            watch_b = FailedWatch(cluster, namespace, "bench-kubectl")
            watch_b.start()
            time.sleep(1)
            t0 = time.monotonic()
            applied = subprocess.run([kubectl, "apply", "-f", str(manifest)], env=env, capture_output=True, text=True, check=False)
            waited = subprocess.run([kubectl, "wait", "--for=condition=complete", f"--timeout={args.timeout}s", "-n", namespace,
                                     "job/bench-kubectl"], env=env, capture_output=True, text=True, check=False)
            t1, b_end = time.monotonic(), time.time()
            watch_b.stop()
            if applied.returncode != 0:
                log(f"kubectl apply failed: {applied.stderr.strip()}")
                return 1
            b_total = t1 - t0
            b_said = last_line(waited.stderr or waited.stdout)
        finally:
            cluster.delete_namespace(namespace, wait=False)

    def after(end: float, watch: FailedWatch) -> str:
        if watch.seen is None:
            return "(no Failed condition seen)"
        return (f"{end - watch.seen:.2f} s after the Failed condition was seen by a watch "
                f"({end - stamp(watch.transition):.2f} s after its lastTransitionTime {watch.transition}, 1 s resolution)")

    print(f"Job failing {args.fail_after} after its pod runs (KWOK chaos stage; real Job controller: BackoffLimitExceeded), "
          f"timeout {args.timeout} s, control plane {cluster.version}")
    print(f"(0) ansible overhead (k8s_job, nothing to do)   {overhead:8.2f} s")
    print(f"(a) k8s_job (ansible localhost -m)              {a_total:8.2f} s  rc={proc.returncode} reason={result.get('reason')} "
          f"(the module's own wait: {result.get('duration', 0.0):.2f} s)")
    print(f"    reported {after(a_end, watch_a)}")
    print(f"    said: {a_said[:200]}")
    print(f"(a') k8s_job as a playbook task (profile_tasks)  {a_task:8.2f} s")
    print(f"(b) kubectl apply + kubectl wait (manual flow)  {b_total:8.2f} s  rc={waited.returncode}")
    print(f"    reported {after(b_end, watch_b)}")
    print(f"    said: {b_said}")
    if watch_a.seen is not None and watch_b.seen is not None:
        lag_a, lag_b = a_end - watch_a.seen, b_end - watch_b.seen
        print(f"after-Failed lag b/a = {lag_b / lag_a:.1f}  (k8s_job reports {lag_a:.2f} s after Failed, kubectl wait {lag_b:.2f} s)")
    print(f"whole run b/a = {b_total / a_total:.1f}  (k8s_job reports a failed Job {b_total / a_total:.1f}x sooner, with the reason and the logs)")
    print(f"task b/a' = {b_total / a_task:.1f}  (as a playbook task, k8s_job reports it {b_total / a_task:.1f}x sooner)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
