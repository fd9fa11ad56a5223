# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the bootstrap role (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils import bootstrap as _bootstrap
from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import bootstrap_problems as _bootstrap_problems


def _list(value: Any, what: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(f"{what} must be a list")
    return value


def bootstrap_problems(values: Any) -> list[str]:
    """Problems in the bootstrap role's variables."""
    if not isinstance(values, Mapping):
        raise AnsibleFilterError("bootstrap_problems expects a dictionary of yellow_bootstrap_* variables")
    return _bootstrap_problems(values)


def bootstrap_resources(docs: Any, kinds: Any, name_patterns: Any, namespace: str) -> list[dict]:
    """Objects of kubernetes-bootstrap.yaml to apply."""
    return _bootstrap.select_resources(list(_list(docs, "the documents")), _list(kinds, "kinds"),
                                       _list(name_patterns, "name_patterns"), namespace)


def bootstrap_apply_plan(candidates: Any, lookups: Any) -> dict:
    """Split candidates into those to apply and those owned by a Helm release."""
    candidates, lookups = _list(candidates, "candidates"), _list(lookups, "lookups")
    if len(candidates) != len(lookups):
        raise AnsibleFilterError("bootstrap_apply_plan needs one lookup result per candidate")
    return _bootstrap.apply_plan(candidates, lookups)


def bootstrap_job_plan(jobs: Any, order: Any) -> list[dict]:
    """Generated Jobs to run, in order."""
    return _bootstrap.job_plan(_list(jobs, "jobs"), _list(order, "order"))


def bootstrap_missing_jobs(jobs: Any, order: Any) -> list[str]:
    """Entries of the order the generator produced no Job for."""
    return _bootstrap.missing_jobs(_list(jobs, "jobs"), _list(order, "order"))


class FilterModule:
    """datasurface.yellow filters for the bootstrap role."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "bootstrap_problems": bootstrap_problems,
            "bootstrap_resources": bootstrap_resources,
            "bootstrap_apply_plan": bootstrap_apply_plan,
            "bootstrap_job_plan": bootstrap_job_plan,
            "bootstrap_missing_jobs": bootstrap_missing_jobs,
        }
