# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""What the real API server does to an object on every write, for the few things clients notice.

* ``normalize``: Secrets fold ``stringData`` into base64 ``data`` and default ``type: Opaque``; Namespaces get
  ``spec.finalizers: [kubernetes]``; defaulted spec fields that waiters and idempotence checks look at
  (Deployment/StatefulSet/ReplicaSet ``replicas``, StatefulSet/DaemonSet ``updateStrategy``, Job
  ``completions``/``parallelism``/``backoffLimit``, Service ``type``/``clusterIP``).
* ``initial_status``: the status an object created through the API starts with: Namespaces ``Active``, Pods and
  PVCs ``Pending``, CRDs ``Established``, anything else with a status subresource ``{}``.
* ``validate``: the checks that catch real mistakes in playbooks and charts: object names (DNS subdomain, DNS
  label for namespaces, path segment for RBAC), label keys and values, string-only labels/annotations and
  ConfigMap data, base64 Secret data.

No other admission or validation happens: anything else is stored as sent.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from typing import Any, Dict, Optional

from .errors import ApiError, bad_request, invalid
from .resources import ResourceType

_cluster_ips = itertools.count(10)
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def normalize(rt: ResourceType, obj: Dict[str, Any], old: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Apply write-time conversions and defaults in place; ``old`` is the stored object on updates."""
    group_kind = (rt.group, rt.kind)
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
    if group_kind == ("", "Secret"):
        string_data = obj.pop("stringData", None)
        if string_data:
            data = obj.get("data") or {}
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode("utf-8")).decode("ascii")
            obj["data"] = data
        obj.setdefault("type", "Opaque")
    elif group_kind == ("", "Namespace"):
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    elif group_kind in (("apps", "Deployment"), ("apps", "ReplicaSet")):
        obj.setdefault("spec", {}).setdefault("replicas", 1)
    elif group_kind == ("apps", "StatefulSet"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    elif group_kind == ("apps", "DaemonSet"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    elif group_kind == ("batch", "Job"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        spec.setdefault("backoffLimit", 6)
    elif group_kind == ("", "Service") and spec is not None:
        spec.setdefault("type", "ClusterIP")
        old_ip = ((old or {}).get("spec") or {}).get("clusterIP")
        if spec["type"] != "ExternalName" and not spec.get("clusterIP"):
            spec["clusterIP"] = old_ip or _next_cluster_ip()
            spec["clusterIPs"] = [spec["clusterIP"]]
    return obj


def _next_cluster_ip() -> str:
    n = next(_cluster_ips)
    return f"10.96.{n // 250}.{n % 250 + 1}"


def initial_status(rt: ResourceType, obj: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The status an object created through the API starts with (None: keep what was sent)."""
    if rt.key == ("", "namespaces"):
        return {"phase": "Active"}
    if rt.key in (("", "pods"), ("", "persistentvolumeclaims")):
        return {"phase": "Pending"}
    if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
        spec = obj.get("spec") or {}
        stored = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
        return {
            "acceptedNames": spec.get("names") or {},
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
            ],
            "storedVersions": stored,
        }
    if rt.has_status:
        return {}
    return None


def _check_name(rt: ResourceType, name: str) -> None:
    if rt.group == "rbac.authorization.k8s.io":
        ok = name not in (".", "..") and "/" not in name and "%" not in name
    elif rt.key == ("", "namespaces"):
        ok = len(name) <= 63 and bool(_DNS_LABEL.match(name))
    else:
        ok = len(name) <= 253 and bool(_DNS_SUBDOMAIN.match(name))
    if not ok:
        raise invalid(rt, name, f'metadata.name: Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                                "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")


def _check_string_map(where: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise bad_request(f"json: cannot unmarshal {type(value).__name__} into Go struct field {where} of type map[string]string")
    for k, v in value.items():
        if not isinstance(v, str):
            raise bad_request(f"json: cannot unmarshal {type(v).__name__} into Go struct field {where} of type string (key {k!r})")


def _check_label_key(rt: ResourceType, name: str, key: str) -> None:
    prefix, label = key.rpartition("/")[::2]
    ok = bool(_LABEL_NAME.match(label)) and len(label) <= 63
    if prefix:
        ok = ok and len(prefix) <= 253 and bool(_DNS_SUBDOMAIN.match(prefix))
    if not ok:
        raise invalid(rt, name, f'metadata.labels: Invalid value: "{key}": name part must consist of alphanumeric characters, '
                                "'-', '_' or '.', and must start and end with an alphanumeric character")


def validate(rt: ResourceType, obj: Dict[str, Any]) -> None:
    """Raise an ``ApiError`` (400/422) where the real server would reject the object."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    name = meta.get("name") or ""
    _check_name(rt, name)
    _check_string_map("ObjectMeta.metadata.labels", meta.get("labels"))
    _check_string_map("ObjectMeta.metadata.annotations", meta.get("annotations"))
    for key, value in (meta.get("labels") or {}).items():
        _check_label_key(rt, name, key)
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            raise invalid(rt, name, f'metadata.labels: Invalid value: "{value}": a valid label must be an empty string or consist of '
                                    "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
    if rt.key == ("", "configmaps"):
        _check_string_map("ConfigMap.data", obj.get("data"))
        _check_string_map("ConfigMap.binaryData", obj.get("binaryData"))
    if rt.key == ("", "secrets"):
        data = obj.get("data")
        _check_string_map("Secret.data", data)
        for k, v in (data or {}).items():
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ApiError(400, "BadRequest", f"illegal base64 data in Secret.data[{k!r}]: {exc}") from None
