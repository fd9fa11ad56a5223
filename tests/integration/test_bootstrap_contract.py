# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""playbooks/bootstrap.yml on the real control plane (tests/cluster) as the operator identity, with local git
repositories and the stand-in generator as a process (runner=python), which follows the public generator 0.0.57's
contract. The platform namespace is the test's (``k8s_namespace``: made by the admin, the operator granted in it);
the model names it.

- The cluster as platform_prereqs left it before the fix (``git`` with ``TOKEN`` only, ``postgres`` with
  ``USER``/``PASSWORD`` only): the role fails before any Job is created (and before the DAG is pushed), listing
  every missing key with the variable that would provide it.
- A Job that runs a moving tag while the inventory pins another tag is warned about in one line; without cluster
  nodes the output says that nothing was pre-pulled.
- With the keys both spellings (what platform_prereqs creates now) the Jobs are created and, on the real Job
  controller (KWOK completes their pods), run to completion one after the other.
- In check mode before the namespace exists nothing is read or created in it.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STUB = ROOT / "tests" / "generator_stub"
GIT_ENV = {"GIT_AUTHOR_NAME": "Modeller", "GIT_AUTHOR_EMAIL": "m@example.invalid", "GIT_COMMITTER_NAME": "Modeller",
           "GIT_COMMITTER_EMAIL": "m@example.invalid", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=dict(os.environ, **GIT_ENV), check=True, capture_output=True, timeout=60)


def repositories(tmp_path: Path, image: str, namespace: str) -> tuple:
    """A bare model repository (the stand-in model, tagged v1, its image and namespace replaced) and an empty DAG
    repository."""
    model_bare, dags_bare, work = tmp_path / "model.git", tmp_path / "dags.git", tmp_path / "model-work"
    for bare in (model_bare, dags_bare):
        git("init", "-q", "--bare", "-b", "main", str(bare))
    shutil.copytree(STUB / "model", work, ignore=shutil.ignore_patterns("__pycache__"))
    eco = work / "eco.py"
    text = eco.read_text()
    assert '"namespace": "demo1"' in text
    eco.write_text(text.replace("registry.example.invalid/datasurface/datasurface:v1.1.0", image)
                   .replace('"namespace": "demo1"', f'"namespace": "{namespace}"'))
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "Model v1", cwd=work)
    git("tag", "-a", "v1", "-m", "v1", cwd=work)
    git("push", "-q", str(model_bare), "main", "v1", cwd=work)
    return model_bare, dags_bare


def seed(cluster, namespace: str, git_keys: tuple, postgres_keys: tuple) -> None:
    """The Secrets as platform_prereqs left them (admin-made: the values do not matter here)."""
    def secret(name, keys, kind="Opaque"):
        data = {key: base64.b64encode(f"value-of-{key}".encode()).decode() for key in keys}
        return {"apiVersion": "v1", "kind": "Secret", "type": kind, "metadata": {"name": name, "namespace": namespace},
                "data": data}
    dockerconfig = {".dockerconfigjson": base64.b64encode(b'{"auths": {}}').decode()}
    cluster.apply([secret("git", git_keys), secret("postgres", postgres_keys),
                   dict(secret("dockerhub-creds", ()), type="kubernetes.io/dockerconfigjson", data=dockerconfig)])


def run(namespace, k8s_env, tmp_path: Path, image: str, *flags: str) -> tuple:
    model_bare, dags_bare = repositories(tmp_path, image, namespace)
    control = {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "yellow_namespace": namespace, "yellow_psp_name": "Test_DP", "yellow_kubeconfig": k8s_env["KUBECONFIG"],
        "yellow_datasurface_image": "registry.example.invalid/datasurface/datasurface", "yellow_datasurface_image_tag": "v1.1.0",
        "yellow_bootstrap_workdir": str(tmp_path / "cache"), "yellow_bootstrap_model_repo": str(model_bare),
        "yellow_bootstrap_model_version": "v1", "yellow_bootstrap_dag_repo": str(dags_bare),
        "yellow_bootstrap_runner": "python", "yellow_bootstrap_python": sys.executable,
        "yellow_bootstrap_plain_environment": {"PYTHONPATH": str(STUB / "src")},
        "yellow_bootstrap_job_timeout": 120, "yellow_bootstrap_job_pod_failure_grace": 30,
    }
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": control}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    result = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), *flags, str(ROOT / "playbooks" / "bootstrap.yml")],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=600,
        env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"),
    )
    return result.returncode, result.stdout + result.stderr


def jobs(cluster, namespace: str) -> dict:
    """The Jobs of the namespace: name -> the type of their finished condition (None while running)."""
    found = {}
    for job in cluster.get("jobs", "-n", namespace)["items"]:
        done = [c["type"] for c in job.get("status", {}).get("conditions", []) if c["status"] == "True"
                and c["type"] in ("Complete", "Failed")]
        found[job["metadata"]["name"]] = done[0] if done else None
    return found


def dag_commits(tmp_path: Path) -> str:
    return subprocess.run(["git", "--git-dir", str(tmp_path / "dags.git"), "log", "--oneline", "--all"],
                          capture_output=True, text=True, check=False).stdout


def test_missing_secret_keys_fail_before_any_job_naming_key_and_variable(cluster, k8s_namespace, k8s_env, tmp_path):
    ns = k8s_namespace
    seed(cluster, ns, ("TOKEN",), ("USER", "PASSWORD"))  # what platform_prereqs created before the fix
    rc, output = run(ns, k8s_env, tmp_path, "registry.example.invalid/datasurface/datasurface:v1.1.0")
    assert rc != 0, output[-3000:]
    assert f"bootstrap: 3 thing(s) the generated Jobs and objects reference are not in namespace {ns} (checked before any " \
        "Job runs; no Job was created)" in " ".join(output.split()), output[-4000:]
    for line in (
        "Secret git key token (the key is missing; used by Job/test-dp-ring1-init, Job/test-dp-model-merge-job, "
        "Job/test-dp-reconcile-views-job, Deployment/test-dp-mcp) -> yellow_k8s_git_token (platform_prereqs)",
        "Secret postgres key postgres_PASSWORD (the key is missing; used by",
        "-> yellow_k8s_postgres_password (platform_prereqs)",
        "Secret postgres key postgres_USER (the key is missing; used by",
        "-> yellow_k8s_postgres_user (platform_prereqs)",
    ):
        assert line in " ".join(output.split()), output[-4000:]
    assert jobs(cluster, ns) == {}, "a Job was created"
    assert cluster.get("configmaps", "-n", ns, "-l", "app.kubernetes.io/part-of=test-dp")["items"] == [], "objects were applied"
    assert dag_commits(tmp_path) == "", "the DAG was pushed"
    assert "value-of-" not in output and base64.b64encode(b"value-of-TOKEN").decode() not in output


def test_moving_tag_warning_and_jobs_run_once_the_keys_are_there(cluster, k8s_namespace, k8s_env, tmp_path):
    ns = k8s_namespace
    seed(cluster, ns, ("TOKEN", "token"), ("USER", "PASSWORD", "postgres_USER", "postgres_PASSWORD"))
    # The generator's git-cache-pvc names no storage class (a real cluster's default class binds it); the lab's
    # classes are not default, so the admin provisions it with one of them first (bootstrap's apply keeps the class).
    cluster.apply([{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "git-cache-pvc", "namespace": ns},
                    "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "local-path",
                             "resources": {"requests": {"storage": "5Gi"}}}}])
    rc, output = run(ns, k8s_env, tmp_path, "datasurface/datasurface:latest")
    flat = " ".join(output.split())
    assert ("bootstrap: WARNING: Job/test-dp-ring1-init runs datasurface/datasurface:latest (a moving tag) while the "
            "inventory pins yellow_datasurface_image_tag v1.1.0: the image pre-pulled for that tag is not the one this Job runs; "
            "set the image in the platform service provider of the model to the pinned tag | Job/test-dp-model-merge-job runs "
            "datasurface/datasurface:latest") in flat, output[-4000:]
    assert "bootstrap: no cluster node in yellow_bootstrap_prepull_hosts; datasurface/datasurface:latest not pre-pulled" in flat
    assert "are present" in flat  # the contract check passed
    # Past the check, as the operator: the objects applied, the Jobs created and completed by the real Job controller.
    assert rc == 0, output[-4000:]
    assert jobs(cluster, ns) == {"test-dp-ring1-init": "Complete", "test-dp-model-merge-job": "Complete",
                                 "test-dp-reconcile-views-job": "Complete"}
    assert cluster.get("role", "test-dp-role", "-n", ns)["rules"][1] == {
        "apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "watch", "create", "delete"]}
    assert cluster.get("pvc", "git-cache-pvc", "-n", ns)["status"]["phase"] == "Bound"


@pytest.mark.parametrize("flags", [("--check",)], ids=["check-mode"])
def test_check_mode_skips_the_check_when_the_namespace_does_not_exist_yet(cluster, k8s_admin_env, tmp_path, flags):
    # As an identity that may create namespaces (the admin), for which "platform_prereqs would create it" holds: with
    # the least-privilege operator the admin has created the namespace before any playbook runs (README "Cluster
    # permissions"); the operator may not even look for Jobs in a namespace it was not granted.
    ns = f"hc-bootstrap-absent-{os.getpid() % 10000}"
    cluster.delete_namespace(ns, wait=True)
    rc, output = run(ns, k8s_admin_env, tmp_path, "registry.example.invalid/datasurface/datasurface:v1.1.0", *flags)
    flat = " ".join(output.split())
    assert rc == 0, output[-4000:]
    assert f"bootstrap: namespace {ns} does not exist yet (check mode: platform_prereqs would create it); the check of" in flat
    assert cluster.kubectl("get", "namespace", ns, check=False).returncode != 0, "check mode created the namespace"
