# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The resource table: which kinds the test API server serves, and the per-server registry of them.

Adding a kind is one line in ``BUILTIN_RESOURCES``. CustomResourceDefinitions created through the API add
their kinds to the server's ``Registry`` too (see ``ResourceType.from_crd``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

ALL_VERBS: Tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource (``plural``) of one group/version."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: Tuple[str, ...] = ()
    subresources: Tuple[str, ...] = ()
    categories: Tuple[str, ...] = ()
    verbs: Tuple[str, ...] = ALL_VERBS
    # Deleting without a propagationPolicy orphans dependents (batch/v1 Jobs do this for compatibility).
    orphan_by_default: bool = False
    # metadata.generation is maintained (set to 1, bumped when anything but metadata/status changes).
    generation: bool = False
    # DELETE answers with the deleted object (as for pods, services, custom resources) instead of a Status.
    return_deleted: bool = False
    extra: Dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def key(self) -> Tuple[str, str]:
        """Storage identity: one store per group and plural, whatever the version."""
        return (self.group, self.plural)

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def qualified(self) -> str:
        """The ``secrets`` / ``deployments.apps`` form used in Status messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @staticmethod
    def from_crd(crd: Dict[str, Any]) -> List["ResourceType"]:
        """The resource types an ``apiextensions.k8s.io/v1`` CustomResourceDefinition serves."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        out = []
        for ver in spec.get("versions") or []:
            if not ver.get("served", True):
                continue
            subs = tuple(sorted((ver.get("subresources") or {}).keys()))
            out.append(
                ResourceType(
                    group=spec.get("group", ""),
                    version=ver["name"],
                    plural=names["plural"],
                    kind=names["kind"],
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                    short_names=tuple(names.get("shortNames") or ()),
                    subresources=tuple(s for s in subs if s == "status"),
                    categories=tuple(names.get("categories") or ()),
                    generation=True,
                    return_deleted=True,
                    extra={"crd": crd["metadata"]["name"]},
                )
            )
        return out


def _r(group: str, version: str, plural: str, kind: str, **kw: Any) -> ResourceType:
    return ResourceType(group=group, version=version, plural=plural, kind=kind, **kw)


_ST = ("status",)
_ALL = ("all",)

BUILTIN_RESOURCES: Tuple[ResourceType, ...] = (
    # core/v1
    _r("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",), subresources=_ST),
    _r("", "v1", "secrets", "Secret"),
    _r("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    _r("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _r("", "v1", "services", "Service", short_names=("svc",), subresources=_ST, categories=_ALL, return_deleted=True),
    _r("", "v1", "pods", "Pod", short_names=("po",), subresources=("log", "status"), categories=_ALL, generation=True,
       return_deleted=True),
    _r("", "v1", "events", "Event", short_names=("ev",)),
    _r("", "v1", "endpoints", "Endpoints", short_names=("ep",)),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",), subresources=_ST),
    _r("", "v1", "persistentvolumes", "PersistentVolume", namespaced=False, short_names=("pv",), subresources=_ST),
    _r("", "v1", "nodes", "Node", namespaced=False, short_names=("no",), subresources=_ST),
    _r("", "v1", "resourcequotas", "ResourceQuota", short_names=("quota",), subresources=_ST),
    _r("", "v1", "limitranges", "LimitRange", short_names=("limits",)),
    # apps/v1
    _r("apps", "v1", "deployments", "Deployment", short_names=("deploy",), subresources=_ST, categories=_ALL, generation=True),
    _r("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",), subresources=_ST, categories=_ALL, generation=True),
    _r("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",), subresources=_ST, categories=_ALL, generation=True),
    _r("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), subresources=_ST, categories=_ALL, generation=True),
    _r("apps", "v1", "controllerrevisions", "ControllerRevision"),
    # batch/v1
    _r("batch", "v1", "jobs", "Job", subresources=_ST, categories=_ALL, orphan_by_default=True, generation=True),
    _r("batch", "v1", "cronjobs", "CronJob", short_names=("cj",), subresources=_ST, categories=_ALL, generation=True),
    # autoscaling/v2
    _r("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", short_names=("hpa",), subresources=_ST, categories=_ALL),
    # rbac.authorization.k8s.io/v1
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    # policy/v1
    _r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short_names=("pdb",), subresources=_ST, generation=True),
    # networking.k8s.io/v1
    _r("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",), generation=True),
    _r("networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",), subresources=_ST, generation=True),
    _r("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False),
    # storage.k8s.io/v1
    _r("storage.k8s.io", "v1", "storageclasses", "StorageClass", namespaced=False, short_names=("sc",)),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "v1", "leases", "Lease"),
    # scheduling.k8s.io/v1
    _r("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", namespaced=False, short_names=("pc",)),
    # apiextensions.k8s.io/v1
    _r(
        "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
        namespaced=False, short_names=("crd", "crds"), subresources=_ST, generation=True,
    ),
)

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


class Registry:
    """The resource types one server serves: the built-in table plus kinds added by CRDs."""

    def __init__(self, resources: Iterable[ResourceType] = BUILTIN_RESOURCES) -> None:
        self._lock = threading.Lock()
        self._types: List[ResourceType] = list(resources)

    def all(self) -> List[ResourceType]:
        with self._lock:
            return list(self._types)

    def add(self, types: Iterable[ResourceType]) -> None:
        with self._lock:
            for rt in types:
                self._types = [t for t in self._types if (t.group, t.version, t.plural) != (rt.group, rt.version, rt.plural)]
                self._types.append(rt)

    def remove_crd(self, crd_name: str) -> List[ResourceType]:
        with self._lock:
            gone = [t for t in self._types if t.extra.get("crd") == crd_name]
            self._types = [t for t in self._types if t.extra.get("crd") != crd_name]
            return gone

    def groups(self) -> Dict[str, List[str]]:
        """Group name -> versions, in table order ('' is the legacy core group)."""
        out: Dict[str, List[str]] = {}
        for rt in self.all():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return out

    def in_version(self, group: str, version: str) -> List[ResourceType]:
        return [t for t in self.all() if t.group == group and t.version == version]

    def lookup(self, group: str, version: str, plural: str) -> Optional[ResourceType]:
        for rt in self.all():
            if rt.group == group and rt.version == version and rt.plural == plural:
                return rt
        return None

    def by_kind(self, api_version: str, kind: str) -> ResourceType:
        for rt in self.all():
            if rt.api_version == api_version and rt.kind == kind:
                return rt
        raise KeyError(f"no resource for {api_version} {kind}")

    def by_key(self, key: Tuple[str, str]) -> Optional[ResourceType]:
        for rt in self.all():
            if rt.key == key:
                return rt
        return None
