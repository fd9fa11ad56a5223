# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters that build datasurface.yellow.k8s_read queries (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ansible.errors import AnsibleFilterError


def k8s_object_queries(objects: Any) -> list[dict]:
    """One k8s_read query per object: its apiVersion, kind, name and (when it has one) namespace, in order."""
    if isinstance(objects, (str, bytes, Mapping)) or not isinstance(objects, Sequence):
        raise AnsibleFilterError("k8s_object_queries: the objects must be a list")
    queries = []
    for index, obj in enumerate(objects):
        metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
        if not isinstance(metadata, Mapping) or not obj.get("kind") or not metadata.get("name"):
            raise AnsibleFilterError(f"k8s_object_queries: object {index} has no kind or metadata.name")
        query = {"api_version": obj.get("apiVersion") or "v1", "kind": obj["kind"], "name": metadata["name"]}
        if metadata.get("namespace"):
            query["namespace"] = metadata["namespace"]
        queries.append(query)
    return queries


class FilterModule:
    """datasurface.yellow filters for Kubernetes reads."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"k8s_object_queries": k8s_object_queries}
