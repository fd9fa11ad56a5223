# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The day-2 playbooks (role operations) against the lab's real control plane (tests/cluster), and a real PostgreSQL.

Every playbook runs through ansible-playbook as the OPERATOR identity (user yellow-operator, exactly the shipped RBAC
of playbooks/files/operator-rbac.yml, granted in a fresh namespace per test); the cluster admin only sets up and
looks. The assertions are on real cluster state: the objects as the API server stored and defaulted them (CronJob,
Deployment, Service), their uids, generations and resourceVersions, the Jobs the playbooks create as the API server's
watch streams them (ADDED, the Job controller's Complete condition, DELETED) and completed by the real Job controller
(KWOK's pod-complete stage makes their pods Succeeded), the rollout the real Deployment controller makes of a
restartedAt annotation, pods placed by the real scheduler on the KWOK nodes (allocatable 3800m / 7680Mi), the
namespace really gone (namespace controller). The database parts run against a real PostgreSQL 15 started for the
module (initdb/pg_ctl as the `postgres` user). Refusals change nothing: the run stops at the role's input check (no
Kubernetes task ran, and the recording pass-through in front of the API server, k8s_recorder, saw no request) and
the namespace's objects keep their uids and resourceVersions. update_image needs nodes with
containerd: its control part is bootstrap's update_dags (tested by molecule/bootstrap); here its structure and the
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
import threading
from pathlib import Path

import pytest
import yaml

from tests.cluster.cluster import LAB_NODES
from tests.integration.cluster_state import Watch, complete, condition, usable_namespace

ROOT = Path(__file__).resolve().parents[2]
HELM = os.environ.get("YELLOW_HELM", str(ROOT / ".cache" / "bin" / "helm"))
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PASSWORD = "pg pw 'x'; $(id) 91zz"
# The lab's StorageClass with pre-created volumes (tests/cluster): claims of it bind at once.
STORAGE_CLASS = "local-path"


# ---- running the playbooks as the operator ------------------------------------------------------

def run(k8s_env, tmp_path, playbook, extra=None, *options, namespace="ops-it", nodes=None, kubeconfig=None):
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}
    if nodes:
        inventory["all"]["children"]["cluster_nodes"] = {"hosts": nodes}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    kubeconfig = str(kubeconfig or k8s_env["KUBECONFIG"])
    values = {"yellow_namespace": namespace, "yellow_ops_job_timeout": 60, "yellow_kubeconfig": kubeconfig, **(extra or {})}
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump(values))
    path.chmod(0o600)
    result = subprocess.run(
        ["ansible-playbook", "-v", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{path}", *options,
         str(ROOT / "playbooks" / f"{playbook}.yml")],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=600,
        env=dict(k8s_env, KUBECONFIG=kubeconfig, K8S_AUTH_KUBECONFIG=kubeconfig, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                 ANSIBLE_NOCOLOR="1"),
    )
    output = result.stdout + result.stderr
    assert PG_PASSWORD not in output, "the database password reached the output"
    return result.returncode, output


def recap(output):
    match = re.search(r"^localhost\s*:\s*(.*)$", output, re.MULTILINE)
    assert match, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def tasks_run(output):
    """The names of the tasks the run started, in order."""
    return re.findall(r"^TASK \[(.*?)\]", output, re.MULTILINE)


# ---- the admin's view of the namespace (set-up and assertions) -----------------------------------

@pytest.fixture
def ns(cluster, k8s_namespace):  # pylint: disable=redefined-outer-name
    """The test's namespace (the operator granted in it) once its controllers made it usable."""
    return usable_namespace(cluster, k8s_namespace)


def pvc(name, size="1Gi"):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": STORAGE_CLASS,
                     "resources": {"requests": {"storage": size}}}}


def bound_claims(space, *names):
    space.apply(*(pvc(name) for name in names))
    for name in names:
        space.wait("--for=jsonpath={.status.phase}=Bound", f"pvc/{name}")


def bootstrap_prereqs(space):
    """What the generated Jobs reference (bootstrap checks it before any Job runs): platform_prereqs' Secrets, and the
    objects of kubernetes-bootstrap.yaml that the main bootstrap applied earlier (the claim bound to a lab volume)."""
    space.apply(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git"}, "data": {"token": "dA==", "TOKEN": "dA=="}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "postgres"},
         "data": {"postgres_USER": "dQ==", "postgres_PASSWORD": "cA==", "USER": "dQ==", "PASSWORD": "cA=="}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dockerhub-creds"}, "type": "kubernetes.io/dockerconfigjson",
         "data": {".dockerconfigjson": base64.b64encode(b'{"auths": {}}').decode()}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "test-dp-logging-config"}, "data": {"DATASURFACE_LOG_LEVEL": "INFO"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "test-dp-sa"}})
    bound_claims(space, "git-cache-pvc")


def deployment(name, labels, replicas=1, pod_labels=None, containers=None, node=None):
    spec = {"containers": containers or [{"name": name, "image": "registry.example/app:v1"}]}
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": {**labels, **(pod_labels or {})}}, "spec": spec}}}


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
    assert os.geteuid() == 0 and (PG_BIN / "initdb").exists() and shutil.which("runuser"), \
        "needs root, runuser and PostgreSQL 15 (/usr/lib/postgresql/15/bin, scripts/setup.sh) to start a real server"
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

def test_log_cleanup_cronjob_is_idempotent_and_runs_now(ns, k8s_env, tmp_path):
    bound_claims(ns, "airflow-logs")
    rc, output = run(k8s_env, tmp_path, "log_cleanup", namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 1, output[-4000:]
    cron = ns.get("cronjob", "airflow-log-cleanup")
    assert cron["spec"]["schedule"] == "0 * * * *" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod_spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod_spec["containers"][0]
    assert {"name": "RETENTION_DAYS", "value": "7"} in container["env"]
    assert "-mmin" in container["command"][2] and "-delete" in container["command"][2]
    assert pod_spec["volumes"] == [{"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-logs"}}]
    assert container["volumeMounts"] == [{"name": "logs", "mountPath": "/logs"}]
    assert container["securityContext"] == {"runAsUser": 50000, "runAsGroup": 0}

    # The second run changes nothing: not even the stored object's resourceVersion.
    rc, output = run(k8s_env, tmp_path, "log_cleanup", namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert ns.get("cronjob", "airflow-log-cleanup") == cron

    # --check with a new retention reports the change and stores nothing
    rc, output = run(k8s_env, tmp_path, "log_cleanup", {"yellow_ops_log_retention_days": 14}, "--check", namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 1, output[-4000:]
    assert ns.get("cronjob", "airflow-log-cleanup") == cron

    with Watch(ns, "jobs") as jobs:
        rc, output = run(k8s_env, tmp_path, "log_cleanup", {"yellow_ops_log_retention_days": 14, "yellow_ops_log_cleanup_now": True,
                                                            "yellow_ops_log_cleanup_schedule": "30 */2 * * *"}, namespace=ns.name)
    assert rc == 0, output[-4000:]
    assert "ran now: succeeded" in output
    updated = ns.get("cronjob", "airflow-log-cleanup")
    # Patched in place: the same object (uid), a new generation.
    assert updated["spec"]["schedule"] == "30 */2 * * *" and updated["metadata"]["uid"] == cron["metadata"]["uid"]
    assert updated["metadata"]["generation"] == cron["metadata"]["generation"] + 1
    cron = updated
    assert {obj["metadata"]["name"] for _kind, obj in jobs.events} == {"airflow-log-cleanup-now"}
    job = ns.get("job", "airflow-log-cleanup-now")
    assert complete(job) and job["status"]["succeeded"] == 1
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert job["spec"]["template"]["spec"]["containers"][0]["env"][0] == {"name": "RETENTION_DAYS", "value": "14"}
    # The Job's containers are the CronJob's, field for field as the API server stored both.
    assert job["spec"]["template"]["spec"]["containers"] == cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    pods = ns.items("pods", "-l", "job-name=airflow-log-cleanup-now")
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"] and pods[0]["spec"]["nodeName"] in LAB_NODES


def test_log_cleanup_bad_schedule_is_refused_before_any_request(ns, k8s_env, k8s_recorder, tmp_path):
    before = ns.snapshot()
    rc, output = run(k8s_env, tmp_path, "log_cleanup", {"yellow_ops_log_cleanup_schedule": "every hour"}, namespace=ns.name,
                     kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0 and "yellow_ops_log_cleanup_schedule: 'every hour' must have 5 fields" in output, output[-3000:]
    assert tasks_run(output)[-1] == "datasurface.yellow.operations : Check the log_cleanup inputs"
    assert k8s_recorder.requests == [] and ns.snapshot() == before and ns.get("cronjob", "airflow-log-cleanup") is None


# ---- clear_git_cache -------------------------------------------------------------------------------

def test_clear_git_cache_runs_a_job_then_deletes_it(ns, k8s_env, tmp_path):
    bound_claims(ns, "git-cache-pvc")
    with Watch(ns, "jobs") as jobs:
        rc, output = run(k8s_env, tmp_path, "clear_git_cache", {}, "--check", namespace=ns.name)
    assert rc == 0, output[-4000:]
    assert jobs.events == [] and ns.items("jobs") == []

    with Watch(ns, "jobs") as jobs, Watch(ns, "pods") as pods:
        rc, output = run(k8s_env, tmp_path, "clear_git_cache", namespace=ns.name)
    assert rc == 0, output[-4000:]
    assert "was emptied" in output
    created = jobs.added("yellow-clear-git-cache")
    spec = created["spec"]["template"]["spec"]
    assert spec["volumes"] == [{"name": "git-cache", "persistentVolumeClaim": {"claimName": "git-cache-pvc"}}]
    assert spec["containers"][0]["command"][-1].startswith("find /git -mindepth 1 -delete")
    # The real Job controller completed it (KWOK ran its pod to Succeeded), then the playbook deleted it and its pod.
    done = jobs.index("yellow-clear-git-cache", complete)
    assert done is not None and [kind for kind, _obj in jobs.of("yellow-clear-git-cache")][-1] == "DELETED"
    ran = {obj["metadata"]["name"] for kind, obj in pods.events if (obj.get("status") or {}).get("phase") == "Succeeded"}
    assert len(ran) == 1 and [kind for kind, _obj in pods.of(ran.pop())][-1] == "DELETED"
    assert ns.get("job", "yellow-clear-git-cache") is None
    assert ns.items("pods") == []


def test_clear_git_cache_fails_fast_naming_the_pod_security_violation(ns, k8s_env, tmp_path):
    """The real PodSecurity admission of a namespace enforcing `restricted` refuses the Job's pod (the container has no
    restricted securityContext): the Job controller reports FailedCreate and the run fails naming the violation. With
    yellow_ops_git_cache_security_context set as `restricted` asks, the same Job runs."""
    ns.kubectl("label", "namespace", ns.name, "pod-security.kubernetes.io/enforce=restricted")
    bound_claims(ns, "git-cache-pvc")
    rc, output = run(k8s_env, tmp_path, "clear_git_cache", namespace=ns.name)
    assert rc != 0 and "FailedCreate" in output and 'violates PodSecurity "restricted:latest"' in output, output[-3000:]
    assert "allowPrivilegeEscalation != false" in output

    restricted = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
                  "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}}
    with Watch(ns, "jobs") as jobs:
        rc, output = run(k8s_env, tmp_path, "clear_git_cache", {"yellow_ops_git_cache_security_context": restricted},
                         namespace=ns.name)
    assert rc == 0, output[-4000:]
    assert jobs.added("yellow-clear-git-cache")["spec"]["template"]["spec"]["containers"][0]["securityContext"] == restricted
    assert jobs.index("yellow-clear-git-cache", complete) is not None and ns.get("job", "yellow-clear-git-cache") is None


# ---- data_simulator --------------------------------------------------------------------------------

SIMULATOR = "app.kubernetes.io/name=data-simulator"


def test_data_simulator_password_only_through_the_secret_and_counts(ns, k8s_env, tmp_path, postgres):
    """The Deployment's pod is Ready by KWOK; stopping waits until the real garbage collector removed its ReplicaSet
    and pods (the simulator no longer writes when the playbook returns)."""
    ns.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "postgres"},
              "data": {"USER": base64.b64encode(b"datasurfacedt").decode(),
                       "PASSWORD": base64.b64encode(PG_PASSWORD.encode()).decode()}})
    # The HOWTO's bare pod, password on its command line: removed.
    ns.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "data-simulator"},
               "spec": {"containers": [{"name": "data-simulator", "image": "x", "args": ["--password", "leaked"]}]}})
    ns.wait("--for=condition=Ready", "pod/data-simulator")
    bare_uid = ns.get("pod", "data-simulator")["metadata"]["uid"]
    postgres.sql("customer_db", "CREATE TABLE IF NOT EXISTS customers (id text); DELETE FROM customers; "
                                "INSERT INTO customers VALUES ('a'), ('b'), ('c'); GRANT ALL ON customers TO datasurfacedt")
    extra = {**db_vars(postgres), "yellow_datasurface_image_tag": "v1.2.0"}
    with Watch(ns, "pods") as pods:
        rc, output = run(k8s_env, tmp_path, "data_simulator", extra, namespace=ns.name)
    assert rc == 0, output[-4000:]
    assert any(kind == "DELETED" and obj["metadata"]["uid"] == bare_uid for kind, obj in pods.events)
    assert ns.get("pod", "data-simulator") is None
    deployment_obj = ns.get("deployment", "data-simulator")
    container = deployment_obj["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "docker.io/datasurface/datasurface:v1.2.0"
    env = {e["name"]: e for e in container["env"]}
    assert env["POSTGRES_PASSWORD"] == {"name": "POSTGRES_PASSWORD",
                                        "valueFrom": {"secretKeyRef": {"name": "postgres", "key": "PASSWORD"}}}
    assert env["POSTGRES_USER"]["valueFrom"]["secretKeyRef"] == {"name": "postgres", "key": "USER"}
    words = container["command"] + container["args"]
    assert "--password" not in container["args"] and not any(PG_PASSWORD in w for w in words)
    assert container["command"][:2] == ["python", "-c"] and container["command"][3] == "src/tests/data_change_simulator.py"
    assert container["args"][:6] == ["--host", "127.0.0.1", "--port", str(postgres.port), "--database", "customer_db"]
    assert "customer_db.public.customers: 3 rows" in output, output[-3000:]
    assert "customer_db.public.addresses: no such table yet" in output
    # The real pod the ReplicaSet made: Ready, the password nowhere in it (only the secretKeyRef).
    ns.rollout("data-simulator")
    [pod] = ns.items("pods", "-l", SIMULATOR)
    assert condition(pod, "Ready") == "True" and pod["spec"]["containers"][0]["env"] == container["env"]
    assert PG_PASSWORD not in json.dumps(pod) and base64.b64encode(PG_PASSWORD.encode()).decode() not in json.dumps(pod)

    generation = ns.get("deployment", "data-simulator")["metadata"]["generation"]
    rc, output = run(k8s_env, tmp_path, "data_simulator", extra, namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert ns.get("deployment", "data-simulator")["metadata"]["generation"] == generation

    with Watch(ns, "pods") as pods, Watch(ns, "deployments") as deployments:
        rc, output = run(k8s_env, tmp_path, "data_simulator", {**extra, "yellow_ops_simulator_state": "stopped"},
                         namespace=ns.name)
    assert rc == 0, output[-4000:]
    assert ns.get("deployment", "data-simulator") is None
    assert ns.items("replicasets", "-l", SIMULATOR) == [] and ns.items("pods", "-l", SIMULATOR) == []
    # The simulator's pod was gone before its Deployment (foreground deletion: the garbage collector removes the
    # ReplicaSet and the pod first), so it no longer writes once the playbook says stopped. The lab's API server
    # stores in etcd, whose revisions (the resourceVersions) order every write.
    [gone] = [int(obj["metadata"]["resourceVersion"]) for kind, obj in deployments.of("data-simulator") if kind == "DELETED"]
    stopped = [int(obj["metadata"]["resourceVersion"]) for kind, obj in pods.events if kind == "DELETED"]
    assert stopped and max(stopped) < gone, (stopped, gone)


def test_data_simulator_refuses_a_password_in_the_arguments(ns, k8s_env, k8s_recorder, tmp_path):
    before = ns.snapshot()
    extra = {"yellow_ops_db_host": "pg.example.org", "yellow_ops_db_password": PG_PASSWORD,
             "yellow_ops_simulator_args": ["--host", "pg.example.org", "--password", "hunter2"]}
    rc, output = run(k8s_env, tmp_path, "data_simulator", extra, namespace=ns.name, kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0 and "yellow_ops_simulator_args: must not carry a password option (--password)" in output, output[-3000:]
    assert tasks_run(output)[-1] == "datasurface.yellow.operations : Check the data_simulator inputs"
    assert k8s_recorder.requests == [] and ns.snapshot() == before


# ---- mcp -------------------------------------------------------------------------------------------

def seed_mcp(space):
    """The MCP server's Deployment (Ready through KWOK) and NodePort Service (node port allocated by the API server,
    EndpointSlice by the real endpointslice controller), and the scheduler's Deployment beside it."""
    space.apply(deployment("test-dp-mcp", {"app": "mcp"}), deployment("airflow-scheduler", {"app": "s"}),
                {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "test-dp-mcp"},
                 "spec": {"type": "NodePort", "selector": {"app": "mcp"}, "ports": [{"port": 8000}]}})
    for name in ("test-dp-mcp", "airflow-scheduler"):
        space.rollout(name)
    space.until(lambda: any(e.get("conditions", {}).get("ready") for s in space.items(
        "endpointslices", "-l", "kubernetes.io/service-name=test-dp-mcp") for e in s.get("endpoints") or []),
        "a ready endpoint of test-dp-mcp")
    return space.get("service", "test-dp-mcp")["spec"]["ports"][0]["nodePort"]


def first_node_address(space):
    """The address the role offers clients: the first node (by name) with one, ExternalIP before InternalIP."""
    nodes = sorted(json.loads(space.kubectl("get", "nodes", "-o", "json").stdout)["items"], key=lambda n: n["metadata"]["name"])
    for node in nodes:
        addresses = {a["type"]: a["address"] for a in node["status"].get("addresses") or []}
        for kind in ("ExternalIP", "InternalIP", "Hostname"):
            if addresses.get(kind):
                return addresses[kind]
    raise AssertionError("no node has an address")


def test_mcp_status_restart_and_snippet(ns, k8s_env, tmp_path):
    node_port = seed_mcp(ns)
    address = first_node_address(ns)
    rc, output = run(k8s_env, tmp_path, "mcp", namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert "Deployment test-dp-mcp: 1/1 ready" in output and f"port 8000 -> nodePort {node_port}" in output
    assert f"URL: http://{address}:{node_port}/sse" in output

    before = ns.get("deployment", "test-dp-mcp")
    scheduler = ns.get("deployment", "airflow-scheduler")
    old_sets = {rs["metadata"]["name"] for rs in ns.items("replicasets", "-l", "app=mcp")}
    rc, output = run(k8s_env, tmp_path, "mcp", {"yellow_ops_mcp_action": "restart"}, namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 1, output[-4000:]
    after = ns.get("deployment", "test-dp-mcp")
    stamp = after["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", stamp)
    assert after["metadata"]["uid"] == before["metadata"]["uid"] and after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    # The real Deployment controller rolls it: a new ReplicaSet whose pod carries the annotation, the old one at 0.
    ns.rollout("test-dp-mcp")
    sets = {rs["metadata"]["name"]: rs for rs in ns.items("replicasets", "-l", "app=mcp")}
    new = [rs for name, rs in sets.items() if name not in old_sets]
    assert len(new) == 1 and new[0]["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == stamp
    assert all(sets[name]["spec"]["replicas"] == 0 for name in old_sets)
    [pod] = [p for p in ns.items("pods", "-l", "app=mcp") if not p["metadata"].get("deletionTimestamp")]
    assert pod["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == stamp
    untouched = ns.get("deployment", "airflow-scheduler")
    assert untouched["metadata"]["generation"] == scheduler["metadata"]["generation"]
    assert "annotations" not in untouched["spec"]["template"]["metadata"]

    snippet_file = tmp_path / "cursor" / "mcp.json"
    snippet_file.parent.mkdir()
    snippet_vars = {"yellow_ops_mcp_action": "snippet", "yellow_ops_mcp_host": "ds.tailnet.example",
                    "yellow_ops_mcp_snippet_path": str(snippet_file)}
    rc, output = run(k8s_env, tmp_path, "mcp", snippet_vars, namespace=ns.name)
    assert rc == 0, output[-4000:]
    expected = {"mcpServers": {f"datasurface-{ns.name}": {"url": f"http://ds.tailnet.example:{node_port}/sse"}}}
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


def test_mcp_missing_server_is_a_clear_failure(ns, k8s_env, tmp_path):
    rc, output = run(k8s_env, tmp_path, "mcp", {"yellow_ops_mcp_action": "snippet"}, namespace=ns.name)
    assert rc != 0 and f"no Deployment or Service in {ns.name} matches yellow_ops_mcp_name_pattern" in output, output[-3000:]


# ---- capacity_report -------------------------------------------------------------------------------

def sized(name, cpu=None, memory=None, node=None, limits=None, init=(), pod_level=None, labels=None):
    """A bare pod (its requests as the API server will default and canonicalise them)."""
    resources = {}
    if cpu or memory:
        resources["requests"] = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    if limits:
        resources["limits"] = limits
    spec = {"containers": [{"name": "c", "image": "registry.example/app:v1", "resources": resources}],
            "initContainers": list(init)}
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    if pod_level:
        spec["resources"] = pod_level
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {"app": "sized"}}, "spec": spec}


def report_row(output, node):
    """The figures of one row of the table the report printed."""
    shown = output.split("TASK [datasurface.yellow.operations : Show the capacity report]", 1)[1]
    match = re.search(rf"^\s*- '?{re.escape(node)}\s+(.*?)'?\s*$", shown, re.MULTILINE)
    assert match, shown[-3000:]
    return match.group(1).split()


def test_capacity_report_prints_the_kwok_nodes_and_the_scheduled_requests(ns, k8s_env, tmp_path):
    """The nodes' real allocatable (KWOK nodes: 3800m / 7680Mi) and the requests of this namespace's pods as the real
    scheduler placed them (nodeSelector steers each to a node; the scheduler still decides: the one no node can take
    stays Pending). Quantities arrive as the API server canonicalises them ("0.25" -> "250m"), a container with only
    limits gets requests from the API server's defaulting, a native sidecar (init container with restartPolicy Always)
    counts as the scheduler counts it, and so do pod-level requests; a completed Job's pod and a pod without requests
    add nothing. The figures are printed exactly, as Kubernetes prints quantities."""
    sidecar_init = [{"name": "proxy", "image": "registry.example/proxy:v1", "restartPolicy": "Always",
                     "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}}},
                    {"name": "migrate", "image": "registry.example/app:v1",
                     "resources": {"requests": {"cpu": "1", "memory": "64Mi"}}}]
    ns.create(
        sized("web-a", cpu="0.25", memory="256Mi", node="yellow-lab-node1"),
        sized("web-b", cpu="250m", memory="0.25Gi", node="yellow-lab-node1"),
        sized("big", cpu="1500m", memory="3Gi", node="yellow-lab-node2"),
        # scheduler: max(containers + sidecars = 300m / 384Mi, migrate + sidecar = 1200m / 320Mi) = 1200m / 384Mi
        sized("with-sidecar", cpu="100m", memory="128Mi", node="yellow-lab-node2", init=sidecar_init),
        sized("limits-only", limits={"cpu": "750m", "memory": "1Gi"}, node="yellow-lab-node3"),
        sized("best-effort", node="yellow-lab-node3"),
        # pod-level requests (PodLevelResources, on by default in 1.34): the scheduler counts these, not the containers'
        sized("pod-level", cpu="100m", node="yellow-lab-node3", pod_level={"requests": {"cpu": "400m", "memory": "512Mi"}}),
        sized("too-big", cpu="5", memory="1Gi"))
    ns.apply({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "done"},
              "spec": {"backoffLimit": 0, "template": {"spec": {
                  "restartPolicy": "Never", "nodeSelector": {"kubernetes.io/hostname": "yellow-lab-node3"},
                  "containers": [{"name": "c", "image": "registry.example/app:v1",
                                  "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}]}}}})
    ns.wait("--for=condition=Complete", "job/done")
    for name in ("web-a", "web-b", "big", "with-sidecar", "limits-only", "best-effort", "pod-level"):
        ns.wait("--for=condition=Ready", f"pod/{name}")
    ns.until(lambda: condition(ns.get("pod", "too-big"), "PodScheduled") == "False", "the scheduler to refuse too-big")
    placed = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in ns.items("pods")}
    assert placed == {"web-a": "yellow-lab-node1", "web-b": "yellow-lab-node1", "big": "yellow-lab-node2",
                      "with-sidecar": "yellow-lab-node2", "limits-only": "yellow-lab-node3", "best-effort": "yellow-lab-node3",
                      "pod-level": "yellow-lab-node3", "too-big": None,
                      **{p["metadata"]["name"]: "yellow-lab-node3" for p in ns.items("pods", "-l", "job-name=done")}}
    stored = ns.get("pod", "web-a")["spec"]["containers"][0]["resources"]["requests"]
    assert stored == {"cpu": "250m", "memory": "256Mi"}
    assert ns.get("pod", "limits-only")["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "750m", "memory": "1Gi"}

    extra = {"yellow_ops_job_pod_cpu": "500m", "yellow_ops_job_pod_memory": "1Gi", "yellow_ops_job_minutes": 5,
             "yellow_ops_capacity_scope": "namespace",
             "yellow_ops_capacity_schedules": [{"name": "hourly", "minutes": 60}, {"name": "daily", "minutes": 1440}]}
    rc, output = run(k8s_env, tmp_path, "capacity_report", extra, namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert f"Pods counted: namespace {ns.name}" in output
    # node  alloc cpu  alloc mem  req cpu  req mem  free cpu  free mem  job pods
    assert report_row(output, "yellow-lab-node1") == ["3800m", "7680Mi", "500m", "512Mi", "3300m", "7Gi", "6"]
    assert report_row(output, "yellow-lab-node2") == ["3800m", "7680Mi", "2700m", "3456Mi", "1100m", "4224Mi", "2"]
    assert report_row(output, "yellow-lab-node3") == ["3800m", "7680Mi", "1150m", "1536Mi", "2650m", "6Gi", "5"]
    assert report_row(output, "TOTAL") == ["11400m", "23040Mi", "4350m", "5504Mi", "7050m", "17536Mi", "13"]
    assert "unscheduled pods (not counted on any node): 1 requesting cpu 5, memory 1Gi" in output
    assert "concurrent job pods: 13; jobs per hour: 156" in output
    assert re.search(r"hourly\s+60\s+156", output) and re.search(r"daily\s+1440\s+3744", output)


def test_capacity_report_counts_every_namespace_as_the_scheduler_does(ns, cluster, k8s_env, tmp_path):  # pylint: disable=redefined-outer-name
    """The default scope: every namespace's pods on the shared cluster. Other tests place pods at the same time, so
    the expected figures are the admin's own sums over the pods listed just before and just after the run, retried
    until both lists agree."""
    ns.create(sized("here", cpu="300m", memory="300Mi", node="yellow-lab-node1"))
    ns.wait("--for=condition=Ready", "pod/here")
    extra = {"yellow_ops_job_pod_cpu": "500m", "yellow_ops_job_pod_memory": "1Gi"}
    from ansible_collections.datasurface.yellow.plugins.plugin_utils import capacity  # pylint: disable=import-outside-toplevel

    def listed():
        pods = json.loads(cluster.kubectl("get", "pods", "--all-namespaces", "-o", "json",
                                          "--field-selector=status.phase!=Succeeded,status.phase!=Failed").stdout)["items"]
        sums = {}
        for pod in pods:
            node = pod["spec"].get("nodeName")
            cpu, memory = capacity.pod_requests(pod)
            total = sums.setdefault(node, [0, 0])
            total[0], total[1] = total[0] + cpu, total[1] + memory
        return sums
    for _attempt in range(10):
        before = listed()
        rc, output = run(k8s_env, tmp_path, "capacity_report", extra, namespace=ns.name)
        if listed() == before:
            break
    else:
        pytest.fail("the cluster's pods kept changing during every run")
    assert rc == 0, output[-4000:]
    assert "Pods counted: all namespaces" in output
    for node in LAB_NODES:
        cpu, memory = before.get(node, [0, 0])
        assert report_row(output, node)[2:4] == [capacity.format_cpu(cpu), capacity.format_memory(memory)], node
    assert before["yellow-lab-node1"][0] >= 300


# ---- teardown --------------------------------------------------------------------------------------

@pytest.mark.parametrize("confirm", [None, "someone-else"])
def test_teardown_refused_without_the_namespace_confirmed(ns, k8s_env, k8s_recorder, tmp_path, confirm):
    ns.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep"}, "data": {}})
    before = ns.snapshot()
    extra = {"yellow_confirm_teardown": confirm} if confirm else {}
    rc, output = run(k8s_env, tmp_path, "teardown", extra, namespace=ns.name, kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0 and f"confirm with -e yellow_confirm_teardown={ns.name}" in output, output[-3000:]
    assert tasks_run(output)[-1] == "datasurface.yellow.operations : Check the teardown inputs"
    assert k8s_recorder.requests == [] and ns.snapshot() == before


def release_chart(path):
    """A small chart standing for the Airflow release: a Deployment (pods Ready through KWOK), a Service, a ConfigMap."""
    (path / "templates").mkdir(parents=True)
    (path / "Chart.yaml").write_text("apiVersion: v2\nname: airflow\nversion: 0.1.0\n")
    (path / "templates" / "objects.yaml").write_text(yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{ .Release.Name }}-config"}, "data": {"a": "b"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "{{ .Release.Name }}-api-server"},
         "spec": {"selector": {"component": "api-server"}, "ports": [{"port": 8080}]}},
        {**deployment("{{ .Release.Name }}-scheduler", {"component": "scheduler", "release": "{{ .Release.Name }}"})}]))
    return path


def test_teardown_uninstalls_the_release_and_deletes_the_namespace(ns, k8s_env, tmp_path):
    """helm uninstall deletes the release's objects itself (their DELETED events come before the namespace's deletion
    starts), then the namespace controller empties the namespace (the leftover ConfigMap, the pods) and the playbook
    returns only once the namespace is gone. A second run changes nothing: the namespace is gone, and with it the
    operator's RoleBinding, so it must not ask Helm to list releases there (that was Forbidden)."""
    assert os.access(HELM, os.X_OK), f"no helm at {HELM} (tests/cluster/fetch_helm.sh)"
    ns.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "leftover"}, "data": {}})
    install = subprocess.run([HELM, "install", "airflow", str(release_chart(tmp_path / "chart")), "-n", ns.name, "--wait",
                              "--timeout", "120s"], capture_output=True, text=True, env=k8s_env, check=False, timeout=180)
    assert install.returncode == 0, install.stderr
    assert ns.names("secrets", "-l", "owner=helm") == ["sh.helm.release.v1.airflow.v1"]
    namespace_uid = json.loads(ns.kubectl("get", "namespace", ns.name, "-o", "json").stdout)["metadata"]["uid"]

    with Watch(ns, "deployments") as deployments, Watch(ns, "configmaps") as configmaps, Watch(ns, "namespace") as space:
        rc, output = run(k8s_env, tmp_path, "teardown", {"yellow_confirm_teardown": ns.name, "yellow_ops_helm_binary": HELM},
                         namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 2, output[-4000:]
    # Gone when the playbook returns, not merely Terminating.
    gone = ns.kubectl("get", "namespace", ns.name, "-o", "name", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr, gone.stdout
    assert [(kind, obj["metadata"]["uid"]) for kind, obj in space.events if kind == "DELETED"] == [("DELETED", namespace_uid)]
    # The lab's API server stores in etcd, whose revisions (the resourceVersions) order every write: helm deleted the
    # release's Deployment and ConfigMap before the namespace was marked for deletion; the namespace controller
    # deleted the leftover ConfigMap after.
    marked = min(int(obj["metadata"]["resourceVersion"]) for _kind, obj in space.events if obj["metadata"].get("deletionTimestamp"))

    def deleted(watch, name):
        [version] = [int(obj["metadata"]["resourceVersion"]) for kind, obj in watch.of(name) if kind == "DELETED"]
        return version
    assert deleted(deployments, "airflow-scheduler") < marked and deleted(configmaps, "airflow-config") < marked
    assert deleted(configmaps, "leftover") > marked

    rc, output = run(k8s_env, tmp_path, "teardown", {"yellow_confirm_teardown": ns.name, "yellow_ops_helm_binary": HELM},
                     namespace=ns.name)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]


def test_teardown_waits_for_a_namespace_already_being_deleted(ns, k8s_env, k8s_recorder, tmp_path):
    """After an interrupted teardown the namespace is Terminating and the namespace controller has already deleted the
    operator's RoleBinding in it: Helm could no longer list the releases there (Forbidden). teardown then neither
    calls Helm nor deletes again: it waits until the namespace is gone. A finalizer of the test's holds the
    namespace until the playbook is waiting (seen through the recording pass-through to the API server)."""
    ns.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["yellow.test/hold"]}})
    ns.kubectl("delete", "namespace", ns.name, "--wait=false")
    ns.until(lambda: ns.kubectl("auth", "can-i", "list", "secrets", "-n", ns.name, "--as", "yellow-operator",
                                check=False).stdout.strip() == "no", "the namespace controller to delete the operator's RoleBinding")

    def release():
        ns.until(lambda: len([r for r in k8s_recorder.requests if r.method == "GET" and ns.name in r.path]) >= 2,
                 "the playbook to wait for the namespace", timeout=300)
        ns.kubectl("patch", "configmap", "held", "-n", ns.name, "--type=json", "-p", '[{"op": "remove", "path": "/metadata/finalizers"}]')
    releaser = threading.Thread(target=release, daemon=True)
    releaser.start()
    rc, output = run(k8s_env, tmp_path, "teardown", {"yellow_confirm_teardown": ns.name, "yellow_ops_helm_binary": HELM},
                     namespace=ns.name, kubeconfig=k8s_recorder.kubeconfig)
    releaser.join(timeout=60)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    assert "TASK [datasurface.yellow.operations : Wait until the namespace being deleted is gone]" in output
    assert [r for r in k8s_recorder.requests if r.method != "GET" or "/secrets" in r.path] == []
    gone = ns.kubectl("get", "namespace", ns.name, "-o", "name", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr, gone.stdout


# ---- reset_schema ----------------------------------------------------------------------------------

PLATFORM_TABLES = {"test_dp_factory_dags", "test_dp_cqrs_dags", "test_dp_dc_reconcile_dags", "yellowlive_airflow_dsg",
                   "yellowlive_airflow_datatransformer"}


def seed_tables(server):
    for table in PLATFORM_TABLES | {"customers_merged", "yellowlive_airflow_dsg_notes"}:
        server.sql("merge_db_af3", f"CREATE TABLE IF NOT EXISTS {table} (id int); ALTER TABLE {table} OWNER TO datasurfacedt")


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                   capture_output=True, text=True)


def bootstrap_vars(tmp_path, namespace):
    """The bootstrap role with the stand-in generator run by this interpreter, from local git repositories."""
    model = tmp_path / "model-repo"
    shutil.copytree(ROOT / "tests/generator_stub/model", model)
    eco = model / "eco.py"
    eco.write_text(eco.read_text().replace('"demo1"', f'"{namespace}"'))
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
def test_reset_schema_refused_without_the_namespace_confirmed(ns, k8s_env, k8s_recorder, tmp_path, postgres, confirm):
    seed_tables(postgres)
    before = ns.snapshot()
    extra = {**db_vars(postgres), "yellow_psp_name": "Test_DP", **({"yellow_confirm_reset": confirm} if confirm else {})}
    rc, output = run(k8s_env, tmp_path, "reset_schema", extra, namespace=ns.name, kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0 and f"confirm with -e yellow_confirm_reset={ns.name}" in output, output[-3000:]
    assert tasks_run(output)[-1] == "datasurface.yellow.operations : Check the reset_schema inputs"
    assert PLATFORM_TABLES <= postgres.tables("merge_db_af3")
    assert k8s_recorder.requests == [] and ns.snapshot() == before


def test_reset_schema_drops_the_platform_tables_and_reruns_the_init_jobs(ns, k8s_env, tmp_path, postgres):
    bootstrap_prereqs(ns)
    seed_tables(postgres)
    extra = {**db_vars(postgres), **bootstrap_vars(tmp_path, ns.name), "yellow_confirm_reset": ns.name}

    with Watch(ns, "jobs") as jobs:
        rc, output = run(k8s_env, tmp_path, "reset_schema", extra, "--check", namespace=ns.name)
    assert rc == 0, output[-4000:]
    assert jobs.events == []
    assert PLATFORM_TABLES <= postgres.tables("merge_db_af3")
    assert ("Dropping from merge_db_af3.public: test_dp_cqrs_dags, test_dp_dc_reconcile_dags, test_dp_factory_dags, "
            "yellowlive_airflow_datatransformer, yellowlive_airflow_dsg") in " ".join(output.split()), output[-3000:]

    with Watch(ns, "jobs") as jobs:
        rc, output = run(k8s_env, tmp_path, "reset_schema", extra, namespace=ns.name)
    assert rc == 0, output[-4000:]
    left = postgres.tables("merge_db_af3")
    assert not PLATFORM_TABLES & left
    assert {"customers_merged", "yellowlive_airflow_dsg_notes"} <= left
    # ring1-init completed (the real Job controller's Complete condition) before model-merge was created.
    ring1_done = jobs.index("test-dp-ring1-init", complete)
    merge_created = jobs.index("test-dp-model-merge-job", lambda obj: True)
    assert ring1_done is not None and merge_created is not None and ring1_done < merge_created
    assert jobs.index("test-dp-model-merge-job", complete) is not None
    assert jobs.added("test-dp-reconcile-views-job") is None and ns.get("job", "test-dp-reconcile-views-job") is None


def test_reset_schema_unreachable_database_is_a_clear_failure(ns, k8s_env, k8s_recorder, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    before = ns.snapshot()
    extra = {"yellow_ops_db_host": "127.0.0.1", "yellow_ops_db_port": port, "yellow_ops_db_password": PG_PASSWORD,
             "yellow_psp_name": "Test_DP", "yellow_confirm_reset": ns.name}
    rc, output = run(k8s_env, tmp_path, "reset_schema", extra, namespace=ns.name, kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0 and "reset_schema: cannot list the tables of merge_db_af3.public on 127.0.0.1" in output, output[-3000:]
    assert tasks_run(output)[-1] == "datasurface.yellow.operations : Check that the merge database answered"
    assert k8s_recorder.requests == [] and ns.snapshot() == before


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
