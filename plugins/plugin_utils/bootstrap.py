# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The bootstrap role's decisions: which generated objects to apply, which Jobs to run in which order."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

# Kinds without a namespace: never given the platform's namespace.
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "PriorityClass", "IngressClass", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
})
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"


def select_resources(docs: Sequence[Any], kinds: Sequence[str], name_patterns: Sequence[str], namespace: str) -> list[dict]:
    """Objects of kubernetes-bootstrap.yaml to apply: the listed kinds, or names matching a pattern.

    Jobs are never selected (the role runs them itself, in order). Namespaced objects without a
    namespace get the platform's.
    """
    patterns = [re.compile(pattern) for pattern in name_patterns]
    selected = []
    for doc in docs:
        if not isinstance(doc, Mapping) or not doc.get("kind") or doc.get("kind") == "Job":
            continue
        name = (doc.get("metadata") or {}).get("name") or ""
        if doc["kind"] not in kinds and not any(pattern.search(name) for pattern in patterns):
            continue
        obj = copy.deepcopy(dict(doc))
        if obj["kind"] not in CLUSTER_SCOPED:
            obj.setdefault("metadata", {}).setdefault("namespace", namespace)
        selected.append(obj)
    return selected


def helm_owned(live: Mapping[str, Any] | None) -> bool:
    """Whether a live object (as kubernetes.core.k8s_info returns it) belongs to a Helm release."""
    metadata = (live or {}).get("metadata") or {}
    labels = metadata.get("labels") or {}
    return HELM_RELEASE_ANNOTATION in (metadata.get("annotations") or {}) or labels.get("app.kubernetes.io/managed-by") == "Helm"


def apply_plan(candidates: Sequence[Mapping[str, Any]], lookups: Sequence[Mapping[str, Any]]) -> dict:
    """Split candidates into those to apply and those a Helm release owns (``lookups``: the k8s_info loop results)."""
    apply, owned = [], []
    for candidate, lookup in zip(candidates, lookups):
        live = (lookup.get("resources") or [None])[0]
        if helm_owned(live):
            owned.append(f"{candidate['kind']}/{candidate['metadata']['name']}")
        else:
            apply.append(candidate)
    return {"apply": apply, "helm_owned": owned}


def job_plan(jobs: Sequence[Mapping[str, Any]], order: Sequence[str]) -> list[dict]:
    """The generated Jobs to run, in ``order`` (job roles such as ``ring1_init``, or Job names).

    An entry the generator produced no Job for is left out (see ``missing_jobs``); a Job is run once
    even if two entries name it.
    """
    plan: list[dict] = []
    seen: set[str] = set()
    for entry in order:
        for job in jobs:
            if entry in (job.get("role"), job.get("name")) and job["name"] not in seen:
                seen.add(job["name"])
                plan.append(dict(job))
    return plan


def missing_jobs(jobs: Sequence[Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """Entries of ``order`` the generator produced no Job for."""
    known = {job.get("role") for job in jobs} | {job.get("name") for job in jobs}
    return [entry for entry in order if entry not in known]
