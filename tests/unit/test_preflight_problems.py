# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The preflight_problems filter: each fault gives a message naming its variable, never a secret."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datasurface.yellow.plugins.filter.preflight import preflight_problems

SECRET = "s3cr3t 'x'; $(id) 9q"
GROUPS = {"all": ["k3s-1", "pg-1", "localhost"], "cluster_nodes": ["k3s-1"], "k3s_servers": ["k3s-1"],
          "postgres": ["pg-1"], "control": ["localhost"]}
POSTGRES = {
    "yellow_pg_users": [{"name": "datasurfacedt", "password": SECRET}, {"name": "mask_dt_cred", "password": SECRET}],
    "yellow_pg_databases": [{"name": "airflow_db"}, {"name": "merge_db_af3"}],
    "yellow_pg_hba_cidrs": ["10.244.0.0/16"],
}
INVENTORY = {
    "yellow_cluster_type": "k3s",
    "yellow_namespace": "datasurface",
    "yellow_k8s_namespace": "datasurface",
    "yellow_airflow_namespace": "datasurface",
    "yellow_bootstrap_namespace": "datasurface",
    "yellow_psp_name": "Test_DP",
    "yellow_bootstrap_psp": "Test_DP",
    "yellow_datasurface_image": "docker.io/datasurface/datasurface",
    "yellow_datasurface_image_tag": "v1.1.0",
    "yellow_airflow_image_tag": "3.1.6",
    "yellow_airflow_db_host": "pg.example.com",
    "yellow_airflow_db_port": 5432,
    "yellow_airflow_db_user": "datasurfacedt",
    "yellow_airflow_db_name": "airflow_db",
    "yellow_airflow_db_password": SECRET,
    "yellow_k8s_git_token": SECRET,
}


def inventory(**changes):
    values = copy.deepcopy(INVENTORY)
    for key, value in changes.items():
        if value is DROP:
            values.pop(key, None)
        else:
            values[key] = value
    return preflight_problems(values, "inventory", groups=GROUPS, postgres=POSTGRES)


DROP = object()


def test_good_inventory():
    assert inventory() == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"yellow_namespace": "Data_Surface"}, "yellow_namespace: 'Data_Surface' is not a DNS-1123 label"),
        ({"yellow_k8s_namespace": "-x"}, "yellow_k8s_namespace: '-x' is not a DNS-1123 label"),
        ({"yellow_airflow_namespace": "other"}, "yellow_airflow_namespace: 'other' differs from yellow_namespace 'datasurface'"),
        ({"yellow_bootstrap_namespace": "other"}, "yellow_bootstrap_namespace: 'other' differs from yellow_namespace"),
        ({"yellow_psp_name": None, "yellow_bootstrap_psp": ""}, "yellow_psp_name: must be set"),
        ({"yellow_bootstrap_psp": "Other_DP"}, "yellow_bootstrap_psp: 'Other_DP' differs from yellow_psp_name 'Test_DP'"),
        ({"yellow_pod_cidrs": ["10.244.0.0/33"]}, "yellow_pod_cidrs[0]: '10.244.0.0/33' is not a valid CIDR"),
        ({"yellow_service_cidr": "10.43.0.1/16"}, "yellow_service_cidr: '10.43.0.1/16' has host bits set"),
        ({"yellow_datasurface_image_tag": ""}, "yellow_datasurface_image_tag: must not be empty"),
        ({"yellow_airflow_image_tag": None}, "yellow_airflow_image_tag: must not be empty"),
        ({"yellow_datasurface_image_tag": "v1 latest"}, "yellow_datasurface_image_tag: 'v1 latest' is not an image tag"),
        ({"yellow_datasurface_image": ""}, "yellow_datasurface_image: must not be empty"),
        ({"yellow_airflow_db_user": "airflow"}, "yellow_airflow_db_user: 'airflow' is not one of the users in yellow_pg_users"),
        ({"yellow_airflow_db_name": "af"}, "yellow_airflow_db_name: 'af' is not one of the databases in yellow_pg_databases"),
        ({"yellow_cluster_type": "k8s"}, "yellow_cluster_type: 'k8s' is not one of k3s, kubeadm"),
        ({"yellow_cluster_type": "kubeadm"}, "yellow_cluster_type: 'kubeadm' but the inventory has hosts in group k3s_servers"),
        ({"yellow_k8s_namespace": "<< error 1 - 'vault_x' is undefined >>", "yellow_airflow_namespace": "x"},
         "yellow_airflow_namespace: 'x' differs from yellow_namespace"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else None,
)
def test_inventory_faults(changes, expected):
    problems = inventory(**changes)
    assert any(problem.startswith(expected) for problem in problems), problems
    assert all(SECRET not in problem for problem in problems)


@pytest.mark.parametrize("lab, flag, refused", [(False, False, True), (True, False, False), (False, True, False)])
def test_example_password_in_a_variable_of_no_role(lab, flag, refused):
    problems = inventory(yellow_verify_airflow_password="datasurface", yellow_lab=lab,
                         yellow_preflight_allow_example_passwords=flag)
    expected = ["yellow_verify_airflow_password: is one of the HOWTO's example passwords; set a real secret from Ansible "
                "Vault (allowed only with yellow_lab: true or yellow_preflight_allow_example_passwords: true)"]
    assert problems == (expected if refused else [])


def test_k3s_without_servers():
    groups = dict(GROUPS, k3s_servers=[])
    problems = preflight_problems(INVENTORY, "inventory", groups=groups, postgres=POSTGRES)
    assert problems == ["yellow_cluster_type: 'k3s' but the inventory has no hosts in group k3s_servers "
                        "(K3s inventories list their servers there; use 'kubeadm' for other clusters)"]


def test_without_postgres_hosts_the_database_cross_check_is_skipped():
    assert preflight_problems(dict(INVENTORY, yellow_airflow_db_user="x"), "inventory", groups=GROUPS) == []


def test_postgres_from_a_registered_debug_loop():
    registered = {"results": [{"__n": name, "ansible_loop_var": "__n", name: value} for name, value in POSTGRES.items()]}
    problems = preflight_problems(dict(INVENTORY, yellow_airflow_db_user="x"), "inventory", groups=GROUPS, postgres=registered)
    assert problems == ["yellow_airflow_db_user: 'x' is not one of the users in yellow_pg_users (datasurfacedt, mask_dt_cred)"]


# ---- cluster and report ------------------------------------------------------------------------

def node(name, ready="True", reason="KubeletReady"):
    return {"metadata": {"name": name}, "status": {"conditions": [{"type": "Ready", "status": ready, "reason": reason}]}}


def test_cluster_problems():
    values = {"yellow_airflow_storage_class": "longhorn", "yellow_airflow_logs_storage_class": "nfs"}
    nodes = {"resources": [node("n1"), node("n2", "False", "KubeletNotReady"), {"metadata": {"name": "n3"}}]}
    classes = {"resources": [{"metadata": {"name": "longhorn"}}]}
    assert preflight_problems(values, "cluster", nodes=nodes, storage_classes=classes) == [
        "cluster: node n2 is not Ready (KubeletNotReady)",
        "cluster: node n3 is not Ready (no Ready condition)",
        "yellow_airflow_logs_storage_class: storage class 'nfs' does not exist in the cluster (present: longhorn)",
    ]
    assert preflight_problems(dict(values, yellow_airflow_logs_persistence=False), "cluster",
                              nodes={"resources": [node("n1")]}, storage_classes=classes) == []
    assert preflight_problems({}, "cluster", nodes={"resources": []}, storage_classes={}) == ["cluster: has no nodes"]


def test_report_lines():
    lines = preflight_problems({"localhost": ["a: b", "a: b"], "pg-1": [], "node-1": ["c: d"]}, "report",
                               completed=["localhost", "pg-1"])
    assert lines == ["localhost: a: b", "node-1: did not complete the preflight checks (unreachable or failed; see above)",
                     "node-1: c: d"]


# ---- the pod network against pg_hba (issue 11, defect 6) ----------------------------------------

def pod_node(name, *cidrs):
    return {"metadata": {"name": name}, "spec": {"podCIDRs": list(cidrs)},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


K3S_NODES = {"resources": [pod_node("k3s-1", "10.42.0.0/24"), pod_node("k3s-2", "10.42.1.0/24")]}


def test_pod_network_outside_pg_hba_is_refused():
    """The old K3s example: pg_hba allowed 10.244.0.0/16, K3s gives pods 10.42.0.0/16."""
    postgres = dict(POSTGRES, yellow_pg_hba_cidrs=["100.64.0.0/10", "10.244.0.0/16"])
    assert preflight_problems({}, "cluster", nodes=K3S_NODES, storage_classes={}, postgres=postgres) == [
        f"yellow_pg_hba_cidrs: 100.64.0.0/10, 10.244.0.0/16 does not cover the pod network 10.42.{i}.0/24 (the nodes' "
        f"spec.podCIDRs); pods could not reach PostgreSQL. Add 10.42.{i}.0/24 (or a network containing it) to yellow_pg_hba_cidrs"
        for i in (0, 1)]


def test_pod_network_inside_pg_hba_passes():
    postgres = dict(POSTGRES, yellow_pg_hba_cidrs=["10.42.0.0/16"])
    assert preflight_problems({}, "cluster", nodes=K3S_NODES, storage_classes={}, postgres=postgres) == []


def test_pod_network_from_the_inventory_when_nodes_have_none():
    nodes = {"resources": [node("n1")]}
    postgres = dict(POSTGRES, yellow_pg_hba_cidrs=["10.244.0.0/16"])
    assert preflight_problems({"yellow_pod_cidrs": ["10.244.0.0/16"]}, "cluster", nodes=nodes, storage_classes={},
                              postgres=postgres) == []
    assert preflight_problems({"yellow_pod_cidrs": ["10.42.0.0/16"]}, "pod_network", postgres=postgres) == [
        "yellow_pg_hba_cidrs: 10.244.0.0/16 does not cover the pod network 10.42.0.0/16 (yellow_pod_cidrs); pods could "
        "not reach PostgreSQL. Add 10.42.0.0/16 (or a network containing it) to yellow_pg_hba_cidrs"]
    assert preflight_problems({}, "pod_network", postgres=postgres) == [
        "yellow_pod_cidrs: must be set (the cluster's pod network, e.g. 10.42.0.0/16 for K3s, the kubeadm "
        "--pod-network-cidr): the nodes give no spec.podCIDRs to read, and pg_hba must admit the pods"]


def test_pod_network_declared_but_contradicted_by_the_nodes():
    postgres = dict(POSTGRES, yellow_pg_hba_cidrs=["10.0.0.0/8"])
    problems = preflight_problems({"yellow_pod_cidrs": ["10.244.0.0/16"]}, "cluster", nodes=K3S_NODES,
                                  storage_classes={}, postgres=postgres)
    assert problems == ["yellow_pod_cidrs: 10.244.0.0/16 does not contain the pod network(s) 10.42.0.0/24, 10.42.1.0/24 "
                        "the cluster gave its nodes; correct yellow_pod_cidrs"]


def test_pod_network_not_checked_without_a_managed_postgres_host():
    assert preflight_problems({}, "pod_network", postgres=None) == []


@pytest.mark.parametrize("bad", [["not", "a", "dict"], "text"])
def test_bad_input_type(bad):
    with pytest.raises(AnsibleFilterError):
        preflight_problems(bad, "inventory")


def test_bad_check_and_role():
    with pytest.raises(AnsibleFilterError):
        preflight_problems({}, "everything")
    with pytest.raises(AnsibleFilterError):
        preflight_problems({}, "role")
