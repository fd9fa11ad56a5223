# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""kubectl (skipped when it is not installed) against the test API server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Dict

import pytest

from ..server import ApiServer

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: demo
data:
  mode: fast
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: demo
  labels:
    app: db
stringData:
  password: hunter2
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
"""


def kubectl(api: ApiServer, env: Dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(api.kubeconfig_path), *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_kubectl_get_apply_and_json(k8s_api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    out = kubectl(k8s_api, k8s_env, "get", "ns")
    assert out.split()[:2] == ["NAME", "AGE"] and "kube-system" in out

    manifest = tmp_path / "manifest.yml"
    manifest.write_text(MANIFEST)
    out = kubectl(k8s_api, k8s_env, "apply", "--validate=false", "-f", str(manifest))
    assert "namespace/demo created" in out and "deployment.apps/web created" in out

    secret = json.loads(kubectl(k8s_api, k8s_env, "get", "secret", "creds", "-n", "demo", "-o", "json"))
    assert secret["data"] == {"password": "aHVudGVyMg=="} and secret["type"] == "Opaque"
    assert "kubectl.kubernetes.io/last-applied-configuration" in secret["metadata"]["annotations"]

    # default (strict) validation works too: the server advertises server-side field validation
    out = kubectl(k8s_api, k8s_env, "apply", "-f", str(manifest))
    assert "configmap/settings unchanged" in out and "deployment.apps/web unchanged" in out

    manifest.write_text(MANIFEST.replace("nginx:1.27", "nginx:1.28"))
    assert "deployment.apps/web configured" in kubectl(k8s_api, k8s_env, "apply", "-f", str(manifest))
    web = k8s_api.store.get_object("apps/v1", "Deployment", "web", "demo")
    assert web is not None and web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert web["metadata"]["generation"] == 2

    assert "creds" in kubectl(k8s_api, k8s_env, "get", "secrets", "-n", "demo", "-l", "app=db")
    assert "No resources found" in subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(k8s_api.kubeconfig_path), "get", "secrets", "-n", "demo", "-l", "app=web"],
        env=k8s_env, capture_output=True, text=True, timeout=60, check=False).stderr
    k8s_api.set_pod_log("demo", "p", "hello\n")
    k8s_api.store.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "demo"},
                       "spec": {"containers": [{"name": "c", "image": "i"}]}})
    assert kubectl(k8s_api, k8s_env, "logs", "p", "-n", "demo") == "hello\n"

    kubectl(k8s_api, k8s_env, "delete", "namespace", "demo")
    assert k8s_api.store.list_objects("v1", "Secret", "demo") == []
