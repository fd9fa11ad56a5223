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
