# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The day-2 playbooks (role operations) against the Kubernetes API test server, and a real PostgreSQL.

Each playbook runs through ansible-playbook; the assertions are on its effect: the stored objects
(CronJob content, Jobs created and deleted, the simulator's Deployment, restartedAt, the namespace
gone), the rows of a real PostgreSQL 15 started for the module (initdb/pg_ctl as the `postgres`
user; those tests are skipped when that is not possible), and that refusals change nothing (no
request reaches the server, no table is dropped). update_image needs nodes with containerd: its
control part is bootstrap's update_dags (tested by molecule/bootstrap); here its structure and the
refusal of a bad tag before any node is contacted are checked.
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

from k8s_api.job_controller import JobController

ROOT = Path(__file__).resolve().parents[2]
HELM = os.environ.get("YELLOW_HELM", str(ROOT / ".cache" / "bin" / "helm"))
PG_BIN = Path("/usr/lib/postgresql/15/bin")
NS = "ops-it"
PG_PASSWORD = "pg pw 'x'; $(id) 91zz"


# ---- helpers ---------------------------------------------------------------------------------------

def run(k8s_env, tmp_path, playbook, extra=None, *options, nodes=None, k8s_api=None):
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}
    if nodes:
        inventory["all"]["children"]["cluster_nodes"] = {"hosts": nodes}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    values = {"yellow_namespace": NS, "yellow_ops_job_timeout": 60, **(extra or {})}
    if k8s_api is not None:
        values["yellow_kubeconfig"] = str(k8s_api.kubeconfig_path)
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump(values))
    path.chmod(0o600)
    result = subprocess.run(
        ["ansible-playbook", "-v", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{path}", *options,
         str(ROOT / "playbooks" / f"{playbook}.yml")],
        capture_output=True, text=True, env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
        cwd=ROOT, check=False, timeout=300,
    )
    output = result.stdout + result.stderr
    assert PG_PASSWORD not in output, "the database password reached the output"
    return result.returncode, output


def recap(output):
    match = re.search(r"^localhost\s*:\s*(.*)$", output, re.MULTILINE)
    assert match, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def namespace(api, name=NS):
    api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": "Active"}})


def bootstrap_prereqs(api, name=NS):
    """What the generated Jobs reference (bootstrap checks it before any Job runs): platform_prereqs' Secrets, and the
    objects of kubernetes-bootstrap.yaml that the main bootstrap applied earlier."""
    meta = {"namespace": name}
    for kind, obj_name, body in (
            ("Secret", "git", {"data": {"token": "dA==", "TOKEN": "dA=="}}),
            ("Secret", "postgres", {"data": {"postgres_USER": "dQ==", "postgres_PASSWORD": "cA==", "USER": "dQ==", "PASSWORD": "cA=="}}),
            ("Secret", "dockerhub-creds", {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "e30="}}),
            ("ConfigMap", "test-dp-logging-config", {"data": {"DATASURFACE_LOG_LEVEL": "INFO"}}),
            ("PersistentVolumeClaim", "git-cache-pvc", {"spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}}),
            ("ServiceAccount", "test-dp-sa", {})):
        api.store.put({"apiVersion": "v1", "kind": kind, "metadata": {"name": obj_name, **meta}, **body})


def added(api, kind, name):
    """The object as first created (from the server's change history), or None."""
    for event in api.store.events_after(0, 0):
        if event.type == "ADDED" and event.obj.get("kind") == kind and event.obj["metadata"]["name"] == name:
            return event.obj
    return None


# ---- a real PostgreSQL -----------------------------------------------------------------------------

class Postgres:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="yellow-ops-pg-"))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]

    def as_postgres(self, *args, **kwargs):
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, text=True, **kwargs)

    def start(self):
        shutil.chown(self.dir, "postgres", "postgres")
        self.as_postgres(str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "--auth-local=trust",
                         "--auth-host=scram-sha-256")
        self.as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-l", str(self.dir / "log"),
                         "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def sql(self, database, statement):
        return self.as_postgres(str(PG_BIN / "psql"), "-h", str(self.dir), "-p", str(self.port), "-U", "postgres", "-d", database,
                                "-v", "ON_ERROR_STOP=1", "-qAtc", statement).stdout.strip()

    def tables(self, database):
        return set(self.sql(database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").split())

    def stop(self):
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                        "stop"], check=False, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip("needs root, runuser and PostgreSQL 15 (/usr/lib/postgresql/15/bin) to start a real server")
    server = Postgres()
    try:
        server.start()
        escaped = PG_PASSWORD.replace("'", "''")
        server.sql("postgres", f"CREATE ROLE datasurfacedt LOGIN PASSWORD '{escaped}'")
        for database in ("merge_db_af3", "customer_db"):
            server.sql("postgres", f"CREATE DATABASE {database} OWNER datasurfacedt")
        yield server
    finally:
        server.stop()


def db_vars(server):
    return {"yellow_ops_db_host": "127.0.0.1", "yellow_ops_db_port": server.port, "yellow_ops_db_user": "datasurfacedt",
            "yellow_ops_db_password": PG_PASSWORD, "yellow_ops_db_ssl_mode": "disable"}


# ---- log_cleanup -----------------------------------------------------------------------------------

def test_log_cleanup_cronjob_is_idempotent_and_runs_now(k8s_api, k8s_env, tmp_path):
    namespace(k8s_api)
    rc, output = run(k8s_env, tmp_path, "log_cleanup", k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 1, output[-4000:]
    cron = k8s_api.store.get_object("batch/v1", "CronJob", "airflow-log-cleanup", NS)
    assert cron["spec"]["schedule"] == "0 * * * *" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod_spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod_spec["containers"][0]
    assert {"name": "RETENTION_DAYS", "value": "7"} in container["env"]
    assert "-mmin" in container["command"][2] and "-delete" in container["command"][2]
    assert pod_spec["volumes"] == [{"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-logs"}}]
    assert container["volumeMounts"] == [{"name": "logs", "mountPath": "/logs"}]

    rc, output = run(k8s_env, tmp_path, "log_cleanup", k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]

    # --check with a new retention reports the change and stores nothing
    rc, output = run(k8s_env, tmp_path, "log_cleanup", {"yellow_ops_log_retention_days": 14}, "--check", k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 1, output[-4000:]
    assert k8s_api.store.get_object("batch/v1", "CronJob", "airflow-log-cleanup", NS) == cron

    with JobController(k8s_api, delay=0.3, default="succeed") as jobs:
        rc, output = run(k8s_env, tmp_path, "log_cleanup", {"yellow_ops_log_retention_days": 14, "yellow_ops_log_cleanup_now": True,
                                                            "yellow_ops_log_cleanup_schedule": "30 */2 * * *"}, k8s_api=k8s_api)
        assert rc == 0, output[-4000:]
        assert jobs.when("succeeded", "airflow-log-cleanup-now") is not None
    cron = k8s_api.store.get_object("batch/v1", "CronJob", "airflow-log-cleanup", NS)
    assert cron["spec"]["schedule"] == "30 */2 * * *"
    job = k8s_api.store.get_object("batch/v1", "Job", "airflow-log-cleanup-now", NS)
    assert job["spec"]["template"]["spec"]["containers"][0]["env"][0] == {"name": "RETENTION_DAYS", "value": "14"}
    assert job["spec"]["template"]["spec"]["containers"] == cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert "ran now: succeeded" in output


def test_log_cleanup_bad_schedule_is_refused_before_any_request(k8s_api, k8s_env, tmp_path):
    rc, output = run(k8s_env, tmp_path, "log_cleanup", {"yellow_ops_log_cleanup_schedule": "every hour"}, k8s_api=k8s_api)
    assert rc != 0 and "yellow_ops_log_cleanup_schedule: 'every hour' must have 5 fields" in output, output[-3000:]
    assert len(k8s_api.requests) == 0


# ---- clear_git_cache -------------------------------------------------------------------------------

def test_clear_git_cache_runs_a_job_then_deletes_it(k8s_api, k8s_env, tmp_path):
    namespace(k8s_api)
    rc, output = run(k8s_env, tmp_path, "clear_git_cache", {}, "--check", k8s_api=k8s_api)
    assert rc == 0, output[-4000:]
    assert added(k8s_api, "Job", "yellow-clear-git-cache") is None

    with JobController(k8s_api, delay=0.3, default="succeed") as jobs:
        rc, output = run(k8s_env, tmp_path, "clear_git_cache", k8s_api=k8s_api)
        assert rc == 0, output[-4000:]
        assert jobs.when("succeeded", "yellow-clear-git-cache") is not None
    job = added(k8s_api, "Job", "yellow-clear-git-cache")
    spec = job["spec"]["template"]["spec"]
    assert spec["volumes"] == [{"name": "git-cache", "persistentVolumeClaim": {"claimName": "git-cache-pvc"}}]
    assert spec["containers"][0]["command"][-1].startswith("find /git -mindepth 1 -delete")
    assert k8s_api.store.get_object("batch/v1", "Job", "yellow-clear-git-cache", NS) is None
    assert not k8s_api.store.list_objects("v1", "Pod", NS)
    assert "was emptied" in output


def test_clear_git_cache_fails_fast_with_the_logs(k8s_api, k8s_env, tmp_path):
    namespace(k8s_api)
    with JobController(k8s_api, delay=0.3, default="fail"):
        rc, output = run(k8s_env, tmp_path, "clear_git_cache", k8s_api=k8s_api)
    assert rc != 0 and "BackoffLimitExceeded" in output, output[-3000:]


# ---- data_simulator --------------------------------------------------------------------------------

def test_data_simulator_password_only_through_the_secret_and_counts(k8s_api, k8s_env, tmp_path, postgres):
    namespace(k8s_api)
    k8s_api.store.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "postgres", "namespace": NS},
                       "data": {"USER": base64.b64encode(b"datasurfacedt").decode(),
                                "PASSWORD": base64.b64encode(PG_PASSWORD.encode()).decode()}})
    # The HOWTO's bare pod, password on its command line: removed.
    k8s_api.store.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "data-simulator", "namespace": NS},
                       "spec": {"containers": [{"name": "data-simulator", "image": "x", "args": ["--password", "leaked"]}]}})
    postgres.sql("customer_db", "CREATE TABLE IF NOT EXISTS customers (id text); DELETE FROM customers; "
                                "INSERT INTO customers VALUES ('a'), ('b'), ('c'); GRANT ALL ON customers TO datasurfacedt")
    extra = {**db_vars(postgres), "yellow_datasurface_image_tag": "v1.2.0"}
    rc, output = run(k8s_env, tmp_path, "data_simulator", extra, k8s_api=k8s_api)
    assert rc == 0, output[-4000:]
    assert k8s_api.store.get_object("v1", "Pod", "data-simulator", NS) is None
    deployment = k8s_api.store.get_object("apps/v1", "Deployment", "data-simulator", NS)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "docker.io/datasurface/datasurface:v1.2.0"
    env = {e["name"]: e for e in container["env"]}
    assert env["POSTGRES_PASSWORD"] == {"name": "POSTGRES_PASSWORD",
                                        "valueFrom": {"secretKeyRef": {"name": "postgres", "key": "PASSWORD"}}}
    assert env["POSTGRES_USER"]["valueFrom"]["secretKeyRef"] == {"name": "postgres", "key": "USER"}
    words = container["command"] + container["args"]
    assert "--password" not in container["args"] and not any(PG_PASSWORD in w for w in words)
    assert "value" not in env["POSTGRES_PASSWORD"]
    assert container["command"][:2] == ["python", "-c"] and container["command"][3] == "src/tests/data_change_simulator.py"
    assert container["args"][:6] == ["--host", "127.0.0.1", "--port", str(postgres.port), "--database", "customer_db"]
    assert "customer_db.public.customers: 3 rows" in output, output[-3000:]
    assert "customer_db.public.addresses: no such table yet" in output

    rc, output = run(k8s_env, tmp_path, "data_simulator", extra, k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]

    rc, output = run(k8s_env, tmp_path, "data_simulator", {**extra, "yellow_ops_simulator_state": "stopped"}, k8s_api=k8s_api)
    assert rc == 0, output[-4000:]
    assert k8s_api.store.get_object("apps/v1", "Deployment", "data-simulator", NS) is None


def test_data_simulator_refuses_a_password_in_the_arguments(k8s_api, k8s_env, tmp_path):
    extra = {"yellow_ops_db_host": "pg.example.org", "yellow_ops_db_password": PG_PASSWORD,
             "yellow_ops_simulator_args": ["--host", "pg.example.org", "--password", "hunter2"]}
    rc, output = run(k8s_env, tmp_path, "data_simulator", extra, k8s_api=k8s_api)
    assert rc != 0 and "yellow_ops_simulator_args: must not carry a password option (--password)" in output, output[-3000:]
    assert len(k8s_api.requests) == 0


# ---- mcp -------------------------------------------------------------------------------------------

def seed_mcp(api):
    namespace(api)
    api.add_node("node-1")
    api.store.update_object("v1", "Node", "node-1", lambda n: n.setdefault("status", {}).update(
        {"addresses": [{"type": "InternalIP", "address": "10.1.2.3"}]}))
    api.store.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "test-dp-mcp", "namespace": NS},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "mcp"}},
                            "template": {"metadata": {"labels": {"app": "mcp"}},
                                         "spec": {"containers": [{"name": "mcp", "image": "ds:v1"}]}}},
                   "status": {"readyReplicas": 1, "replicas": 1}})
    api.store.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "airflow-scheduler", "namespace": NS},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "s"}},
                            "template": {"metadata": {"labels": {"app": "s"}}, "spec": {"containers": [{"name": "s", "image": "a"}]}}}})
    api.store.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "test-dp-mcp", "namespace": NS},
                   "spec": {"type": "NodePort", "selector": {"app": "mcp"}, "ports": [{"port": 8000, "nodePort": 30800}]}})


def test_mcp_status_restart_and_snippet(k8s_api, k8s_env, tmp_path):
    seed_mcp(k8s_api)
    rc, output = run(k8s_env, tmp_path, "mcp", k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert "Deployment test-dp-mcp: 1/1 ready" in output and "port 8000 -> nodePort 30800" in output
    assert "URL: http://10.1.2.3:30800/sse" in output

    rc, output = run(k8s_env, tmp_path, "mcp", {"yellow_ops_mcp_action": "restart"}, k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 1, output[-4000:]
    annotations = k8s_api.store.get_object("apps/v1", "Deployment", "test-dp-mcp", NS)["spec"]["template"]["metadata"]["annotations"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", annotations["kubectl.kubernetes.io/restartedAt"])
    scheduler = k8s_api.store.get_object("apps/v1", "Deployment", "airflow-scheduler", NS)
    assert "annotations" not in scheduler["spec"]["template"]["metadata"]

    snippet_file = tmp_path / "cursor" / "mcp.json"
    snippet_file.parent.mkdir()
    snippet_vars = {"yellow_ops_mcp_action": "snippet", "yellow_ops_mcp_host": "ds.tailnet.example",
                    "yellow_ops_mcp_snippet_path": str(snippet_file)}
    rc, output = run(k8s_env, tmp_path, "mcp", snippet_vars, k8s_api=k8s_api)
    assert rc == 0, output[-4000:]
    expected = {"mcpServers": {"datasurface-ops-it": {"url": "http://ds.tailnet.example:30800/sse"}}}
    # What the terminal shows parses as JSON exactly as printed (no quoting, no list of lines).
    assert json.loads(printed_snippet(output)) == expected
    assert json.loads(snippet_file.read_text()) == expected and snippet_file.read_text().endswith("}\n")
    assert f"written to {snippet_file}" in output


def printed_snippet(output: str) -> str:
    """The block the snippet task printed: the lines under its `msg: |-`, as they appear on the terminal."""
    lines = output.split("TASK [datasurface.yellow.operations : Show the Cursor mcp.json snippet]", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "msg: |-") + 1
    block = []
    for line in lines[start:]:
        if not line.startswith("        ") and line.strip():
            break
        block.append(line)
    return "\n".join(block)


def test_mcp_missing_server_is_a_clear_failure(k8s_api, k8s_env, tmp_path):
    namespace(k8s_api)
    rc, output = run(k8s_env, tmp_path, "mcp", {"yellow_ops_mcp_action": "snippet"}, k8s_api=k8s_api)
    assert rc != 0 and "no Deployment or Service in ops-it matches yellow_ops_mcp_name_pattern" in output, output[-3000:]


# ---- capacity_report -------------------------------------------------------------------------------

def test_capacity_report_numbers_for_seeded_nodes_and_pods(k8s_api, k8s_env, tmp_path):
    namespace(k8s_api)
    namespace(k8s_api, "kube-system")
    for name, cpu, memory in (("node-a", "4", "8Gi"), ("node-b", "2", "4Gi")):
        k8s_api.add_node(name)
        k8s_api.store.update_object("v1", "Node", name, lambda n, c=cpu, m=memory: n.setdefault("status", {}).update(
            {"allocatable": {"cpu": c, "memory": m}}))

    def pod(ns, name, node, cpu, memory, phase="Running"):
        k8s_api.store.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                           "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x", "resources": {
                               "requests": {"cpu": cpu, "memory": memory}}}]}, "status": {"phase": phase}})
    pod(NS, "airflow-scheduler-0", "node-a", "1", "2Gi")
    pod(NS, "airflow-worker-0", "node-a", "500m", "1Gi")
    pod("kube-system", "coredns-0", "node-b", "250m", "512Mi")
    pod(NS, "old-job", "node-b", "1", "1Gi", phase="Succeeded")
    extra = {"yellow_ops_job_pod_cpu": "500m", "yellow_ops_job_pod_memory": "1Gi", "yellow_ops_job_minutes": 5,
             "yellow_ops_capacity_schedules": [{"name": "hourly", "minutes": 60}, {"name": "daily", "minutes": 1440}]}
    rc, output = run(k8s_env, tmp_path, "capacity_report", extra, k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert re.search(r"node-a\s+4\s+8Gi\s+1\.5\s+3Gi\s+2\.5\s+5Gi\s+5", output), output[-3000:]
    assert re.search(r"node-b\s+2\s+4Gi\s+250m\s+512Mi\s+1\.75\s+3\.5Gi\s+3", output), output[-3000:]
    assert "concurrent job pods: 8; jobs per hour: 96" in output
    assert re.search(r"hourly\s+60\s+96", output) and re.search(r"daily\s+1440\s+2304", output)

    # Only the namespace's pods: coredns no longer counts on node-b (2 - 0 = 2 cores -> 4 job pods)
    rc, output = run(k8s_env, tmp_path, "capacity_report", {**extra, "yellow_ops_capacity_scope": "namespace"}, k8s_api=k8s_api)
    assert rc == 0 and "concurrent job pods: 9; jobs per hour: 108" in output, output[-3000:]


# ---- teardown --------------------------------------------------------------------------------------

@pytest.mark.parametrize("confirm", [None, "someone-else"])
def test_teardown_refused_without_the_namespace_confirmed(k8s_api, k8s_env, tmp_path, confirm):
    namespace(k8s_api)
    extra = {"yellow_confirm_teardown": confirm} if confirm else {}
    rc, output = run(k8s_env, tmp_path, "teardown", extra, k8s_api=k8s_api)
    assert rc != 0 and "confirm with -e yellow_confirm_teardown=ops-it" in output, output[-3000:]
    assert len(k8s_api.requests) == 0
    assert k8s_api.store.get_object("v1", "Namespace", NS, None)


@pytest.mark.skipif(not os.access(HELM, os.X_OK), reason=f"no helm at {HELM} (tests/k8s_api/fetch_helm.sh)")
def test_teardown_uninstalls_the_release_and_deletes_the_namespace(k8s_api, k8s_env, tmp_path):
    namespace(k8s_api)
    k8s_api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "leftover", "namespace": NS}, "data": {}})
    install = subprocess.run([HELM, "install", "airflow", str(ROOT / "tests/integration/charts/airflow-stub"), "-n", NS,
                              "--kubeconfig", str(k8s_api.kubeconfig_path), "--set", "executor=CeleryExecutor"],
                             capture_output=True, text=True, env=k8s_env, check=False, timeout=120)
    assert install.returncode == 0, install.stderr
    assert any(s["metadata"]["name"].startswith("sh.helm.release.v1.airflow") for s in k8s_api.store.list_objects("v1", "Secret", NS))

    rc, output = run(k8s_env, tmp_path, "teardown", {"yellow_confirm_teardown": NS, "yellow_ops_helm_binary": HELM}, k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 2, output[-4000:]
    assert k8s_api.store.get_object("v1", "Namespace", NS, None) is None
    assert not k8s_api.store.list_objects("v1", "ConfigMap", NS)
    uninstall = [r for r in k8s_api.requests if r.method == "DELETE" and "/deployments/" in r.path]
    assert uninstall, "helm did not uninstall the release's objects"

    rc, output = run(k8s_env, tmp_path, "teardown", {"yellow_confirm_teardown": NS, "yellow_ops_helm_binary": HELM}, k8s_api=k8s_api)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]


# ---- reset_schema ----------------------------------------------------------------------------------

PLATFORM_TABLES = {"test_dp_factory_dags", "test_dp_cqrs_dags", "test_dp_dc_reconcile_dags", "yellowlive_airflow_dsg",
                   "yellowlive_airflow_datatransformer"}


def seed_tables(server):
    for table in PLATFORM_TABLES | {"customers_merged", "yellowlive_airflow_dsg_notes"}:
        server.sql("merge_db_af3", f"CREATE TABLE IF NOT EXISTS {table} (id int); ALTER TABLE {table} OWNER TO datasurfacedt")


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                   capture_output=True, text=True)


def bootstrap_vars(tmp_path):
    """The bootstrap role with the stand-in generator run by this interpreter, from local git repositories."""
    model = tmp_path / "model-repo"
    shutil.copytree(ROOT / "tests/generator_stub/model", model)
    eco = model / "eco.py"
    eco.write_text(eco.read_text().replace('"demo1"', f'"{NS}"'))
    git("init", "-q", "-b", "main", cwd=model)
    git("add", "-A", cwd=model)
    git("commit", "-qm", "model", cwd=model)
    git("tag", "v1", cwd=model)
    dags = tmp_path / "dags.git"
    git("init", "-q", "--bare", "-b", "main", str(dags), cwd=tmp_path)
    return {"yellow_bootstrap_model_repo": str(model), "yellow_bootstrap_model_version": "v1", "yellow_psp_name": "Test_DP",
            "yellow_bootstrap_dag_repo": str(dags), "yellow_bootstrap_runner": "python", "yellow_bootstrap_python": sys.executable,
            "yellow_bootstrap_plain_environment": {"PYTHONPATH": str(ROOT / "tests/generator_stub/src")},
            "yellow_bootstrap_workdir": str(tmp_path / "work"), "yellow_rte_name": "prod", "yellow_bootstrap_job_timeout": 60}


@pytest.mark.parametrize("confirm", [None, "demo1"])
def test_reset_schema_refused_without_the_namespace_confirmed(k8s_api, k8s_env, tmp_path, postgres, confirm):
    seed_tables(postgres)
    extra = {**db_vars(postgres), "yellow_psp_name": "Test_DP", **({"yellow_confirm_reset": confirm} if confirm else {})}
    rc, output = run(k8s_env, tmp_path, "reset_schema", extra, k8s_api=k8s_api)
    assert rc != 0 and "confirm with -e yellow_confirm_reset=ops-it" in output, output[-3000:]
    assert PLATFORM_TABLES <= postgres.tables("merge_db_af3")
    assert len(k8s_api.requests) == 0


def test_reset_schema_drops_the_platform_tables_and_reruns_the_init_jobs(k8s_api, k8s_env, tmp_path, postgres):
    namespace(k8s_api)
    bootstrap_prereqs(k8s_api)
    seed_tables(postgres)
    extra = {**db_vars(postgres), **bootstrap_vars(tmp_path), "yellow_confirm_reset": NS}

    rc, output = run(k8s_env, tmp_path, "reset_schema", extra, "--check", k8s_api=k8s_api)
    assert rc == 0, output[-4000:]
    assert PLATFORM_TABLES <= postgres.tables("merge_db_af3")
    assert ("Dropping from merge_db_af3.public: test_dp_cqrs_dags, test_dp_dc_reconcile_dags, test_dp_factory_dags, "
            "yellowlive_airflow_datatransformer, yellowlive_airflow_dsg") in " ".join(output.split()), output[-3000:]

    with JobController(k8s_api, delay=0.3, default="succeed") as jobs:
        rc, output = run(k8s_env, tmp_path, "reset_schema", extra, k8s_api=k8s_api)
        assert rc == 0, output[-4000:]
        ring1, merge = jobs.when("succeeded", "test-dp-ring1-init"), jobs.when("succeeded", "test-dp-model-merge-job")
    left = postgres.tables("merge_db_af3")
    assert not PLATFORM_TABLES & left
    assert {"customers_merged", "yellowlive_airflow_dsg_notes"} <= left
    assert ring1 is not None and merge is not None and ring1 < merge
    assert jobs.when("created", "test-dp-reconcile-views-job") is None


def test_reset_schema_unreachable_database_is_a_clear_failure(k8s_api, k8s_env, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    extra = {"yellow_ops_db_host": "127.0.0.1", "yellow_ops_db_port": port, "yellow_ops_db_password": PG_PASSWORD,
             "yellow_psp_name": "Test_DP", "yellow_confirm_reset": NS}
    rc, output = run(k8s_env, tmp_path, "reset_schema", extra, k8s_api=k8s_api)
    assert rc != 0 and "reset_schema: cannot list the tables of merge_db_af3.public on 127.0.0.1" in output, output[-3000:]
    assert len(k8s_api.requests) == 0


# ---- update_image ----------------------------------------------------------------------------------

def test_update_image_pulls_on_every_node_then_updates_the_dags(k8s_env):
    playbook = yaml.safe_load((ROOT / "playbooks/update_image.yml").read_text())
    assert [p.get("hosts") or p.get("ansible.builtin.import_playbook") for p in playbook] == ["control", "pull_images.yml", "control"]
    assert playbook[0]["any_errors_fatal"] is True
    pulls = yaml.safe_load((ROOT / "playbooks/pull_images.yml").read_text())
    assert pulls[0]["hosts"] == "cluster_nodes"
    assert pulls[0]["tasks"][0]["ansible.builtin.include_role"] == {"name": "datasurface.yellow.node_prep", "tasks_from": "pull"}
    tasks = yaml.safe_load((ROOT / "roles/operations/tasks/update_image.yml").read_text())
    assert tasks[-1]["ansible.builtin.include_role"] == {"name": "datasurface.yellow.bootstrap", "tasks_from": "update_dags"}
    inventory = str(ROOT / "inventories/k3s")
    result = subprocess.run(["ansible-playbook", "-i", inventory, "--list-tasks", "--list-hosts", str(ROOT / "playbooks/update_image.yml")],
                            capture_output=True, text=True, env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
                            cwd=ROOT, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "k3s-agent-2" in result.stdout and "TAGS: [nodes, pull_images, update_image]" in result.stdout


def test_update_image_bad_tag_stops_before_any_node(k8s_env, tmp_path):
    # The node is unreachable: if the pull play ran, its failure would show as UNREACHABLE.
    nodes = {"node-1": {"ansible_host": "192.0.2.1", "ansible_connection": "ssh", "ansible_ssh_timeout": 1}}
    rc, output = run(k8s_env, tmp_path, "update_image", {"yellow_datasurface_image_tag": "v1 bad"}, nodes=nodes)
    assert rc != 0
    assert "yellow_datasurface_image_tag: 'v1 bad' is not an image tag" in output, output[-3000:]
    assert "PLAY [Pull the platform images on every node]" not in output and "UNREACHABLE" not in output
