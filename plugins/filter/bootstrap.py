# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the bootstrap role (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils import bootstrap as _bootstrap


def _list(value: Any, what: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(f"{what} must be a list")
    return value


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


def _docs(value: Any, what: str) -> list:
    return [doc for doc in _list(value, what) if isinstance(doc, Mapping)]


def bootstrap_references(docs: Any, namespace: str) -> list[dict]:
    """Every Secret (and key), ConfigMap (and key), volume claim and service account the documents' pods need."""
    return _bootstrap.references(_docs(docs, "the documents"), namespace)


def bootstrap_live_inventory(results: Any, namespace: str) -> dict:
    """Names and keys (never values) of the objects kubernetes.core.k8s_info listed, one result per kind."""
    return _bootstrap.live_inventory(_list(results, "the k8s_info results"), namespace)


def bootstrap_missing_references(refs: Any, live: Any, applied: Any, generated: Any, namespace: str) -> list[str]:
    """One line per reference found neither in the cluster nor among the objects the role applies."""
    if not isinstance(live, Mapping):
        raise AnsibleFilterError("bootstrap_missing_references: live must be a bootstrap_live_inventory result")
    missing = _bootstrap.missing_references(
        _docs(refs, "refs"), live, _bootstrap.object_inventory(_docs(applied, "applied"), namespace),
        _bootstrap.object_inventory(_docs(generated, "generated"), namespace))
    return _bootstrap.describe_missing(missing)


def bootstrap_images(docs: Any) -> list[str]:
    """Every image the documents' pods run."""
    return _bootstrap.images(_docs(docs, "the documents"))


def bootstrap_moving_tags(docs: Any, pinned_tag: Any) -> list[str]:
    """A warning per Job running a moving tag (latest or none) while the inventory pins another tag."""
    return _bootstrap.moving_tag_warnings(_docs(docs, "the documents"), pinned_tag)


class FilterModule:
    """datasurface.yellow filters for the bootstrap role."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "bootstrap_resources": bootstrap_resources,
            "bootstrap_apply_plan": bootstrap_apply_plan,
            "bootstrap_job_plan": bootstrap_job_plan,
            "bootstrap_missing_jobs": bootstrap_missing_jobs,
            "bootstrap_references": bootstrap_references,
            "bootstrap_live_inventory": bootstrap_live_inventory,
            "bootstrap_missing_references": bootstrap_missing_references,
            "bootstrap_images": bootstrap_images,
            "bootstrap_moving_tags": bootstrap_moving_tags,
        }
