# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""playbooks/verify.yml against the Kubernetes API test server, the Airflow API stand-in
(tests/airflow_api) and a real PostgreSQL (Debian's server binaries, initdb/pg_ctl, on loopback).

All good: rc 0, every check OK in the JSON report (0600 in a 0700 directory), the report says the
cluster is simulated, changed=0 (also with --check), the database probe Job ran and is gone. Then a
missing DAG, an import error, a missing table and a not-Ready pod each fail the run, naming that
thing. No password and no API token ever reaches the output or the report.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from airflow_api.server import AirflowApiServer
from k8s_api.job_controller import JobController

ROOT = Path(__file__).resolve().parents[2]
NS = "datasurface-verify"
ADMIN_PASSWORD = 'af "admin"; $(id) 91zz'
DB_PASSWORD = "pg 'pw'; DROP ROLE x; -- 22bb"
COMPONENTS = ["scheduler", "dag-processor", "triggerer", "api-server", "worker", "redis"]
GOOD_DAG = 'from airflow.sdk import DAG\n\nwith DAG("{id}", schedule=None):\n    pass\n'


def _pg_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL cluster on 127.0.0.1 with the merge database and its tables."""
    psycopg2 = pytest.importorskip("psycopg2")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (Debian package postgresql) are not installed")
    # initdb refuses to run as root: run the server as the `postgres` system user then.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="yellow-verify-pg-"))
    data = base / "data"
    if as_user:
        shutil.chown(base, "postgres", "postgres")
    port = _free_port()

    def run(*cmd):
        return subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60", "start", "-o",
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} -c fsync=off")
    try:
        admin = psycopg2.connect(host=str(base), port=port, user="postgres", dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE ROLE datasurfacedt LOGIN PASSWORD %s", (DB_PASSWORD,))
            cur.execute("CREATE DATABASE merge_db_af3 OWNER datasurfacedt")
        admin.close()
        merge = psycopg2.connect(host=str(base), port=port, user="datasurfacedt", dbname="merge_db_af3")
        merge.autocommit = True
        with merge.cursor() as cur:
            for table in ("test_dp_factory_dags", "scd1_airflow_dsg", "scd2_airflow_datatransformer", "scd1_ingested", "scd1_empty"):
                cur.execute(f'CREATE TABLE "{table}" (id integer)')
            cur.execute("INSERT INTO scd1_ingested VALUES (1), (2)")
            cur.execute('CREATE TABLE "Weird ""name"" t" (id integer)')
            cur.execute('INSERT INTO "Weird ""name"" t" VALUES (1)')
        merge.close()
        yield {"host": "127.0.0.1", "port": port}
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, check=False, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def airflow(tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    for dag_id in ("test_dp_factory", "test_dp_infrastructure", "scd1_ingest"):
        (dags / f"{dag_id}_dag.py").write_text(GOOD_DAG.format(id=dag_id))
    with AirflowApiServer(dags, username="admin", password=ADMIN_PASSWORD) as api:
        api.dags_dir = dags
        yield api


def ready_pod(component: str, ready: bool = True, waiting: str | None = None) -> dict:
    state = {"waiting": {"reason": waiting, "message": "secret \"x\" not found"}} if waiting else {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"airflow-{component}-0", "namespace": NS,
                     "labels": {"component": component, "release": "airflow", "tier": "airflow"}},
        "spec": {"containers": [{"name": component, "image": "apache/airflow:3.1.6"}]},
        "status": {"phase": "Running" if ready else "Pending",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                   "containerStatuses": [{"name": component, "ready": ready, "restartCount": 0, "image": "apache/airflow:3.1.6",
                                          "imageID": "", "state": state}]},
    }


def put_mcp(k8s_api, ready: bool) -> None:
    """The MCP server's Deployment and its Endpoints (the test server serves v1 Endpoints, not EndpointSlices)."""
    labels = {"app": "test-dp-mcp"}
    k8s_api.store.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "test-dp-mcp", "namespace": NS},
                       "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                "template": {"metadata": {"labels": labels},
                                             "spec": {"containers": [{"name": "mcp", "image": "datasurface/datasurface:v1"}]}}},
                       "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1} if ready
                       else {"replicas": 1, "unavailableReplicas": 1}})
    address = {"ip": "10.42.0.30", "targetRef": {"kind": "Pod", "name": "test-dp-mcp-5d8f-x", "namespace": NS}}
    k8s_api.store.put({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "test-dp-mcp", "namespace": NS},
                       "subsets": [{"addresses" if ready else "notReadyAddresses": [address], "ports": [{"port": 8000}]}]})


def seed_cluster(k8s_api, api_port: int) -> None:
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    for component in COMPONENTS:
        k8s_api.store.put(ready_pod(component))
    # A pod of another release with a not-Ready scheduler must not count.
    other = ready_pod("scheduler", ready=False, waiting="ImagePullBackOff")
    other["metadata"].update(name="other-scheduler-0", labels={"component": "scheduler", "release": "other"})
    k8s_api.store.put(other)
    for name, port, node_port in (("airflow-api-server", 8080, api_port), ("test-dp-mcp", 8000, 30900)):
        k8s_api.store.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
                           "spec": {"type": "NodePort", "ports": [{"port": port, "nodePort": node_port, "protocol": "TCP"}],
                                    "selector": {"app": name}}})
    put_mcp(k8s_api, ready=True)
    k8s_api.store.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "postgres", "namespace": NS}, "type": "Opaque",
                       "data": {"USER": base64.b64encode(b"datasurfacedt").decode(),
                                "PASSWORD": base64.b64encode(DB_PASSWORD.encode()).decode()}})


def run_verify(k8s_env, tmp_path, values, *options):
    # The API address is derived the role's default way: first cluster_nodes host + the api-server
    # Service's node port (here the stand-in's port on 127.0.0.1).
    inventory = {"all": {"children": {
        "control": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}},
        "cluster_nodes": {"hosts": {"node1": {"ansible_host": "127.0.0.1"}}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump(values))
    path.chmod(0o600)
    result = subprocess.run(
        ["ansible-playbook", "-v", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{path}", *options, str(ROOT / "playbooks" / "verify.yml")],
        capture_output=True, text=True, env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
        cwd=ROOT, check=False, timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def values_for(k8s_api, postgres, tmp_path, **over):
    values = {
        "yellow_lab": True,
        "yellow_namespace": NS,
        "yellow_kubeconfig": str(k8s_api.kubeconfig_path),
        "yellow_psp_name": "Test_DP",
        "yellow_airflow_admin_password": ADMIN_PASSWORD,
        "yellow_airflow_db_host": postgres["host"],
        "yellow_airflow_db_port": postgres["port"],
        "yellow_k8s_postgres_user": "datasurfacedt",
        "yellow_k8s_postgres_password": DB_PASSWORD,
        "yellow_verify_required_dags": ["test_dp_factory", "test_dp_infrastructure"],
        "yellow_verify_expected_dags": 3,
        "yellow_verify_ingestion_tables": ["scd1_ingested", 'Weird "name" t'],
        "yellow_verify_report_path": str(tmp_path / "reports" / "verify.json"),
    }
    values.update(over)
    return values


def recap(output):
    match = re.search(r"^localhost\s*:\s*(.*)$", output, re.MULTILINE)
    assert match, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def assert_no_secrets(text, airflow):
    for secret in (ADMIN_PASSWORD, DB_PASSWORD, base64.b64encode(DB_PASSWORD.encode()).decode(), *airflow.tokens):
        assert secret not in text, "a secret reached the output or the report"


def test_all_good_then_check_mode(k8s_api, k8s_env, tmp_path, postgres, airflow):
    seed_cluster(k8s_api, int(airflow.url.rsplit(":", 1)[1]))
    values = values_for(k8s_api, postgres, tmp_path, yellow_verify_db_probe=True)
    with JobController(k8s_api, delay=0.3):
        rc, output = run_verify(k8s_env, tmp_path, values)
    assert rc == 0, output[-5000:]
    assert recap(output)["changed"] == 0
    report_path = tmp_path / "reports" / "verify.json"
    report = json.loads(report_path.read_text())
    assert_no_secrets(output + report_path.read_text(), airflow)
    assert report["ok"] is True and report["simulated"] is True and report["namespace"] == NS
    assert {c["check"]: c["status"] for c in report["checks"]} == {
        **{f"pods {c}": "OK" for c in COMPONENTS}, "airflow api": "OK", "airflow health": "OK", "airflow dags": "OK",
        "airflow import errors": "OK", "merge tables": "OK", "ingestion tables": "OK", "mcp service": "OK", "db probe": "OK"}
    assert report["airflow_url"] == airflow.url
    assert "SIMULATED" in output
    assert "OK   mcp service: test-dp-mcp NodePort port 8000 (NodePort 30900)" in output
    assert [c["detail"] for c in report["checks"] if c["check"] == "mcp service"] == [
        "test-dp-mcp NodePort port 8000 (NodePort 30900); Deployment test-dp-mcp 1/1 ready, 1 ready endpoint(s)"]
    assert oct(report_path.stat().st_mode & 0o777) == "0o600" and oct(report_path.parent.stat().st_mode & 0o777) == "0o700"
    # The probe ran as a Job, with the password only through secretKeyRef, and was deleted.
    assert any(r.method == "POST" and r.path.endswith("/jobs") for r in k8s_api.requests)
    assert k8s_api.store.get_object("batch/v1", "Job", "yellow-verify-db-probe", NS) is None
    # The token was asked for once and every /api/v2 read except health carried a bearer token.
    assert [r["path"] for r in airflow.requests].count("/auth/token") == 1
    assert all(r["authorization"] == "bearer" for r in airflow.requests if r["path"] in ("/api/v2/dags", "/api/v2/importErrors"))

    # --check: the same read-only checks; the probe Job (it would create an object) is skipped.
    posts = len([r for r in k8s_api.requests if r.method == "POST"])
    rc, output = run_verify(k8s_env, tmp_path, values, "--check")
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert "SKIP db probe: not run (check mode)" in output
    assert len([r for r in k8s_api.requests if r.method == "POST"]) == posts
    assert_no_secrets(output, airflow)


def _break_missing_dag(k8s_api, airflow, values):
    values["yellow_verify_required_dags"] = ["test_dp_factory", "scd9_never_generated"]
    return ["airflow dags", "missing DAG(s): scd9_never_generated"]


def _break_import_error(k8s_api, airflow, values):
    (airflow.dags_dir / "broken_dag.py").write_text("from airflow.sdk import DAG\nwith DAG('b' schedule=None):\n    pass\n")
    return ["airflow import errors", "broken_dag.py: SyntaxError"]


def _break_missing_table(k8s_api, airflow, values):
    values["yellow_psp_name"] = "Other_DP"
    return ["merge tables", "no table for other_dp_factory_dags"]


def _break_pod(k8s_api, airflow, values):
    k8s_api.store.put(ready_pod("triggerer", ready=False, waiting="CreateContainerConfigError"))
    return ["pods triggerer", "airflow-triggerer-0 Pending (triggerer: CreateContainerConfigError)"]


def _break_mcp(k8s_api, airflow, values):
    # The reported defect: the MCP Service exists, its Deployment is 0/1 ready.
    put_mcp(k8s_api, ready=False)
    return ["mcp service", "not serving: Deployment test-dp-mcp 0/1 ready; Service test-dp-mcp has no ready endpoint"]


@pytest.mark.parametrize("breaker", [_break_missing_dag, _break_import_error, _break_missing_table, _break_pod, _break_mcp],
                         ids=["missing-dag", "import-error", "missing-table", "pod-not-ready", "mcp-not-ready"])
def test_each_problem_fails_naming_it(k8s_api, k8s_env, tmp_path, postgres, airflow, breaker):
    seed_cluster(k8s_api, int(airflow.url.rsplit(":", 1)[1]))
    values = values_for(k8s_api, postgres, tmp_path)
    check, detail = breaker(k8s_api, airflow, values)
    rc, output = run_verify(k8s_env, tmp_path, values)
    assert rc != 0, output[-4000:]
    failure = re.search(r"verify: (\d+) check\(s\) failed: (.*)", output)
    assert failure, output[-4000:]
    assert failure.group(1) == "1" and check in failure.group(2) and detail in failure.group(2), failure.group(0)
    report = json.loads((tmp_path / "reports" / "verify.json").read_text())
    assert report["ok"] is False and report["failed"] == [check]
    assert_no_secrets(output + json.dumps(report), airflow)
