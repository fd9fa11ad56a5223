# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The preflight phase's checks: every role's inputs, the inventory as a whole, and the cluster.

Every function returns a list of human-readable problems, each starting with the variable (or the
tool, or the cluster object) it is about. Messages never repeat a secret's value: secrets are
compared, never echoed, and messages that come from elsewhere (argument-spec validation) are
redacted against every secret value of the host before they are returned.

Values arrive as a mapping of variable name to value: the playbook passes the task's ``vars``,
read here one variable at a time, so that a variable whose template fails (an undefined vault
variable) becomes an ``<< error N - why >>`` marker, reported as "cannot be evaluated", instead of
aborting the task. A registered ``debug: var=<name>`` loop (which produces the same markers) is
accepted too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any, Iterator

from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import (
    bootstrap_problems,
    cidr_problem,
    dns1123_label_problem,
    k8s_prereqs_problems,
    node_prep_problems,
    postgres_host_problems,
    secret_problem,
)

# The passwords the manual HOWTO uses in its examples: never acceptable outside a throwaway lab.
EXAMPLE_PASSWORDS = frozenset({"password", "Passw0rd123!", "admin", "pass@w0rd", "datasurface"})
# The placeholder of inventories/*/group_vars/all/vault.yml.example: never acceptable.
PLACEHOLDER_PASSWORDS = frozenset({"CHANGE-ME"})

# Variable prefix of each role, and the group the role runs on.
ROLE_PREFIXES = {
    "postgres_host": "yellow_pg_",
    "node_prep": "yellow_node_",
    "platform_prereqs": "yellow_k8s_",
    "airflow": "yellow_airflow_",
    "bootstrap": "yellow_bootstrap_",
}
ROLE_GROUPS = {
    "postgres_host": "postgres",
    "node_prep": "cluster_nodes",
    "platform_prereqs": "control",
    "airflow": "control",
    "bootstrap": "control",
}
NAMESPACE_VARIABLES = ("yellow_namespace", "yellow_k8s_namespace", "yellow_airflow_namespace", "yellow_bootstrap_namespace")
CLUSTER_TYPES = ("k3s", "kubeadm")
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
ERROR_MARKER = re.compile(r"^<< error \d+ - (?P<why>.*) >>$", re.DOTALL)
# A mapping key whose value is a secret (yellow_k8s_git_token, password:, ...).
SECRET_KEY = re.compile(r"(password|passwd|token)", re.IGNORECASE)
# Variables whose every leaf value is a secret (Secret data, the generator's secret environment).
SECRET_TREES = {"yellow_k8s_secrets_extra": "data", "yellow_bootstrap_environment": ""}
REDACTED = "********"
MIN_REDACT_LENGTH = 3


# ---- values -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """``value`` with every nested template evaluated (lazy containers become plain ones)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_plain(item) for item in value]
    return value


def collected_values(values: Any, prefix: str = "yellow_") -> dict[str, Any]:
    """Every ``prefix*`` variable of ``values``, evaluated one by one.

    ``values`` is the task's ``vars`` (evaluated lazily: a variable whose template fails raises
    here, and is kept as an ``<< error - why >>`` marker instead of aborting the task or making
    Ansible print the failing source lines), a plain mapping, or a registered ``debug: var`` loop.
    """
    if isinstance(values, Mapping) and isinstance(values.get("results"), Sequence) and not isinstance(values.get("results"), str):
        collected: dict[str, Any] = {}
        for result in values["results"]:
            if not isinstance(result, Mapping):
                continue
            name = result.get(result.get("ansible_loop_var") or "item")
            if isinstance(name, str) and name in result:
                collected[name] = result[name]
        return collected
    if not isinstance(values, Mapping):
        return {}
    collected = {}
    for name in [key for key in values.keys() if isinstance(key, str) and key.startswith(prefix)]:
        try:
            collected[name] = _plain(values[name])
        except Exception as exc:  # pylint: disable=broad-except  # any template failure is a finding
            collected[name] = f"<< error 0 - {exc} >>"
    return collected


def names_of(values: Any, variable: str) -> list[str]:
    """The ``name`` of every entry of a list variable (no other field), or [] when it cannot be read."""
    value = collected_values(values).get(variable)
    if _error_reason(value) is not None:
        return []
    return _names(value)


def _error_reason(value: Any) -> str | None:
    """Why a value could not be evaluated (the first failed template in it), or None."""
    for _path, leaf in _leaves(value, ""):
        if isinstance(leaf, str):
            match = ERROR_MARKER.match(leaf)
            if match:
                return match.group("why").strip()
    return None


def unresolved(values: Mapping[str, Any]) -> dict[str, str]:
    """Variables whose value could not be evaluated (an undefined vault variable...), with the reason."""
    found = {}
    for name, value in values.items():
        reason = _error_reason(value)
        if reason is not None:
            found[name] = reason
    return found


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, leaf) for every scalar inside ``value``; paths look like ``x[0].password``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def _secret_leaves(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """(path, value) of every secret inside variable ``name``; a path names the entry (``(host)``)."""
    if name in SECRET_TREES:
        under = SECRET_TREES[name]
        for path, leaf in _leaves(value, name):
            if not under or f".{under}." in path:
                yield path, leaf
        return
    if SECRET_KEY.search(name) and not isinstance(value, (Mapping, list, tuple)):
        yield name, value
        return
    yield from _nested_secrets(value, name)


def _nested_secrets(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        label = value.get("name") or value.get("host")
        for key, item in value.items():
            where = f"{path}.{key}"
            if isinstance(key, str) and SECRET_KEY.search(key) and not isinstance(item, (Mapping, list, tuple)):
                yield (f"{where} ({label})" if isinstance(label, str) and label else where), item
            else:
                yield from _nested_secrets(item, where)
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for index, item in enumerate(value):
            yield from _nested_secrets(item, f"{path}[{index}]")


def secret_values(values: Mapping[str, Any]) -> list[str]:
    """Every secret string among ``values`` (to redact messages with; never to print)."""
    secrets = set()
    for name, value in values.items():
        for _path, leaf in _secret_leaves(name, value):
            if isinstance(leaf, str) and len(leaf) >= MIN_REDACT_LENGTH and not ERROR_MARKER.match(leaf):
                secrets.add(leaf)
    return sorted(secrets, key=len, reverse=True)


def redact(message: str, secrets: Sequence[str]) -> str:
    """``message`` with every occurrence of every secret replaced."""
    for secret in secrets:
        message = message.replace(secret, REDACTED)
    return message


def example_password_problems(values: Mapping[str, Any], prefixes: Sequence[str] = ("yellow_",),
                              allow_examples: bool = False) -> list[str]:
    """Secrets that are one of the HOWTO's example passwords (unless allowed) or the vault placeholder."""
    problems = []
    for name in sorted(values):
        if not name.startswith(tuple(prefixes)):
            continue
        for path, leaf in _secret_leaves(name, values[name]):
            if not isinstance(leaf, str):
                continue
            if leaf in PLACEHOLDER_PASSWORDS:
                problems.append(f"{path}: is still the placeholder of vault.yml.example; set the real secret in Ansible Vault")
            elif leaf in EXAMPLE_PASSWORDS and not allow_examples:
                problems.append(
                    f"{path}: is one of the HOWTO's example passwords; set a real secret from Ansible Vault "
                    "(allowed only with yellow_lab: true or yellow_preflight_allow_example_passwords: true)")
    return problems


# ---- argument specs ---------------------------------------------------------------------------

_MISSING = re.compile(r"^missing required arguments: (?P<names>.*)$")
_ARGUMENT = re.compile(r"^argument '(?P<name>[^']+)' (?P<rest>.*)$", re.DOTALL)


def argument_error_problems(errors: Any, role: str, secrets: Sequence[str] = ()) -> list[str]:
    """``validate_argument_spec``'s ``argument_errors`` as 'variable: what is wrong' messages (redacted)."""
    problems = []
    for error in errors or []:
        text = redact(str(error), secrets).strip()
        missing = _MISSING.match(text)
        argument = _ARGUMENT.match(text)
        if missing:
            for name in missing.group("names").split(","):
                problems.append(f"{name.strip()}: must be set (required by the {role} role)")
        elif argument:
            problems.append(f"{argument.group('name')}: {argument.group('rest')} ({role} role argument spec)")
        else:
            problems.append(f"{text} ({role} role argument spec)")
    return problems


# ---- per role ---------------------------------------------------------------------------------


def _airflow_problems(values: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in ("yellow_airflow_db_password", "yellow_airflow_redis_password", "yellow_airflow_admin_password"):
        if key in values:
            problem = secret_problem(values.get(key))
            if problem:
                problems.append(f"{key}: {problem}")
    for key in ("yellow_airflow_namespace", "yellow_airflow_release"):
        if key in values:
            problem = dns1123_label_problem(values.get(key))
            if problem:
                problems.append(f"{key}: {problem}")
    return problems


ROLE_CHECKS = {
    "postgres_host": postgres_host_problems,
    "node_prep": node_prep_problems,
    "platform_prereqs": k8s_prereqs_problems,
    "airflow": _airflow_problems,
    "bootstrap": bootstrap_problems,
}


def _about(problem: str, names: Sequence[str]) -> bool:
    """True when ``problem`` is about one of the variables ``names``."""
    return any(problem == name or problem.startswith((f"{name}:", f"{name}[", f"{name}.", f"{name} ")) for name in names)


def role_problems(values: Mapping[str, Any], role: str, argument_errors: Any = None,
                  allow_examples: bool = False) -> list[str]:
    """Everything wrong with one role's inputs on one host.

    Variables that cannot be evaluated are reported once, and left out of the other checks (their
    value is an error marker, which would only produce a second, confusing message).
    """
    if role not in ROLE_CHECKS:
        raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLE_CHECKS)})")
    prefix = ROLE_PREFIXES[role]
    broken = {name: why for name, why in unresolved(values).items() if name.startswith(prefix)}
    problems = [f"{name}: cannot be evaluated ({why})" for name, why in sorted(broken.items())]
    secrets = secret_values(values)
    found = argument_error_problems(argument_errors, role, secrets)
    # A variable the argument spec reports missing is not reported again by the role's own checks.
    missing = [problem.split(":", 1)[0] for problem in found if problem.endswith(f": must be set (required by the {role} role)")]
    role_values = {name: value for name, value in values.items() if name.startswith(prefix) and name not in broken}
    found += [problem for problem in (redact(problem, secrets) for problem in ROLE_CHECKS[role](role_values))
              if not _about(problem, missing)]
    found += example_password_problems(role_values, (prefix,), allow_examples)
    for problem in found:
        if not _about(problem, list(broken)) and problem not in problems:
            problems.append(problem)
    return problems


# ---- the inventory as a whole -----------------------------------------------------------------


def _names(items: Any) -> list[str]:
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        return []
    return [item.get("name") if isinstance(item, Mapping) else item for item in items
            if isinstance(item, str) or (isinstance(item, Mapping) and isinstance(item.get("name"), str))]


def _set(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _namespace_problems(values: Mapping[str, Any], broken: Mapping[str, str]) -> list[str]:
    problems = []
    used = {}
    for key in NAMESPACE_VARIABLES:
        if key in broken or not _set(values.get(key)):
            continue
        problem = dns1123_label_problem(values.get(key))
        if problem:
            problems.append(f"{key}: {problem}")
        used[key] = values[key]
    if len(set(used.values())) > 1:
        first = next(iter(used))
        for key, value in used.items():
            if value != used[first]:
                problems.append(f"{key}: {value!r} differs from {first} {used[first]!r}; every role must use the same namespace")
    return problems


def _cidr_problems(values: Mapping[str, Any], broken: Mapping[str, str]) -> list[str]:
    """Any other yellow_*cidr* variable (yellow_pg_hba_cidrs is the postgres_host role's own check)."""
    problems = []
    for key in sorted(values):
        if "cidr" not in key or not key.startswith("yellow_") or key.startswith("yellow_pg_") or key in broken:
            continue
        value = values[key]
        if value is None:
            continue
        items = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        for index, item in enumerate(items):
            problem = cidr_problem(item)
            if problem:
                where = key if items is not value else f"{key}[{index}]"
                problems.append(f"{where}: {problem}")
    return problems


def _image_problems(values: Mapping[str, Any], broken: Mapping[str, str]) -> list[str]:
    problems = []
    for key in ("yellow_datasurface_image_tag", "yellow_airflow_image_tag"):
        if key not in values or key in broken:
            continue
        tag = values.get(key)
        if not _set(tag):
            problems.append(f"{key}: must not be empty (an image tag such as v1.1.0; pin it rather than using latest)")
        elif not IMAGE_TAG.match(str(tag)):
            problems.append(f"{key}: {tag!r} is not an image tag (letters, digits, '_', '.', '-'; at most 128)")
    image = values.get("yellow_datasurface_image")
    if "yellow_datasurface_image" in values and "yellow_datasurface_image" not in broken and not _set(image):
        problems.append("yellow_datasurface_image: must not be empty (e.g. docker.io/datasurface/datasurface)")
    return problems


def _database_problems(values: Mapping[str, Any], broken: Mapping[str, str], postgres: Any) -> list[str]:
    problems = []
    host = values.get("yellow_airflow_db_host")
    if "yellow_airflow_db_host" not in broken:
        if not _set(host):
            problems.append("yellow_airflow_db_host: must be set (the PostgreSQL host Airflow connects to)")
        elif not isinstance(host, str) or not HOST_NAME.match(host.strip("[]")) and not _is_address(host):
            problems.append(f"yellow_airflow_db_host: {host!r} must be a host name or address (no scheme, port or path)")
    port = values.get("yellow_airflow_db_port", 5432)
    try:
        if not 0 < int(port) < 65536:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(f"yellow_airflow_db_port: {port!r} must be a TCP port (1-65535)")
    pg_values = collected_values(postgres) if postgres is not None else None
    if not pg_values:
        return problems
    pg_broken = unresolved(pg_values)
    user = values.get("yellow_airflow_db_user")
    users = _names(pg_values.get("yellow_pg_users")) if "yellow_pg_users" not in pg_broken else []
    if users and _set(user):
        if user not in users:
            problems.append(f"yellow_airflow_db_user: {user!r} is not one of the users in yellow_pg_users ({', '.join(users) or 'none'})")
    database = values.get("yellow_airflow_db_name")
    databases = _names(pg_values.get("yellow_pg_databases")) if "yellow_pg_databases" not in pg_broken else []
    if databases and _set(database):
        if database not in databases:
            problems.append(
                f"yellow_airflow_db_name: {database!r} is not one of the databases in yellow_pg_databases ({', '.join(databases) or 'none'})")
    return problems


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def _cluster_type_problems(values: Mapping[str, Any], groups: Mapping[str, Any]) -> list[str]:
    cluster_type = values.get("yellow_cluster_type")
    if cluster_type is None:
        cluster_type = "k3s"  # node_prep's default
    if cluster_type not in CLUSTER_TYPES:
        return [f"yellow_cluster_type: {cluster_type!r} is not one of {', '.join(CLUSTER_TYPES)}"]
    server_group = values.get("yellow_node_k3s_server_group") or "k3s_servers"
    servers = list(groups.get(server_group) or [])
    nodes = list(groups.get("cluster_nodes") or [])
    if cluster_type == "k3s" and nodes and not servers:
        return [f"yellow_cluster_type: 'k3s' but the inventory has no hosts in group {server_group} "
                "(K3s inventories list their servers there; use 'kubeadm' for other clusters)"]
    if cluster_type == "kubeadm" and servers:
        return [f"yellow_cluster_type: 'kubeadm' but the inventory has hosts in group {server_group} (a K3s inventory?)"]
    return []


def inventory_problems(values: Mapping[str, Any], groups: Mapping[str, Any] | None = None, postgres: Any = None) -> list[str]:
    """Checks across roles: one namespace, PSP name, CIDRs, Airflow's database, image tags, cluster type."""
    broken = unresolved(values)
    problems = _namespace_problems(values, broken)
    psp_keys = [key for key in ("yellow_psp_name", "yellow_bootstrap_psp") if key not in broken]
    if len(psp_keys) == 2 and not any(_set(values.get(key)) for key in psp_keys):
        problems.append("yellow_psp_name: must be set (the model's platform service provider, e.g. Test_DP); "
                        "yellow_bootstrap_psp is empty too")
    elif all(_set(values.get(key)) for key in psp_keys) and len(psp_keys) == 2 \
            and values["yellow_psp_name"] != values["yellow_bootstrap_psp"]:
        problems.append(f"yellow_bootstrap_psp: {values['yellow_bootstrap_psp']!r} differs from yellow_psp_name "
                        f"{values['yellow_psp_name']!r}")
    problems += _cidr_problems(values, broken)
    # Secrets of no role checked above (the roles' own are checked on the hosts of their groups).
    others = {name: value for name, value in values.items()
              if not name.startswith(tuple(ROLE_PREFIXES.values())) and name not in broken}
    problems += example_password_problems(others, ("yellow_",), bool(values.get("yellow_lab"))
                                          or bool(values.get("yellow_preflight_allow_example_passwords")))
    problems += _image_problems(values, broken)
    problems += _database_problems(values, broken, postgres)
    problems += _cluster_type_problems(values, groups or {})
    return problems


# ---- the cluster ------------------------------------------------------------------------------


def _resources(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        value = value.get("resources", [])
    return [item for item in value or [] if isinstance(item, Mapping)]


def cluster_problems(values: Mapping[str, Any], nodes: Any, storage_classes: Any) -> list[str]:
    """Nodes that are not Ready and storage classes the inventory names but the cluster lacks."""
    problems = []
    node_list = _resources(nodes)
    if not node_list:
        problems.append("cluster: has no nodes")
    for node in node_list:
        name = (node.get("metadata") or {}).get("name", "?")
        conditions = {c.get("type"): c for c in (node.get("status") or {}).get("conditions") or [] if isinstance(c, Mapping)}
        ready = conditions.get("Ready") or {}
        if ready.get("status") != "True":
            why = ready.get("reason") or "no Ready condition"
            problems.append(f"cluster: node {name} is not Ready ({why})")
    present = sorted({(item.get("metadata") or {}).get("name") for item in _resources(storage_classes)} - {None})
    wanted = ["yellow_airflow_storage_class"]
    if values.get("yellow_airflow_logs_persistence", True):
        wanted.append("yellow_airflow_logs_storage_class")
    for key in wanted:
        name = values.get(key)
        if _set(name) and name not in present:
            problems.append(f"{key}: storage class {name!r} does not exist in the cluster (present: {', '.join(present) or 'none'})")
    return problems


# ---- the report -------------------------------------------------------------------------------


def report_lines(per_host: Mapping[str, Any], completed: Sequence[str] | None = None) -> list[str]:
    """'host: problem' for every host's problems; hosts that did not complete the checks too."""
    lines = []
    for host in per_host:
        problems = per_host[host]
        if completed is not None and host not in completed:
            lines.append(f"{host}: did not complete the preflight checks (unreachable or failed; see above)")
        for problem in problems if isinstance(problems, Sequence) and not isinstance(problems, str) else []:
            line = f"{host}: {problem}"
            if line not in lines:
                lines.append(line)
    return lines
