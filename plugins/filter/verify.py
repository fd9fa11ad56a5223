# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the verify role (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils.verify import verify_findings as _verify_findings


def verify_findings(data: Any) -> dict[str, Any]:
    """Findings and report from what the verify role collected."""
    if not isinstance(data, dict):
        raise AnsibleFilterError("verify_findings expects a dictionary (pods, airflow, db, mcp, probe, ...)")
    try:
        return _verify_findings(data)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"verify_findings: unexpected input: {exc}") from None


class FilterModule:
    """datasurface.yellow filters for the verify phase."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"verify_findings": verify_findings}
