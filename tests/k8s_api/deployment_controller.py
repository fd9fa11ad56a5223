# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""An opt-in, SIMULATED stand-in for the Deployment, ReplicaSet and endpoints controllers and the kubelet.

The server itself runs no controllers. ``DeploymentController`` follows the store's change history and, for each
Deployment that exists when it starts or is created or changed while it runs (a new ``metadata.generation``:
its pod template, replicas or anything else in ``spec``), after ``delay`` seconds:

* marks it rolled out with ``controllers.mark_rollout_ready`` (status ``observedGeneration``, ``replicas``,
  ``updatedReplicas``, ``readyReplicas``, ``availableReplicas``, conditions ``Available`` and ``Progressing``; a
  ready ReplicaSet ``<deployment>-<pod-template-hash>`` with the pod template), scales the Deployment's older
  ReplicaSets to 0 and event ``ScalingReplicaSet``;
* makes its stand-in Pods ``<replicaset>-<5 chars>``: the template's labels and ``pod-template-hash``, label
  ``datasurface.yellow/simulated: "true"`` and annotation ``datasurface.yellow/simulated: SIMULATED_BY``,
  owned by the ReplicaSet, ``Running`` and ``Ready`` with a fake pod IP from ``POD_IP_RANGE`` (198.18.0.0/15,
  RFC 2544 benchmarking space: never a real pod's address); the older ReplicaSets' stand-in Pods are deleted;
* keeps ``v1`` Endpoints for every Service whose selector matches stand-in Pods: one address per Ready
  stand-in Pod (``targetRef`` the Pod), ports from the Service (``targetPort``, a named one resolved against the
  Pod's container ports; ``port`` when unset). These Endpoints carry the same label and annotation.

Left alone (never touched): a Deployment whose ``status`` someone else set (the test or a seed playing the
controller itself, e.g. ``mark_rollout_ready`` after ``helm --wait``), and Endpoints someone else wrote. Pods
that already exist, are not stand-ins, match the Deployment's selector and are Ready (the lab seeds Airflow's
pods this way) count towards its replicas, so there are never two pods for one replica. A stand-in Pod deleted
on its own is replaced after ``delay``; deleting the Deployment removes its ReplicaSets and Pods (the server's
cascade), and its Services' Endpoints lose the addresses.

``history`` records ``(time.monotonic(), action, namespace, name)``: ``rolled-out`` (Deployment),
``left-alone`` (Deployment), ``endpoints`` (Service, with each Endpoints write).

    with DeploymentController(api, delay=0.2) as deployments:
        ...  # apply a Deployment and its Service
        deployments.wait_for("rolled-out", "web")
"""

from __future__ import annotations

import copy
import heapq
import ipaddress
import itertools
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from .controllers import mark_rollout_ready, pod_template_hash
from .errors import ApiError
from .job_controller import _event
from .selectors import LabelRequirement
from .store import Obj, Store, now, random_suffix

SIMULATED = "datasurface.yellow/simulated"
SIMULATED_BY = "tests/k8s_api DeploymentController: simulated, no container runs"
POD_IP_RANGE = ipaddress.ip_network("198.18.0.0/15")
_EXPRESSION_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A ``LabelSelector`` (``matchLabels`` + ``matchExpressions``) matches ``labels``; an empty one matches nothing."""
    if not isinstance(selector, Mapping) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return False
    reqs = [LabelRequirement(k, "=", frozenset([str(v)])) for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        reqs.append(LabelRequirement(expr.get("key", ""), _EXPRESSION_OPS.get(expr.get("operator"), "in"),
                                     frozenset(str(v) for v in expr.get("values") or [])))
    return all(r.matches(labels) for r in reqs)


def is_stand_in(obj: Optional[Obj]) -> bool:
    """Written by this controller (a stand-in Pod or its Endpoints)."""
    return bool(obj) and ((obj.get("metadata") or {}).get("annotations") or {}).get(SIMULATED) == SIMULATED_BY


def _labels(obj: Obj) -> Dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _pod_ready(pod: Obj) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions") or [])


def _owner_uid(obj: Obj, kind: str) -> Optional[str]:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == kind and ref.get("controller"):
            return ref.get("uid")
    return None


def _scaled_to_zero(replica_set: Obj) -> Obj:
    replica_set.setdefault("spec", {})["replicas"] = 0
    return replica_set


class DeploymentController:
    """Rolls out Deployments with stand-in Pods and keeps their Services' Endpoints (see the module docstring)."""

    def __init__(self, api: Any, delay: float = 0.5) -> None:
        self.store: Store = getattr(api, "store", api)
        self.delay = float(delay)
        self.history: List[Tuple[float, str, str, str]] = []
        self._own: Set[str] = set()          # Deployment uids whose status this controller writes
        self._foreign: Set[str] = set()      # Deployment uids someone else plays
        self._pending: Dict[str, int] = {}   # Deployment uid -> generation with a roll-out due
        self._deleting: Set[str] = set()     # uids of stand-in Pods this controller deleted itself
        self._ips: Iterator[Any] = POD_IP_RANGE.hosts()
        self._node_turn = itertools.count()
        self._due: List[Tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._last = 0

    # ---- lifecycle --------------------------------------------------------------------------------

    def start(self) -> "DeploymentController":
        self._last = int(self.store.resource_version)
        for deployment in self.store.list_objects("apps/v1", "Deployment"):
            self._consider(deployment)
        self._thread = threading.Thread(target=self._run, name="k8s-api-deployment-controller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "DeploymentController":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- queries ----------------------------------------------------------------------------------

    def when(self, action: str, name: str, namespace: Optional[str] = None) -> Optional[float]:
        """``time.monotonic()`` of the last ``action`` for ``name`` (None when it did not happen)."""
        found = [t for t, a, ns, n in self.history if a == action and n == name and (namespace is None or ns == namespace)]
        return found[-1] if found else None

    def count(self, action: str, name: str) -> int:
        return sum(1 for _t, a, _ns, n in self.history if a == action and n == name)

    def wait_for(self, action: str, name: str, timeout: float = 10.0, times: int = 1) -> float:
        """Block until ``action`` happened ``times`` times for ``name``; the time of the last one."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.count(action, name) >= times:
                return self.when(action, name) or 0.0
            time.sleep(0.01)
        raise TimeoutError(f"{name}: no {action!r} (x{times}) within {timeout} s")

    # ---- the loop ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set() and not self.store.closed:
            wait = 0.1
            if self._due:
                wait = max(0.0, min(wait, self._due[0][0] - time.monotonic()))
            try:
                events = self.store.events_after(self._last, wait)
            except ApiError:  # 410: fell behind the history; look at everything again
                self._last = int(self.store.resource_version)
                for deployment in self.store.list_objects("apps/v1", "Deployment"):
                    self._consider(deployment)
                for namespace in {d["metadata"].get("namespace", "") for d in self.store.list_objects("v1", "Service")}:
                    self._guard(lambda ns=namespace: self._sync_endpoints(ns))
                continue
            for ev in events:
                self._last = ev.rv
                self._guard(lambda ev=ev: self._on_event(ev))
            while self._due and self._due[0][0] <= time.monotonic():
                _when, _n, step = heapq.heappop(self._due)
                self._guard(step)

    @staticmethod
    def _guard(step: Callable[[], None]) -> None:
        try:
            step()
        except (ApiError, KeyError):  # the object changed or went away under us: the next event says what to do
            pass

    def _later(self, seconds: float, step: Callable[[], None]) -> None:
        heapq.heappush(self._due, (time.monotonic() + seconds, next(self._counter), step))

    def _on_event(self, ev: Any) -> None:
        if ev.key == ("apps", "deployments"):
            if ev.type == "DELETED":
                uid = ev.obj["metadata"].get("uid", "")
                self._pending.pop(uid, None)
                self._own.discard(uid)
            else:
                self._consider(ev.obj)
        elif ev.key == ("", "services"):
            self._sync_endpoints(ev.namespace)
        elif ev.key == ("", "pods") and ev.type == "DELETED" and is_stand_in(ev.obj):
            uid = ev.obj["metadata"].get("uid", "")
            if uid in self._deleting:
                self._deleting.discard(uid)
                return
            self._sync_endpoints(ev.namespace)
            self._replace_later(ev.obj)

    def _record(self, action: str, namespace: str, name: str) -> None:
        self.history.append((time.monotonic(), action, namespace, name))

    # ---- Deployments ------------------------------------------------------------------------------

    def _consider(self, deployment: Obj) -> None:
        meta = deployment["metadata"]
        uid = meta.get("uid", "")
        if uid in self._foreign or meta.get("deletionTimestamp"):
            return
        if uid not in self._own and deployment.get("status"):
            self._foreign.add(uid)
            self._record("left-alone", meta.get("namespace", ""), meta["name"])
            return
        generation = int(meta.get("generation") or 1)
        if self._pending.get(uid) == generation:
            return
        if uid in self._own and (deployment.get("status") or {}).get("observedGeneration") == generation:
            return
        self._pending[uid] = generation
        namespace, name = meta.get("namespace", "default"), meta["name"]
        self._later(self.delay, lambda: self._roll_out(namespace, name, uid, generation))

    def _current(self, namespace: str, name: str, uid: str) -> Optional[Obj]:
        cur = self.store.get_object("apps/v1", "Deployment", name, namespace)
        if cur is None or cur["metadata"].get("uid") != uid or cur["metadata"].get("deletionTimestamp"):
            return None
        return cur

    def _roll_out(self, namespace: str, name: str, uid: str, generation: int) -> None:
        cur = self._current(namespace, name, uid)
        if cur is None or int(cur["metadata"].get("generation") or 1) != generation:
            return  # gone, or changed again: that generation has its own step
        self._pending.pop(uid, None)
        if uid in self._foreign:
            return
        if uid not in self._own and cur.get("status"):
            self._foreign.add(uid)
            self._record("left-alone", namespace, name)
            return
        self._own.add(uid)
        mark_rollout_ready(self.store, "Deployment", namespace, name)
        cur = self._current(namespace, name, uid)
        if cur is None:
            return
        self._reconcile(cur)
        self._record("rolled-out", namespace, name)

    def _replace_later(self, pod: Obj) -> None:
        namespace = pod["metadata"].get("namespace", "default")
        rs_uid = _owner_uid(pod, "ReplicaSet")
        for rs in self.store.list_objects("apps/v1", "ReplicaSet", namespace):
            if rs["metadata"].get("uid") == rs_uid:
                dep_uid = _owner_uid(rs, "Deployment")
                if dep_uid in self._own:
                    dep_name = next(r["name"] for r in rs["metadata"]["ownerReferences"] if r.get("uid") == dep_uid)
                    self._later(self.delay, lambda: self._replace(namespace, dep_name, dep_uid))

    def _replace(self, namespace: str, name: str, uid: str) -> None:
        cur = self._current(namespace, name, uid)
        if cur is not None and uid in self._own and uid not in self._pending:
            self._reconcile(cur)

    def _reconcile(self, deployment: Obj) -> None:
        """Stand-in pods for the current ReplicaSet, none for older ones, then the namespace's Endpoints."""
        meta = deployment["metadata"]
        namespace, name, uid = meta.get("namespace", "default"), meta["name"], meta["uid"]
        spec = deployment.get("spec") or {}
        template = spec.get("template") or {}
        replicas = int(spec.get("replicas", 1) or 0)
        current_rs = self.store.get_object("apps/v1", "ReplicaSet", f"{name}-{pod_template_hash(template)}", namespace)
        if current_rs is None:
            return
        owned = [rs for rs in self.store.list_objects("apps/v1", "ReplicaSet", namespace) if _owner_uid(rs, "Deployment") == uid]
        old = [rs for rs in owned if rs["metadata"]["uid"] != current_rs["metadata"]["uid"]]
        pods = self.store.list_objects("v1", "Pod", namespace)
        old_uids = {rs["metadata"]["uid"] for rs in old}
        for pod in pods:
            if is_stand_in(pod) and _owner_uid(pod, "ReplicaSet") in old_uids:
                self._delete_pod(pod)
        for rs in old:
            if (rs.get("spec") or {}).get("replicas") != 0:
                scaled = self.store.update_object("apps/v1", "ReplicaSet", rs["metadata"]["name"], _scaled_to_zero, namespace)
                self.store.set_status("apps/v1", "ReplicaSet", rs["metadata"]["name"], {
                    "replicas": 0, "observedGeneration": int(scaled["metadata"].get("generation") or 1)}, namespace)
                _event(self.store, deployment, "ScalingReplicaSet", f"Scaled down replica set {rs['metadata']['name']} to 0",
                       component="deployment-controller")
        mine = [p for p in pods if is_stand_in(p) and _owner_uid(p, "ReplicaSet") == current_rs["metadata"]["uid"]
                and not p["metadata"].get("deletionTimestamp")]
        others = [p for p in pods if not is_stand_in(p) and _pod_ready(p) and selector_matches(spec.get("selector"), _labels(p))]
        wanted = max(0, replicas - len(others))
        for pod in sorted(mine, key=lambda p: p["metadata"]["name"])[wanted:]:
            self._delete_pod(pod)
        if len(mine) < wanted:
            for _missing in range(wanted - len(mine)):
                self._make_pod(current_rs, template)
            _event(self.store, deployment, "ScalingReplicaSet",
                   f"Scaled up replica set {current_rs['metadata']['name']} from {len(mine)} to {wanted}",
                   component="deployment-controller")
        self._sync_endpoints(namespace)

    def _delete_pod(self, pod: Obj) -> None:
        self._deleting.add(pod["metadata"]["uid"])
        try:
            self.store.delete_object("v1", "Pod", pod["metadata"]["name"], pod["metadata"].get("namespace"))
        except ApiError:
            self._deleting.discard(pod["metadata"]["uid"])

    def _node(self) -> Optional[str]:
        nodes = sorted(n["metadata"]["name"] for n in self.store.list_objects("v1", "Node"))
        return nodes[next(self._node_turn) % len(nodes)] if nodes else None

    def _make_pod(self, rs: Obj, template: Obj) -> Obj:
        rs_meta = rs["metadata"]
        namespace = rs_meta.get("namespace", "default")
        template_meta = template.get("metadata") or {}
        labels = dict(template_meta.get("labels") or {})
        labels["pod-template-hash"] = rs_meta["name"].rsplit("-", 1)[-1]
        labels[SIMULATED] = "true"
        annotations = dict(template_meta.get("annotations") or {})
        annotations[SIMULATED] = SIMULATED_BY
        spec: Dict[str, Any] = copy.deepcopy(template.get("spec") or {})
        spec.setdefault("containers", [{"name": "main", "image": "busybox"}])
        node = self._node()
        if node:
            spec["nodeName"] = node
        ip = str(next(self._ips))
        stamp = now()
        conditions = [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": stamp}
                      for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")]
        pod = self.store.put({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{rs_meta['name']}-{random_suffix()}", "namespace": namespace, "labels": labels,
                "annotations": annotations,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_meta["name"],
                                     "uid": rs_meta["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": spec,
            "status": {
                "phase": "Running", "conditions": conditions, "podIP": ip, "podIPs": [{"ip": ip}], "startTime": stamp,
                "containerStatuses": [{"name": c.get("name", "main"), "image": c.get("image", ""), "imageID": "",
                                       "ready": True, "started": True, "restartCount": 0,
                                       "state": {"running": {"startedAt": stamp}}}
                                      for c in spec.get("containers") or []],
            },
        })
        _event(self.store, rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", component="replicaset-controller")
        return pod

    # ---- Endpoints --------------------------------------------------------------------------------

    @staticmethod
    def _ports(service: Obj, pod: Obj) -> Tuple[Tuple[Tuple[str, Any], ...], ...]:
        """The Endpoints ports of ``service`` for ``pod`` (named target ports resolved against its containers)."""
        named = {}
        for container in (pod.get("spec") or {}).get("containers") or []:
            for port in container.get("ports") or []:
                if port.get("name"):
                    named.setdefault(port["name"], port.get("containerPort"))
        out = []
        for port in (service.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if isinstance(target, str) and not target.isdigit():
                target = named.get(target)
                if target is None:
                    continue
            entry: Dict[str, Any] = {"port": int(target), "protocol": port.get("protocol") or "TCP"}
            if port.get("name"):
                entry["name"] = port["name"]
            if port.get("appProtocol"):
                entry["appProtocol"] = port["appProtocol"]
            out.append(tuple(sorted(entry.items())))
        return tuple(out)

    def _sync_endpoints(self, namespace: str) -> None:
        """Endpoints for each Service in ``namespace`` that selects stand-in pods (or already has ours)."""
        stand_ins = [p for p in self.store.list_objects("v1", "Pod", namespace) if is_stand_in(p) and _pod_ready(p)]
        services = {s["metadata"]["name"]: s for s in self.store.list_objects("v1", "Service", namespace)}
        for endpoints in self.store.list_objects("v1", "Endpoints", namespace):
            if is_stand_in(endpoints) and endpoints["metadata"]["name"] not in services:
                self.store.delete_object("v1", "Endpoints", endpoints["metadata"]["name"], namespace)
                self._record("endpoints", namespace, endpoints["metadata"]["name"])
        for name, service in sorted(services.items()):
            spec = service.get("spec") or {}
            selector = spec.get("selector")
            existing = self.store.get_object("v1", "Endpoints", name, namespace)
            if existing is not None and not is_stand_in(existing):
                continue  # written by the test or a seed
            matched = []
            if spec.get("type") != "ExternalName" and isinstance(selector, Mapping) and selector:
                matched = [p for p in stand_ins if all(_labels(p).get(k) == v for k, v in selector.items())]
            if not matched and existing is None:
                continue
            groups: Dict[Tuple[Any, ...], List[Obj]] = {}
            for pod in matched:
                ports = self._ports(service, pod)
                if ports:
                    groups.setdefault(ports, []).append(pod)
            subsets = []
            for ports, members in sorted(groups.items()):
                addresses = []
                for pod in sorted(members, key=lambda p: ipaddress.ip_address(p["status"]["podIP"])):
                    address: Dict[str, Any] = {"ip": pod["status"]["podIP"], "targetRef": {
                        "kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}}
                    if (pod.get("spec") or {}).get("nodeName"):
                        address["nodeName"] = pod["spec"]["nodeName"]
                    addresses.append(address)
                subsets.append({"addresses": addresses, "ports": [dict(p) for p in ports]})
            labels = dict(_labels(service))
            labels[SIMULATED] = "true"
            body: Obj = {"apiVersion": "v1", "kind": "Endpoints",
                         "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": {SIMULATED: SIMULATED_BY}}}
            if subsets:
                body["subsets"] = subsets
            written = self.store.put(body)  # a no-op write keeps the resourceVersion
            if existing is None or written["metadata"]["resourceVersion"] != existing["metadata"]["resourceVersion"]:
                self._record("endpoints", namespace, name)
