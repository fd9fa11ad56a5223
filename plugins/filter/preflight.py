# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The preflight role's filter (documented in preflight_problems.yml beside this file)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils import preflight

CHECKS = ("inventory", "cluster", "pod_network", "unresolved", "report")


def preflight_problems(values: Any, check: str = "inventory", groups: Any = None, postgres: Any = None,
                       nodes: Any = None, storage_classes: Any = None, completed: Any = None,
                       summary: Any = None) -> list[str]:
    """Problems found by one kind of preflight check; never a secret value."""
    if not isinstance(values, Mapping):
        raise AnsibleFilterError("preflight_problems expects a dictionary (variables, or a registered debug loop)")
    if check not in CHECKS:
        raise AnsibleFilterError(f"preflight_problems: check must be one of {', '.join(CHECKS)}, not {check!r}")
    if check == "report":
        return preflight.report_lines(values, None if completed is None else list(completed))
    collected = preflight.collected_values(values)
    if check == "unresolved":
        return [f"{name}: cannot be evaluated ({why})" for name, why in sorted(preflight.unresolved(collected).items())]
    summary = summary if isinstance(summary, Mapping) else {}
    if check == "cluster":
        return preflight.cluster_problems(collected, nodes, storage_classes, summary, postgres)
    if check == "pod_network":
        return preflight.pod_network_problems({**collected, **summary}, postgres)
    return preflight.inventory_problems(collected, groups if isinstance(groups, dict) else {}, postgres, summary)


class FilterModule:
    """datasurface.yellow filters for the preflight phase."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"preflight_problems": preflight_problems}
