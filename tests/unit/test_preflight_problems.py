# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The preflight_problems filter: each fault gives a message naming its variable, never a secret."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datasurface.yellow.plugins.filter.preflight import preflight_problems
from ansible_collections.datasurface.yellow.plugins.plugin_utils import preflight

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
        ({"yellow_airflow_db_host": ""}, "yellow_airflow_db_host: must be set"),
        ({"yellow_airflow_db_host": DROP}, "yellow_airflow_db_host: must be set"),
        ({"yellow_airflow_db_host": "postgres://pg:5432"}, "yellow_airflow_db_host: 'postgres://pg:5432' must be a host name"),
        ({"yellow_airflow_db_port": 70000}, "yellow_airflow_db_port: 70000 must be a TCP port"),
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


# ---- role checks --------------------------------------------------------------------------------

ROLE_GOOD = {
    "postgres_host": dict(POSTGRES),
    "node_prep": {"yellow_node_cluster_type": "k3s",
                  "yellow_node_registries": [{"host": "docker.io", "username": "bot", "password": SECRET}]},
    "platform_prereqs": {
        "yellow_k8s_namespace": "datasurface", "yellow_k8s_airflow_release": "airflow",
        "yellow_k8s_registry_server": "https://index.docker.io/v1/", "yellow_k8s_registry_username": "bot",
        "yellow_k8s_registry_password": SECRET, "yellow_k8s_postgres_user": "datasurfacedt",
        "yellow_k8s_postgres_password": SECRET, "yellow_k8s_mask_user": "mask_dt_cred",
        "yellow_k8s_mask_password": SECRET, "yellow_k8s_git_username": "bot", "yellow_k8s_git_token": SECRET,
        "yellow_k8s_secrets_extra": [{"name": "extra", "data": {"KEY": SECRET}}]},
    "airflow": {"yellow_airflow_namespace": "datasurface", "yellow_airflow_release": "airflow",
                "yellow_airflow_db_password": SECRET, "yellow_airflow_redis_password": SECRET,
                "yellow_airflow_admin_password": SECRET, "yellow_airflow_admin_username": "admin",
                "yellow_airflow_metadata_secret": "airflow-metadata"},
    "bootstrap": {
        "yellow_bootstrap_namespace": "datasurface", "yellow_bootstrap_workdir": "/tmp/ds",
        "yellow_bootstrap_model_repo": "https://github.com/example/model.git", "yellow_bootstrap_model_version": "v1.0.0",
        "yellow_bootstrap_dag_repo": "https://github.com/example/dags.git", "yellow_bootstrap_dag_branch": "main",
        "yellow_bootstrap_model_subdir": "", "yellow_bootstrap_dag_path": "dags", "yellow_bootstrap_psp": "Test_DP",
        "yellow_bootstrap_runner": "python", "yellow_bootstrap_jobs": ["ring1_init", "model_merge"],
        "yellow_bootstrap_git_username": "bot", "yellow_bootstrap_git_token": SECRET,
        "yellow_bootstrap_environment": {"API_KEY": SECRET}},
}


@pytest.mark.parametrize("role", sorted(ROLE_GOOD))
def test_good_role_inputs(role):
    assert preflight_problems(ROLE_GOOD[role], "role", role=role) == []


def with_change(role, key, value):
    values = copy.deepcopy(ROLE_GOOD[role])
    values[key] = value
    return values


EXAMPLE = "is one of the HOWTO's example passwords"


@pytest.mark.parametrize(
    "role, key, value, expected",
    [
        ("postgres_host", "yellow_pg_hba_cidrs", ["10.0.0.0/33"], "yellow_pg_hba_cidrs[0]: '10.0.0.0/33' is not a valid CIDR"),
        ("postgres_host", "yellow_pg_users", [{"name": "datasurfacedt", "password": "Passw0rd123!"}],
         f"yellow_pg_users[0].password (datasurfacedt): {EXAMPLE}"),
        ("node_prep", "yellow_node_registries", [{"host": "docker.io", "username": "bot", "password": "datasurface"}],
         f"yellow_node_registries[0].password (docker.io): {EXAMPLE}"),
        ("node_prep", "yellow_node_cluster_type", "k8s", "yellow_node_cluster_type: 'k8s' is not one of k3s, kubeadm"),
        ("platform_prereqs", "yellow_k8s_git_token", "pass@w0rd", f"yellow_k8s_git_token: {EXAMPLE}"),
        ("platform_prereqs", "yellow_k8s_postgres_password", "password", f"yellow_k8s_postgres_password: {EXAMPLE}"),
        ("platform_prereqs", "yellow_k8s_secrets_extra", [{"name": "extra", "data": {"KEY": "admin"}}],
         f"yellow_k8s_secrets_extra[0].data.KEY: {EXAMPLE}"),
        ("platform_prereqs", "yellow_k8s_mask_password", "CHANGE-ME",
         "yellow_k8s_mask_password: is still the placeholder of vault.yml.example"),
        ("airflow", "yellow_airflow_admin_password", "admin", f"yellow_airflow_admin_password: {EXAMPLE}"),
        ("airflow", "yellow_airflow_redis_password", "", "yellow_airflow_redis_password: must be a non-empty string"),
        ("airflow", "yellow_airflow_release", "Airflow", "yellow_airflow_release: 'Airflow' is not a DNS-1123 label"),
        ("bootstrap", "yellow_bootstrap_git_token", "datasurface", f"yellow_bootstrap_git_token: {EXAMPLE}"),
        ("bootstrap", "yellow_bootstrap_environment", {"API_KEY": "Passw0rd123!"}, f"yellow_bootstrap_environment.API_KEY: {EXAMPLE}"),
        ("bootstrap", "yellow_bootstrap_jobs", ["Model Merge!"], "yellow_bootstrap_jobs[0]: 'Model Merge!' is neither a job role"),
        ("bootstrap", "yellow_bootstrap_psp", "Test DP", "yellow_bootstrap_psp: 'Test DP' must be the model's platform service provider"),
        ("bootstrap", "yellow_bootstrap_git_token", "<< error 1 - 'vault_yellow_git_token' is undefined >>",
         "yellow_bootstrap_git_token: cannot be evaluated ('vault_yellow_git_token' is undefined)"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.startswith(("postgres", "node", "platform", "airflow", "bootstrap")) else None,
)
def test_role_faults(role, key, value, expected):
    problems = preflight_problems(with_change(role, key, value), "role", role=role)
    assert any(problem.startswith(expected) for problem in problems), problems
    assert all(SECRET not in problem for problem in problems)
    for example in preflight.EXAMPLE_PASSWORDS | preflight.PLACEHOLDER_PASSWORDS:
        assert all(f"'{example}'" not in problem for problem in problems), problems


def test_unresolved_variable_is_reported_once():
    values = with_change("platform_prereqs", "yellow_k8s_git_token", "<< error 1 - 'vault_x' is undefined >>")
    problems = preflight_problems(values, "role", role="platform_prereqs")
    assert problems == ["yellow_k8s_git_token: cannot be evaluated ('vault_x' is undefined)"]
    assert preflight_problems(values, "unresolved") == problems


@pytest.mark.parametrize("allowed", [True, False])
def test_example_passwords_allowed_only_when_asked(allowed):
    values = with_change("airflow", "yellow_airflow_admin_password", "admin")
    problems = preflight_problems(values, "role", role="airflow", allow_example_passwords=allowed)
    assert (problems == []) is allowed


def test_placeholder_refused_even_in_a_lab():
    values = with_change("airflow", "yellow_airflow_admin_password", "CHANGE-ME")
    assert preflight_problems(values, "role", role="airflow", allow_example_passwords=True)


def test_argument_errors_are_named_and_redacted():
    values = with_change("platform_prereqs", "yellow_k8s_registry_username", None)
    errors = ["missing required arguments: yellow_k8s_registry_username, yellow_k8s_git_username",
              f"argument 'yellow_k8s_context' is of type list and we were unable to convert to str: {SECRET}",
              f"something else mentioning {SECRET}"]
    problems = preflight_problems(values, "role", role="platform_prereqs", argument_errors=errors)
    assert problems[:2] == ["yellow_k8s_registry_username: must be set (required by the platform_prereqs role)",
                            "yellow_k8s_git_username: must be set (required by the platform_prereqs role)"]
    assert problems[2].startswith("yellow_k8s_context: is of type list")
    assert all(SECRET not in problem for problem in problems)
    assert sum("********" in problem for problem in problems) == 2
    # the role's own "must be set" for the same variable is not repeated
    assert not any(problem.startswith("yellow_k8s_registry_username: must be set (a non-empty") for problem in problems)


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


def test_secret_leaves_and_redaction():
    values = {"yellow_pg_users": [{"name": "u", "password": SECRET}], "yellow_airflow_admin_username": "adminuser"}
    assert preflight.secret_values(values) == [SECRET]
    assert preflight.redact(f"x {SECRET} y", [SECRET]) == "x ******** y"


@pytest.mark.parametrize("bad", [["not", "a", "dict"], "text"])
def test_bad_input_type(bad):
    with pytest.raises(AnsibleFilterError):
        preflight_problems(bad, "inventory")


def test_bad_check_and_role():
    with pytest.raises(AnsibleFilterError):
        preflight_problems({}, "everything")
    with pytest.raises(AnsibleFilterError):
        preflight_problems({}, "role", role="verify")
