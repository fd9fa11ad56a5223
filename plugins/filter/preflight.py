# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The preflight role's filter (documented in preflight_problems.yml beside this file)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils import preflight

CHECKS = ("role", "inventory", "cluster", "unresolved", "names", "report")


def preflight_problems(values: Any, check: str = "inventory", role: str | None = None, argument_errors: Any = None,
                       allow_example_passwords: bool = False, groups: Any = None, postgres: Any = None,
                       nodes: Any = None, storage_classes: Any = None, completed: Any = None,
                       variable: str | None = None) -> list[str]:
    """Problems found by one kind of preflight check; never a secret value."""
    if not isinstance(values, Mapping):
        raise AnsibleFilterError("preflight_problems expects a dictionary (variables, or a registered debug loop)")
    if check not in CHECKS:
        raise AnsibleFilterError(f"preflight_problems: check must be one of {', '.join(CHECKS)}, not {check!r}")
    if check == "report":
        return preflight.report_lines(values, None if completed is None else list(completed))
    if check == "names":
        if not isinstance(variable, str):
            raise AnsibleFilterError("preflight_problems: check 'names' needs variable=<name of a list variable>")
        return preflight.names_of(values, variable)
    collected = preflight.collected_values(values)
    if check == "unresolved":
        return [f"{name}: cannot be evaluated ({why})" for name, why in sorted(preflight.unresolved(collected).items())]
    if check == "role":
        if role not in preflight.ROLE_CHECKS:
            raise AnsibleFilterError(f"preflight_problems: role must be one of {', '.join(preflight.ROLE_CHECKS)}, not {role!r}")
        return preflight.role_problems(collected, role, argument_errors, bool(allow_example_passwords))
    if check == "cluster":
        return preflight.cluster_problems(collected, nodes, storage_classes)
    return preflight.inventory_problems(collected, groups if isinstance(groups, dict) else {}, postgres)


class FilterModule:
    """datasurface.yellow filters for the preflight phase."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"preflight_problems": preflight_problems}
