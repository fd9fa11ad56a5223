# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters around datasurface.yellow.k8s_read: the queries that read a list of objects, and which objects of a list
the cluster does not hold yet (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

import json
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


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _group(api_version: Any) -> str:
    """The API group of an apiVersion ("" for the core group's "v1")."""
    text = str(api_version or "v1")
    return text.rsplit("/", 1)[0] if "/" in text else ""


def _key(obj: Mapping) -> tuple:
    metadata = obj.get("metadata") or {}
    return (_group(obj.get("apiVersion")), obj.get("kind"), metadata.get("namespace") or "", metadata.get("name"))


def _holds(live: Any, wanted: Any) -> bool:
    """True when patching ``live`` with ``wanted`` leaves it as it is: every key of a wanted mapping is in the live one
    with a value that holds the wanted value (the server's defaults and other fields may be there too, in a mapping of
    a list as well: a container's defaulted imagePullPolicy, a port's protocol); a list holds as many items, each
    holding the wanted one in order; a scalar is equal."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(key in live and _holds(live[key], value) for key, value in wanted.items())
    if isinstance(wanted, (list, tuple)):
        return isinstance(live, (list, tuple)) and len(live) == len(wanted) and all(map(_holds, live, wanted))
    return live == wanted


def _held(live: Mapping, wanted: Mapping, applied: bool) -> bool:
    body = {key: value for key, value in wanted.items() if key not in ("apiVersion", "kind", "status")}
    if not _holds(live, body):
        return False
    if not applied:
        return True
    # kubernetes.core.k8s apply: a three-way patch against the configuration it applied last (an annotation of the live
    # object). Held only when that configuration is this one: otherwise a field dropped from it would be removed.
    annotation = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        return annotation is not None and json.loads(annotation) == json.loads(json.dumps(wanted))
    except ValueError:
        return False


def k8s_pending(definitions: Any, answers: Any, applied: bool = False) -> list[dict]:
    """The definitions that kubernetes.core.k8s would change, in order: those the cluster does not hold as they are.

    ``answers`` are the answers of a datasurface.yellow.k8s_read run (any queries: by name or whole lists); a failed
    answer holds nothing. ``applied``: the definitions are applied (``apply: true``), so the live object must also
    carry each one as its last applied configuration."""
    if isinstance(definitions, (str, bytes, Mapping)) or not isinstance(definitions, Sequence):
        raise AnsibleFilterError("k8s_pending: the definitions must be a list")
    if isinstance(answers, (str, bytes, Mapping)) or not isinstance(answers, Sequence):
        raise AnsibleFilterError("k8s_pending: the answers must be a list (the answers of a datasurface.yellow.k8s_read run)")
    live = {}
    for answer in answers:
        if isinstance(answer, Mapping) and not answer.get("failed"):
            for obj in answer.get("resources") or []:
                if isinstance(obj, Mapping):
                    live[_key(obj)] = obj
    pending = []
    for index, wanted in enumerate(definitions):
        metadata = wanted.get("metadata") if isinstance(wanted, Mapping) else None
        if not isinstance(metadata, Mapping) or not wanted.get("kind") or not metadata.get("name"):
            raise AnsibleFilterError(f"k8s_pending: definition {index} has no kind or metadata.name")
        current = live.get(_key(wanted))
        if current is None or not _held(current, wanted, bool(applied)):
            pending.append(wanted)
    return pending


class FilterModule:
    """datasurface.yellow filters for Kubernetes reads."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"k8s_object_queries": k8s_object_queries, "k8s_pending": k8s_pending}
