# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The airflow role's release through the real helm CLI against the Kubernetes API test server.

A local stand-in chart (one Deployment per Airflow component) replaces the official chart, which
the test machine cannot download. A thread plays the controllers: it marks each Deployment's
rollout ready and creates a Ready pod per component, so `helm --wait` and the role's readiness
report have something real to wait for. Asserted: the credential secrets, the values helm
received, a second run changed=0, and a component that never gets Ready is named in the failure.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = os.environ.get("YELLOW_HELM", str(ROOT / ".cache" / "bin" / "helm"))
NS = "datasurface"
SECRETS = {"yellow_airflow_db_password": "db p@ss/w'rd 81aa", "yellow_airflow_redis_password": "redis pw 82bb",
           "yellow_airflow_admin_password": "admin pw 83cc"}

pytestmark = pytest.mark.skipif(not os.access(HELM, os.X_OK), reason=f"no helm at {HELM} (tests/k8s_api/fetch_helm.sh)")


class Controllers(threading.Thread):
    """Marks Deployments ready and gives each component a Ready pod, except those told to stay broken."""

    def __init__(self, api, broken=()):
        super().__init__(daemon=True)
        self.api, self.broken, self.stop = api, set(broken), threading.Event()

    def run(self):
        while not self.stop.wait(0.2):
            for deployment in self.api.store.list_objects("apps/v1", "Deployment", NS):
                labels = deployment["metadata"].get("labels", {})
                component = labels.get("component")
                name = deployment["metadata"]["name"]
                if component in self.broken:
                    pod_status = {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}],
                                  "containerStatuses": [{"name": component, "ready": False,
                                                         "state": {"waiting": {"reason": "CreateContainerConfigError"}}}]}
                else:
                    if (deployment.get("status") or {}).get("readyReplicas") != 1:
                        self.api.mark_rollout_ready("Deployment", NS, name)
                    pod_status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
                if self.api.store.get_object("v1", "Pod", name + "-0", NS) is None:
                    self.api.store.put({"apiVersion": "v1", "kind": "Pod",
                                        "metadata": {"name": name + "-0", "namespace": NS, "labels": labels},
                                        "spec": {"containers": [{"name": component, "image": "x"}]},
                                        "status": pod_status})


def run(k8s_api, k8s_env, tmp_path, extra=None):
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    values = {"yellow_airflow_kubeconfig": str(k8s_api.kubeconfig_path), "yellow_airflow_namespace": NS,
              "yellow_airflow_helm_binary": HELM, "yellow_airflow_chart_ref": str(ROOT / "tests/integration/charts/airflow-stub"),
              "yellow_airflow_git_repo": "https://example.org/dags.git", "yellow_airflow_db_host": "pg.example.org",
              "yellow_airflow_helm_timeout": "60s", "yellow_airflow_ready_timeout": 10, **SECRETS, **(extra or {})}
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump(values))
    path.chmod(0o600)
    result = subprocess.run(["ansible-playbook", "-v", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{path}",
                             str(ROOT / "tests/integration/playbooks/airflow_release.yml")],
                            capture_output=True, text=True, env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
                            cwd=ROOT, check=False, timeout=600)
    output = result.stdout + result.stderr
    for secret in SECRETS.values():
        assert secret not in output
    return result.returncode, output


def changed(output):
    return int(re.search(r"^localhost\s*:.*changed=(\d+)", output, re.MULTILINE).group(1))


def test_release_installs_waits_and_is_idempotent(k8s_api, k8s_env, tmp_path):
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    controllers = Controllers(k8s_api)
    controllers.start()
    try:
        rc, output = run(k8s_api, k8s_env, tmp_path)
        assert rc == 0, output[-4000:]
        assert "scheduler, worker, dag-processor, triggerer, api-server, redis Ready" in output
        data = {k: base64.b64decode(v).decode()
                for k, v in k8s_api.store.get_object("v1", "Secret", "airflow-metadata", NS)["data"].items()}
        assert data == {"connection": "postgresql://datasurfacedt:db%20p%40ss%2Fw%27rd%2081aa@pg.example.org:5432/airflow_db"}
        broker = base64.b64decode(k8s_api.store.get_object("v1", "Secret", "airflow-broker-url", NS)["data"]["connection"]).decode()
        assert broker == "redis://:redis%20pw%2082bb@airflow-redis:6379/0"
        seen = k8s_api.store.get_object("v1", "ConfigMap", "airflow-values-seen", NS)["data"]
        assert seen == {"executor": "CeleryExecutor", "airflowVersion": "3.1.6", "gitSyncSecret": "git-dags",
                        "metadataSecretName": "airflow-metadata", "createUserJobHooks": "false",
                        "fernetKeySecretName": "airflow-static-fernet-key", "apiSecretKeySecretName": "airflow-static-api-secret-key",
                        "jwtSecretName": "airflow-static-jwt-secret"}
        rc, output = run(k8s_api, k8s_env, tmp_path)
        assert rc == 0 and changed(output) == 0, output[-4000:]
    finally:
        controllers.stop.set()


KEY_SECRETS = {"airflow-static-fernet-key": "fernet-key", "airflow-static-api-secret-key": "api-secret-key",
               "airflow-static-jwt-secret": "jwt-secret"}


def key_secrets(k8s_api):
    found = {}
    for name, key in KEY_SECRETS.items():
        secret = k8s_api.store.get_object("v1", "Secret", name, NS)
        assert secret is not None, f"no Secret {name}"
        assert list(secret["data"]) == [key], secret["data"]
        found[name] = (secret["metadata"]["resourceVersion"], base64.b64decode(secret["data"][key]).decode())
    return found


def checksums(k8s_api):
    return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/generated-secrets"]
            for d in k8s_api.store.list_objects("apps/v1", "Deployment", NS)}


def test_the_chart_generated_keys_come_from_secrets_created_once(k8s_api, k8s_env, tmp_path):
    """The stand-in chart generates its keys at every render, as chart 1.19.0 does, unless the values name Secrets."""
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    controllers = Controllers(k8s_api)
    controllers.start()
    try:
        rc, output = run(k8s_api, k8s_env, tmp_path)
        assert rc == 0, output[-4000:]
        first = key_secrets(k8s_api)
        fernet = first["airflow-static-fernet-key"][1]
        assert len(base64.urlsafe_b64decode(fernet)) == 32  # a valid Fernet key
        assert len({value for _version, value in first.values()}) == 3
        for _version, value in first.values():
            assert value not in output
        # The chart generated nothing: no Secret of its own, the same pod-template checksum everywhere.
        assert not [s for s in k8s_api.store.list_objects("v1", "Secret", NS)
                    if s["metadata"]["name"] in ("airflow-fernet-key", "airflow-api-secret-key", "airflow-jwt-secret")]
        before = checksums(k8s_api)
        assert len(before) == 6 and len(set(before.values())) == 1, before

        rc, output = run(k8s_api, k8s_env, tmp_path)
        assert rc == 0 and changed(output) == 0, output[-4000:]
        # An upgrade that changes a value re-renders the chart: the keys and the checksums stay.
        rc, output = run(k8s_api, k8s_env, tmp_path, {"yellow_airflow_worker_replicas": 3})
        assert rc == 0 and changed(output) == 1, output[-4000:]
        assert k8s_api.store.get_object("v1", "ConfigMap", "airflow-values-seen", NS) is not None
        assert key_secrets(k8s_api) == first
        assert checksums(k8s_api) == before
    finally:
        controllers.stop.set()


def test_existing_key_secrets_are_kept_and_the_charts_former_keys_adopted(k8s_api, k8s_env, tmp_path):
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})

    def encode(text):
        return base64.b64encode(text.encode()).decode()

    # An operator's own JWT Secret, and the Fernet key the chart generated for a release installed before.
    k8s_api.store.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "airflow-static-jwt-secret", "namespace": NS},
                       "data": {"jwt-secret": encode("operator-jwt-84dd")}})
    k8s_api.store.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "airflow-fernet-key", "namespace": NS},
                       "data": {"fernet-key": encode("former-fernet-85ee")}})
    rc, output = run(k8s_api, k8s_env, tmp_path, {"yellow_airflow_install_mode": "render"})
    assert rc == 0, output[-4000:]
    found = key_secrets(k8s_api)
    assert found["airflow-static-jwt-secret"][1] == "operator-jwt-84dd"
    assert found["airflow-static-fernet-key"][1] == "former-fernet-85ee"
    assert "operator-jwt-84dd" not in output and "former-fernet-85ee" not in output
    rc, output = run(k8s_api, k8s_env, tmp_path, {"yellow_airflow_install_mode": "render"})
    assert rc == 0 and changed(output) == 0, output[-4000:]
    assert key_secrets(k8s_api) == found


def test_a_key_secret_without_its_key_is_refused(k8s_api, k8s_env, tmp_path):
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    k8s_api.store.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "airflow-static-fernet-key", "namespace": NS},
                       "data": {"value": base64.b64encode(b"misplaced-86ff").decode()}})
    rc, output = run(k8s_api, k8s_env, tmp_path, {"yellow_airflow_install_mode": "render"})
    assert rc != 0
    assert ("yellow_airflow_fernet_key_secret: Secret airflow-static-fernet-key exists in datasurface without key "
            "'fernet-key'") in output, output[-4000:]
    assert "misplaced-86ff" not in output


def write_chart(tmp_path, template):
    chart = tmp_path / "refused-chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: airflow-refused\nversion: 1.19.0\n")
    (chart / "templates" / "refused.yaml").write_text(template)
    return chart


def test_a_helm_failure_fails_at_once_with_helms_error(k8s_api, k8s_env, tmp_path):
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    chart = write_chart(tmp_path, '{{ fail "the stand-in chart refuses these values (test 87aa)" }}\n')
    # A ready timeout the role would wait out (with retries every 5 s) if it did not see Helm's failure.
    rc, output = run(k8s_api, k8s_env, tmp_path, {"yellow_airflow_chart_ref": str(chart), "yellow_airflow_ready_timeout": 3600})
    assert rc != 0
    assert "airflow: helm upgrade --install airflow failed:" in output, output[-4000:]
    failure = output[output.index("airflow: helm upgrade --install airflow failed:"):]
    assert "the stand-in chart refuses these values (test 87aa)" in failure.split("not Ready:")[0]
    assert "not Ready: scheduler (no pod), worker (no pod)" in failure
    assert "TASK [datasurface.yellow.airflow : Read the Airflow pods]" not in output
    assert "RETRYING" not in output
    assert re.search(r"^localhost\s*:.*failed=1", output, re.MULTILINE), output[-2000:]


def test_helms_error_is_scrubbed_of_every_secret(k8s_api, k8s_env, tmp_path):
    """A helm whose error text repeats the secrets (plain, URL-encoded, base64): none reaches the output."""
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    helm = tmp_path / "echoing-helm"
    encoded = {"plain": list(SECRETS.values()),
               "url": [urllib.parse.quote(v, safe="") for v in SECRETS.values()],
               "base64": [base64.b64encode(v.encode()).decode() for v in SECRETS.values()]}
    (tmp_path / "helm-error.txt").write_text(f"Error: the test helm refuses (88bb): {json.dumps(encoded)}\n")
    helm.write_text("#!/bin/sh\n"
                    "[ \"$1\" = version ] && { echo 'version.BuildInfo{Version:\"v3.17.2\", GitCommit:\"x\"}'; exit 0; }\n"
                    f"cat '{tmp_path / 'helm-error.txt'}' >&2\nexit 1\n")
    helm.chmod(0o755)
    rc, output = run(k8s_api, k8s_env, tmp_path, {"yellow_airflow_helm_binary": str(helm)})  # run() asserts no plain secret
    assert rc != 0
    assert "airflow: helm upgrade --install airflow failed:" in output, output[-4000:]
    failure = output[output.index("airflow: helm upgrade --install airflow failed:"):].split("not Ready:")[0]
    assert "Error: the test helm refuses (88bb)" in failure
    for forms in encoded.values():
        for form in forms:
            assert form not in output
    assert failure.count("********") == 9, failure
    assert "RETRYING" not in output


def test_a_component_that_never_gets_ready_is_named(k8s_api, k8s_env, tmp_path):
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    controllers = Controllers(k8s_api, broken={"triggerer"})
    controllers.start()
    try:
        rc, output = run(k8s_api, k8s_env, tmp_path, {"yellow_airflow_helm_timeout": "5s"})
    finally:
        controllers.stop.set()
    assert rc != 0
    assert "triggerer" in output


def test_bad_values_stop_the_release_before_any_cluster_call(k8s_api, k8s_env, tmp_path):
    rc, output = run(k8s_api, k8s_env, tmp_path, {"yellow_airflow_values_extra": {"workers": {"celery": {"replica": 3}}}})
    assert rc != 0
    assert "workers.celery: unknown key 'replica'" in output
    assert len(k8s_api.requests) == 0, "the cluster was called"


def test_render_mode_creates_the_secrets_and_never_runs_helm(k8s_api, k8s_env, tmp_path):
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    # A helm that cannot run: render mode must not call it.
    render = {"yellow_airflow_install_mode": "render", "yellow_airflow_helm_binary": str(tmp_path / "no-helm-here")}
    rc, output = run(k8s_api, k8s_env, tmp_path, render)
    assert rc == 0, output[-4000:]
    assert "render mode" in output and "Helm was NOT run" in output
    assert k8s_api.store.get_object("v1", "Secret", "airflow-metadata", NS) is not None
    assert k8s_api.store.list_objects("v1", "Secret", NS, label_selector="owner=helm") == []
    rc, output = run(k8s_api, k8s_env, tmp_path, render)
    assert rc == 0 and changed(output) == 0, output[-4000:]
