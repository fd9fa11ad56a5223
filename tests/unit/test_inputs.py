# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The input validation layer (plugin_utils/inputs.py), as the roles and the preflight call it.

Each role's values come from its real defaults/main.yml (templated by Ansible) under a small
inventory, so the tests see what a play sees. Issue 11 defects 1, 2, 5 and 7 are the regression
cases at the end of this file.
"""

from __future__ import annotations

import copy
import glob
import os
import re

import pytest
import yaml

from ansible_collections.datasurface.yellow.plugins.plugin_utils import inputs
from role_inputs import role_values

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "s3cr3t 'x'; $(id) 9q"
TOKEN = "ghp_N0tInAnyMessage42"
EXAMPLE = "is one of the HOWTO's example passwords"

INVENTORY = {
    "yellow_namespace": "datasurface",
    "yellow_psp_name": "Test_DP",
    "yellow_datasurface_image": "docker.io/datasurface/datasurface",
    "yellow_datasurface_image_tag": "v1.1.0",
    "yellow_kubeconfig": "/etc/kubeconfig",
    # postgres_host
    "yellow_pg_users": [{"name": "datasurfacedt", "password": SECRET}, {"name": "mask_dt_cred", "password": SECRET}],
    # node_prep
    "yellow_node_registries": [{"host": "docker.io", "username": "bot", "password": SECRET}],
    # platform_prereqs
    "yellow_k8s_registry_username": "bot", "yellow_k8s_registry_password": SECRET,
    "yellow_k8s_postgres_password": SECRET, "yellow_k8s_mask_password": SECRET,
    "yellow_k8s_git_username": "bot", "yellow_k8s_git_token": SECRET,
    "yellow_k8s_secrets_extra": [{"name": "extra", "data": {"KEY": SECRET}}],
    # airflow
    "yellow_airflow_git_repo": "https://github.com/example/dags.git",
    "yellow_airflow_db_host": "pg.example.com",
    "yellow_airflow_db_password": SECRET, "yellow_airflow_redis_password": SECRET, "yellow_airflow_admin_password": SECRET,
    # bootstrap
    "yellow_bootstrap_model_repo": "https://github.com/example/model.git", "yellow_bootstrap_model_version": "v1.0.0",
    "yellow_bootstrap_git_username": "bot", "yellow_bootstrap_git_token": SECRET,
    "yellow_bootstrap_environment": {"API_KEY": SECRET},
    "yellow_bootstrap_rerun_jobs": ["model_merge"],
    # verify
    "yellow_verify_airflow_url": "https://airflow.example.com",
}
ENTRY_POINTS = sorted(
    (path.split(os.sep)[-3], entry_point)
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))
    for entry_point in yaml.safe_load(open(path, encoding="utf-8"))["argument_specs"])
SPECS = {(role, entry_point): inputs.role_spec(role, entry_point) for role, entry_point in ENTRY_POINTS}
ROLES = ("postgres_host", "node_prep", "platform_prereqs", "airflow", "bootstrap", "verify")


def problems_of(role, changes=None, entry_point="main", example_passwords="skip", drop=()):
    inventory = copy.deepcopy(INVENTORY)
    inventory.update(copy.deepcopy(changes or {}))
    values = role_values(role, inventory, entry_point)
    for name in drop:
        values.pop(name, None)
    problems, _summary = inputs.check_role(role, values, entry_point, os_family="Debian", example_passwords=example_passwords)
    for problem in problems:
        assert SECRET not in problem and TOKEN not in problem, problem
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_good_inputs_pass(role):
    assert problems_of(role, example_passwords="refuse") == []


@pytest.mark.parametrize(
    "role, key, value, expected",
    [
        ("postgres_host", "yellow_pg_hba_cidrs", ["10.0.0.0/33"], "yellow_pg_hba_cidrs[0]: '10.0.0.0/33' is not a valid CIDR"),
        ("postgres_host", "yellow_pg_users", [{"name": "datasurfacedt", "password": "Passw0rd123!"}],
         f"yellow_pg_users[0].password (datasurfacedt): {EXAMPLE}"),
        ("node_prep", "yellow_node_registries", [{"host": "docker.io", "username": "bot", "password": "datasurface"}],
         f"yellow_node_registries[0].password (docker.io): {EXAMPLE}"),
        ("node_prep", "yellow_node_cluster_type", "k8s", "yellow_node_cluster_type: must be one of: k3s, kubeadm, got: k8s"),
        ("platform_prereqs", "yellow_k8s_git_token", "pass@w0rd", f"yellow_k8s_git_token: {EXAMPLE}"),
        ("platform_prereqs", "yellow_k8s_postgres_password", "password", f"yellow_k8s_postgres_password: {EXAMPLE}"),
        ("platform_prereqs", "yellow_k8s_mask_password", "CHANGE-ME", "yellow_k8s_mask_password: is still the placeholder"),
        ("airflow", "yellow_airflow_admin_password", "admin", f"yellow_airflow_admin_password: {EXAMPLE}"),
        ("airflow", "yellow_airflow_redis_password", "", "yellow_airflow_redis_password: must be a non-empty string"),
        ("airflow", "yellow_airflow_release", "Airflow", "yellow_airflow_release: 'Airflow' is not a DNS-1123 label"),
        ("airflow", "yellow_airflow_db_host", "", "yellow_airflow_db_host: must be set"),
        ("airflow", "yellow_airflow_db_host", "postgres://pg:5432", "yellow_airflow_db_host: 'postgres://pg:5432' must be a host name"),
        ("airflow", "yellow_airflow_db_port", 70000, "yellow_airflow_db_port: 70000 must be a TCP port"),
        ("bootstrap", "yellow_bootstrap_git_token", "datasurface", f"yellow_bootstrap_git_token: {EXAMPLE}"),
        ("bootstrap", "yellow_bootstrap_jobs", ["Model Merge!"], "yellow_bootstrap_jobs[0]: 'Model Merge!' is neither a job role"),
        ("bootstrap", "yellow_bootstrap_psp", "Test DP", "yellow_bootstrap_psp: 'Test DP' must be the model's platform service provider"),
        ("bootstrap", "yellow_bootstrap_git_token", "<< error 1 - 'vault_yellow_git_token' is undefined >>",
         "yellow_bootstrap_git_token: cannot be evaluated ('vault_yellow_git_token' is undefined)"),
        ("verify", "yellow_verify_namespace", "Bad_NS", "yellow_verify_namespace: 'Bad_NS' is not a DNS-1123 label"),
        ("verify", "yellow_verify_expected_dags", -1, "yellow_verify_expected_dags: must be null or a non-negative integer"),
    ],
)
def test_each_fault_names_its_variable(role, key, value, expected):
    problems = problems_of(role, {key: value}, example_passwords="refuse")
    assert any(problem.startswith(expected) for problem in problems), problems
    for example in inputs.EXAMPLE_PASSWORDS | inputs.PLACEHOLDER_PASSWORDS:
        assert all(f"'{example}'" not in problem for problem in problems), problems


def test_unresolved_variable_is_reported_once():
    problems = problems_of("platform_prereqs", {"yellow_k8s_git_token": "<< error 1 - 'vault_x' is undefined >>"})
    assert problems == ["yellow_k8s_git_token: cannot be evaluated ('vault_x' is undefined)"]


@pytest.mark.parametrize("mode, refused", [("refuse", True), ("allow", False), ("skip", False)])
def test_example_passwords_refused_only_when_asked(mode, refused):
    problems = problems_of("airflow", {"yellow_airflow_admin_password": "admin"}, example_passwords=mode)
    assert problems == ([f"yellow_airflow_admin_password: {EXAMPLE}; set a real secret from Ansible Vault (allowed only "
                         "with yellow_lab: true or yellow_preflight_allow_example_passwords: true)"] if refused else [])


def test_placeholder_refused_even_in_a_lab():
    assert problems_of("airflow", {"yellow_airflow_admin_password": "CHANGE-ME"}, example_passwords="allow") == [
        "yellow_airflow_admin_password: is still the placeholder of vault.yml.example; set the real secret in Ansible Vault"]


def test_spec_messages_are_redacted():
    problems = problems_of("platform_prereqs", {"yellow_k8s_context": ["a", SECRET], "yellow_k8s_git_token": SECRET})
    assert len(problems) == 1 and problems[0].startswith("yellow_k8s_context: "), problems


def test_summary_carries_no_secret():
    values = role_values("postgres_host", INVENTORY)
    _problems, summary = inputs.check_role("postgres_host", values, os_family="Debian")
    assert summary == {"yellow_pg_users": ["datasurfacedt", "mask_dt_cred"],
                       "yellow_pg_databases": ["airflow_db", "merge_db_af3", "customer_db", "postgres-cqrs-af3"],
                       "yellow_pg_hba_cidrs": ["100.64.0.0/10", "10.244.0.0/16"]}


# ---- issue 11, defect 1: booleans are read with Ansible's rules --------------------------------

FALSE_WORDS = ["false", "no", "0", False, "off", 0]
TRUE_WORDS = ["true", "yes", True, "1", "on"]
# The opt-ins that loosen a safety rule, with the input they let through.
OPT_INS = [
    ("postgres_host", "yellow_pg_allow_weak_auth", {"yellow_pg_hba_method": "trust"},
     "yellow_pg_hba_method: 'trust' is refused"),
    ("postgres_host", "yellow_pg_allow_any_source", {"yellow_pg_hba_cidrs": ["0.0.0.0/0"]},
     "yellow_pg_hba_cidrs[0]: '0.0.0.0/0' admits every address"),
]


@pytest.mark.parametrize("word", FALSE_WORDS, ids=repr)
@pytest.mark.parametrize("role, flag, loosened, refusal", OPT_INS, ids=[flag for _r, flag, _l, _m in OPT_INS])
def test_opt_in_given_a_false_word_stays_off(role, flag, loosened, refusal, word):
    problems = problems_of(role, dict(loosened, **{flag: word}))
    assert any(problem.startswith(refusal) for problem in problems), problems


@pytest.mark.parametrize("word", TRUE_WORDS, ids=repr)
@pytest.mark.parametrize("role, flag, loosened, refusal", OPT_INS, ids=[flag for _r, flag, _l, _m in OPT_INS])
def test_opt_in_given_a_true_word_is_on(role, flag, loosened, refusal, word):
    assert problems_of(role, dict(loosened, **{flag: word})) == []


BOOL_OPTIONS = sorted({(role, entry_point, name) for (role, entry_point), spec in SPECS.items()
                       for name, option in spec.items() if option.get("type") == "bool"})


@pytest.mark.parametrize("role, entry_point, name", BOOL_OPTIONS, ids=["/".join(item) for item in BOOL_OPTIONS])
def test_every_boolean_option_converts_with_ansible_rules(role, entry_point, name):
    """Every bool option of every entry point: the six words of the issue, and a non-boolean refused."""
    spec = SPECS[(role, entry_point)]
    for word, expected in [("false", False), ("no", False), ("0", False), (False, False), ("true", True), ("yes", True)]:
        problems, converted = inputs.validate_spec(spec, {name: word}, role)
        assert not [p for p in problems if p.startswith(name)], (word, problems)
        assert converted[name] is expected, (word, converted)
    problems, converted = inputs.validate_spec(spec, {name: "maybe"}, role)
    assert f"{name}: 'maybe' is not a boolean (true/false, yes/no, 1/0)" in problems
    assert name not in converted


def test_every_flag_of_every_spec_is_typed_bool():
    """Options named like flags (allow_*, *_check, check_*, *_persistence...) are bool, not str."""
    flag_like = [(role, name, option.get("type", "str")) for (role, _ep), spec in SPECS.items() for name, option in spec.items()
                 if re.search(r"_(allow_[a-z_]+|check_[a-z_]+|[a-z]+_check|persistence|refresh|pin|restart|simulated|fail|now|report|"
                              r"install|containerd_hosts|iscsid_start|restart_on_dag_change)$", name)]
    assert flag_like
    assert [item for item in flag_like if item[2] != "bool"] == []


# ---- issue 11, defect 2: no credentials in any URL -----------------------------------------------

URL_INPUTS = [
    ("airflow", "yellow_airflow_git_repo"),
    ("airflow", "yellow_airflow_chart_repo_url"),
    ("bootstrap", "yellow_bootstrap_dag_repo"),
    ("bootstrap", "yellow_bootstrap_model_repo"),
    ("platform_prereqs", "yellow_k8s_registry_server"),
    ("verify", "yellow_verify_airflow_url"),
]


@pytest.mark.parametrize("role, name", URL_INPUTS)
@pytest.mark.parametrize("url", [f"https://user:{TOKEN}@github.com/org/repo.git", f"https://{TOKEN}@github.com/org/repo.git",
                                 f"ssh://git:{TOKEN}@github.com/org/repo.git"])
def test_credentials_in_a_url_are_refused_naming_the_variable(role, name, url):
    problems = problems_of(role, {name: url})
    assert [p for p in problems if p.startswith(f"{name}: the URL embeds credentials")], problems


def test_dag_repo_set_separately_is_checked_too():
    """The defect: only the derived yellow_bootstrap_dag_repo was checked, not yellow_airflow_git_repo itself."""
    problems = problems_of("airflow", {"yellow_airflow_git_repo": f"https://user:{TOKEN}@git.example.com/org/dags.git",
                                       "yellow_bootstrap_dag_repo": "https://git.example.com/org/dags.git"})
    assert problems == ["yellow_airflow_git_repo: the URL embeds credentials (https://****@git.example.com/...); remove them "
                        "from the URL and give the user and token through the role's username/token variables (from Ansible Vault)"]


def test_credentials_in_a_nested_url_are_refused():
    registries = [{"host": "registry.example.com", "endpoint": f"https://bot:{TOKEN}@registry.example.com",
                   "username": "bot", "password": SECRET}]
    problems = problems_of("node_prep", {"yellow_node_registries": registries})
    assert [p for p in problems if p.startswith("yellow_node_registries[0].endpoint: the URL embeds credentials")], problems


def test_an_ssh_user_name_alone_is_fine():
    assert problems_of("bootstrap", {"yellow_bootstrap_model_repo": "ssh://git@github.com/example/model.git"}) == []


# ---- issue 11, defect 5: durations and numbers up front ------------------------------------------

@pytest.mark.parametrize("value", ["abc", "20", "20 m", "-5m", ""])
def test_helm_timeout_must_be_a_duration(value):
    problems = problems_of("airflow", {"yellow_airflow_helm_timeout": value})
    assert problems == [f"yellow_airflow_helm_timeout: {value!r} is not a duration such as 600s, 20m or 1h30m (a number "
                        "with a unit: ms, s, m, h)"]


@pytest.mark.parametrize("value", ["20m", "600s", "1h30m", "1.5h", "300ms"])
def test_helm_timeout_durations_pass(value):
    assert problems_of("airflow", {"yellow_airflow_helm_timeout": value}) == []


INT_OPTIONS = sorted({(role, entry_point, name) for (role, entry_point), spec in SPECS.items()
                      for name, option in spec.items() if option.get("type") in ("int", "float")})


@pytest.mark.parametrize("role, entry_point, name", INT_OPTIONS, ids=["/".join(item) for item in INT_OPTIONS])
def test_every_number_option_refuses_a_word(role, entry_point, name):
    problems, converted = inputs.validate_spec(SPECS[(role, entry_point)], {name: "abc"}, role)
    assert [p for p in problems if p.startswith(f"{name}: ") and ("abc" in p or "cannot be converted" in p)], problems
    assert name not in converted


@pytest.mark.parametrize("name, value, expected", [
    ("yellow_airflow_ready_timeout", 0, "yellow_airflow_ready_timeout: 0 must be a positive number"),
    ("yellow_airflow_worker_replicas", -1, "yellow_airflow_worker_replicas: -1 must be 0 or a positive number"),
    ("yellow_airflow_worker_storage_size", "ten gigs", "yellow_airflow_worker_storage_size: 'ten gigs' is not a Kubernetes quantity"),
    ("yellow_airflow_git_period", "60", "yellow_airflow_git_period: '60' is not a duration"),
])
def test_numbers_and_quantities_in_range(name, value, expected):
    problems = problems_of("airflow", {name: value})
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_negative_pull_throttle():
    assert problems_of("node_prep", {"yellow_node_pull_throttle": -1}) == [
        "yellow_node_pull_throttle: -1 must be 0 or a positive number"]


# ---- issue 11, defect 7: lists are lists, images are image references, required is required ------

LIST_OPTIONS = sorted({(role, entry_point, name) for (role, entry_point), spec in SPECS.items()
                       for name, option in spec.items() if option.get("type") == "list"})


def test_every_list_option_has_elements():
    assert [item for item in LIST_OPTIONS if "elements" not in SPECS[item[:2]][item[2]]] == []


@pytest.mark.parametrize("role, entry_point, name", LIST_OPTIONS, ids=["/".join(item) for item in LIST_OPTIONS])
def test_every_list_option_refuses_a_comma_string(role, entry_point, name):
    problems, converted = inputs.validate_spec(SPECS[(role, entry_point)], {name: "scheduler,worker"}, role)
    assert f"{name}: must be a list (YAML [a, b] or one '- item' per line), not the string 'scheduler,worker'" in problems \
        or f"{name}: must be a list (YAML [a, b] or one '- item' per line), not str" in problems, problems
    assert name not in converted


def test_ready_components_as_a_string_is_refused():
    problems = problems_of("airflow", {"yellow_airflow_ready_components": "scheduler,worker"})
    assert problems == ["yellow_airflow_ready_components: must be a list (YAML [a, b] or one '- item' per line), "
                        "not the string 'scheduler,worker'"]


@pytest.mark.parametrize("image", ["", "Docker.io/Datasurface:latest", "datasurface/datasurface:v1 latest", "x::y"])
def test_bootstrap_image_is_parsed_as_an_image_reference(image):
    problems = problems_of("bootstrap", {"yellow_bootstrap_image": image})
    assert len(problems) == 1 and problems[0].startswith("yellow_bootstrap_image: "), problems


def test_required_options_with_a_null_default_are_reported_missing():
    """yellow_bootstrap_psp defaults to yellow_psp_name | default(none): unset, the spec's required must fire."""
    inventory = {key: value for key, value in INVENTORY.items() if key != "yellow_psp_name"}
    values = role_values("bootstrap", inventory)
    assert values["yellow_bootstrap_psp"] is None
    problems, _summary = inputs.check_role("bootstrap", values)
    assert problems == ["yellow_bootstrap_psp: must be set (required by the bootstrap role)"]


def test_required_dag_repo_without_airflow_git_repo():
    inventory = {key: value for key, value in INVENTORY.items() if key != "yellow_airflow_git_repo"}
    problems, _summary = inputs.check_role("bootstrap", role_values("bootstrap", inventory))
    assert problems == ["yellow_bootstrap_dag_repo: must be set (required by the bootstrap role)"]
