# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the airflow role (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import airflow_values_problems as _problems
from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import key_secret_names as _key_secret_names
from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import key_secret_plan as _key_secret_plan
from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import load_schema
from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import scrub as _scrub


def airflow_values_problems(values: Any, schema_path: str) -> list[str]:
    """Problems of Helm values for the Airflow chart: schema, deprecated keys, inline secrets."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("airflow_values_problems expects the Helm values as a dictionary")
    try:
        schema = load_schema(schema_path)
    except (OSError, ValueError) as exc:
        raise AnsibleFilterError(f"airflow_values_problems: cannot read the chart schema {schema_path}: {exc}") from None
    try:
        return _problems(values, schema)
    except ImportError:
        raise AnsibleFilterError("airflow_values_problems needs the jsonschema Python package on the control node") from None


def components_not_ready(pods: Any, components: Any) -> list[str]:
    """Components (pod label ``component``) without a Ready pod, each with what is wrong.

    ``pods`` is a ``kubernetes.core.k8s_info`` result (or its ``resources`` list).
    """
    resources = pods.get("resources", []) if isinstance(pods, dict) else list(pods or [])
    ready: dict[str, bool] = {}
    detail: dict[str, str] = {}
    for pod in resources:
        component = (pod.get("metadata", {}).get("labels") or {}).get("component")
        if not component:
            continue
        status = pod.get("status") or {}
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        is_ready = conditions.get("Ready") == "True"
        ready[component] = ready.get(component, False) or is_ready
        if not is_ready:
            waiting = [
                (c.get("state") or {}).get("waiting", {}).get("reason")
                for c in status.get("containerStatuses") or []
                if (c.get("state") or {}).get("waiting")
            ]
            detail[component] = f"{pod['metadata'].get('name')} {status.get('phase', 'Unknown')}" + (
                f" ({', '.join(r for r in waiting if r)})" if any(waiting) else "")
    missing = []
    for component in components:
        if component not in ready:
            missing.append(f"{component} (no pod)")
        elif not ready[component]:
            missing.append(f"{component} ({detail.get(component, 'not Ready')})")
    return missing


def airflow_key_secret_names(values: Any, release: str) -> list[str]:
    """The Secrets to read before the role creates the ones that hold the chart-generated keys."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("airflow_key_secret_names expects the Helm values as a dictionary")
    return _key_secret_names(values, str(release))


def airflow_key_secret_plan(values: Any, release: str, namespace: str, found: Any, labels: Any = None) -> dict[str, Any]:
    """Secrets to create (once) for the chart-generated keys, from one ``k8s_info`` list of the namespace's Secrets."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("airflow_key_secret_plan expects the Helm values as a dictionary")
    if not isinstance(found, dict) or "answers" in found or "results" in found:
        raise AnsibleFilterError("airflow_key_secret_plan expects one answer (k8s_read's answers[0], or a k8s_info result) "
                                 "listing the Secrets")
    if found.get("failed") or not isinstance(found.get("resources"), list):
        raise AnsibleFilterError(f"airflow_key_secret_plan: listing the Secrets of {namespace} failed")
    names = set(_key_secret_names(values, str(release)))
    existing: dict[str, Any] = {}
    for secret in found["resources"]:
        name = (secret.get("metadata") or {}).get("name") if isinstance(secret, dict) else None
        if name in names:
            existing[str(name)] = secret
    return _key_secret_plan(values, str(release), str(namespace), existing, labels if isinstance(labels, dict) else None)


def airflow_scrub(text: Any, secrets: Any) -> str:
    """The text with every secret (plain, URL-encoded, base64) replaced by ********."""
    return _scrub(text, secrets)


class FilterModule:
    """datasurface.yellow filters for the Airflow Helm release."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"airflow_values_problems": airflow_values_problems, "components_not_ready": components_not_ready,
                "airflow_key_secret_names": airflow_key_secret_names, "airflow_key_secret_plan": airflow_key_secret_plan,
                "airflow_scrub": airflow_scrub}
