# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The bootstrap role's decisions: which generated objects to apply, which Jobs to run in which order."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import InvalidReference, parse_reference

# Kinds without a namespace: never given the platform's namespace.
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "PriorityClass", "IngressClass", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
})
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"


def plain(value: Any) -> Any:
    """A copy of nested mappings and lists as plain dicts and lists. ``copy.deepcopy`` of ansible-core 2.19's lazy
    template containers (what a filter receives) costs seconds for a generated manifest (seen: 3.7 s of a
    no-change run's set_fact); reading each item once is what this copy costs."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


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
        obj = plain(doc)
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


# --- what the generated objects need from the cluster ---------------------------------------------
# The contract comes from the artifacts: every Secret (and key), ConfigMap (and key), volume claim and
# service account that the generated Jobs and the applied objects reference is looked up in the cluster
# before any Job runs, because different generator versions read different Secret keys.

REFERENCE_KINDS = ("Secret", "ConfigMap", "PersistentVolumeClaim", "ServiceAccount")
_WORKLOADS = frozenset({"Job", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"})
PLATFORM_PREREQS = "platform_prereqs"
# Secrets the platform_prereqs role creates: name -> [(key pattern, variables)]; the first match wins.
_USER = re.compile(r"(^|_)(USER|USERNAME)$", re.IGNORECASE)
_PASSWORD = re.compile(r"(^|_)PASSWORD$", re.IGNORECASE)
_TOKEN = re.compile(r"(^|_)TOKEN$", re.IGNORECASE)
_ANY = re.compile(r"")
KNOWN_SECRETS: dict[str, list[tuple[re.Pattern, str]]] = {
    "git": [(_TOKEN, "yellow_k8s_git_token")],
    "postgres": [(_USER, "yellow_k8s_postgres_user"), (_PASSWORD, "yellow_k8s_postgres_password")],
    "mask-dt-cred": [(_USER, "yellow_k8s_mask_user"), (_PASSWORD, "yellow_k8s_mask_password")],
    "sa": [(_USER, "yellow_k8s_sqlserver_user"), (_PASSWORD, "yellow_k8s_sqlserver_password")],
    "git-dags": [(_USER, "yellow_k8s_git_username"), (_PASSWORD, "yellow_k8s_git_token")],
    "dockerhub-creds": [(_ANY, "yellow_k8s_registry_server, yellow_k8s_registry_username and yellow_k8s_registry_password")],
}
# The keys platform_prereqs writes into each of them (both spellings the known generator versions read).
KNOWN_SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "git": ("token", "TOKEN"),
    "postgres": ("USER", "PASSWORD", "postgres_USER", "postgres_PASSWORD"),
    "mask-dt-cred": ("USER", "PASSWORD"),
    "sa": ("USER", "PASSWORD"),
    "git-dags": ("GIT_SYNC_USERNAME", "GITSYNC_USERNAME", "GIT_SYNC_PASSWORD", "GITSYNC_PASSWORD"),
    "dockerhub-creds": (".dockerconfigjson",),
}


def pod_spec(doc: Any) -> Mapping[str, Any] | None:
    """The pod spec of a workload document (Pod, Job, CronJob, Deployment and the like), else None."""
    if not isinstance(doc, Mapping):
        return None
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if not isinstance(spec, Mapping):
        return None
    if kind == "Pod":
        found: Any = spec
    elif kind == "CronJob":
        found = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    elif kind in _WORKLOADS:
        found = (spec.get("template") or {}).get("spec")
    else:
        return None
    return found if isinstance(found, Mapping) else None


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [container for field in ("initContainers", "containers", "ephemeralContainers")
            for container in spec.get(field) or [] if isinstance(container, Mapping)]


def _owner(doc: Mapping[str, Any]) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def references(docs: Sequence[Any], namespace: str) -> list[dict]:
    """Every object the pods of ``docs`` need, sorted: dicts of kind, name, key (or None), namespace, via, used_by.

    Collected: env ``secretKeyRef`` / ``configMapKeyRef``, ``envFrom`` ``secretRef`` / ``configMapRef``,
    ``imagePullSecrets``, volumes (``persistentVolumeClaim``, ``secret``, ``configMap``, ``projected``, with the
    keys of their ``items``) and ``serviceAccountName``. References marked ``optional: true`` are left out
    (a pod starts without them). ``namespace`` is used for documents that name none.
    """
    found: dict[tuple, dict] = {}

    def add(kind: str, ref: Any, key: Any, via: str, doc: Mapping[str, Any]) -> None:
        if not isinstance(ref, str) or not ref:
            return
        ns = (doc.get("metadata") or {}).get("namespace") or namespace
        entry = found.setdefault((kind, ns, ref, key), {"kind": kind, "name": ref, "key": key, "namespace": ns, "via": [], "used_by": []})
        for field, value in (("via", via), ("used_by", _owner(doc))):
            if value not in entry[field]:
                entry[field].append(value)

    def add_source(kind: str, source: Any, name_field: str, via: str, doc: Mapping[str, Any]) -> None:
        if not isinstance(source, Mapping) or source.get("optional"):
            return
        items = [item.get("key") for item in source.get("items") or [] if isinstance(item, Mapping) and item.get("key")]
        for key in items or [None]:
            add(kind, source.get(name_field), key, via, doc)

    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        add("ServiceAccount", spec.get("serviceAccountName") or spec.get("serviceAccount"), None, "serviceAccountName", doc)
        for secret in spec.get("imagePullSecrets") or []:
            if isinstance(secret, Mapping):
                add("Secret", secret.get("name"), None, "imagePullSecrets", doc)
        for volume in spec.get("volumes") or []:
            if not isinstance(volume, Mapping):
                continue
            add("PersistentVolumeClaim", (volume.get("persistentVolumeClaim") or {}).get("claimName"), None, "persistentVolumeClaim", doc)
            add_source("Secret", volume.get("secret"), "secretName", "volume secret", doc)
            add_source("ConfigMap", volume.get("configMap"), "name", "volume configMap", doc)
            for source in (volume.get("projected") or {}).get("sources") or []:
                if isinstance(source, Mapping):
                    add_source("Secret", source.get("secret"), "name", "projected secret", doc)
                    add_source("ConfigMap", source.get("configMap"), "name", "projected configMap", doc)
        for container in _containers(spec):
            for env in container.get("env") or []:
                value_from = (env or {}).get("valueFrom") or {} if isinstance(env, Mapping) else {}
                for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    ref = value_from.get(field)
                    if isinstance(ref, Mapping) and not ref.get("optional"):
                        add(kind, ref.get("name"), ref.get("key"), field, doc)
            for source in container.get("envFrom") or []:
                if isinstance(source, Mapping):
                    for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                        ref = source.get(field)
                        if isinstance(ref, Mapping) and not ref.get("optional"):
                            add(kind, ref.get("name"), None, field, doc)
    return sorted(found.values(), key=lambda r: (REFERENCE_KINDS.index(r["kind"]), r["namespace"], r["name"], r["key"] or ""))


def _keys(obj: Mapping[str, Any]) -> list[str]:
    """The keys of a Secret (data, stringData) or ConfigMap (data, binaryData); never their values."""
    keys: set[str] = set()
    for field in ("data", "stringData", "binaryData"):
        if isinstance(obj.get(field), Mapping):
            keys.update(str(key) for key in obj[field])
    return sorted(keys)


def object_inventory(objects: Sequence[Any], namespace: str) -> dict[str, dict[str, list[str]]]:
    """``{kind: {"<namespace>/<name>": [keys]}}`` of objects (keys only for Secrets and ConfigMaps, no values)."""
    inventory: dict[str, dict[str, list[str]]] = {kind: {} for kind in REFERENCE_KINDS}
    for obj in objects:
        if not isinstance(obj, Mapping) or obj.get("kind") not in REFERENCE_KINDS:
            continue
        metadata = obj.get("metadata") or {}
        if not metadata.get("name"):
            continue
        ident = f"{metadata.get('namespace') or namespace}/{metadata['name']}"
        known = inventory[obj["kind"]].setdefault(ident, [])
        inventory[obj["kind"]][ident] = sorted(set(known) | set(_keys(obj)))
    return inventory


def live_inventory(results: Sequence[Any], namespace: str) -> dict[str, dict[str, list[str]]]:
    """:func:`object_inventory` of kubernetes.core.k8s_info list results (one per kind; a kind without resources is empty)."""
    objects: list[Any] = []
    for result in results:
        if not isinstance(result, Mapping):
            continue
        kind = result.get("item") if isinstance(result.get("item"), str) else None
        for obj in result.get("resources") or []:
            if isinstance(obj, Mapping):
                objects.append(dict(obj, kind=obj.get("kind") or kind))
    return object_inventory(objects, namespace)


def _merge(*inventories: Mapping[str, Mapping[str, Sequence[str]]]) -> dict[str, dict[str, set]]:
    merged: dict[str, dict[str, set]] = {kind: {} for kind in REFERENCE_KINDS}
    for inventory in inventories:
        for kind, objects in (inventory or {}).items():
            for ident, keys in (objects or {}).items():
                merged.setdefault(kind, {}).setdefault(ident, set()).update(keys or [])
    return merged


def reference_provider(ref: Mapping[str, Any], generated: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> str:
    """What would provide a missing reference: the inventory variable, a bootstrap option, or nobody here."""
    kind, name, key = ref["kind"], ref["name"], ref.get("key")
    ident = f"{ref.get('namespace')}/{name}"
    if kind == "Secret" and name in KNOWN_SECRETS:
        creates = ", ".join(KNOWN_SECRET_KEYS[name])
        if key is None or key in KNOWN_SECRET_KEYS[name]:
            everything = " and ".join(variables for _pattern, variables in KNOWN_SECRETS[name])
            variables = everything if key is None else next(
                (variables for pattern, variables in KNOWN_SECRETS[name] if pattern.search(key)), everything)
            if name == "sa":
                return f"{variables} ({PLATFORM_PREREQS} creates Secret sa only when yellow_k8s_sqlserver_password is set)"
            return f"{variables} ({PLATFORM_PREREQS})"
        return (f"{PLATFORM_PREREQS} creates Secret {name} with the keys {creates} only: a generator version this collection "
                f"does not know reads this key; add it to the Secret yourself")
    if ident in ((generated or {}).get(kind) or {}):
        return f"described in kubernetes-bootstrap.yaml but not applied: add {kind} to yellow_bootstrap_apply_kinds"
    if kind == "Secret":
        return "not created by this collection; create it or add it via yellow_k8s_secrets_extra"
    return f"not created by this collection; create it in namespace {ref.get('namespace')}"


def missing_references(refs: Sequence[Mapping[str, Any]], live: Mapping[str, Any], applied: Mapping[str, Any],
                       generated: Mapping[str, Any] | None = None) -> list[dict]:
    """The references found neither in the cluster (``live``) nor among the objects the role applies (``applied``).

    ``live``, ``applied`` and ``generated`` are :func:`object_inventory` results. Each missing reference comes
    back with ``object_missing`` (the whole object is absent, not only the key) and ``provided_by``.
    """
    present = _merge(live, applied)
    missing = []
    for ref in refs:
        ident = f"{ref['namespace']}/{ref['name']}"
        keys = present.get(ref["kind"], {}).get(ident)
        if keys is not None and (ref.get("key") is None or ref["key"] in keys):
            continue
        missing.append(dict(ref, object_missing=keys is None, provided_by=reference_provider(ref, generated)))
    return missing


def describe_missing(missing: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per missing reference: what, who uses it, which variable would provide it."""
    lines = []
    for ref in missing:
        what = f"{ref['kind']} {ref['name']}" + (f" key {ref['key']}" if ref.get("key") else "")
        if ref.get("key"):
            state = f"no Secret {ref['name']}" if ref["object_missing"] and ref["kind"] == "Secret" else (
                f"no {ref['kind']} {ref['name']}" if ref["object_missing"] else "the key is missing")
        else:
            state = "missing"
        lines.append(f"{what} ({state}; used by {', '.join(ref['used_by'])}) -> {ref['provided_by']}")
    return lines


# --- the images they run --------------------------------------------------------------------------

def images(docs: Sequence[Any]) -> list[str]:
    """Every image the pods of ``docs`` run (init containers too), sorted, each once."""
    found = set()
    for doc in docs:
        spec = pod_spec(doc)
        for container in _containers(spec) if spec is not None else []:
            if isinstance(container.get("image"), str) and container["image"]:
                found.add(container["image"])
    return sorted(found)


def moving_tag(image: str) -> bool:
    """Whether an image reference names a moving tag: ``latest`` or no tag at all, and no digest."""
    try:
        reference = parse_reference(image)
    except InvalidReference:
        return False
    return reference.digest is None and reference.tag == "latest"


def moving_tag_warnings(docs: Sequence[Any], pinned_tag: Any) -> list[str]:
    """A warning per Job that runs a moving tag while the inventory pins ``pinned_tag`` (a fixed tag)."""
    if not isinstance(pinned_tag, str) or not pinned_tag or pinned_tag == "latest":
        return []
    warnings = []
    for doc in docs:
        if not isinstance(doc, Mapping) or doc.get("kind") != "Job":
            continue
        spec = pod_spec(doc)
        moving = sorted({c["image"] for c in (_containers(spec) if spec is not None else [])
                         if isinstance(c.get("image"), str) and moving_tag(c["image"])})
        if moving:
            warnings.append(
                f"{_owner(doc)} runs {', '.join(moving)} (a moving tag) while the inventory pins yellow_datasurface_image_tag "
                f"{pinned_tag}: the image pre-pulled for that tag is not the one this Job runs; set the image in the "
                f"platform service provider of the model to the pinned tag")
    return warnings
