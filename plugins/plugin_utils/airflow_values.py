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
    problems += generated_secret_problems(values) + persistence_problems(values)
    return problems


# --- the Secrets the chart would generate at random --------------------------------------------
# Chart 1.19.0 renders these Secrets with randAlphaNum at EVERY render unless the values name an
# existing Secret: every `helm upgrade` then changes the pods' checksum/* annotations (restarting
# every Airflow pod) and, for the API secret key and the JWT secret, the keys themselves. `chart`
# is the name the chart gives its own Secret ({release} = .Release.Name, {fullname} = airflow.fullname),
# `variable` the role variable that names the role's Secret.
CHART_GENERATED_SECRETS = (
    {"value": "fernetKeySecretName", "key": "fernet-key", "inline": "fernetKey", "what": "Fernet key",
     "chart": "{release}-fernet-key", "variable": "yellow_airflow_fernet_key_secret"},
    {"value": "apiSecretKeySecretName", "key": "api-secret-key", "inline": "apiSecretKey", "what": "API secret key",
     "chart": "{fullname}-api-secret-key", "variable": "yellow_airflow_api_secret_key_secret"},
    {"value": "jwtSecretName", "key": "jwt-secret", "inline": "jwtSecret", "what": "JWT secret",
     "chart": "{fullname}-jwt-secret", "variable": "yellow_airflow_jwt_secret_secret"},
    {"value": "webserverSecretKeySecretName", "key": "webserver-secret-key", "inline": "webserverSecretKey",
     "what": "webserver secret key", "chart": "{release}-webserver-secret-key", "variable": "yellow_airflow_webserver_secret_key_secret"},
)


def _airflow3(values: Mapping[str, Any]) -> bool:
    match = re.match(r"^\s*(\d+)", str(values.get("airflowVersion") or "3"))
    return not match or int(match.group(1)) >= 3


def _enabled(values: Mapping[str, Any], path: str, default: bool = True) -> bool:
    found, value = _lookup(values, path)
    return default if not found or value is None else value is True


def chart_generated_secrets(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The chart-generated Secrets that apply to these values, each with ``name`` (the Secret the values name, or None).

    Exactly the chart's own conditions: the Fernet key always; the API secret key with Airflow 3;
    the JWT secret with the API server; the webserver secret key with Airflow 2 and the webserver.
    """
    applies = {
        "fernetKeySecretName": True,
        "apiSecretKeySecretName": _airflow3(values),
        "jwtSecretName": _enabled(values, "apiServer.enabled"),
        "webserverSecretKeySecretName": not _airflow3(values) and _enabled(values, "webserver.enabled"),
    }
    result = []
    for entry in CHART_GENERATED_SECRETS:
        if applies[entry["value"]]:
            name = values.get(entry["value"])
            result.append(dict(entry, name=name if isinstance(name, str) and name else None))
    return result


def generated_secret_problems(values: Mapping[str, Any]) -> list[str]:
    """Each chart-generated secret must come from a named Secret (otherwise it changes at every render)."""
    return [
        f"{entry['value']}: not set, so chart 1.19.0 generates a new {entry['what']} at every render and every helm upgrade "
        f"restarts every Airflow pod; name the Secret the role keeps ({entry['variable']})"
        for entry in chart_generated_secrets(values) if entry["name"] is None
    ]


def persistence_problems(values: Mapping[str, Any]) -> list[str]:
    """Worker and triggerer volumes are ignored by the chart while the shared logs volume is on."""
    if not _enabled(values, "logs.persistence.enabled", default=False):
        return []
    problems = []
    for path, variable in (("workers.celery.persistence", "yellow_airflow_worker_storage_size"),
                           ("workers.persistence", "yellow_airflow_worker_storage_size"),
                           ("triggerer.persistence", "yellow_airflow_triggerer_storage_size")):
        if _enabled(values, path + ".enabled", default=False):
            problems.append(
                f"{path}.enabled: true is ignored by the chart while logs.persistence.enabled is true "
                f"(yellow_airflow_logs_persistence): the pods write to the shared logs volume and {variable} has no effect; "
                f"set yellow_airflow_logs_persistence: false for a volume per pod, or drop {path} from yellow_airflow_values_extra")
    return problems


def chart_fullname(values: Mapping[str, Any], release: str) -> str:
    """The chart's airflow.fullname helper."""
    override = values.get("fullnameOverride")
    if override:
        return str(override)[:63].rstrip("-")
    name = str(values.get("nameOverride") or "airflow")
    return (release if name in release else f"{release}-{name}")[:63].rstrip("-")


def key_secret_names(values: Mapping[str, Any], release: str) -> list[str]:
    """The Secrets to read before creating the role's: the role's own and the chart's former ones."""
    fullname = chart_fullname(values, release)
    names: list[str] = []
    for entry in chart_generated_secrets(values):
        for name in (entry["name"], entry["chart"].format(release=release, fullname=fullname)):
            if name and name not in names:
                names.append(name)
    return names


def _generate(key: str) -> str:
    import base64
    import secrets

    if key == "fernet-key":  # what cryptography.fernet.Fernet.generate_key() returns
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(96 if key == "jwt-secret" else 48)


def key_secret_plan(values: Mapping[str, Any], release: str, namespace: str, found: Mapping[str, Any],
                    labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What to create so that every chart-generated secret comes from a Secret that is created once and kept.

    ``found`` maps Secret names (those of ``key_secret_names``) to the Secret read from the cluster,
    or None when absent. An existing Secret is never changed. A missing one is created with the
    value of the chart's former Secret when that exists (an upgrade keeps its Fernet key and
    tokens), else with a random one. Returns ``create`` (Secret definitions), ``problems``
    (messages without any value) and ``values`` (every key value, for scrubbing output).
    """
    import base64

    fullname = chart_fullname(values, release)
    create: list[dict[str, Any]] = []
    problems: list[str] = []
    known: list[str] = []
    for entry in chart_generated_secrets(values):
        name, key = entry["name"], entry["key"]
        if name is None:
            continue  # reported by generated_secret_problems
        existing = found.get(name)
        if isinstance(existing, Mapping):
            data = existing.get("data") or {}
            if not data.get(key):
                problems.append(f"{entry['variable']}: Secret {name} exists in {namespace} without key {key!r} (the chart reads the "
                                f"{entry['what']} from it); add the key, or delete the Secret and the role creates it")
                continue
            known.append(base64.b64decode(data[key]).decode("utf-8", "replace"))
            continue
        chart_name = entry["chart"].format(release=release, fullname=fullname)
        former = found.get(chart_name)
        former_value = (former.get("data") or {}).get(key) if isinstance(former, Mapping) and chart_name != name else None
        if former_value:
            encoded, origin = former_value, chart_name
        else:
            encoded, origin = base64.b64encode(_generate(key).encode()).decode(), "generated"
        known.append(base64.b64decode(encoded).decode("utf-8", "replace"))
        create.append({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {}),
                         "annotations": {"datasurface.yellow/origin": origin,
                                         "datasurface.yellow/note": f"the {entry['what']} of the Airflow release {release}; "
                                                                    "created once, never rotated by the role"}},
            "data": {key: encoded},
        })
    return {"create": create, "problems": problems, "values": known}


def scrub(text: Any, secrets: Any, mask: str = "********") -> str:
    """``text`` with every secret (as is, URL-encoded and base64-encoded) replaced by ``mask``."""
    import base64
    from urllib.parse import quote, quote_plus

    text = "" if text is None else str(text)
    forms: set[str] = set()
    for secret in secrets or []:
        if secret is None or str(secret) == "":
            continue
        secret = str(secret)
        forms.update({secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret),
                      base64.b64encode(secret.encode()).decode()})
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, mask)
    return text


def load_schema(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
