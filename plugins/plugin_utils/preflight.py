# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The preflight phase's cross-role checks: the inventory as a whole, the cluster, the pod network.

Each role's own inputs are checked by the input layer (plugin_utils/inputs.py, the check_inputs
action). Every function here returns a list of human-readable problems, each starting with the
variable (or the cluster object) it is about. Messages never repeat a secret's value: secrets are
compared, never echoed.

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

from ansible_collections.datasurface.yellow.plugins.plugin_utils.inputs import example_password_problem
from ansible_collections.datasurface.yellow.plugins.plugin_utils.inputs import error_reason as _error_reason
from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import cidr_problem, dns1123_label_problem, flag

# Variable prefix of each role, and the group the role runs on.
ROLE_PREFIXES = {
    "postgres_host": "yellow_pg_",
    "node_prep": "yellow_node_",
    "platform_prereqs": "yellow_k8s_",
    "airflow": "yellow_airflow_",
    "bootstrap": "yellow_bootstrap_",
}
NAMESPACE_VARIABLES = ("yellow_namespace", "yellow_k8s_namespace", "yellow_airflow_namespace", "yellow_bootstrap_namespace")
CLUSTER_TYPES = ("k3s", "kubeadm")
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# A mapping key whose value is a secret (yellow_k8s_git_token, password:, ...).
SECRET_KEY = re.compile(r"(password|passwd|token)", re.IGNORECASE)
# Variables whose every leaf value is a secret (Secret data, the generator's secret environment).
SECRET_TREES = {"yellow_k8s_secrets_extra": "data", "yellow_bootstrap_environment": ""}


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


def example_password_problems(values: Mapping[str, Any], prefixes: Sequence[str] = ("yellow_",),
                              allow_examples: bool = False) -> list[str]:
    """Secrets that are one of the HOWTO's example passwords (unless allowed) or the vault placeholder."""
    problems = []
    for name in sorted(values):
        if not name.startswith(tuple(prefixes)):
            continue
        for path, leaf in _secret_leaves(name, values[name]):
            problem = example_password_problem(path, leaf, allow_examples) if isinstance(leaf, str) else None
            if problem:
                problems.append(problem)
    return problems


def _about(problem: str, names: Sequence[str]) -> bool:
    """True when ``problem`` is about one of the variables ``names``."""
    return any(problem == name or problem.startswith((f"{name}:", f"{name}[", f"{name}.", f"{name} ")) for name in names)


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
    """Airflow's database user and name against the PostgreSQL host's (the host and port are the airflow role's checks)."""
    problems: list[str] = []
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


def inventory_problems(values: Mapping[str, Any], groups: Mapping[str, Any] | None = None, postgres: Any = None,
                       summary: Mapping[str, Any] | None = None) -> list[str]:
    """Checks across roles: one namespace, PSP name, CIDRs, Airflow's database, image tags, cluster type.

    ``summary`` holds the roles' converted inputs with their defaults (check_inputs' summary); it
    stands in for what the inventory does not set.
    """
    values = {**values, **(summary or {})}
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
    problems += example_password_problems(others, ("yellow_",), flag(values, "yellow_lab")
                                          or flag(values, "yellow_preflight_allow_example_passwords"))
    problems += _image_problems(values, broken)
    problems += _database_problems(values, broken, postgres)
    problems += _cluster_type_problems(values, groups or {})
    return problems


# ---- the cluster ------------------------------------------------------------------------------


def _resources(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        value = value.get("resources", [])
    return [item for item in value or [] if isinstance(item, Mapping)]


def cluster_problems(values: Mapping[str, Any], nodes: Any, storage_classes: Any, summary: Mapping[str, Any] | None = None,
                     postgres: Any = None) -> list[str]:
    """Nodes that are not Ready, storage classes the inventory names but the cluster lacks, the pod network."""
    values = {**values, **(summary or {})}
    problems = pod_network_problems(values, postgres, nodes)
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
    if values.get("yellow_airflow_logs_persistence", True) is not False:
        wanted.append("yellow_airflow_logs_storage_class")
    for key in wanted:
        name = values.get(key)
        if _set(name) and name not in present:
            problems.append(f"{key}: storage class {name!r} does not exist in the cluster (present: {', '.join(present) or 'none'})")
    return problems


def _networks(value: Any) -> list[Any]:
    items = value if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) else []
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except (TypeError, ValueError):
            continue
    return networks


def node_pod_cidrs(nodes: Any) -> list[str]:
    """The pod networks the cluster gave its nodes (spec.podCIDRs, or the older spec.podCIDR)."""
    found: list[str] = []
    for node in _resources(nodes):
        spec = node.get("spec") or {}
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        for cidr in cidrs:
            if isinstance(cidr, str) and cidr not in found:
                found.append(cidr)
    return found


def pod_network_problems(values: Mapping[str, Any], postgres: Any, nodes: Any = None) -> list[str]:
    """The pod network must be inside yellow_pg_hba_cidrs, or no pod reaches PostgreSQL.

    The pod networks are the nodes' ``spec.podCIDRs`` when the cluster was read and gives them,
    else ``yellow_pod_cidrs`` from the inventory. Only checked when this inventory manages the
    PostgreSQL host (group postgres): otherwise pg_hba is someone else's.
    """
    pg_values = collected_values(postgres) if isinstance(postgres, Mapping) else {}
    if "yellow_pg_hba_cidrs" not in pg_values or _error_reason(pg_values.get("yellow_pg_hba_cidrs")) is not None:
        return []
    hba = _networks(pg_values["yellow_pg_hba_cidrs"])
    declared = values.get("yellow_pod_cidrs")
    declared_networks = _networks(declared) if _error_reason(declared) is None else []
    from_nodes = node_pod_cidrs(nodes) if nodes is not None else []
    problems = []
    if from_nodes:
        source = "the nodes' spec.podCIDRs"
        pod_networks = _networks(from_nodes)
        outside = [str(net) for net in pod_networks
                   if declared_networks and not any(net.version == d.version and net.subnet_of(d) for d in declared_networks)]
        if outside:
            problems.append(f"yellow_pod_cidrs: {', '.join(str(d) for d in declared_networks)} does not contain the pod "
                            f"network(s) {', '.join(outside)} the cluster gave its nodes; correct yellow_pod_cidrs")
    elif declared_networks:
        source = "yellow_pod_cidrs"
        pod_networks = declared_networks
    else:
        return ["yellow_pod_cidrs: must be set (the cluster's pod network, e.g. 10.42.0.0/16 for K3s, the kubeadm "
                "--pod-network-cidr): the nodes give no spec.podCIDRs to read, and pg_hba must admit the pods"]
    for net in pod_networks:
        if not any(net.version == allowed.version and net.subnet_of(allowed) for allowed in hba):
            problems.append(
                f"yellow_pg_hba_cidrs: {', '.join(str(h) for h in hba) or 'nothing'} does not cover the pod network {net} "
                f"({source}); pods could not reach PostgreSQL. Add {net} (or a network containing it) to yellow_pg_hba_cidrs")
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
