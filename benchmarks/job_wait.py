#!/usr/bin/env python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Time-to-report of a Job that fails about 1 s after it is created, measured in one run.

(a) datasurface.yellow.k8s_job through ansible (``ansible localhost -m``, start-up included), against
(b) the manual flow: ``kubectl apply -f job.yaml`` + ``kubectl wait --for=condition=complete --timeout=60s job/NAME``,
which never returns early on a failed Job and sits out its timeout.

Both talk to one Kubernetes API test server (tests/k8s_api) whose JobController fails every Job
(BackoffLimitExceeded) ``--fail-after`` seconds after its creation. Prints both times, how long after the Failed
condition each reported, and the ratio b/a. Absolute times on a loaded machine are noisy; the ratio is the point.

usage: .venv/bin/python benchmarks/job_wait.py [--fail-after 1.0] [--timeout 60]   (from the repository root)
Needs: make setup (the venv with ansible and the kubernetes client), kubectl on PATH or /usr/bin/kubectl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402  pylint: disable=wrong-import-position

from tests.k8s_api import ApiServer, JobController  # noqa: E402  pylint: disable=wrong-import-position

NS = "bench"


def log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def job(name: str) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "init", "image": "registry.example.com/datasurface/datasurface:v1.2.3", "args": ["ring1-init"]}]}}}}


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:150] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--fail-after", type=float, default=1.0, help="seconds from creation to the Failed condition (default 1.0)")
    parser.add_argument("--timeout", type=int, default=60, help="timeout for both k8s_job and kubectl wait (default 60)")
    args = parser.parse_args()

    bindir = Path(sys.executable).parent
    ansible = bindir / "ansible"
    kubectl = shutil.which("kubectl") or "/usr/bin/kubectl"
    if not ansible.exists() or not os.access(kubectl, os.X_OK):
        log(f"needs {ansible} (make setup) and kubectl ({kubectl})")
        return 2

    with tempfile.TemporaryDirectory(prefix="job-wait-bench-") as tmp:
        work = Path(tmp)
        (work / "tmp").mkdir()
        env = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '')}", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_CALLBACK_RESULT_FORMAT="json",
                   ANSIBLE_NOCOLOR="1", TMPDIR=str(work / "tmp"), KUBECACHEDIR=str(work / "kube-cache"))
        with ApiServer(kubeconfig_path=work / "kubeconfig") as api, \
                JobController(api, delay=args.fail_after, default="fail") as controller:
            env.update(api.env())
            api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})

            # (a) k8s_job: creates the Job, watches it, reports the failure
            src = work / "a.yaml"
            src.write_text(yaml.safe_dump(job("bench-k8s-job")), encoding="utf-8")
            module_args = {"src": str(src), "kubeconfig": str(api.kubeconfig_path), "timeout": args.timeout}
            log(f"(a) ansible localhost -m datasurface.yellow.k8s_job (src {src.name}, timeout {args.timeout})")
            t0 = time.monotonic()
            proc = subprocess.run([str(ansible), "localhost", "-i", "localhost,", "-c", "local",
                                   "-e", f"ansible_python_interpreter={sys.executable}",
                                   "-m", "datasurface.yellow.k8s_job", "-a", json.dumps(module_args)],
                                  env=env, cwd=ROOT, capture_output=True, text=True, check=False)
            t1 = time.monotonic()
            try:
                result = json.loads(proc.stdout.split(" => ", 1)[1])
            except (IndexError, ValueError):
                log(f"k8s_job printed no result:\n{proc.stdout}\n{proc.stderr}")
                return 1
            a_total = t1 - t0
            a_failed = controller.when("failed", "bench-k8s-job")
            a_after = t1 - a_failed if a_failed is not None else float("nan")
            a_created = controller.when("created", "bench-k8s-job")
            a_reaction = result.get("duration", 0.0) - (a_failed - a_created) if a_failed and a_created else float("nan")
            a_said = result.get("msg", "")

            # (b) the manual flow: kubectl apply, then kubectl wait for the Complete condition
            manifest = work / "b.yaml"
            manifest.write_text(yaml.safe_dump(job("bench-kubectl")), encoding="utf-8")
            log(f"(b) kubectl apply + kubectl wait --for=condition=complete --timeout={args.timeout}s (sits out the timeout)")
            t0 = time.monotonic()
            applied = subprocess.run([kubectl, "apply", "-f", str(manifest)], env=env, capture_output=True, text=True, check=False)
            waited = subprocess.run([kubectl, "wait", "--for=condition=complete", f"--timeout={args.timeout}s", "-n", NS,
                                     "job/bench-kubectl"], env=env, capture_output=True, text=True, check=False)
            t1 = time.monotonic()
            if applied.returncode != 0:
                log(f"kubectl apply failed: {applied.stderr.strip()}")
                return 1
            b_total = t1 - t0
            b_failed = controller.when("failed", "bench-kubectl")
            b_after = t1 - b_failed if b_failed is not None else float("nan")
            b_said = last_line(waited.stderr or waited.stdout)

    print(f"Job failing {args.fail_after:g} s after creation (BackoffLimitExceeded), timeout {args.timeout} s, one API test server")
    print(f"(a) k8s_job (ansible localhost -m)              {a_total:8.2f} s  rc={proc.returncode}")
    print(f"    reported {a_after:.2f} s after the Failed condition (module reaction {a_reaction:.3f} s): {a_said[:150]}")
    print(f"(b) kubectl apply + kubectl wait (manual flow)  {b_total:8.2f} s  rc={waited.returncode}")
    print(f"    reported {b_after:.2f} s after the Failed condition: {b_said}")
    print(f"b/a = {b_total / a_total:.1f}  (k8s_job reports a failed Job {b_total / a_total:.1f}x sooner, with the reason and the logs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
