# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The in-memory object store: API semantics of create/get/list/update/patch/delete, and the watch history.

One re-entrant lock guards everything. ``resourceVersion`` is one global counter (returned as a string); a write
that leaves the object unchanged (no-op update, patch or apply) does not bump it and records no event. Every
change is appended to a bounded history that watches read from; a watch from a version older than the history
gets ``410 Expired``.

Semantics worth knowing:

* On create through the API the status is reset (``kinds.initial_status``); ``put``/``set_status`` (the helpers
  tests use to play the controllers) store it as given.
* For kinds with a ``status`` subresource, main-resource updates keep the stored status and ``/status`` updates
  change nothing but the status.
* Deleting an object whose ``metadata.finalizers`` is non-empty only sets ``deletionTimestamp``; it goes away
  when an update empties the list.
* Deleting cascades to dependents (``metadata.ownerReferences[].uid``, plus pods labelled
  ``job-name``/``batch.kubernetes.io/job-name`` for Jobs) unless the propagation policy is ``Orphan`` (the
  default for Jobs, as for batch/v1 on a real server), which strips the owner reference instead.
* Deleting a Namespace is immediate: every object in it is deleted (DELETED events are sent), and the response
  is the Namespace with ``status.phase: Terminating`` and ``deletionTimestamp`` set.
* Deleting a CustomResourceDefinition unregisters its kinds and drops their objects.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple

from . import kinds
from .errors import ApiError, already_exists, bad_request, conflict, gone, invalid, not_found
from .patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from .resources import CRD_KEY, Registry, ResourceType
from .selectors import Selector

Obj = Dict[str, Any]
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (MERGE_PATCH, STRATEGIC_MERGE_PATCH, JSON_PATCH, APPLY_PATCH)


@dataclass(frozen=True)
class WatchEvent:
    """One change: ``obj`` is the new state (the last state for DELETED), ``old`` the previous one."""

    rv: int
    type: str
    key: Tuple[str, str]
    namespace: str
    obj: Obj
    old: Optional[Obj]


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(n: int = 5) -> str:
    return "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=n))


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    return meta


def _without(obj: Obj, *keys: str) -> Obj:
    return {k: v for k, v in obj.items() if k not in keys}


class Store:
    """Thread-safe object store for one API server."""

    def __init__(self, registry: Optional[Registry] = None, history: int = 10000,
                 namespaces: Iterable[str] = DEFAULT_NAMESPACES) -> None:
        self.registry = registry or Registry()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._objects: Dict[Tuple[str, str], Dict[Tuple[str, str], Obj]] = {}
        self._rv = 0
        self._history: Deque[WatchEvent] = deque(maxlen=history)
        self._logs: Dict[Tuple[str, str, str], str] = {}
        self.closed = False
        ns_rt = self._rt("v1", "Namespace")
        for ns in namespaces:
            self.create(ns_rt, "", {"metadata": {"name": ns}})

    # ---- bookkeeping ----------------------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        with self._lock:
            return str(self._rv)

    def _rt(self, api_version: str, kind: str) -> ResourceType:
        try:
            return self.registry.by_kind(api_version, kind)
        except KeyError:
            raise bad_request(f"no kind {kind!r} is registered for version {api_version!r}") from None

    def _bucket(self, rt: ResourceType) -> Dict[Tuple[str, str], Obj]:
        return self._objects.setdefault(rt.key, {})

    def _ns(self, rt: ResourceType, namespace: Optional[str]) -> str:
        return (namespace or "") if rt.namespaced else ""

    def _find(self, rt: ResourceType, namespace: Optional[str], name: str) -> Optional[Obj]:
        return self._bucket(rt).get((self._ns(rt, namespace), name))

    def _require(self, rt: ResourceType, namespace: Optional[str], name: str) -> Obj:
        obj = self._find(rt, namespace, name)
        if obj is None:
            raise not_found(rt, name)
        return obj

    def _commit(self, rt: ResourceType, event: str, obj: Obj, old: Optional[Obj]) -> Obj:
        """Store (or drop, for DELETED) ``obj`` under a new resourceVersion and record the event."""
        self._rv += 1
        obj = copy.deepcopy(obj)
        meta = _meta(obj)
        meta["resourceVersion"] = str(self._rv)
        key = (meta.get("namespace", ""), meta["name"])
        if event == "DELETED":
            self._bucket(rt).pop(key, None)
        else:
            self._bucket(rt)[key] = obj
        self._history.append(WatchEvent(self._rv, event, rt.key, key[0], obj, old))
        self._changed.notify_all()
        if rt.key == CRD_KEY:
            self._crd_changed(obj, event)
        return copy.deepcopy(obj)

    def _crd_changed(self, crd: Obj, event: str) -> None:
        gone_types = self.registry.remove_crd(crd["metadata"]["name"])
        if event != "DELETED":
            self.registry.add(ResourceType.from_crd(crd))
            return
        for key, rt in {t.key: t for t in gone_types}.items():
            for obj in list(self._objects.get(key, {}).values()):
                self._commit(rt, "DELETED", obj, obj)

    def _check_type(self, rt: ResourceType, obj: Obj) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != rt.api_version:
            # another served version of the same group is fine (one storage version per group/plural here)
            group = api_version.rpartition("/")[0]
            if group != rt.group:
                raise bad_request(f"the API version in the data ({api_version}) does not match the expected API version ({rt.api_version})")
        if kind and kind != rt.kind:
            raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind

    # ---- create / read ----------------------------------------------------------------------------

    def create(self, rt: ResourceType, namespace: Optional[str], body: Any, dry_run: bool = False) -> Obj:
        """POST: 409 if it exists, 404 if its namespace does not; honours generateName."""
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON object")
        obj = copy.deepcopy(body)
        self._check_type(rt, obj)
        meta = _meta(obj)
        with self._lock:
            if rt.namespaced:
                ns = namespace or meta.get("namespace") or ""
                if namespace and meta.get("namespace") and meta["namespace"] != namespace:
                    raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
                if not ns:
                    raise bad_request("a namespace is required to create a namespaced object")
                ns_rt = self._rt("v1", "Namespace")
                if self._find(ns_rt, None, ns) is None:
                    raise not_found(ns_rt, ns)
                meta["namespace"] = ns
            else:
                meta.pop("namespace", None)
            if not meta.get("name"):
                prefix = meta.get("generateName")
                if not prefix:
                    raise invalid(rt, "", "metadata.name: Required value: name or generateName is required")
                name = prefix + random_suffix()
                while self._find(rt, meta.get("namespace"), name) is not None:
                    name = prefix + random_suffix()
                meta["name"] = name
            if self._find(rt, meta.get("namespace"), meta["name"]) is not None:
                raise already_exists(rt, meta["name"])
            for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"):
                meta.pop(k, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now()
            if rt.generation:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            status = kinds.initial_status(rt, obj)
            if status is not None:
                obj["status"] = status
            kinds.normalize(rt, obj)
            kinds.validate(rt, obj)
            if dry_run:
                return obj
            return self._commit(rt, "ADDED", obj, None)

    def get(self, rt: ResourceType, namespace: Optional[str], name: str) -> Obj:
        with self._lock:
            return copy.deepcopy(self._require(rt, namespace, name))

    def list(self, rt: ResourceType, namespace: Optional[str] = None, selector: Optional[Selector] = None,
             limit: int = 0, continue_token: str = "") -> Tuple[List[Obj], str, str]:
        """Matching objects sorted by namespace/name, the list resourceVersion and a continue token."""
        with self._lock:
            items = [o for k, o in sorted(self._bucket(rt).items()) if not (rt.namespaced and namespace) or k[0] == namespace]
            rv = str(self._rv)
        if selector is not None:
            items = [o for o in items if selector.matches(o)]
        if continue_token:
            try:
                start = tuple(json.loads(base64.urlsafe_b64decode(continue_token.encode()).decode())["start"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("invalid continue token") from None
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
        token = ""
        if limit and len(items) > limit:
            items = items[:limit]
            last = items[-1]["metadata"]
            token = base64.urlsafe_b64encode(json.dumps({"start": [last.get("namespace", ""), last["name"]]}).encode()).decode()
        return copy.deepcopy(items), rv, token

    # ---- update / patch ---------------------------------------------------------------------------

    def replace(self, rt: ResourceType, namespace: Optional[str], name: str, body: Any,
                dry_run: bool = False, subresource: Optional[str] = None) -> Obj:
        """PUT: 404 if absent, 409 if ``metadata.resourceVersion`` is set and stale."""
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON object")
        with self._lock:
            cur = self._require(rt, namespace, name)
            return self._update(rt, cur, copy.deepcopy(body), subresource, dry_run)

    def patch(self, rt: ResourceType, namespace: Optional[str], name: str, patch_type: str, body: Any,
              dry_run: bool = False, subresource: Optional[str] = None, field_manager: str = "") -> Obj:
        """PATCH with one of ``PATCH_TYPES``; server-side apply creates the object when it is absent."""
        with self._lock:
            cur = self._find(rt, namespace, name)
            if patch_type == APPLY_PATCH:
                if not field_manager:
                    raise bad_request("PATCH /apply requests require a fieldManager")
                if not isinstance(body, dict):
                    raise bad_request("the body of an apply request must be an object")
                body_meta = body.get("metadata")
                meta: Dict[str, Any] = body_meta if isinstance(body_meta, dict) else {}
                if meta.get("name") and meta["name"] != name:
                    raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
                if not body.get("apiVersion") or not body.get("kind"):
                    raise bad_request("apply requests need apiVersion and kind in the body")
                if cur is None:
                    if subresource:
                        raise not_found(rt, name)
                    body = copy.deepcopy(body)
                    _meta(body)["name"] = name
                    return self.create(rt, namespace, body, dry_run)
                try:
                    patched = strategic_merge_patch(cur, body)
                except PatchError as exc:
                    raise bad_request(str(exc)) from None
            else:
                if cur is None:
                    raise not_found(rt, name)
                try:
                    if patch_type == MERGE_PATCH:
                        patched = merge_patch(cur, body)
                    elif patch_type == STRATEGIC_MERGE_PATCH:
                        patched = strategic_merge_patch(cur, body)
                    elif patch_type == JSON_PATCH:
                        patched = json_patch(cur, body)
                    else:
                        raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {patch_type!r}")
                except PatchError as exc:
                    code = 422 if patch_type == JSON_PATCH else 400
                    raise ApiError(code, "Invalid" if code == 422 else "BadRequest", str(exc)) from None
            if not isinstance(patched, dict):
                raise bad_request("the patched object is not an object")
            return self._update(rt, cur, patched, subresource, dry_run)

    def _update(self, rt: ResourceType, cur: Obj, new: Obj, subresource: Optional[str], dry_run: bool,
                raw: bool = False) -> Obj:
        """Shared tail of PUT/PATCH/apply: preconditions, preserved fields, no-op detection, commit."""
        cur_meta = cur["metadata"]
        self._check_type(rt, new)
        meta = _meta(new)
        if meta.get("name") and meta["name"] != cur_meta["name"]:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({cur_meta['name']})")
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != cur_meta.get("namespace"):
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if meta.get("resourceVersion") and meta["resourceVersion"] != cur_meta["resourceVersion"]:
            raise conflict(rt, cur_meta["name"])
        if meta.get("uid") and meta["uid"] != cur_meta["uid"]:
            raise conflict(rt, cur_meta["name"], f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: {cur_meta['uid']}")
        if subresource == "status":
            result = copy.deepcopy(cur)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
        elif subresource:
            raise ApiError(405, "MethodNotAllowed", f"subresource {subresource!r} cannot be updated")
        else:
            result = new
            for k in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
                if k in cur_meta:
                    meta[k] = cur_meta[k]
                else:
                    meta.pop(k, None)
            meta.pop("managedFields", None)
            meta.pop("selfLink", None)
            if rt.has_status and not raw:
                if "status" in cur:
                    result["status"] = copy.deepcopy(cur["status"])
                else:
                    result.pop("status", None)
            kinds.normalize(rt, result, cur)
            kinds.validate(rt, result)
            if rt.generation and _without(result, "metadata", "status") != _without(cur, "metadata", "status"):
                meta["generation"] = int(cur_meta.get("generation") or 0) + 1
        _meta(result)["resourceVersion"] = cur_meta["resourceVersion"]
        if result == cur:
            return copy.deepcopy(cur)
        if dry_run:
            return result
        if result["metadata"].get("deletionTimestamp") and not result["metadata"].get("finalizers"):
            return self._remove(rt, result, "Background")
        return self._commit(rt, "MODIFIED", result, copy.deepcopy(cur))

    # ---- delete -----------------------------------------------------------------------------------

    def delete(self, rt: ResourceType, namespace: Optional[str], name: str, propagation: Optional[str] = None,
               preconditions: Optional[Dict[str, Any]] = None, dry_run: bool = False) -> Obj:
        """DELETE: a ``Status`` of kind Success, or the object (Namespaces, finalizer-pending, ``return_deleted``)."""
        if propagation not in (None, "", "Orphan", "Background", "Foreground"):
            raise bad_request(f"unsupported propagationPolicy {propagation!r}")
        with self._lock:
            cur = self._require(rt, namespace, name)
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != cur["metadata"]["uid"]:
                raise conflict(rt, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {cur['metadata']['uid']}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != cur["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            if dry_run:
                return copy.deepcopy(cur)
            if rt.key == ("", "namespaces"):
                return self._delete_namespace(rt, cur)
            if cur["metadata"].get("finalizers"):
                if cur["metadata"].get("deletionTimestamp"):
                    return copy.deepcopy(cur)
                marked = copy.deepcopy(cur)
                marked["metadata"]["deletionTimestamp"] = now()
                marked["metadata"]["deletionGracePeriodSeconds"] = 0
                return self._commit(rt, "MODIFIED", marked, copy.deepcopy(cur))
            policy = propagation or ("Orphan" if rt.orphan_by_default else "Background")
            removed = self._remove(rt, cur, policy)
            return removed if rt.return_deleted else self._success(rt, cur)

    @staticmethod
    def _success(rt: ResourceType, obj: Obj) -> Obj:
        details: Dict[str, Any] = {"name": obj["metadata"]["name"], "kind": rt.plural, "uid": obj["metadata"]["uid"]}
        if rt.group:
            details["group"] = rt.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def delete_collection(self, rt: ResourceType, namespace: Optional[str], selector: Optional[Selector],
                          propagation: Optional[str] = None, dry_run: bool = False) -> Obj:
        with self._lock:
            items = self.list(rt, namespace, selector)[0]
            if not dry_run:
                for obj in items:
                    if self._find(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"]) is not None:
                        self.delete(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"], propagation)
            return {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": {"resourceVersion": str(self._rv)}, "items": items}

    def _delete_namespace(self, rt: ResourceType, ns_obj: Obj) -> Obj:
        ns = ns_obj["metadata"]["name"]
        terminating = copy.deepcopy(ns_obj)
        terminating["metadata"]["deletionTimestamp"] = now()
        terminating["status"] = {"phase": "Terminating"}
        self._commit(rt, "MODIFIED", terminating, copy.deepcopy(ns_obj))
        for key in list(self._objects):
            member_rt = self.registry.by_key(key)
            for obj_key, obj in list(self._objects[key].items()):
                if member_rt is not None and member_rt.namespaced and obj_key[0] == ns:
                    self._commit(member_rt, "DELETED", obj, obj)
        self._logs = {k: v for k, v in self._logs.items() if k[0] != ns}
        current = self._find(rt, None, ns) or terminating
        self._commit(rt, "DELETED", current, current)
        return terminating

    def _remove(self, rt: ResourceType, obj: Obj, policy: str) -> Obj:
        """Drop ``obj`` now and handle its dependents according to ``policy``."""
        meta = obj["metadata"]
        if self._find(rt, meta.get("namespace"), meta["name"]) is None:
            return copy.deepcopy(obj)
        removed = self._commit(rt, "DELETED", obj, copy.deepcopy(obj))
        if rt.key == ("", "pods"):
            self._logs = {k: v for k, v in self._logs.items() if k[:2] != (meta.get("namespace", ""), meta["name"])}
        uid = meta["uid"]
        for key in list(self._objects):
            dep_rt = self.registry.by_key(key)
            if dep_rt is None:
                continue
            for dep in list(self._objects[key].values()):
                refs = dep["metadata"].get("ownerReferences") or []
                owned = any(r.get("uid") == uid for r in refs)
                if policy == "Orphan":
                    if owned:
                        orphan = copy.deepcopy(dep)
                        orphan["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                        if not orphan["metadata"]["ownerReferences"]:
                            del orphan["metadata"]["ownerReferences"]
                        self._commit(dep_rt, "MODIFIED", orphan, copy.deepcopy(dep))
                    continue
                if not owned and rt.key == ("batch", "jobs") and key == ("", "pods"):
                    labels = dep["metadata"].get("labels") or {}
                    owned = dep["metadata"].get("namespace") == meta.get("namespace") and meta["name"] in (
                        labels.get("job-name"), labels.get("batch.kubernetes.io/job-name"))
                if owned:
                    if dep["metadata"].get("finalizers"):
                        marked = copy.deepcopy(dep)
                        marked["metadata"].setdefault("deletionTimestamp", now())
                        if marked != dep:
                            self._commit(dep_rt, "MODIFIED", marked, copy.deepcopy(dep))
                    else:
                        self._remove(dep_rt, dep, "Background")
        return removed

    # ---- watch ------------------------------------------------------------------------------------

    def watch_start(self, rt: ResourceType, namespace: Optional[str], selector: Selector,
                    resource_version: Optional[str]) -> Tuple[List[Obj], int]:
        """Objects to send as ADDED first (for an empty or "0" resourceVersion) and the version to follow from."""
        with self._lock:
            if resource_version in (None, "", "0"):
                items, rv = self.list(rt, namespace, selector)[:2]
                return items, int(rv)
            try:
                start = int(resource_version)
            except ValueError:
                raise bad_request(f"invalid resourceVersion {resource_version!r}") from None
            floor = self._history[0].rv - 1 if len(self._history) == self._history.maxlen else 0
            if start < floor:
                raise gone(f"too old resource version: {start} ({floor})")
            return [], start

    def events_after(self, rv: int, timeout: float) -> List[WatchEvent]:
        """Events newer than ``rv``, waiting up to ``timeout`` seconds for the first one."""
        with self._changed:
            if not self.closed and not (self._history and self._history[-1].rv > rv):
                self._changed.wait(timeout)
            out = []
            for ev in reversed(self._history):
                if ev.rv <= rv:
                    break
                out.append(ev)
            floor = self._history[0].rv - 1 if len(self._history) == self._history.maxlen else 0
            if rv < floor:
                raise gone(f"too old resource version: {rv} ({floor})")
            return list(reversed(out))

    def close(self) -> None:
        """Wake every watcher so that open watch streams end."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    # ---- pod logs ---------------------------------------------------------------------------------

    def set_pod_log(self, namespace: str, pod: str, text: str, container: str = "") -> None:
        with self._lock:
            self._logs[(namespace, pod, container)] = text

    def pod_log(self, namespace: str, pod: str, container: str = "") -> str:
        with self._lock:
            self._require(self._rt("v1", "Pod"), namespace, pod)
            if (namespace, pod, container) in self._logs:
                return self._logs[(namespace, pod, container)]
            return self._logs.get((namespace, pod, ""), "")

    # ---- helpers for tests playing the controllers -------------------------------------------------

    def put(self, obj: Obj) -> Obj:
        """Create or overwrite ``obj`` as given, status included (no namespace check, no status reset)."""
        obj = copy.deepcopy(obj)
        rt = self._rt(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = _meta(obj)
        if rt.namespaced:
            meta.setdefault("namespace", "default")
        with self._lock:
            cur = self._find(rt, meta.get("namespace"), meta["name"])
            if cur is None:
                meta.pop("resourceVersion", None)
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", now())
                if rt.generation:
                    meta.setdefault("generation", 1)
                kinds.normalize(rt, obj)
                kinds.validate(rt, obj)
                return self._commit(rt, "ADDED", obj, None)
            meta.pop("resourceVersion", None)
            return self._update(rt, cur, obj, None, False, raw=True)

    def get_object(self, api_version: str, kind: str, name: str, namespace: Optional[str] = None) -> Optional[Obj]:
        rt = self._rt(api_version, kind)
        with self._lock:
            found = self._find(rt, namespace or ("default" if rt.namespaced else None), name)
            return copy.deepcopy(found) if found is not None else None

    def list_objects(self, api_version: str, kind: str, namespace: Optional[str] = None,
                     label_selector: str = "", field_selector: str = "") -> List[Obj]:
        rt = self._rt(api_version, kind)
        return self.list(rt, namespace, Selector.parse(label_selector, field_selector))[0]

    def update_object(self, api_version: str, kind: str, name: str, mutate: Callable[[Obj], Optional[Obj]],
                      namespace: Optional[str] = None) -> Obj:
        """Read-modify-write under the lock: ``mutate`` changes the object in place (or returns a new one)."""
        rt = self._rt(api_version, kind)
        with self._lock:
            cur = self._require(rt, namespace or ("default" if rt.namespaced else None), name)
            new = copy.deepcopy(cur)
            new = mutate(new) or new
            _meta(new).pop("resourceVersion", None)
            return self._update(rt, cur, new, None, False, raw=True)

    def set_status(self, api_version: str, kind: str, name: str, status: Obj, namespace: Optional[str] = None,
                   merge: bool = False) -> Obj:
        """Replace (or with ``merge``, merge-patch) the status, as a controller would through ``/status``."""
        rt = self._rt(api_version, kind)
        with self._lock:
            cur = self._require(rt, namespace or ("default" if rt.namespaced else None), name)
            new = copy.deepcopy(cur)
            new["status"] = merge_patch(cur.get("status") or {}, status) if merge else copy.deepcopy(status)
            return self._update(rt, cur, new, "status", False)

    def delete_object(self, api_version: str, kind: str, name: str, namespace: Optional[str] = None,
                      propagation: Optional[str] = None) -> Obj:
        rt = self._rt(api_version, kind)
        return self.delete(rt, namespace or ("default" if rt.namespaced else None), name, propagation)
