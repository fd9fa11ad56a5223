# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the Kubernetes-facing roles (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import k8s_prereqs_problems as _k8s_prereqs_problems


def k8s_prereqs_problems(values: Any) -> list[str]:
    """Problems in the platform_prereqs role's variables."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("k8s_prereqs_problems expects a dictionary of yellow_k8s_* variables")
    return _k8s_prereqs_problems(values)


class FilterModule:
    """datasurface.yellow filters for Kubernetes objects."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"k8s_prereqs_problems": k8s_prereqs_problems}
