# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""playbooks/verify.yml against the real control plane (tests/cluster) and a real PostgreSQL (Debian's server
binaries, initdb/pg_ctl, on loopback); the Airflow API checks are off here (yellow_verify_airflow: false) and run
against the real Airflow 3.1.6 of the lab instead (tests/lab/tests/test_running_lab.py).

The playbook runs as the OPERATOR identity (exactly the shipped RBAC); the admin sets up and looks. What verify
reads is what the real control plane made: the Airflow component pods are real pods that KWOK's stages make Running
and Ready on the simulated nodes; the MCP server is a Deployment the real Deployment controller rolls out, its
Service's node port is allocated by the API server and its ready endpoints are in the EndpointSlices the real
endpointslice controller derives from the Ready pods; the database probe is a Job the real Job controller completes
(KWOK makes its pod Succeeded: no psql runs, so its success shows the wiring, not the database; the lab's probe
connects for real), watched as the API server streams it and deleted afterwards.

All good: rc 0, every check OK in the JSON report (0600 in a 0700 directory), the report says the nodes are
simulated, changed=0 (also with --check), the probe Job ran and is gone (with --check it is never created). Then a
missing table, a component pod whose container failed (KWOK's chaos stage) and an MCP Deployment whose pod no node
can take (it requests more CPU than a KWOK node has: the real scheduler leaves it Pending, so it is 0/1 ready and the
Service has no ready endpoint) each fail the run, naming that thing. No password ever reaches the output or the
report.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.cluster_state import Watch, complete, condition, usable_namespace
from tests.pg_server import throwaway_postgres

ROOT = Path(__file__).resolve().parents[2]
DB_PASSWORD = "pg 'pw'; DROP ROLE x; -- 22bb"
COMPONENTS = ["scheduler", "dag-processor", "triggerer", "api-server", "worker", "redis"]
# KWOK's own chaos stage (tests/cluster/README.md): the pod's container terminates with this reason.
FAIL_LABEL = "pod-container-running-failed.stage.kwok.x-k8s.io"


@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL server (tests/pg_server.py) with the merge database and its tables."""
    import psycopg2  # pylint: disable=import-outside-toplevel
    with throwaway_postgres("yellow-verify-pg-") as server:
        with server["admin"].cursor() as cur:
            cur.execute("CREATE ROLE datasurfacedt LOGIN PASSWORD %s", (DB_PASSWORD,))
            cur.execute("CREATE DATABASE merge_db_af3 OWNER datasurfacedt")
        merge = psycopg2.connect(host=server["socket"], port=server["port"], user="datasurfacedt", dbname="merge_db_af3")
        merge.autocommit = True
        with merge.cursor() as cur:
            for table in ("test_dp_factory_dags", "scd1_airflow_dsg", "scd2_airflow_datatransformer", "scd1_ingested", "scd1_empty"):
                cur.execute(f'CREATE TABLE "{table}" (id integer)')
            cur.execute("INSERT INTO scd1_ingested VALUES (1), (2)")
            cur.execute('CREATE TABLE "Weird ""name"" t" (id integer)')
            cur.execute('INSERT INTO "Weird ""name"" t" VALUES (1)')
        merge.close()
        yield {"host": "127.0.0.1", "port": server["port"]}


@pytest.fixture
def ns(cluster, k8s_namespace):
    """The test's namespace (the operator granted in it) once its controllers made it usable."""
    return usable_namespace(cluster, k8s_namespace)


def service(name, port, selector, node_port=None):
    entry = {"port": port, "protocol": "TCP", **({"nodePort": node_port} if node_port else {})}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": "NodePort", "ports": [entry], "selector": selector}}


def component_pod(component, release="airflow", name=None, failure=None):
    """A pod as the chart labels them; ``failure``: its container fails with that reason (KWOK's chaos stage)."""
    labels = {"component": component, "release": release, "tier": "airflow"}
    annotations = {}
    if failure:
        labels[FAIL_LABEL] = "true"
        annotations.update({f"{FAIL_LABEL}/reason": failure, f"{FAIL_LABEL}/message": "container failed",
                            f"{FAIL_LABEL}/exit-code": "1"})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name or f"{release}-{component}-0", "labels": labels, "annotations": annotations},
            "spec": {"containers": [{"name": component, "image": "apache/airflow:3.1.6"}]}}


def mcp_deployment(schedulable=True):
    labels = {"app": "test-dp-mcp"}
    container = {"name": "mcp", "image": "datasurface/datasurface:v1"}
    if not schedulable:  # more than any KWOK node's allocatable 3800m: the scheduler leaves the pod Pending
        container["resources"] = {"requests": {"cpu": "5"}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "test-dp-mcp"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}


def failed(space, pod):
    space.until(lambda: (space.get("pod", pod) or {}).get("status", {}).get("phase") == "Failed", f"{pod} to fail")


def seed_cluster(space) -> int:
    """The platform's pods, Services, MCP Deployment and the `postgres` Secret; returns the MCP Service's node port."""
    space.create(*(component_pod(c) for c in COMPONENTS),
                 # A pod of another release with a failed scheduler must not count.
                 component_pod("scheduler", release="other", name="other-scheduler-0", failure="Error"))
    space.create(mcp_deployment(), service("test-dp-mcp", 8000, {"app": "test-dp-mcp"}),
                 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "postgres"}, "type": "Opaque",
                  "data": {"USER": base64.b64encode(b"datasurfacedt").decode(),
                           "PASSWORD": base64.b64encode(DB_PASSWORD.encode()).decode()}})
    for component in COMPONENTS:
        space.wait("--for=condition=Ready", f"pod/airflow-{component}-0")
    failed(space, "other-scheduler-0")
    space.rollout("test-dp-mcp")
    space.until(lambda: space.ready_endpoints("test-dp-mcp") == 1, "the EndpointSlice of test-dp-mcp")
    return space.get("service", "test-dp-mcp")["spec"]["ports"][0]["nodePort"]


def run_verify(k8s_env, tmp_path, values, *options):
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


def values_for(space, k8s_env, postgres, tmp_path, **over):  # pylint: disable=redefined-outer-name
    values = {
        "yellow_lab": True,
        "yellow_namespace": space.name,
        "yellow_kubeconfig": k8s_env["KUBECONFIG"],
        "yellow_psp_name": "Test_DP",
        "yellow_verify_airflow": False,
        "yellow_airflow_db_host": postgres["host"],
        "yellow_airflow_db_port": postgres["port"],
        "yellow_k8s_postgres_user": "datasurfacedt",
        "yellow_k8s_postgres_password": DB_PASSWORD,
        "yellow_verify_ingestion_tables": ["scd1_ingested", 'Weird "name" t'],
        "yellow_verify_report_path": str(tmp_path / "reports" / "verify.json"),
    }
    values.update(over)
    return values


def recap(output):
    match = re.search(r"^localhost\s*:\s*(.*)$", output, re.MULTILINE)
    assert match, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def assert_no_secrets(text):
    for secret in (DB_PASSWORD, base64.b64encode(DB_PASSWORD.encode()).decode()):
        assert secret not in text, "a secret reached the output or the report"


def test_all_good_then_check_mode(ns, k8s_env, tmp_path, postgres):  # pylint: disable=redefined-outer-name
    mcp_port = seed_cluster(ns)
    values = values_for(ns, k8s_env, postgres, tmp_path, yellow_verify_db_probe=True)
    with Watch(ns, "jobs") as jobs:
        rc, output = run_verify(k8s_env, tmp_path, values)
    assert rc == 0, output[-5000:]
    assert recap(output)["changed"] == 0
    report_path = tmp_path / "reports" / "verify.json"
    report = json.loads(report_path.read_text())
    assert_no_secrets(output + report_path.read_text())
    assert report["ok"] is True and report["simulated"] is True and report["namespace"] == ns.name
    assert {c["check"]: c["status"] for c in report["checks"]} == {
        **{f"pods {c}": "OK" for c in COMPONENTS}, "merge tables": "OK", "ingestion tables": "OK", "mcp service": "OK",
        "db probe": "OK"}
    assert [c["detail"] for c in report["checks"] if c["check"] == "pods scheduler"] == ["1/1 Ready"]
    assert report["airflow_url"] is None
    assert "SIMULATED" in output
    assert f"OK   mcp service: test-dp-mcp NodePort port 8000 (NodePort {mcp_port})" in output
    assert [c["detail"] for c in report["checks"] if c["check"] == "mcp service"] == [
        f"test-dp-mcp NodePort port 8000 (NodePort {mcp_port}); Deployment test-dp-mcp 1/1 ready, 1 ready endpoint(s)"]
    assert oct(report_path.stat().st_mode & 0o777) == "0o600" and oct(report_path.parent.stat().st_mode & 0o777) == "0o700"
    # The probe ran as a Job (the password only through secretKeyRef), the Job controller completed it, and it was
    # deleted.
    probe = jobs.added("yellow-verify-db-probe")
    env = {e["name"]: e for e in probe["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PGPASSWORD"] == {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "postgres", "key": "PASSWORD"}}}
    assert DB_PASSWORD not in json.dumps(probe)
    assert jobs.index("yellow-verify-db-probe", complete) is not None
    assert [kind for kind, _obj in jobs.of("yellow-verify-db-probe")][-1] == "DELETED"
    assert ns.get("job", "yellow-verify-db-probe") is None and ns.items("pods", "-l", "job-name=yellow-verify-db-probe") == []

    # --check: the same read-only checks; the probe Job (it would create an object) is never created.
    with Watch(ns, "jobs") as jobs:
        rc, output = run_verify(k8s_env, tmp_path, values, "--check")
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert "SKIP db probe: not run (check mode)" in output
    assert jobs.events == []
    assert_no_secrets(output)


def _break_missing_table(space, values):
    values["yellow_psp_name"] = "Other_DP"
    return ["merge tables", "no table for other_dp_factory_dags"]


def _break_pod(space, values):
    # The triggerer's container fails (KWOK's chaos stage ends the pod Failed with this reason).
    space.delete("pod", "airflow-triggerer-0")
    space.create(component_pod("triggerer", failure="CreateContainerConfigError"))
    failed(space, "airflow-triggerer-0")
    return ["pods triggerer", "no Ready pod: airflow-triggerer-0 Failed (triggerer: CreateContainerConfigError)"]


def _break_mcp(space, values):
    # The reported defect: the MCP Service exists, its Deployment is 0/1 ready. Its pod asks for more CPU than a node
    # has: the real scheduler leaves it Pending (Insufficient cpu), so nothing is Ready behind the Service.
    space.delete("deployment", "test-dp-mcp")
    space.create(mcp_deployment(schedulable=False))
    space.until(lambda: [condition(p, "PodScheduled") for p in space.items("pods", "-l", "app=test-dp-mcp")] == ["False"],
                "the scheduler to refuse the MCP pod")
    space.until(lambda: space.ready_endpoints("test-dp-mcp") == 0, "test-dp-mcp to have no ready endpoint")
    return ["mcp service", "not serving: Deployment test-dp-mcp 0/1 ready; Service test-dp-mcp has no ready endpoint"]


@pytest.mark.parametrize("breaker", [_break_missing_table, _break_pod, _break_mcp],
                         ids=["missing-table", "pod-not-ready", "mcp-not-ready"])
def test_each_problem_fails_naming_it(ns, k8s_env, tmp_path, postgres, breaker):  # pylint: disable=redefined-outer-name
    seed_cluster(ns)
    values = values_for(ns, k8s_env, postgres, tmp_path)
    check, detail = breaker(ns, values)
    rc, output = run_verify(k8s_env, tmp_path, values)
    assert rc != 0, output[-4000:]
    failure = re.search(r"verify: (\d+) check\(s\) failed: (.*)", output)
    assert failure, output[-4000:]
    assert failure.group(1) == "1" and check in failure.group(2) and detail in failure.group(2), failure.group(0)
    report = json.loads((tmp_path / "reports" / "verify.json").read_text())
    assert report["ok"] is False and report["failed"] == [check]
    assert_no_secrets(output + json.dumps(report))
