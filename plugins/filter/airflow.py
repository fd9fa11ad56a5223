# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the airflow role (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import airflow_values_problems as _problems
from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import load_schema


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


class FilterModule:
    """datasurface.yellow filters for the Airflow Helm release."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"airflow_values_problems": airflow_values_problems, "components_not_ready": components_not_ready}
