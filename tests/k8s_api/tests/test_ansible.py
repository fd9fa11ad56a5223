# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""kubernetes.core.k8s / k8s_info (from the ``ansible`` bundle in .venv) run by ansible-playbook against the server."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from ..server import ApiServer

PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
pytestmark = pytest.mark.skipif(not PLAYBOOK.exists(), reason="ansible-playbook is not installed next to this python")


def _k8s(definition: Dict, **params: object) -> Dict:
    return {"kubernetes.core.k8s": {"kubeconfig": "{{ kubeconfig }}", "definition": definition, **params}}


def _k8s_info(**params: object) -> Dict:
    return {"kubernetes.core.k8s_info": {"kubeconfig": "{{ kubeconfig }}", "kind": "ConfigMap", **params}}


BASE_TASKS: List[Dict] = [
    {"name": "Namespace", **_k8s({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo", "labels": {"team": "data"}}})},
    {"name": "Secret", **_k8s({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "demo", "labels": {"app": "db"}},
                               "stringData": {"password": "{{ secret_value }}"}})},
    {"name": "Role", **_k8s({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                             "metadata": {"name": "reader", "namespace": "demo"},
                             "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]})},
]


def _run(tmp_path: Path, env: Dict[str, str], api: ApiServer, tasks: List[Dict], *args: str, check: bool = True,
         extra_vars: Dict[str, str] | None = None) -> subprocess.CompletedProcess:
    play = [{"name": "k8s_api", "hosts": "localhost", "gather_facts": False,
             "vars": {"kubeconfig": str(api.kubeconfig_path), "secret_value": "one"}, "tasks": tasks}]
    playbook = tmp_path / f"play-{time.monotonic_ns()}.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text(f"[defaults]\nstdout_callback = ansible.builtin.default\nlocal_tmp = {tmp_path}/ansible-tmp\n"
                   "interpreter_python = auto_silent\nretry_files_enabled = false\n", encoding="utf-8")
    run_env = {**env, "ANSIBLE_CONFIG": str(cfg), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    run_env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    cmd = [str(PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
           str(playbook), *args]
    for key, value in (extra_vars or {}).items():
        cmd += ["-e", f"{key}={value}"]
    proc = subprocess.run(cmd, env=run_env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"ansible-playbook failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _recap(proc: subprocess.CompletedProcess) -> Dict[str, int]:
    m = re.search(r"^localhost\s+:\s+(.*)$", proc.stdout, re.MULTILINE)
    assert m, proc.stdout
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def _password(api: ApiServer) -> str:
    secret = api.store.get_object("v1", "Secret", "creds", "demo")
    assert secret is not None
    return base64.b64decode(secret["data"]["password"]).decode()


def test_k8s_create_idempotent_and_check_mode(k8s_api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    first = _run(tmp_path, k8s_env, k8s_api, BASE_TASKS)
    assert _recap(first)["changed"] == 3
    assert _password(k8s_api) == "one"
    rv = k8s_api.store.resource_version

    second = _run(tmp_path, k8s_env, k8s_api, BASE_TASKS)
    assert _recap(second)["changed"] == 0, second.stdout
    assert k8s_api.store.resource_version == rv

    checked = _run(tmp_path, k8s_env, k8s_api, BASE_TASKS, "--check", "--diff", extra_vars={"secret_value": "two"})
    assert _recap(checked)["changed"] == 1, checked.stdout
    assert "changed: [localhost]" in checked.stdout and "password" in checked.stdout
    assert _password(k8s_api) == "one"
    assert k8s_api.store.resource_version == rv
    assert any(r.method == "PATCH" and r.query.get("dryRun") == "All" for r in k8s_api.requests)

    changed = _run(tmp_path, k8s_env, k8s_api, BASE_TASKS, extra_vars={"secret_value": "two"})
    assert _recap(changed)["changed"] == 1
    assert _password(k8s_api) == "two"


def test_k8s_info_label_selectors(k8s_api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
    for name, labels in [("a", {"app": "db", "tier": "data"}), ("b", {"app": "web"}), ("c", {"app": "db"})]:
        k8s_api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "demo", "labels": labels}})
    info = _k8s_info
    tasks = [
        {"name": "List", **info(namespace="demo", label_selectors=["app=db", "tier"]), "register": "found"},
        {"name": "Set", **info(namespace="demo", label_selectors=["app in (db,web)", "!tier"]), "register": "set_based"},
        {"name": "Fields", **info(field_selectors=["metadata.namespace=demo", "metadata.name!=a"]), "register": "by_field"},
        {"name": "One", **info(namespace="demo", name="missing"), "register": "missing"},
        {"name": "Check", "ansible.builtin.assert": {"that": [
            "found.resources | map(attribute='metadata.name') | list == ['a']",
            "set_based.resources | map(attribute='metadata.name') | list == ['b', 'c']",
            "by_field.resources | map(attribute='metadata.name') | list == ['b', 'c']",
            "missing.resources == []",
        ]}},
    ]
    proc = _run(tmp_path, k8s_env, k8s_api, tasks)
    assert _recap(proc)["failed"] == 0


def test_k8s_apply_client_and_server_side(k8s_api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied", "namespace": "default"},
          "data": {"key": "{{ secret_value }}"}}
    ssa = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "namespace": "default"},
           "data": {"key": "{{ secret_value }}"}}
    tasks = [
        {"name": "Client-side apply", **_k8s(cm, apply=True)},
        {"name": "Server-side apply", **_k8s(ssa, apply=True, server_side_apply={"field_manager": "ansible", "force_conflicts": True})},
    ]
    assert _recap(_run(tmp_path, k8s_env, k8s_api, tasks))["changed"] == 2
    applied = k8s_api.store.get_object("v1", "ConfigMap", "applied")
    assert applied is not None and "kubectl.kubernetes.io/last-applied-configuration" in applied["metadata"]["annotations"]
    rv = k8s_api.store.resource_version
    again = _run(tmp_path, k8s_env, k8s_api, tasks)
    assert _recap(again)["changed"] == 0, again.stdout
    assert k8s_api.store.resource_version == rv

    checked = _run(tmp_path, k8s_env, k8s_api, tasks, "--check", extra_vars={"secret_value": "two"})
    assert _recap(checked)["changed"] == 2, checked.stdout
    assert k8s_api.store.resource_version == rv

    assert _recap(_run(tmp_path, k8s_env, k8s_api, tasks, extra_vars={"secret_value": "two"}))["changed"] == 2
    for name in ("applied", "ssa"):
        obj = k8s_api.store.get_object("v1", "ConfigMap", name)
        assert obj is not None and obj["data"] == {"key": "two"}


def test_k8s_wait_for_deployment_rollout_and_absent(k8s_api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
                  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}
    stop = threading.Event()

    def controller() -> None:
        # plays the deployment controller: once the Deployment exists (and only then), report it rolled out
        while not stop.wait(0.2):
            obj = k8s_api.store.get_object("apps/v1", "Deployment", "web")
            if obj is not None and not (obj.get("status") or {}).get("observedGeneration"):
                time.sleep(1.5)  # long enough for the module to see it not ready at least once
                k8s_api.mark_rollout_ready("Deployment", "default", "web")
                return

    thread = threading.Thread(target=controller, daemon=True)
    thread.start()
    tasks = [
        {"name": "Deploy and wait", **_k8s(deployment, wait=True, wait_timeout=30, wait_sleep=1), "register": "deployed"},
        {"name": "Check", "ansible.builtin.assert": {"that": ["deployed.result.status.availableReplicas == 2"]}},
        {"name": "Remove and wait", **_k8s(deployment, state="absent", wait=True, wait_timeout=30)},
    ]
    try:
        proc = _run(tmp_path, k8s_env, k8s_api, tasks)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert _recap(proc)["changed"] == 2
    assert k8s_api.store.get_object("apps/v1", "Deployment", "web") is None
