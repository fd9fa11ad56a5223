# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The airflow role's Helm values for the example inventories are right for chart 1.19.0.

Rendered through ansible-playbook (the role's `values` entry point), then checked here again,
independently: zero schema errors against the chart's values.schema.json, none of the keys the
old HOWTO values file got wrong, no password inline; and a typo in yellow_airflow_values_extra
fails in the role before anything else runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "roles" / "airflow" / "files" / "values.schema.json").read_text())
SHARED_SCHEMA = ROOT.parent / "shared" / "airflow-chart-1.19.0" / "values.schema.json"


def render(inventory: str, tmp_path: Path, *extra: str) -> tuple[int, str, dict]:
    out = tmp_path / "values.yml"
    result = subprocess.run(
        ["ansible-playbook", "-v", "-i", str(ROOT / "inventories" / inventory),
         "-e", f"yellow_test_values_out={out}", "-e", f"ansible_python_interpreter={sys.executable}",
         "-e", "ansible_connection=local", *extra, str(ROOT / "tests" / "integration" / "playbooks" / "render_airflow_values.yml")],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=300,
    )
    values = yaml.safe_load(out.read_text()) if out.exists() else {}
    if out.exists():
        assert out.stat().st_mode & 0o777 == 0o600
    return result.returncode, result.stdout + result.stderr, values


def lookup(values, path):
    for part in path.split("."):
        if not isinstance(values, dict) or part not in values:
            return None
        values = values[part]
    return values


def test_the_role_carries_the_shared_chart_schema():
    if SHARED_SCHEMA.exists():
        assert json.loads(SHARED_SCHEMA.read_text()) == SCHEMA


@pytest.mark.parametrize("inventory", ["k3s", "kubeadm"])
def test_values_validate_and_avoid_the_howto_mistakes(inventory, tmp_path):
    rc, output, values = render(inventory, tmp_path)
    assert rc == 0, output[-3000:]
    assert list(Draft7Validator(SCHEMA).iter_errors(values)) == []
    for path in ("dags.gitSync.credentialsSecretKey", "webserver.defaultUser", "workers.replicas",
                 "workers.persistence", "config.scheduler.dag_dir_list_interval", "dags.gitSync.wait",
                 "data.metadataConnection", "redis.password", "fernetKey"):
        assert lookup(values, path) is None, path
    assert values["airflowVersion"] == values["images"]["airflow"]["tag"] == "3.1.6"
    assert values["executor"] == "CeleryExecutor"
    assert values["dags"]["gitSync"]["credentialsSecret"] == "git-dags"
    assert values["dags"]["gitSync"]["ref"] == values["dags"]["gitSync"]["branch"] == "main"
    assert values["workers"]["celery"]["replicas"] == 2
    # The chart ignores worker/triggerer volumes while the shared logs volume is on: not asked for then.
    assert values["logs"]["persistence"]["enabled"] is True
    assert values["workers"]["celery"]["persistence"] == values["triggerer"]["persistence"] == {"enabled": False}
    # Every Secret chart 1.19.0 would generate anew at each render (Airflow 3.1: the Fernet key, the
    # API secret key, the JWT secret) comes from a Secret the role keeps; none is inline.
    assert {k: values.get(k) for k in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName")} == {
        "fernetKeySecretName": "airflow-static-fernet-key", "apiSecretKeySecretName": "airflow-static-api-secret-key",
        "jwtSecretName": "airflow-static-jwt-secret"}
    for inline in ("fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey", "webserverSecretKeySecretName"):
        assert inline not in values, inline
    assert values["config"]["dag_processor"]["refresh_interval"] == 60
    assert values["data"]["metadataSecretName"] == "airflow-metadata"
    assert values["redis"]["passwordSecretName"] and values["data"]["brokerUrlSecretName"]
    for job in ("migrateDatabaseJob", "createUserJob"):
        assert values[job]["useHelmHooks"] is False and values[job]["applyCustomEnv"] is False
    user = values["createUserJob"]["defaultUser"]
    assert user["role"] == "Admin" and user["password"] == "$(YELLOW_AIRFLOW_ADMIN_PASSWORD)"
    assert values["createUserJob"]["env"][0]["valueFrom"]["secretKeyRef"]["key"] == "password"
    assert values["apiServer"]["service"] == {"type": "NodePort", "ports": [{"name": "api-server", "port": 8080, "nodePort": 30080}]}


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ({"workers": {"celery": {"replica": 3}}}, "workers.celery: unknown key 'replica'"),
        ({"schedulr": {"replicas": 2}}, "(top level): unknown key 'schedulr'"),
        ({"dags": {"gitSync": {"credentialsSecretKey": "token"}}}, "dags.gitSync: unknown key(s) ('credentialsSecretKey'"),
        ({"webserver": {"defaultUser": {"role": "Admin"}}}, "webserver.defaultUser: Airflow 2 only"),
        ({"redis": {"password": "inline-pw-1234"}}, "redis.password: a secret written inline"),
        ({"scheduler": {"replicas": "two"}}, "scheduler.replicas: type"),
        ({"workers": {"celery": {"persistence": {"enabled": True, "size": "50Gi"}}}},
         "workers.celery.persistence.enabled: true is ignored by the chart while logs.persistence.enabled is true "
         "(yellow_airflow_logs_persistence): the pods write to the shared logs volume and yellow_airflow_worker_storage_size has no effect"),
        ({"jwtSecretName": None}, "jwtSecretName: not set, so chart 1.19.0 generates a new JWT secret at every render"),
    ],
    ids=["typo", "top-level-typo", "howto-credentials-key", "airflow2-default-user", "inline-redis-password", "wrong-type",
         "worker-volume-with-logs-volume", "generated-jwt-secret"],
)
def test_bad_extra_values_fail_before_anything_else(extra, fragment, tmp_path):
    rc, output, values = render("k3s", tmp_path, "-e", json.dumps({"yellow_airflow_values_extra": extra}))
    assert rc != 0 and values == {}
    assert fragment in output, output[-3000:]
    assert "inline-pw-1234" not in output


@pytest.mark.parametrize(
    "variables, fragment",
    [
        ({"yellow_airflow_scheduler_replicas": 0}, "scheduler.replicas: must be at least 1"),
        ({"yellow_airflow_worker_replicas": 0}, "workers.celery.replicas: must be at least 1"),
        ({"yellow_airflow_executor": "SequentialExecutorr"}, "yellow_airflow_executor"),
    ],
    ids=["scheduler-replicas", "worker-replicas", "unknown-executor"],
)
def test_bad_role_variables_fail_before_anything_else(variables, fragment, tmp_path):
    rc, output, values = render("k3s", tmp_path, "-e", json.dumps(variables))
    assert rc != 0 and values == {}
    assert fragment in output, output[-3000:]


def test_without_the_logs_volume_each_worker_and_triggerer_gets_its_own(tmp_path):
    extra = {"yellow_airflow_logs_persistence": False, "yellow_airflow_worker_storage_size": "20Gi"}
    rc, output, values = render("k3s", tmp_path, "-e", json.dumps(extra))
    assert rc == 0, output[-3000:]
    assert values["logs"]["persistence"]["enabled"] is False
    assert values["workers"]["celery"]["persistence"] == {"enabled": True, "storageClassName": "longhorn", "size": "20Gi"}
    assert values["triggerer"]["persistence"] == {"enabled": True, "storageClassName": "longhorn", "size": "10Gi"}


# --- The stand-in chart (tests/charts/airflow) against the official chart 1.19.0's own rendering ---

HELM = os.environ.get("YELLOW_HELM", str(ROOT / ".cache" / "bin" / "helm"))
CHART = ROOT / "tests" / "charts" / "airflow"
REFERENCE = ROOT / "tests" / "charts" / "reference"
# The chart's generated Secrets, and the Secrets the role's values name in their place.
KEY_SECRETS = {"airflow-fernet-key": "airflow-static-fernet-key", "airflow-api-secret-key": "airflow-static-api-secret-key",
               "airflow-jwt-secret": "airflow-static-jwt-secret"}


def helm_template(values: dict, tmp_path: Path, namespace: str = "datasurface") -> list[dict]:
    assert os.access(HELM, os.X_OK), f"no helm at {HELM} (tests/cluster/fetch_helm.sh)"
    path = tmp_path / "chart-values.yml"
    path.write_text(yaml.safe_dump(values))
    result = subprocess.run([HELM, "template", "airflow", str(CHART), "-n", namespace, "-f", str(path), "--kube-version", "1.34"],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def objects(docs):
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def official():
    return objects(yaml.safe_load_all((REFERENCE / "official-1.19.0-demo1.yaml").read_text()))


def without_generated(obj):
    """The object without what the official chart generates at random: Secret data and checksum/* values."""
    obj = json.loads(json.dumps(obj))
    if obj["kind"] == "Secret":
        obj.pop("data")
    annotations = ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("annotations") or {}
    for key in annotations:
        if key.startswith("checksum/"):
            annotations[key] = "<checksum>"
    return obj


def containers(obj):
    """{container name: [(env name, secret name, key)]} of a pod template, init containers included."""
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = {}
    for container in spec.get("initContainers", []) + spec.get("containers", []):
        refs = [(e["name"], e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
        found[container["name"]] = refs
    return found


def test_the_stand_in_chart_renders_exactly_what_the_official_chart_renders(tmp_path):
    """For the values of the official rendering (keys inline: the stand-in never generates one), every object is equal."""
    values = yaml.safe_load((REFERENCE / "official-1.19.0-input-values.yaml").read_text())
    values.update(fernetKey="placeholder-1", apiSecretKey="placeholder-2", jwtSecret="placeholder-3")
    ours = objects(helm_template(values, tmp_path, namespace="demo1"))
    theirs = official()
    assert sorted(ours) == sorted(theirs) and len(ours) == 33
    for key, obj in theirs.items():
        assert without_generated(ours[key]) == without_generated(obj), key
    # Deterministic: a second render is byte-identical, checksums included.
    assert helm_template(values, tmp_path, namespace="demo1") == list(ours.values())


@pytest.mark.parametrize("inventory", ["k3s", "lab"])
def test_the_stand_in_chart_for_the_roles_values_matches_the_official_objects(inventory, tmp_path):
    rc, output, values = render(inventory, tmp_path)
    assert rc == 0, output[-3000:]
    ours = objects(helm_template(values, tmp_path))
    assert helm_template(values, tmp_path) == list(ours.values())  # no random data, stable checksums
    theirs = official()
    # The values name the key Secrets (the chart creates none) and, with the shared logs volume,
    # ask for no worker/triggerer volume: chart 1.19.0 then makes the worker and the triggerer Deployments.
    moved = {("StatefulSet", "airflow-worker"): ("Deployment", "airflow-worker"),
             ("StatefulSet", "airflow-triggerer"): ("Deployment", "airflow-triggerer")}
    expected = {moved.get(key, key) for key in theirs if key[1] not in KEY_SECRETS}
    assert sorted(ours) == sorted(expected)
    assert [k for k in ours if k[0] == "StatefulSet"] == [("StatefulSet", "airflow-redis")]
    for (kind, name), obj in theirs.items():
        if name in KEY_SECRETS:
            continue
        mine = ours[moved.get((kind, name), (kind, name))]
        assert mine["metadata"]["labels"] == obj["metadata"]["labels"], name
        want = {c: [(e, KEY_SECRETS.get(s, s), k) for e, s, k in refs] for c, refs in containers(obj).items()}
        assert containers(mine) == want, name
    worker = ours[("Deployment", "airflow-worker")]
    # inventories/lab sizes Airflow for its machine: one worker (group_vars/control.yml).
    assert worker["spec"]["replicas"] == (1 if inventory == "lab" else 2) and "volumeClaimTemplates" not in worker["spec"]
    logs = ours[("PersistentVolumeClaim", "airflow-logs")]["spec"]
    assert logs["storageClassName"] == values["logs"]["persistence"]["storageClassName"]
    redis = ours[("StatefulSet", "airflow-redis")]["spec"]["volumeClaimTemplates"][0]["spec"]
    assert redis["storageClassName"] == values["redis"]["persistence"]["storageClassName"]


def test_the_stand_in_chart_refuses_what_the_official_schema_refuses(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({"workers": {"celery": {"replica": 3}}, "scheduler": {"replicas": "two"}}))
    result = subprocess.run([HELM, "template", "airflow", str(CHART), "-f", str(path)], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr, result.stderr
    assert "replica" in result.stderr and "scheduler" in result.stderr


def test_the_stand_in_chart_carries_the_official_schema_and_defaults():
    assert (CHART / "values.schema.json").read_bytes() == (ROOT / "roles" / "airflow" / "files" / "values.schema.json").read_bytes()
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert (chart["name"], chart["version"], chart["appVersion"]) == ("airflow", "1.19.0", "3.1.7")
