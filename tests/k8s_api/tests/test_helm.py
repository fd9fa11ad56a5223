# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""helm 3 install/upgrade/status/rollback/uninstall against the test API server.

Skipped unless a helm binary is found: ``$YELLOW_HELM``, else /tmp/helm-bin/helm (where fetch_helm.sh puts it
by default), else ``helm`` on PATH.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, Optional

import pytest

from ..server import ApiServer


def _find_helm() -> Optional[str]:
    for candidate in (os.environ.get("YELLOW_HELM"), "/tmp/helm-bin/helm", shutil.which("helm")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


HELM = _find_helm()
pytestmark = pytest.mark.skipif(HELM is None, reason="no helm binary (set YELLOW_HELM or run tests/k8s_api/fetch_helm.sh)")

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 0.1.0\nappVersion: '1.0'\n",
    "values.yaml": "message: hello\nimage: nginx:1.27\n",
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
        "data:\n  message: {{ .Values.message | quote }}\n"
    ),
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  replicas: 1\n"
        "  selector:\n    matchLabels: {app: {{ .Release.Name }}-web}\n  template:\n    metadata:\n"
        "      labels: {app: {{ .Release.Name }}-web}\n    spec:\n      containers:\n      - name: web\n"
        "        image: {{ .Values.image }}\n        env:\n        - name: MESSAGE\n          value: {{ .Values.message | quote }}\n"
    ),
}


def helm(api: ApiServer, env: Dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(HELM), "--kubeconfig", str(api.kubeconfig_path), *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"helm {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _release(api: ApiServer, name: str, revision: int) -> Dict:
    secret = api.store.get_object("v1", "Secret", f"sh.helm.release.v1.{name}.v{revision}", "default")
    assert secret is not None and secret["type"] == "helm.sh/release.v1"
    return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))


def test_helm_release_lifecycle(k8s_api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    chart = tmp_path / "tiny"
    for rel, text in CHART.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)

    helm(k8s_api, k8s_env, "install", "demo", str(chart), "--namespace", "default")
    status = json.loads(helm(k8s_api, k8s_env, "status", "demo", "-o", "json"))
    assert status["info"]["status"] == "deployed" and status["version"] == 1
    cm = k8s_api.store.get_object("v1", "ConfigMap", "demo-config")
    assert cm is not None and cm["data"] == {"message": "hello"}
    assert k8s_api.store.get_object("apps/v1", "Deployment", "demo-web") is not None
    secrets = k8s_api.store.list_objects("v1", "Secret", "default", "owner=helm,name=demo")
    assert [s["metadata"]["labels"]["status"] for s in secrets] == ["deployed"]
    assert _release(k8s_api, "demo", 1)["info"]["status"] == "deployed"

    helm(k8s_api, k8s_env, "upgrade", "demo", str(chart), "--set", "message=bye")
    cm = k8s_api.store.get_object("v1", "ConfigMap", "demo-config")
    web = k8s_api.store.get_object("apps/v1", "Deployment", "demo-web")
    assert cm is not None and cm["data"] == {"message": "bye"}
    assert web is not None and web["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "MESSAGE", "value": "bye"}]
    statuses = {s["metadata"]["name"]: s["metadata"]["labels"]["status"]
                for s in k8s_api.store.list_objects("v1", "Secret", "default", "owner=helm")}
    assert statuses == {"sh.helm.release.v1.demo.v1": "superseded", "sh.helm.release.v1.demo.v2": "deployed"}
    history = json.loads(helm(k8s_api, k8s_env, "history", "demo", "-o", "json"))
    assert [h["revision"] for h in history] == [1, 2]
    assert json.loads(helm(k8s_api, k8s_env, "list", "-o", "json"))[0]["revision"] == "2"

    helm(k8s_api, k8s_env, "rollback", "demo", "1")
    cm = k8s_api.store.get_object("v1", "ConfigMap", "demo-config")
    assert cm is not None and cm["data"] == {"message": "hello"}

    helm(k8s_api, k8s_env, "uninstall", "demo")
    assert k8s_api.store.get_object("v1", "ConfigMap", "demo-config") is None
    assert k8s_api.store.get_object("apps/v1", "Deployment", "demo-web") is None
    assert k8s_api.store.list_objects("v1", "Secret", "default", "owner=helm") == []
    assert json.loads(helm(k8s_api, k8s_env, "list", "-o", "json")) == []


def test_helm_install_waits_for_rollout_and_creates_namespace(k8s_api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    chart = tmp_path / "tiny"
    for rel, text in CHART.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    proc = subprocess.Popen([str(HELM), "--kubeconfig", str(k8s_api.kubeconfig_path), "install", "waited", str(chart),
                             "--namespace", "apps", "--create-namespace", "--wait", "--timeout", "60s"],
                            env=k8s_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while k8s_api.store.get_object("apps/v1", "Deployment", "waited-web", "apps") is None:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "helm never created the Deployment"
            time.sleep(0.1)
        time.sleep(2)
        assert proc.poll() is None, "helm --wait returned before the rollout was reported"
        k8s_api.mark_rollout_ready("Deployment", "apps", "waited-web")
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{out}\n{err}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    namespace = k8s_api.store.get_object("v1", "Namespace", "apps")
    assert namespace is not None and namespace["status"]["phase"] == "Active"
    assert json.loads(helm(k8s_api, k8s_env, "status", "waited", "-n", "apps", "-o", "json"))["info"]["status"] == "deployed"
