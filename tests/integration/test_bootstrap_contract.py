# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""playbooks/bootstrap.yml against the Kubernetes API test server, with local git repositories and the stand-in
generator as a process (runner=python), which follows the public generator 0.0.57's contract.

- The cluster as platform_prereqs left it before the fix (``git`` with ``TOKEN`` only, ``postgres`` with
  ``USER``/``PASSWORD`` only): the role fails before any Job is created (and before the DAG is pushed), listing
  every missing key with the variable that would provide it.
- A Job that runs a moving tag while the inventory pins another tag is warned about in one line; without cluster
  nodes the output says that nothing was pre-pulled.
- With the keys both spellings (what platform_prereqs creates now) the Jobs are created.
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
NS = "demo1"
GIT_ENV = {"GIT_AUTHOR_NAME": "Modeller", "GIT_AUTHOR_EMAIL": "m@example.invalid", "GIT_COMMITTER_NAME": "Modeller",
           "GIT_COMMITTER_EMAIL": "m@example.invalid", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=dict(os.environ, **GIT_ENV), check=True, capture_output=True, timeout=60)


def repositories(tmp_path: Path, image: str) -> tuple:
    """A bare model repository (the stand-in model, tagged v1, its image replaced) and an empty DAG repository."""
    model_bare, dags_bare, work = tmp_path / "model.git", tmp_path / "dags.git", tmp_path / "model-work"
    for bare in (model_bare, dags_bare):
        git("init", "-q", "--bare", "-b", "main", str(bare))
    shutil.copytree(STUB / "model", work, ignore=shutil.ignore_patterns("__pycache__"))
    eco = work / "eco.py"
    eco.write_text(eco.read_text().replace("registry.example.invalid/datasurface/datasurface:v1.1.0", image))
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "Model v1", cwd=work)
    git("tag", "-a", "v1", "-m", "v1", cwd=work)
    git("push", "-q", str(model_bare), "main", "v1", cwd=work)
    return model_bare, dags_bare


def seed(k8s_api, git_keys: tuple, postgres_keys: tuple) -> None:
    def secret(name, keys, kind="Opaque"):
        data = {key: base64.b64encode(f"value-of-{key}".encode()).decode() for key in keys}
        k8s_api.store.put({"apiVersion": "v1", "kind": "Secret", "type": kind, "metadata": {"name": name, "namespace": NS},
                           "data": data})
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    secret("git", git_keys)
    secret("postgres", postgres_keys)
    secret("dockerhub-creds", (".dockerconfigjson",), "kubernetes.io/dockerconfigjson")


def run(k8s_api, k8s_env, tmp_path: Path, image: str, *flags: str) -> tuple:
    model_bare, dags_bare = repositories(tmp_path, image)
    control = {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "yellow_namespace": NS, "yellow_psp_name": "Test_DP", "yellow_kubeconfig": str(k8s_api.kubeconfig_path),
        "yellow_datasurface_image": "registry.example.invalid/datasurface/datasurface", "yellow_datasurface_image_tag": "v1.1.0",
        "yellow_bootstrap_workdir": str(tmp_path / "cache"), "yellow_bootstrap_model_repo": str(model_bare),
        "yellow_bootstrap_model_version": "v1", "yellow_bootstrap_dag_repo": str(dags_bare),
        "yellow_bootstrap_runner": "python", "yellow_bootstrap_python": sys.executable,
        "yellow_bootstrap_plain_environment": {"PYTHONPATH": str(STUB / "src")},
        "yellow_bootstrap_job_timeout": 5, "yellow_bootstrap_job_pod_failure_grace": 2,
    }
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": control}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    result = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), *flags, str(ROOT / "playbooks" / "bootstrap.yml")],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=600,
        env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"),
    )
    return result.returncode, result.stdout + result.stderr


def job_posts(k8s_api) -> list:
    return [r.path for r in k8s_api.requests if r.method == "POST" and r.path.endswith("/jobs")]


def dag_commits(tmp_path: Path) -> str:
    return subprocess.run(["git", "--git-dir", str(tmp_path / "dags.git"), "log", "--oneline", "--all"],
                          capture_output=True, text=True, check=False).stdout


def test_missing_secret_keys_fail_before_any_job_naming_key_and_variable(k8s_api, k8s_env, tmp_path):
    seed(k8s_api, ("TOKEN",), ("USER", "PASSWORD"))  # what platform_prereqs created before the fix
    rc, output = run(k8s_api, k8s_env, tmp_path, "registry.example.invalid/datasurface/datasurface:v1.1.0")
    assert rc != 0, output[-3000:]
    assert "bootstrap: 3 thing(s) the generated Jobs and objects reference are not in namespace demo1 (checked before any Job runs; " \
        "no Job was created)" in " ".join(output.split()), output[-4000:]
    for line in (
        "Secret git key token (the key is missing; used by Job/test-dp-ring1-init, Job/test-dp-model-merge-job, "
        "Job/test-dp-reconcile-views-job, Deployment/test-dp-mcp) -> yellow_k8s_git_token (platform_prereqs)",
        "Secret postgres key postgres_PASSWORD (the key is missing; used by",
        "-> yellow_k8s_postgres_password (platform_prereqs)",
        "Secret postgres key postgres_USER (the key is missing; used by",
        "-> yellow_k8s_postgres_user (platform_prereqs)",
    ):
        assert line in " ".join(output.split()), output[-4000:]
    assert job_posts(k8s_api) == [], "a Job was created"
    assert dag_commits(tmp_path) == "", "the DAG was pushed"
    assert "value-of-" not in output and base64.b64encode(b"value-of-TOKEN").decode() not in output


def test_moving_tag_warning_and_jobs_run_once_the_keys_are_there(k8s_api, k8s_env, tmp_path):
    seed(k8s_api, ("TOKEN", "token"), ("USER", "PASSWORD", "postgres_USER", "postgres_PASSWORD"))
    rc, output = run(k8s_api, k8s_env, tmp_path, "datasurface/datasurface:latest")
    flat = " ".join(output.split())
    assert ("bootstrap: WARNING: Job/test-dp-ring1-init runs datasurface/datasurface:latest (a moving tag) while the "
            "inventory pins yellow_datasurface_image_tag v1.1.0: the image pre-pulled for that tag is not the one this Job runs; "
            "set the image in the platform service provider of the model to the pinned tag | Job/test-dp-model-merge-job runs "
            "datasurface/datasurface:latest") in flat, output[-4000:]
    assert "bootstrap: no cluster node in yellow_bootstrap_prepull_hosts; datasurface/datasurface:latest not pre-pulled" in flat
    assert "are present" in flat  # the contract check passed
    # Past the check: the first Job was created (no Job controller here, so the role then waits it out and fails).
    assert job_posts(k8s_api)[:1] == [f"/apis/batch/v1/namespaces/{NS}/jobs"], output[-3000:]
    assert rc != 0


@pytest.mark.parametrize("flags", [("--check",)], ids=["check-mode"])
def test_check_mode_skips_the_check_when_the_namespace_does_not_exist_yet(k8s_api, k8s_env, tmp_path, flags):
    rc, output = run(k8s_api, k8s_env, tmp_path, "registry.example.invalid/datasurface/datasurface:v1.1.0", *flags)
    flat = " ".join(output.split())
    assert rc == 0, output[-4000:]
    assert "bootstrap: namespace demo1 does not exist yet (check mode: platform_prereqs would create it); the check of" in flat
    assert job_posts(k8s_api) == []
