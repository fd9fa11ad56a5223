# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""playbooks/preflight.yml on the real control plane (tests/cluster), through ansible-playbook as the operator.

A good inventory passes (rc 0, changed=0, also with --check); each broken inventory (one fault
each) fails with a message naming the variable, changed=0, no write request to the API server (the
playbook talks to it through ``k8s_recorder``, a recording proxy that forwards with the operator's
certificate) and no secret value in the output. The nodes are the cluster's three KWOK nodes with the
pod networks the controller-manager's node-ipam gave them (``spec.podCIDRs`` inside 10.244.0.0/16);
the pod-network cases make the inventory contradict those real networks. The PostgreSQL host and the node are TEST-NET addresses reached
over SSH: preflight must never connect to them (a connection attempt would make them unreachable).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "registry": "reg tok 1f9e",
    "pg": "pg pw 2c8d",
    "mask": "mask pw 3b7c",
    "git": "git tok 4a6b",
    "redis": "redis pw 5e5a",
    "admin": "admin pw 6d49",
    "url_token": "ghp0urlTok7e11",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
POD_CIDR = "10.244.0.0/16"  # the control plane's --cluster-cidr (tests/cluster/cluster.py)


@pytest.fixture
def pg_port():
    """A listening TCP port standing in for PostgreSQL."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def closed_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def baseline(kubeconfig, tmp_path, port):
    helm = tmp_path / "helm"
    helm.write_text("#!/bin/sh\necho v3.17.2+stub\n")
    helm.chmod(0o755)
    return {
        "yellow_cluster_type": "k3s",
        "yellow_lab": False,
        "yellow_datasurface_image": "docker.io/datasurface/datasurface",
        "yellow_datasurface_image_tag": "v1.1.0",
        "yellow_namespace": "datasurface",
        "yellow_kubeconfig": str(kubeconfig),
        "yellow_psp_name": "Test_DP",
        "yellow_rte_name": "prod",
        "yellow_node_registries": [{"host": "docker.io", "username": "bot", "password": SECRETS["registry"]}],
        "yellow_pg_hba_cidrs": ["10.244.0.0/16", "100.64.0.0/10"],
        "yellow_pod_cidrs": ["10.244.0.0/16"],
        "yellow_pg_users": [{"name": "datasurfacedt", "password": SECRETS["pg"]},
                            {"name": "mask_dt_cred", "password": SECRETS["mask"]}],
        "yellow_k8s_registry_username": "bot",
        "yellow_k8s_registry_password": SECRETS["registry"],
        "yellow_k8s_postgres_password": SECRETS["pg"],
        "yellow_k8s_mask_password": SECRETS["mask"],
        "yellow_k8s_git_username": "git-bot",
        "yellow_k8s_git_token": SECRETS["git"],
        "yellow_airflow_git_repo": "https://github.com/example-org/datasurface-dags.git",
        "yellow_airflow_db_host": "127.0.0.1",
        "yellow_airflow_db_port": port,
        "yellow_airflow_db_password": SECRETS["pg"],
        "yellow_airflow_redis_password": SECRETS["redis"],
        "yellow_airflow_admin_password": SECRETS["admin"],
        "yellow_airflow_helm_binary": str(helm),
        "yellow_bootstrap_model_repo": "https://github.com/example-org/datasurface-model.git",
        "yellow_bootstrap_model_version": "v1.0.0",
        # the lab machine may lack a container engine; the engine probe has its own case below
        "yellow_bootstrap_runner": "python",
        "yellow_preflight_postgres_timeout": 2,
    }


def node_pod_cidrs(cluster):
    """The pod networks the controller-manager gave the nodes, in the API server's order."""
    cidrs = [cidr for node in cluster.get("nodes")["items"] for cidr in node.get("spec", {}).get("podCIDRs", [])]
    assert cidrs and all(ipaddress.ip_network(c).subnet_of(ipaddress.ip_network(POD_CIDR)) for c in cidrs), cidrs
    return cidrs


def run(k8s_env, tmp_path, values, *options, kubeconfig=None):
    unreachable = {"ansible_timeout": 3, "ansible_ssh_common_args": "-o ConnectTimeout=3"}
    inventory = {"all": {"children": {
        "cluster_nodes": {"children": {"k3s_servers": {"hosts": {"node-1": {"ansible_host": "192.0.2.10", **unreachable}}}}},
        "postgres": {"hosts": {"pg-1": {"ansible_host": "192.0.2.20", **unreachable}}},
        "control": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}},
    }}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump({k: v for k, v in values.items() if v is not None}))
    path.chmod(0o600)
    result = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{path}", *options,
         str(ROOT / "playbooks" / "preflight.yml")],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=300,
        env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                 # a call that ignored yellow_kubeconfig would reach the recording proxy too
                 **({"KUBECONFIG": str(kubeconfig), "K8S_AUTH_KUBECONFIG": str(kubeconfig)} if kubeconfig else {})),
    )
    output = result.stdout + result.stderr
    for secret in SECRETS.values():
        assert secret not in output, "a secret value reached the output"
    return result.returncode, output


def recap(output):
    totals = {}
    for line in re.findall(r"^\S+\s*:\s*(ok=.*)$", output, re.MULTILINE):
        for key, value in re.findall(r"(\w+)=(\d+)", line):
            totals[key] = totals.get(key, 0) + int(value)
    assert totals, output[-3000:]
    return totals


def assert_read_only(recorder, output):
    assert recap(output)["changed"] == 0, output[-3000:]
    assert recap(output)["unreachable"] == 0, "preflight connected to a host other than the control node"
    assert recorder.writes() == [], f"the API server saw writes: {recorder.writes()}"


def test_good_inventory_passes_and_changes_nothing(k8s_env, k8s_recorder, tmp_path, pg_port):
    # Straight to the API server (TLS, the operator's certificate), then through the recording proxy.
    values = baseline(k8s_env["KUBECONFIG"], tmp_path, pg_port)
    rc, output = run(k8s_env, tmp_path, values)
    assert rc == 0, output[-4000:]
    assert re.search(r"preflight: \d+ checks passed on 3 host\(s\)", output), output[-2000:]

    values = baseline(k8s_recorder.kubeconfig, tmp_path, pg_port)
    rc, output = run(k8s_env, tmp_path, values, kubeconfig=k8s_recorder.kubeconfig)
    assert rc == 0, output[-4000:]
    assert_read_only(k8s_recorder, output)
    assert ("GET", "/api/v1/nodes", 200) in k8s_recorder.requests, k8s_recorder.requests
    assert ("GET", "/apis/storage.k8s.io/v1/storageclasses", 200) in k8s_recorder.requests, k8s_recorder.requests

    rc, output = run(k8s_env, tmp_path, values, "--check", kubeconfig=k8s_recorder.kubeconfig)
    assert rc == 0, output[-4000:]
    assert_read_only(k8s_recorder, output)


def test_pod_network_is_read_from_the_nodes(cluster, k8s_env, k8s_recorder, tmp_path, pg_port):
    """Without yellow_pod_cidrs the nodes' real spec.podCIDRs (inside yellow_pg_hba_cidrs' 10.244.0.0/16) pass."""
    assert len(node_pod_cidrs(cluster)) >= 3
    values = baseline(k8s_recorder.kubeconfig, tmp_path, pg_port)
    values.update(yellow_pod_cidrs=None)
    rc, output = run(k8s_env, tmp_path, values, kubeconfig=k8s_recorder.kubeconfig)
    assert rc == 0, output[-4000:]
    assert_read_only(k8s_recorder, output)


def test_skips_are_reported_and_pass(k8s_env, k8s_recorder, tmp_path):
    values = baseline(k8s_recorder.kubeconfig, tmp_path, closed_port())
    values.update(yellow_kubeconfig=str(tmp_path / "absent-kubeconfig"), yellow_preflight_check_cluster=False,
                  yellow_preflight_check_postgres=False)
    rc, output = run(k8s_env, tmp_path, values, kubeconfig=k8s_recorder.kubeconfig)
    assert rc == 0, output[-4000:]
    assert "cluster checks skipped" in output and "PostgreSQL check skipped" in output
    assert k8s_recorder.requests == []


def test_example_passwords_are_allowed_in_a_lab(k8s_env, k8s_recorder, tmp_path, pg_port):
    values = baseline(k8s_recorder.kubeconfig, tmp_path, pg_port)
    values.update(yellow_lab=True, yellow_airflow_admin_password="admin", yellow_k8s_git_token="pass@w0rd")
    rc, output = run(k8s_env, tmp_path, values, kubeconfig=k8s_recorder.kubeconfig)
    assert rc == 0, output[-4000:]
    assert_read_only(k8s_recorder, output)


def _unreachable_kubeconfig(cluster, tmp_path):
    """The operator's kubeconfig with the API server's address replaced by a closed port."""
    path = tmp_path / "unreachable-kubeconfig"
    text = cluster.operator_kubeconfig.read_text()
    assert cluster.server in text
    path.write_text(text.replace(cluster.server, f"https://127.0.0.1:{closed_port()}"))
    path.chmod(0o600)
    return str(path)


def _hba_outside_the_nodes(cluster):
    """pg_hba admits K3s's default pod network, but the cluster gave its nodes 10.244.x.0/24."""
    return ["localhost: yellow_pg_hba_cidrs: 10.42.0.0/16, 100.64.0.0/10 does not cover the pod network "
            f"{cidr} (the nodes' spec.podCIDRs)" for cidr in node_pod_cidrs(cluster)]


def _pod_cidrs_contradict_the_nodes(cluster):
    return [f"localhost: yellow_pod_cidrs: 10.42.0.0/16 does not contain the pod network(s) {', '.join(node_pod_cidrs(cluster))} "
            "the cluster gave its nodes; correct yellow_pod_cidrs"]


def _pg_user(password):
    return lambda v, p: {"yellow_pg_users": [{"name": "datasurfacedt", "password": password}, v["yellow_pg_users"][1]]}


# (id, change: values -> updates (None drops a variable), fragment expected in the failure)
FAULTS = [
    ("bad-namespace", lambda v, p: {"yellow_namespace": "Data_Surface"},
     "yellow_namespace: 'Data_Surface' is not a DNS-1123 label"),
    ("mismatched-namespaces", lambda v, p: {"yellow_airflow_namespace": "airflow-elsewhere"},
     "yellow_airflow_namespace: 'airflow-elsewhere' differs from yellow_namespace 'datasurface'"),
    ("bad-cidr", lambda v, p: {"yellow_pg_hba_cidrs": ["10.244.0.0/33"]}, "pg-1: yellow_pg_hba_cidrs[0]: '10.244.0.0/33'"),
    ("missing-psp", lambda v, p: {"yellow_psp_name": None}, "yellow_psp_name: must be set"),
    ("example-pg-password", _pg_user("Passw0rd123!"),
     "pg-1: yellow_pg_users[0].password (datasurfacedt): is one of the HOWTO's example passwords"),
    ("example-git-token", lambda v, p: {"yellow_k8s_git_token": "pass@w0rd"},
     "localhost: yellow_k8s_git_token: is one of the HOWTO's example passwords"),
    ("example-redis-password", lambda v, p: {"yellow_airflow_redis_password": "password"},
     "yellow_airflow_redis_password: is one of the HOWTO's example passwords"),
    ("example-registry-password",
     lambda v, p: {"yellow_node_registries": [{"host": "docker.io", "username": "bot", "password": "datasurface"}]},
     "node-1: yellow_node_registries[0].password (docker.io): is one of the HOWTO's example passwords"),
    ("vault-placeholder", lambda v, p: {"yellow_airflow_admin_password": "CHANGE-ME"},
     "yellow_airflow_admin_password: is still the placeholder of vault.yml.example"),
    ("db-user-not-in-pg-users", lambda v, p: {"yellow_airflow_db_user": "airflow_user"},
     "yellow_airflow_db_user: 'airflow_user' is not one of the users in yellow_pg_users"),
    ("db-not-in-pg-databases", lambda v, p: {"yellow_airflow_db_name": "airflow_meta"},
     "yellow_airflow_db_name: 'airflow_meta' is not one of the databases in yellow_pg_databases"),
    ("unknown-storage-class", lambda v, p: {"yellow_airflow_storage_class": "fast-ssd"},
     "yellow_airflow_storage_class: storage class 'fast-ssd' does not exist in the cluster"),
    ("node-not-ready", "not-ready-node", "not-ready-node"),
    ("cluster-unreachable", lambda v, p: {"yellow_kubeconfig": _unreachable_kubeconfig(*p)},
     "yellow_kubeconfig: the cluster cannot be reached"),
    # An external server (yellow_pg_install: false) must answer; one the postgres phase installs may not be up yet.
    ("postgres-unreachable", lambda v, p: {"yellow_airflow_db_port": closed_port(), "yellow_pg_install": False},
     "yellow_airflow_db_host: PostgreSQL at 127.0.0.1:"),
    ("missing-required-variable", lambda v, p: {"yellow_k8s_registry_username": None},
     "yellow_k8s_registry_username: must be set (required by the platform_prereqs role)"),
    ("undefined-vault-variable", lambda v, p: {"yellow_k8s_postgres_password": "{{ vault_yellow_pg_missing }}"},
     "yellow_k8s_postgres_password: cannot be evaluated ('vault_yellow_pg_missing' is undefined)"),
    ("empty-image-tag", lambda v, p: {"yellow_datasurface_image_tag": ""}, "yellow_datasurface_image_tag: must not be empty"),
    ("bad-bootstrap-job", lambda v, p: {"yellow_bootstrap_jobs": ["ring1_init", "Model Merge!"]},
     "yellow_bootstrap_jobs[1]: 'Model Merge!' is neither a job role"),
    ("missing-helm", lambda v, p: {"yellow_airflow_helm_binary": "/nonexistent/bin/helm"},
     "yellow_airflow_helm_binary: /nonexistent/bin/helm cannot be run on the control node"),
    ("missing-container-engine", lambda v, p: {"yellow_bootstrap_runner": "container", "yellow_bootstrap_engine": "nerdctl"},
     "yellow_bootstrap_engine: no container engine (nerdctl) can be run on the control node"),
    ("cluster-type-vs-groups", lambda v, p: {"yellow_cluster_type": "kubeadm"},
     "yellow_cluster_type: 'kubeadm' but the inventory has hosts in group k3s_servers"),
    ("argument-spec-type", lambda v, p: {"yellow_airflow_worker_replicas": "many"},
     "yellow_airflow_worker_replicas: is of type str and we were unable to convert to int"),
    # issue 11 defect 1: an opt-in given as a string that means false stays off
    ("weak-auth-opt-in-string-false", lambda v, p: {"yellow_pg_hba_method": "trust", "yellow_pg_allow_weak_auth": "false"},
     "pg-1: yellow_pg_hba_method: 'trust' is refused"),
    ("any-source-opt-in-string-no", lambda v, p: {"yellow_pg_hba_cidrs": ["0.0.0.0/0"], "yellow_pg_allow_any_source": "no"},
     "pg-1: yellow_pg_hba_cidrs[0]: '0.0.0.0/0' admits every address"),
    # defect 2: a token in yellow_airflow_git_repo while yellow_bootstrap_dag_repo is set on its own
    ("token-in-airflow-git-repo",
     lambda v, p: {"yellow_airflow_git_repo": f"https://bot:{SECRETS['url_token']}@github.com/example-org/dags.git",
                   "yellow_bootstrap_dag_repo": "https://github.com/example-org/dags.git"},
     "localhost: yellow_airflow_git_repo: the URL embeds credentials (https://****@github.com/...)"),
    # defect 5: durations before anything changes
    ("helm-timeout-word", lambda v, p: {"yellow_airflow_helm_timeout": "abc"},
     "localhost: yellow_airflow_helm_timeout: 'abc' is not a duration such as 600s, 20m or 1h30m"),
    # defect 6: pg_hba must cover the pod network the nodes were given (their real spec.podCIDRs)
    ("pod-network-outside-pg-hba", lambda v, p: {"yellow_pg_hba_cidrs": ["10.42.0.0/16", "100.64.0.0/10"],
                                                 "yellow_pod_cidrs": ["10.244.0.0/16"]}, _hba_outside_the_nodes),
    ("pod-cidrs-contradict-the-nodes", lambda v, p: {"yellow_pg_hba_cidrs": ["10.42.0.0/16", "10.244.0.0/16"],
                                                     "yellow_pod_cidrs": ["10.42.0.0/16"]}, _pod_cidrs_contradict_the_nodes),
    # Every real node has spec.podCIDRs: the inventory's value is needed when the cluster is not read.
    ("pod-network-unknown", lambda v, p: {"yellow_pod_cidrs": None, "yellow_preflight_check_cluster": False},
     "localhost: yellow_pod_cidrs: must be set (the cluster's pod network"),
    # defect 7: lists are lists, images are image references
    ("ready-components-string", lambda v, p: {"yellow_airflow_ready_components": "scheduler,worker"},
     "localhost: yellow_airflow_ready_components: must be a list (YAML [a, b] or one '- item' per line), not the "
     "string 'scheduler,worker'"),
    ("bootstrap-image-invalid", lambda v, p: {"yellow_bootstrap_image": "Docker.io/DataSurface:latest"},
     "localhost: yellow_bootstrap_image: "),
]


@pytest.fixture
def not_ready_node(cluster):
    """A real Node no kubelet (and no KWOK) reports for: it never becomes Ready. Unschedulable and tainted, so no
    pod of a concurrent test lands on it; deleted afterwards."""
    name = f"hc-notready-{os.getpid() % 10000}"
    cluster.kubectl("delete", "node", name, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"yellow.test/not-ready": "true"}},
        "spec": {"unschedulable": True, "taints": [{"key": "yellow.test/not-ready", "effect": "NoSchedule"}]}}))
    try:
        yield name
    finally:
        cluster.kubectl("delete", "node", name, "--ignore-not-found", "--wait=false")


@pytest.mark.parametrize("change, fragment", [case[1:] for case in FAULTS], ids=[case[0] for case in FAULTS])
def test_broken_inventory_fails_with_every_problem_named(request, cluster, k8s_env, k8s_recorder, tmp_path, pg_port, change,
                                                         fragment):
    values = baseline(k8s_recorder.kubeconfig, tmp_path, pg_port)
    if change == "not-ready-node":
        name = request.getfixturevalue("not_ready_node")
        # No Ready condition at all until the node lifecycle controller marks it Unknown (NodeStatusNeverUpdated).
        fragments = [re.compile(rf"cluster: node {name} is not Ready \((no Ready condition|NodeStatusNeverUpdated)\)")]
    else:
        values.update(change(values, (cluster, tmp_path)))
        fragments = fragment(cluster) if callable(fragment) else [fragment]
    rc, output = run(k8s_env, tmp_path, values, kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0, output[-4000:]
    for expected in fragments:
        if isinstance(expected, str):
            assert expected in output, output[-4000:]
        else:
            assert expected.search(output), output[-4000:]
    assert "nothing was changed" in output
    for example in ("Passw0rd123!", "pass@w0rd"):
        assert example not in output, "an example password was echoed"
    assert_read_only(k8s_recorder, output)
