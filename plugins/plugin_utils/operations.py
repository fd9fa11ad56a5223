# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The operations role's decisions: input checks per operation, tables a schema reset drops, the MCP server.

``operations_problems`` takes the role's variables (only those of the operation at hand need to be
present) and returns every problem, each starting with the variable it is about. Messages never
repeat a secret's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.datasurface.yellow.plugins.plugin_utils.capacity import QuantityError, cpu_millicores, memory_bytes
from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import (
    DNS1123_SUBDOMAIN,
    dns1123_label_problem,
    secret_problem,
)

OPERATIONS = ("update_image", "reset_schema", "clear_git_cache", "log_cleanup", "data_simulator", "mcp",
              "capacity_report", "teardown")
# Image tags as the OCI distribution spec allows them.
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# Table names the reset accepts: what DataSurface creates (lower-case names, digits, '_'), quoted anyway.
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
CRON_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
CRON_NAMES = re.compile(r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)$", re.IGNORECASE)
SIMULATOR_STATES = ("started", "stopped")
MCP_ACTIONS = ("status", "restart", "snippet")
PASSWORD_OPTIONS = ("--password", "--pass", "-p", "--pwd")


def cron_problem(value: Any) -> str | None:
    """Why ``value`` is not a five-field cron schedule (or a macro such as ``@hourly``), or None."""
    if not isinstance(value, str) or not value.strip():
        return "must be a cron schedule such as '0 * * * *'"
    text = value.strip()
    if text.startswith("@"):
        return None if text in CRON_MACROS else f"{value!r}: unknown macro (known: {', '.join(sorted(CRON_MACROS))})"
    fields = text.split()
    if len(fields) != 5:
        return f"{value!r} must have 5 fields (minute hour day-of-month month day-of-week), it has {len(fields)}"
    for field, (what, low, high) in zip(fields, CRON_FIELDS):
        for part in field.split(","):
            base, _slash, step = part.partition("/")
            if step and not step.isdigit():
                return f"{value!r}: the {what} step {step!r} is not a number"
            if base in ("*", "?"):
                continue
            for bound in base.split("-", 1):
                if CRON_NAMES.match(bound):
                    continue
                if not bound.isdigit() or not low <= int(bound) <= high:
                    return f"{value!r}: the {what} field {field!r} is out of range ({low}-{high})"
    return None


def _positive_int(values: Mapping[str, Any], key: str, problems: list[str], allow_zero: bool = False) -> None:
    value = values.get(key)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        problems.append(f"{key}: must be {'a non-negative' if allow_zero else 'a positive'} whole number, got {value!r}")


def _positive_number(values: Mapping[str, Any], key: str, problems: list[str]) -> None:
    value = values.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        problems.append(f"{key}: must be a positive number, got {value!r}")


def _name(values: Mapping[str, Any], key: str, problems: list[str]) -> None:
    value = values.get(key)
    if not isinstance(value, str) or len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        problems.append(f"{key}: {value!r} is not a valid Kubernetes object name (DNS-1123 subdomain)")


def _label_name(values: Mapping[str, Any], key: str, problems: list[str], max_len: int = 63) -> None:
    value = values.get(key)
    problem = dns1123_label_problem(value)
    if problem:
        problems.append(f"{key}: {problem}")
    elif len(value) > max_len:
        problems.append(f"{key}: {value!r} is longer than {max_len} characters")


def _string_list(values: Mapping[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = values.get(key)
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        problems.append(f"{key}: must be a list")
        return []
    return list(value)


def _regexes(values: Mapping[str, Any], key: str, problems: list[str]) -> None:
    for index, pattern in enumerate(_string_list(values, key, problems)):
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            problems.append(f"{key}[{index}]: {pattern!r} is not a regular expression ({exc})")


def _confirmation(values: Mapping[str, Any], key: str, user_var: str, what: str, problems: list[str]) -> None:
    namespace = values.get("yellow_ops_namespace")
    given = values.get(key)
    if given in (None, ""):
        problems.append(f"{user_var}: {what}; confirm with -e {user_var}={namespace}")
    elif given != namespace:
        problems.append(f"{user_var}: {given!r} does not match the namespace {namespace!r}; {what}; "
                        f"confirm with -e {user_var}={namespace}")


def _db_problems(values: Mapping[str, Any], problems: list[str]) -> None:
    host = values.get("yellow_ops_db_host")
    if not isinstance(host, str) or not host.strip():
        problems.append("yellow_ops_db_host: must be set (the platform's PostgreSQL host; default yellow_airflow_db_host)")
    _positive_int(values, "yellow_ops_db_port", problems)
    user = values.get("yellow_ops_db_user")
    if not isinstance(user, str) or not user.strip():
        problems.append("yellow_ops_db_user: must be set (a non-empty string)")
    problem = secret_problem(values.get("yellow_ops_db_password"))
    if problem:
        problems.append(f"yellow_ops_db_password: {problem} (default yellow_k8s_postgres_password)")


def _resource(values: Mapping[str, Any], key: str, parse: Any, problems: list[str]) -> None:
    try:
        if parse(values.get(key)) <= 0:
            problems.append(f"{key}: must be greater than zero")
    except QuantityError as exc:
        problems.append(f"{key}: {exc}")


def table_entries(tables: Any, database: str, schema: str = "public") -> list[dict]:
    """``yellow_ops_simulator_tables`` entries as ``{name, schema, database}`` (strings use the defaults)."""
    entries = []
    for table in tables:
        if isinstance(table, str):
            entries.append({"name": table, "schema": schema, "database": database})
        else:
            entries.append({"name": table.get("name"), "schema": table.get("schema") or schema,
                            "database": table.get("database") or database})
    return entries


def _table_list_problems(values: Mapping[str, Any], key: str, problems: list[str]) -> None:
    for index, table in enumerate(_string_list(values, key, problems)):
        name = table if isinstance(table, str) else (table.get("name") if isinstance(table, Mapping) else None)
        if not isinstance(table, (str, Mapping)) or not isinstance(name, str) or not TABLE_NAME.match(name):
            problems.append(f"{key}[{index}]: {table!r} is not a table name (or a mapping with 'name', "
                            "optional 'schema' and 'database')")
        elif isinstance(table, Mapping):
            for sub in ("schema", "database"):
                if table.get(sub) is not None and not TABLE_NAME.match(str(table.get(sub))):
                    problems.append(f"{key}[{index}].{sub}: {table.get(sub)!r} is not an acceptable name")


def operations_problems(values: Mapping[str, Any], operation: str) -> list[str]:
    """Problems in the operations role's variables for one operation."""
    if operation not in OPERATIONS:
        return [f"operation: {operation!r} is not one of {', '.join(OPERATIONS)}"]
    problems: list[str] = []
    if "yellow_ops_namespace" in values:
        _label_name(values, "yellow_ops_namespace", problems)

    if operation == "update_image":
        tag = values.get("yellow_ops_image_tag")
        if not isinstance(tag, str) or not IMAGE_TAG.match(tag):
            problems.append(f"yellow_datasurface_image_tag: {tag!r} is not an image tag; give the new one with "
                            "-e yellow_datasurface_image_tag=<tag> (letters, digits, '_', '.', '-'; at most 128)")

    elif operation == "reset_schema":
        _confirmation(values, "yellow_ops_confirm_reset", "yellow_confirm_reset",
                      "resetting the schema drops the platform's tables in the merge database", problems)
        _db_problems(values, problems)
        psp = values.get("yellow_ops_psp")
        if not isinstance(psp, str) or not TABLE_NAME.match(psp):
            problems.append(f"yellow_ops_psp: {psp!r} must be the platform service provider's name (default yellow_psp_name)")
        for key in ("yellow_ops_merge_database", "yellow_ops_merge_schema"):
            if not isinstance(values.get(key), str) or not TABLE_NAME.match(values.get(key)):
                problems.append(f"{key}: {values.get(key)!r} is not an acceptable PostgreSQL name")
        for index, table in enumerate(_string_list(values, "yellow_ops_reset_tables", problems)):
            if not isinstance(table, str) or not TABLE_NAME.match(table):
                problems.append(f"yellow_ops_reset_tables[{index}]: {table!r} is not an acceptable table name")
        _regexes(values, "yellow_ops_reset_table_patterns", problems)
        if not values.get("yellow_ops_reset_tables") and not values.get("yellow_ops_reset_table_patterns"):
            problems.append("yellow_ops_reset_tables: nothing to drop (this and yellow_ops_reset_table_patterns are empty)")
        _string_list(values, "yellow_ops_reset_rerun_jobs", problems)

    elif operation == "clear_git_cache":
        _name(values, "yellow_ops_git_cache_pvc", problems)
        _label_name(values, "yellow_ops_git_cache_job_name", problems)
        _positive_int(values, "yellow_ops_job_timeout", problems)

    elif operation == "log_cleanup":
        problem = cron_problem(values.get("yellow_ops_log_cleanup_schedule"))
        if problem:
            problems.append(f"yellow_ops_log_cleanup_schedule: {problem}")
        _positive_int(values, "yellow_ops_log_retention_days", problems)
        _name(values, "yellow_ops_logs_pvc", problems)
        # A CronJob's name leaves 11 characters for the Jobs' time suffix.
        _label_name(values, "yellow_ops_log_cleanup_name", problems, max_len=52)
        _positive_int(values, "yellow_ops_job_timeout", problems)

    elif operation == "data_simulator":
        state = values.get("yellow_ops_simulator_state")
        if state not in SIMULATOR_STATES:
            problems.append(f"yellow_ops_simulator_state: {state!r} must be one of {', '.join(SIMULATOR_STATES)}")
        _label_name(values, "yellow_ops_simulator_name", problems)
        args = _string_list(values, "yellow_ops_simulator_args", problems)
        command = values.get("yellow_ops_simulator_command")
        words = [str(word) for word in args + (list(command) if isinstance(command, list) else [])]
        for word in words:
            if word.split("=", 1)[0] in PASSWORD_OPTIONS:
                problems.append("yellow_ops_simulator_args: must not carry a password option "
                                f"({word.split('=', 1)[0]}); the password comes from the Secret "
                                f"{values.get('yellow_ops_simulator_secret')!r} through the environment")
                break
        password = values.get("yellow_ops_db_password")
        if isinstance(password, str) and password and any(password in word for word in words):
            problems.append("yellow_ops_simulator_args: contains the database password; it must come from the Secret "
                            "through the environment, never the command line")
        if command is not None and (isinstance(command, (str, bytes)) or not isinstance(command, Sequence)):
            problems.append("yellow_ops_simulator_command: must be a list (or null for the built-in launcher)")
        _name(values, "yellow_ops_simulator_secret", problems)
        if state == "started" and values.get("yellow_ops_simulator_report"):
            _db_problems(values, problems)
            _table_list_problems(values, "yellow_ops_simulator_tables", problems)

    elif operation == "mcp":
        action = values.get("yellow_ops_mcp_action")
        if action not in MCP_ACTIONS:
            problems.append(f"yellow_ops_mcp_action: {action!r} must be one of {', '.join(MCP_ACTIONS)}")
        pattern = values.get("yellow_ops_mcp_name_pattern")
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            problems.append(f"yellow_ops_mcp_name_pattern: {pattern!r} is not a regular expression ({exc})")
        url = values.get("yellow_ops_mcp_url")
        if url not in (None, "") and (not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url)):
            problems.append(f"yellow_ops_mcp_url: {url!r} must be an http(s) URL")

    elif operation == "capacity_report":
        _resource(values, "yellow_ops_job_pod_cpu", cpu_millicores, problems)
        _resource(values, "yellow_ops_job_pod_memory", memory_bytes, problems)
        _positive_number(values, "yellow_ops_job_minutes", problems)
        scope = values.get("yellow_ops_capacity_scope")
        if scope not in ("cluster", "namespace"):
            problems.append(f"yellow_ops_capacity_scope: {scope!r} must be cluster or namespace")
        for index, schedule in enumerate(_string_list(values, "yellow_ops_capacity_schedules", problems)):
            minutes = schedule.get("minutes") if isinstance(schedule, Mapping) else None
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
                problems.append(f"yellow_ops_capacity_schedules[{index}]: must be a mapping with 'name' and a positive "
                                f"'minutes', got {schedule!r}")

    elif operation == "teardown":
        _confirmation(values, "yellow_ops_confirm_teardown", "yellow_confirm_teardown",
                      "teardown uninstalls the Airflow release and deletes the namespace with everything in it", problems)
        _label_name(values, "yellow_ops_airflow_release", problems, max_len=53)
        _positive_int(values, "yellow_ops_teardown_timeout", problems)
    return problems


def reset_tables(existing: Sequence[str], names: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """Existing tables a schema reset drops: those named, and those matching a pattern (whole name), sorted."""
    compiled = [re.compile(pattern) for pattern in patterns]
    wanted = set(names)
    return sorted(table for table in set(existing)
                  if table in wanted or any(regex.fullmatch(table) for regex in compiled))


def _node_address(node: Mapping[str, Any]) -> str | None:
    addresses = (node.get("status") or {}).get("addresses") or []
    for kind in ("ExternalIP", "InternalIP", "Hostname"):
        for address in addresses:
            if address.get("type") == kind and address.get("address"):
                return address["address"]
    return None


def mcp_info(deployments: Sequence[Mapping[str, Any]], services: Sequence[Mapping[str, Any]],
             nodes: Sequence[Mapping[str, Any]], pattern: str, host: str | None = None, url: str | None = None,
             path: str = "/sse", server_name: str = "datasurface") -> dict:
    """The MCP server's Deployments and Services (names matching ``pattern``), its URL and Cursor's mcp.json."""
    regex = re.compile(pattern)
    found_deployments = []
    for item in deployments:
        name = item["metadata"]["name"]
        if not regex.search(name):
            continue
        spec, status = item.get("spec") or {}, item.get("status") or {}
        found_deployments.append({
            "name": name, "replicas": spec.get("replicas", 1), "ready": status.get("readyReplicas", 0) or 0,
            "updated": status.get("updatedReplicas", 0) or 0,
            "restarted_at": (((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}).get(
                "kubectl.kubernetes.io/restartedAt"),
            "images": [c.get("image") for c in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []],
        })
    found_services = []
    for item in services:
        name = item["metadata"]["name"]
        if not regex.search(name):
            continue
        spec = item.get("spec") or {}
        found_services.append({"name": name, "type": spec.get("type", "ClusterIP"),
                               "ports": [{"port": p.get("port"), "node_port": p.get("nodePort"), "name": p.get("name")}
                                         for p in spec.get("ports") or []]})
    problem = None
    if not url:
        node_port = next((p["node_port"] for s in found_services for p in s["ports"] if p.get("node_port")), None)
        if host is None:
            ready_nodes = [n for n in sorted(nodes, key=lambda n: n["metadata"]["name"]) if _node_address(n)]
            host = _node_address(ready_nodes[0]) if ready_nodes else None
        if not found_services:
            problem = f"no Service whose name matches {pattern!r}"
        elif node_port is None:
            problem = "the MCP Service has no nodePort; set yellow_ops_mcp_url to how clients reach it"
        elif host is None:
            problem = "no node address found; set yellow_ops_mcp_host"
        else:
            url = f"http://{host}:{node_port}{path}"
    snippet = {"mcpServers": {server_name: {"url": url}}} if url else None
    lines = [f"Deployment {d['name']}: {d['ready']}/{d['replicas']} ready, image {', '.join(map(str, d['images']))}"
             + (f", restarted at {d['restarted_at']}" if d["restarted_at"] else "") for d in found_deployments]
    lines += [f"Service {s['name']} ({s['type']}): " + ", ".join(
        f"port {p['port']}" + (f" -> nodePort {p['node_port']}" if p["node_port"] else "") for p in s["ports"])
        for s in found_services]
    lines.append(f"URL: {url}" if url else f"URL: unknown ({problem})")
    return {"deployments": found_deployments, "services": found_services, "url": url, "snippet": snippet,
            "problem": problem, "lines": lines}
