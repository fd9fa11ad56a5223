# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Checks on the values handed to the Apache Airflow Helm chart (1.19.0, Airflow 3.1.x).

Three kinds of problem, each reported with the value's dotted path:
- what the chart's own values.schema.json refuses (unknown keys, wrong types, out of range);
- keys that are deprecated or Airflow-2-only for this chart (they validate, but do the wrong thing);
- secrets written inline instead of referenced from Kubernetes Secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# path -> why it is wrong for chart 1.19.0 / Airflow 3.1
DEPRECATED = {
    "webserver.defaultUser": "Airflow 2 only; the Airflow 3 place is createUserJob.defaultUser",
    "workers.replicas": "deprecated; use workers.celery.replicas",
    "workers.persistence": "deprecated; use workers.celery.persistence",
    "config.scheduler.dag_dir_list_interval": "deprecated alias of config.dag_processor.refresh_interval",
    "dags.gitSync.wait": "deprecated; use dags.gitSync.period",
    "dags.gitSync.credentialsSecretKey": "not a chart value; git-sync reads GIT_SYNC_*/GITSYNC_* keys of credentialsSecret",
}
# Values that hold a secret when set inline (the chart also offers a *SecretName for each).
INLINE_SECRETS = {
    "data.metadataConnection.pass": "use data.metadataSecretName",
    "data.resultBackendConnection.pass": "use data.resultBackendSecretName",
    "data.brokerUrl": "use data.brokerUrlSecretName",
    "redis.password": "use redis.passwordSecretName",
    "fernetKey": "use fernetKeySecretName",
    "webserverSecretKey": "use webserverSecretKeySecretName",
    "apiSecretKey": "use apiSecretKeySecretName",
    "jwtSecret": "use jwtSecretName",
    "createUserJob.defaultUser.password": "reference an environment variable: $(VAR) with createUserJob.env valueFrom a Secret",
}
_ENV_REFERENCE = re.compile(r"^\$\([A-Za-z_][A-Za-z0-9_]*\)$")


def _lookup(values: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    current: Any = values
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


def schema_problems(values: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """What the chart's JSON schema refuses, as 'path: message' (messages without the offending value)."""
    from jsonschema import Draft7Validator  # controller-side dependency, imported when used

    problems = []
    for error in sorted(Draft7Validator(schema).iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path]):
        path = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties":
            message = error.message.split(" were unexpected")[0].split(" was unexpected")[0]
            message = "unknown key(s) " + message.replace("Additional properties are not allowed ", "")
        elif error.validator == "required":
            message = error.message
        else:
            # Never repeat the offending value (it may be a secret): name the rule it breaks.
            rule = json.dumps(error.validator_value, default=str)
            message = f"{error.validator}: must satisfy {error.validator} {rule[:120]}"
        problems.append(f"{path}: {message}")
    return problems


def unknown_key_problems(values: Any, schema: Mapping[str, Any], path: str = "") -> list[str]:
    """Keys the schema does not list where it lists properties but leaves additionalProperties open.

    The chart's schema is strict (additionalProperties false) on most objects but not at the top
    level or under workers.celery, where a typo would otherwise pass silently.
    """
    problems: list[str] = []
    if not isinstance(values, Mapping) or not isinstance(schema, Mapping):
        return problems
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return problems
    for key, value in values.items():
        where = f"{path}.{key}" if path else str(key)
        if key in properties:
            problems += unknown_key_problems(value, properties[key], where)
        elif "additionalProperties" not in schema and "patternProperties" not in schema:
            problems.append(f"{path or '(top level)'}: unknown key {key!r} (not a value of this chart; a typo?)")
    return problems


def deprecated_problems(values: Mapping[str, Any]) -> list[str]:
    problems = []
    for path, why in DEPRECATED.items():
        found, _value = _lookup(values, path)
        if found:
            problems.append(f"{path}: {why}")
    return problems


def inline_secret_problems(values: Mapping[str, Any]) -> list[str]:
    problems = []
    for path, instead in INLINE_SECRETS.items():
        found, value = _lookup(values, path)
        if found and value not in (None, "") and not (isinstance(value, str) and _ENV_REFERENCE.match(value)):
            problems.append(f"{path}: a secret written inline into the Helm values; {instead}")
    return problems


def airflow_values_problems(values: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Every problem of the values for the chart, schema first."""
    problems = (schema_problems(values, schema) + unknown_key_problems(values, schema) + deprecated_problems(values)
                + inline_secret_problems(values))
    found, version = _lookup(values, "airflowVersion")
    tag_found, tag = _lookup(values, "images.airflow.tag")
    if tag_found and tag and (not found or str(version) != str(tag)) and re.match(r"^\d+\.\d+\.\d+$", str(tag)):
        problems.append(f"airflowVersion: must equal images.airflow.tag ({tag}); otherwise the chart assumes its own default")
    for path in ("scheduler.replicas", "workers.celery.replicas", "apiServer.replicas", "triggerer.replicas"):
        found, replicas = _lookup(values, path)
        if found and isinstance(replicas, int) and not isinstance(replicas, bool) and replicas < 1:
            problems.append(f"{path}: must be at least 1 (the platform needs this component running)")
    found, git_sync = _lookup(values, "dags.gitSync")
    if found and isinstance(git_sync, Mapping) and git_sync.get("enabled") and git_sync.get("branch") and not git_sync.get("ref"):
        problems.append("dags.gitSync.ref: must be set with branch (git-sync v4 checks out ref)")
    return problems


def load_schema(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
