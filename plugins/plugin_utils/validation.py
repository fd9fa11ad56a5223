# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Input checks that argument specs cannot express (formats, cross-references, safety rules).

Each ``*_problems`` function takes the role's variables as a mapping and returns a list of
human-readable problems, each starting with the variable it is about. An empty list means the
input is acceptable. Messages never repeat a secret's value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

# PostgreSQL identifiers we create without quoting tricks: letters, digits, underscore, dollar and
# hyphen (the platform's `postgres-cqrs-af3` database), at most 63 bytes (NAMEDATALEN - 1).
PG_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]*$")
PG_IDENTIFIER_MAX_BYTES = 63
PG_RESERVED_ROLE_NAMES = frozenset({"public", "none", "current_user", "session_user", "current_role"})
PG_STRONG_METHODS = frozenset({"scram-sha-256"})
PG_WEAK_METHODS = frozenset({"md5", "password", "trust"})
PG_SUPPORTED_OS_FAMILIES = frozenset({"Debian"})
LISTEN_ADDRESSES = re.compile(r"^[A-Za-z0-9_.:*, -]+$")


def cidr_problem(value: Any) -> str | None:
    """Return why ``value`` is not a network in CIDR notation, or None."""
    if not isinstance(value, str) or "/" not in value:
        return f"{value!r} is not in CIDR notation (address/prefix, e.g. 10.244.0.0/16)"
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"{value!r} is not a valid CIDR ({exc})"
        return f"{value!r} has host bits set; the network is {network}"
    return None


def is_catch_all_cidr(value: str) -> bool:
    """True for networks that admit every address (0.0.0.0/0, ::/0)."""
    return ipaddress.ip_network(value, strict=False).prefixlen == 0


def identifier_problem(value: Any, what: str = "name") -> str | None:
    """Return why ``value`` is not an acceptable PostgreSQL identifier, or None."""
    if not isinstance(value, str) or not value:
        return f"{what} must be a non-empty string"
    if len(value.encode("utf-8")) > PG_IDENTIFIER_MAX_BYTES:
        return f"{what} {value!r} is longer than {PG_IDENTIFIER_MAX_BYTES} bytes"
    if not PG_IDENTIFIER.match(value):
        return (
            f"{what} {value!r} may contain only letters, digits, '_', '$' and '-' and must start with "
            "a letter or '_' (quotes, semicolons and spaces are refused)"
        )
    return None


def role_name_problem(value: Any) -> str | None:
    """Identifier rules plus the names PostgreSQL reserves for roles."""
    problem = identifier_problem(value, "role name")
    if problem:
        return problem
    if value.lower() in PG_RESERVED_ROLE_NAMES or value.lower().startswith("pg_"):
        return f"role name {value!r} is reserved by PostgreSQL"
    return None


def secret_problem(value: Any) -> str | None:
    """Return why ``value`` cannot be used as a password (never echoing it), or None."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return "must be a non-empty string (set it from an Ansible Vault variable)"
    if not isinstance(value, str):
        return "must be a string"
    if "\x00" in value:
        return "must not contain a NUL character"
    return None


def _as_list(values: Mapping[str, Any], key: str, problems: list[str], required: bool = False) -> Sequence[Any]:
    """The list stored under ``key``; records a problem when it is not a list (or empty and required)."""
    value = values.get(key)
    if value is None and not required:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        problems.append(f"{key}: must be a list")
        return []
    if required and not value:
        problems.append(f"{key}: must not be empty")
    return value


def _unique_names(items: Sequence[Any], key: str, problems: list[str]) -> list[str]:
    names: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append(f"{key}[{index}]: must be a mapping with a 'name'")
            continue
        name = item.get("name")
        if name in names:
            problems.append(f"{key}[{index}].name: {name!r} is listed twice")
        names.append(name)
    return names


def flag(values: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """An opt-in flag read with Ansible's boolean rules ("false", "no", "0", "off" are false)."""
    value = values.get(key, default)
    if value is None:
        return default
    try:
        return boolean(value, strict=True)
    except TypeError:
        return default


def postgres_host_problems(values: Mapping[str, Any], os_family: str | None = None, **_: Any) -> list[str]:
    """Check the postgres_host role's variables; see roles/postgres_host/meta/argument_specs.yml."""
    problems: list[str] = []

    if os_family is not None and os_family not in PG_SUPPORTED_OS_FAMILIES:
        problems.append(
            f"ansible_facts.os_family: {os_family!r} is not supported by postgres_host "
            f"(supported: {', '.join(sorted(PG_SUPPORTED_OS_FAMILIES))}: Debian and Ubuntu)"
        )

    allow_weak = flag(values, "yellow_pg_allow_weak_auth")
    allow_any = flag(values, "yellow_pg_allow_any_source")

    method = values.get("yellow_pg_hba_method", "scram-sha-256")
    if method in PG_WEAK_METHODS and not allow_weak:
        problems.append(
            f"yellow_pg_hba_method: {method!r} is refused (passwords would travel or be stored weakly, "
            "or not be checked at all); use 'scram-sha-256', or set yellow_pg_allow_weak_auth: true to opt in"
        )
    elif method not in PG_STRONG_METHODS | PG_WEAK_METHODS:
        problems.append(f"yellow_pg_hba_method: {method!r} is not one of scram-sha-256, md5, password, trust")

    cidrs = _as_list(values, "yellow_pg_hba_cidrs", problems, required=True)
    for index, cidr in enumerate(cidrs):
        problem = cidr_problem(cidr)
        if problem:
            problems.append(f"yellow_pg_hba_cidrs[{index}]: {problem}")
        elif is_catch_all_cidr(cidr) and not allow_any:
            problems.append(
                f"yellow_pg_hba_cidrs[{index}]: {cidr!r} admits every address; list the cluster's networks "
                "instead, or set yellow_pg_allow_any_source: true to opt in"
            )

    listen = values.get("yellow_pg_listen_addresses", "*")
    if not isinstance(listen, str) or not LISTEN_ADDRESSES.match(listen):
        problems.append(
            "yellow_pg_listen_addresses: must be '*' or a comma-separated list of host names/addresses"
        )

    users = _as_list(values, "yellow_pg_users", problems, required=True)
    user_names = _unique_names(users, "yellow_pg_users", problems)
    for index, user in enumerate(users):
        if not isinstance(user, Mapping):
            continue
        problem = role_name_problem(user.get("name"))
        if problem:
            problems.append(f"yellow_pg_users[{index}].name: {problem}")
        problem = secret_problem(user.get("password"))
        if problem:
            problems.append(f"yellow_pg_users[{index}].password ({user.get('name')!s}): {problem}")

    owner_choices = set(user_names) | {values.get("yellow_pg_os_user", "postgres")}
    default_owner = values.get("yellow_pg_database_owner")
    if default_owner is not None:
        problem = role_name_problem(default_owner) if default_owner != "postgres" else None
        if problem:
            problems.append(f"yellow_pg_database_owner: {problem}")
        elif default_owner not in owner_choices:
            problems.append(
                f"yellow_pg_database_owner: {default_owner!r} is not one of the platform users in yellow_pg_users"
            )

    databases = _as_list(values, "yellow_pg_databases", problems)
    database_names = _unique_names(databases, "yellow_pg_databases", problems)
    for index, database in enumerate(databases):
        if not isinstance(database, Mapping):
            continue
        problem = identifier_problem(database.get("name"), "database name")
        if problem:
            problems.append(f"yellow_pg_databases[{index}].name: {problem}")
        owner = database.get("owner")
        if owner is not None and owner not in owner_choices:
            problems.append(
                f"yellow_pg_databases[{index}].owner: {owner!r} is not one of the platform users in yellow_pg_users"
            )

    merge_db = values.get("yellow_pg_merge_database")
    if merge_db is not None and merge_db not in database_names:
        problems.append(f"yellow_pg_merge_database: {merge_db!r} is not one of the databases in yellow_pg_databases")

    schema = values.get("yellow_pg_merge_schema", "public")
    problem = identifier_problem(schema, "schema name")
    if problem:
        problems.append(f"yellow_pg_merge_schema: {problem}")

    for index, role in enumerate(_as_list(values, "yellow_pg_default_privileges_for", problems)):
        if role not in owner_choices:
            problems.append(
                f"yellow_pg_default_privileges_for[{index}]: {role!r} is not one of the platform users in yellow_pg_users"
            )

    return problems


NODE_CLUSTER_TYPES = ("k3s", "kubeadm")
NODE_OS_FAMILIES = frozenset({"Debian", "RedHat"})
REGISTRY_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")


def url_problem(value: Any) -> str | None:
    """Return why ``value`` is not an http(s) URL with a host, or None."""
    from urllib.parse import urlsplit

    if not isinstance(value, str) or not value:
        return "must be a URL such as https://registry.example.com"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value!r} must be a URL with scheme (http:// or https://) and host"
    return None


def node_prep_problems(values: Mapping[str, Any], os_family: str | None = None, **_: Any) -> list[str]:
    """Check the node_prep role's variables; see roles/node_prep/meta/argument_specs.yml."""
    from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import (
        InvalidReference,
        parse_reference,
    )

    problems: list[str] = []
    if os_family is not None and os_family not in NODE_OS_FAMILIES:
        problems.append(
            f"ansible_facts.os_family: {os_family!r} is not supported by node_prep (supported: Debian/Ubuntu and the RedHat family)"
        )
    cluster_type = values.get("yellow_node_cluster_type", "k3s")
    if cluster_type not in NODE_CLUSTER_TYPES:
        problems.append(f"yellow_node_cluster_type: {cluster_type!r} is not one of {', '.join(NODE_CLUSTER_TYPES)}")

    registries = _as_list(values, "yellow_node_registries", problems)
    hosts: list[str] = []
    for index, registry in enumerate(registries):
        where = f"yellow_node_registries[{index}]"
        if not isinstance(registry, Mapping):
            problems.append(f"{where}: must be a mapping with at least 'host'")
            continue
        host = registry.get("host")
        if not isinstance(host, str) or not REGISTRY_HOST.match(host):
            problems.append(f"{where}.host: {host!r} must be a registry host as in image names (host or host:port, no scheme)")
        elif host in hosts:
            problems.append(f"{where}.host: {host!r} is listed twice")
        hosts.append(host)
        if registry.get("endpoint") is not None:
            problem = url_problem(registry.get("endpoint"))
            if problem:
                problems.append(f"{where}.endpoint: {problem}")
        has_user = registry.get("username") not in (None, "")
        has_password = "password" in registry and registry.get("password") is not None
        if has_user and not has_password:
            problems.append(f"{where}.password: must be set with username (set it from an Ansible Vault variable)")
        elif has_password and not has_user:
            problems.append(f"{where}.username: must be set with password")
        elif has_password:
            problem = secret_problem(registry.get("password"))
            if problem:
                problems.append(f"{where}.password ({host}): {problem}")

    for index, image in enumerate(_as_list(values, "yellow_node_pull_images", problems)):
        try:
            parse_reference(image)
        except InvalidReference as exc:
            problems.append(f"yellow_node_pull_images[{index}]: {exc}")

    return problems


DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def dns1123_label_problem(value: Any) -> str | None:
    """Return why ``value`` is not a DNS-1123 label (namespaces, release names), or None."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        return (f"{value!r} is not a DNS-1123 label (at most 63 characters: lower-case letters, digits and '-', "
                "starting and ending with a letter or digit)")
    return None


def k8s_prereqs_problems(values: Mapping[str, Any], **_: Any) -> list[str]:
    """Check the platform_prereqs role's variables; see roles/platform_prereqs/meta/argument_specs.yml."""
    problems: list[str] = []
    for key in ("yellow_k8s_namespace", "yellow_k8s_airflow_release"):
        problem = dns1123_label_problem(values.get(key))
        if problem:
            problems.append(f"{key}: {problem}")
    problem = url_problem(values.get("yellow_k8s_registry_server"))
    if problem:
        problems.append(f"yellow_k8s_registry_server: {problem}")
    for key in ("yellow_k8s_registry_username", "yellow_k8s_postgres_user", "yellow_k8s_mask_user", "yellow_k8s_git_username"):
        value = values.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key}: must be set (a non-empty string)")
    for key in ("yellow_k8s_registry_password", "yellow_k8s_postgres_password", "yellow_k8s_mask_password", "yellow_k8s_git_token"):
        problem = secret_problem(values.get(key))
        if problem:
            problems.append(f"{key}: {problem}")
    sqlserver = values.get("yellow_k8s_sqlserver_password")
    if sqlserver not in (None, ""):
        problem = secret_problem(sqlserver)
        if problem:
            problems.append(f"yellow_k8s_sqlserver_password: {problem}")
    reserved = {"dockerhub-creds", "postgres", "mask-dt-cred", "git", "git-dags", "sa"}
    for index, extra in enumerate(_as_list(values, "yellow_k8s_secrets_extra", problems)):
        where = f"yellow_k8s_secrets_extra[{index}]"
        if not isinstance(extra, Mapping):
            problems.append(f"{where}: must be a mapping with 'name' and 'data'")
            continue
        name = extra.get("name")
        if not isinstance(name, str) or len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
            problems.append(f"{where}.name: {name!r} is not a valid Secret name (DNS-1123 subdomain)")
        elif name in reserved:
            problems.append(f"{where}.name: {name!r} is one of the secrets this role manages itself")
        data = extra.get("data")
        if not isinstance(data, Mapping) or not data:
            problems.append(f"{where}.data: must be a non-empty mapping of KEY: value")
            continue
        for key, value in data.items():
            if not isinstance(key, str) or not SECRET_KEY.match(key):
                problems.append(f"{where}.data: key {key!r} may contain only letters, digits, '-', '_' and '.'")
            elif value is None or (isinstance(value, str) and value == ""):
                problems.append(f"{where}.data.{key}: must not be empty")
    return problems


JOB_ROLES = ("ring1_init", "model_merge", "reconcile_views")
PSP_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _relative_path_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a relative path (a string)"
    parts = [part for part in value.split("/") if part]
    if value.startswith("/") or ".." in parts:
        return f"{value!r} must be a path inside the repository (relative, no '..')"
    return None


def _job_selector_problem(value: Any) -> str | None:
    if isinstance(value, str) and (value in JOB_ROLES or DNS1123_SUBDOMAIN.match(value)):
        return None
    return f"{value!r} is neither a job role ({', '.join(JOB_ROLES)}) nor a Job name"


def bootstrap_problems(values: Mapping[str, Any], **_: Any) -> list[str]:
    """Check the bootstrap role's variables; see roles/bootstrap/meta/argument_specs.yml."""
    from ansible_collections.datasurface.yellow.plugins.module_utils.git import repo_url_problem

    problems: list[str] = []
    problem = dns1123_label_problem(values.get("yellow_bootstrap_namespace"))
    if problem:
        problems.append(f"yellow_bootstrap_namespace: {problem}")
    workdir = values.get("yellow_bootstrap_workdir")
    if not isinstance(workdir, str) or not workdir.startswith("/"):
        problems.append(f"yellow_bootstrap_workdir: {workdir!r} must be an absolute path on the control node")
    for key in ("yellow_bootstrap_model_repo", "yellow_bootstrap_dag_repo"):
        problem = repo_url_problem(values.get(key), check_credentials=False)
        if problem:
            problems.append(f"{key}: {problem}")
    for key in ("yellow_bootstrap_model_version", "yellow_bootstrap_dag_branch"):
        value = values.get(key)
        if not isinstance(value, str) or not value.strip() or value.startswith("-") or ".." in value or " " in value:
            problems.append(f"{key}: {value!r} must be a git ref (a tag or commit for the model, a branch for the DAGs)")
    for key in ("yellow_bootstrap_model_subdir", "yellow_bootstrap_dag_path"):
        problem = _relative_path_problem(values.get(key))
        if problem:
            problems.append(f"{key}: {problem}")
    username, token = values.get("yellow_bootstrap_git_username"), values.get("yellow_bootstrap_git_token")
    if username not in (None, "") and token in (None, ""):
        problems.append("yellow_bootstrap_git_token: must be set with yellow_bootstrap_git_username (from an Ansible Vault variable)")
    elif token not in (None, ""):
        problem = secret_problem(token)
        if problem:
            problems.append(f"yellow_bootstrap_git_token: {problem}")
    psp = values.get("yellow_bootstrap_psp")
    if not isinstance(psp, str) or not PSP_NAME.match(psp):
        problems.append(f"yellow_bootstrap_psp: {psp!r} must be the model's platform service provider name (letters, digits, '_', '.', '-')")
    rte = values.get("yellow_bootstrap_rte_name")
    if rte not in (None, "") and (not isinstance(rte, str) or not PSP_NAME.match(rte)):
        problems.append(f"yellow_bootstrap_rte_name: {rte!r} must be a runtime environment name (letters, digits, '_', '.', '-') or null")
    try:
        if int(values.get("yellow_bootstrap_ring_level", 0)) < 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(f"yellow_bootstrap_ring_level: {values.get('yellow_bootstrap_ring_level')!r} must be 0 or a positive number")
    runner = values.get("yellow_bootstrap_runner")
    if runner not in ("container", "python"):
        problems.append(f"yellow_bootstrap_runner: {runner!r} is not one of container, python")
    elif runner == "container" and not values.get("yellow_bootstrap_image"):
        # (its format is checked with the image-reference parser, see inputs.FORMATS)
        problems.append("yellow_bootstrap_image: must be set when yellow_bootstrap_runner is container")
    # The job list of the entry point in use (main, update_dags or rerun_jobs) must name at least one job.
    required_lists = ("yellow_bootstrap_jobs", "yellow_bootstrap_update_jobs", "yellow_bootstrap_rerun_jobs")
    for key in required_lists + ("yellow_bootstrap_rerun", "yellow_bootstrap_rerun_on_model_change"):
        if key in required_lists and key not in values:
            continue
        for index, item in enumerate(_as_list(values, key, problems, required=key in required_lists)):
            problem = _job_selector_problem(item)
            if problem:
                problems.append(f"{key}[{index}]: {problem}")
    for index, pattern in enumerate(_as_list(values, "yellow_bootstrap_apply_name_patterns", problems)):
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            problems.append(f"yellow_bootstrap_apply_name_patterns[{index}]: {pattern!r} is not a regular expression ({exc})")
    return problems


AIRFLOW_SECRETS = ("yellow_airflow_db_password", "yellow_airflow_redis_password", "yellow_airflow_admin_password")


def airflow_problems(values: Mapping[str, Any], **_: Any) -> list[str]:
    """Check the airflow role's variables; see roles/airflow/meta/argument_specs.yml."""
    from ansible_collections.datasurface.yellow.plugins.module_utils.git import repo_url_problem

    problems = []
    for key in AIRFLOW_SECRETS:
        if key in values:
            problem = secret_problem(values.get(key))
            if problem:
                problems.append(f"{key}: {problem}")
    for key in ("yellow_airflow_namespace", "yellow_airflow_release"):
        if key in values:
            problem = dns1123_label_problem(values.get(key))
            if problem:
                problems.append(f"{key}: {problem}")
    if "yellow_airflow_db_host" in values:
        host = values["yellow_airflow_db_host"]
        if not isinstance(host, str) or not host.strip():
            problems.append("yellow_airflow_db_host: must be set (the PostgreSQL host Airflow connects to)")
        elif not HOST_OR_ADDRESS.match(host.strip("[]")):
            problems.append(f"yellow_airflow_db_host: {host!r} must be a host name or address (no scheme, port or path)")
    if "yellow_airflow_git_repo" in values:
        problem = repo_url_problem(values.get("yellow_airflow_git_repo"), check_credentials=False)
        if problem:
            problems.append(f"yellow_airflow_git_repo: {problem}")
    if "yellow_airflow_chart_ref" in values:
        problem = airflow_chart_problem(values.get("yellow_airflow_chart_ref"), values.get("yellow_airflow_chart_version"))
        if problem:
            problems.append(f"yellow_airflow_chart_ref: {problem}")
    return problems


def airflow_chart_is_path(ref: Any) -> bool:
    """A chart reference that names a local chart directory or .tgz (else `<repository>/<chart>`)."""
    return isinstance(ref, str) and (ref.startswith(("/", "./", "../", "~")) or ref.endswith(".tgz"))


def airflow_chart_problem(ref: Any, version: Any = None) -> str | None:
    """The airflow chart reference: a repository chart, or a local directory / .tgz that exists on the
    control node (where helm runs) and holds the chart `airflow` at yellow_airflow_chart_version."""
    import tarfile

    import yaml

    if not isinstance(ref, str) or not ref.strip():
        return "must be set (`<repository>/airflow`, or the path of a local chart directory or .tgz)"
    if not airflow_chart_is_path(ref):
        if ref.count("/") != 1:
            return f"{ref!r} is neither `<repository>/<chart>` nor a path (absolute, ./ or ../, or a .tgz file)"
        return None
    path = os.path.expanduser(ref)
    try:
        if os.path.isdir(path):
            with open(os.path.join(path, "Chart.yaml"), encoding="utf-8") as handle:
                chart = yaml.safe_load(handle)
        elif os.path.isfile(path) and path.endswith(".tgz"):
            with tarfile.open(path, "r:gz") as archive:
                member = next((m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")), None)
                if member is None:
                    return f"{ref} is a .tgz without <chart>/Chart.yaml (not a packaged Helm chart)"
                chart = yaml.safe_load(archive.extractfile(member).read())
        elif os.path.exists(path):
            return f"{ref} is neither a chart directory nor a .tgz file"
        else:
            return f"{ref} does not exist on the control node (a local chart directory or .tgz; or `<repository>/airflow`)"
    except FileNotFoundError:
        return f"{ref} has no Chart.yaml (not a Helm chart directory)"
    except (OSError, tarfile.TarError, yaml.YAMLError) as exc:
        return f"{ref} cannot be read as a Helm chart: {exc}"
    if not isinstance(chart, dict) or chart.get("name") != "airflow":
        return f"{ref} holds the chart {chart.get('name') if isinstance(chart, dict) else None!r}, not 'airflow'"
    if version is not None and str(chart.get("version")) != str(version):
        return (f"{ref} holds airflow chart {chart.get('version')}, but yellow_airflow_chart_version is {version} "
                "(the values are validated against that version's schema)")
    return None


# Host names and IPv4/IPv6 addresses (an address is checked by ipaddress where it matters).
HOST_OR_ADDRESS = re.compile(r"^(?:[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+)$")


def verify_problems(values: Mapping[str, Any], **_: Any) -> list[str]:
    """Check the verify role's variables; see roles/verify/meta/argument_specs.yml."""
    problems = []
    problem = dns1123_label_problem(values.get("yellow_verify_namespace"))
    if problem:
        problems.append(f"yellow_verify_namespace: {problem}")
    if flag(values, "yellow_verify_airflow", True) and secret_problem(values.get("yellow_verify_airflow_password")):
        problems.append("yellow_verify_airflow_password: must be set (yellow_airflow_admin_password, from the vault)")
    if flag(values, "yellow_verify_airflow", True) and values.get("yellow_verify_airflow_url") is not None:
        problem = url_problem(values.get("yellow_verify_airflow_url"))
        if problem:
            problems.append(f"yellow_verify_airflow_url: {problem}")
    expected = values.get("yellow_verify_expected_dags")
    if expected is not None and (not isinstance(expected, int) or expected < 0):
        problems.append("yellow_verify_expected_dags: must be null or a non-negative integer")
    needs_db = flag(values, "yellow_verify_tables", True) or flag(values, "yellow_verify_db_probe")
    if needs_db and not (isinstance(values.get("yellow_verify_db_host"), str) and values["yellow_verify_db_host"].strip()):
        problems.append("yellow_verify_db_host: must be set (yellow_airflow_db_host)")
    if flag(values, "yellow_verify_tables", True) and secret_problem(values.get("yellow_verify_db_password")):
        problems.append("yellow_verify_db_password: must be set (yellow_k8s_postgres_password, from the vault)")
    return problems
