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


class FilterModule:
    """datasurface.yellow filters for the Airflow Helm release."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"airflow_values_problems": airflow_values_problems}
