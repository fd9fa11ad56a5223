# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The test plays the controllers: helpers that set the status a kubelet or controller would set.

Nothing here runs by itself; each function changes the store once (through ``Store.put``/``set_status``, so
watchers see ordinary MODIFIED/ADDED events).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Optional

from .store import Obj, Store, random_suffix, now


def add_node(store: Store, name: str, ready: bool = True, labels: Optional[Dict[str, str]] = None) -> Obj:
    """A Node with a Ready condition (and the usual hostname/os labels)."""
    node_labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    node_labels.update(labels or {})
    stamp = now()
    return store.put({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": node_labels},
        "spec": {},
        "status": {
            "conditions": [{
                "type": "Ready",
                "status": "True" if ready else "False",
                "reason": "KubeletReady" if ready else "KubeletNotReady",
                "message": "kubelet is posting ready status" if ready else "container runtime is down",
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": stamp,
            }],
            "addresses": [{"type": "Hostname", "address": name}],
            "nodeInfo": {
                "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://1.7.24",
                "kernelVersion": "6.1.0-28-amd64", "kubeProxyVersion": "v1.32.4", "kubeletVersion": "v1.32.4",
                "machineID": "", "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)", "systemUUID": "",
            },
        },
    })


def _job(store: Store, namespace: str, name: str) -> Obj:
    job = store.get_object("batch/v1", "Job", name, namespace)
    if job is None:
        raise KeyError(f"job {namespace}/{name} not found")
    return job


def complete_job(store: Store, namespace: str, name: str) -> Obj:
    """Mark a Job succeeded: ``Complete`` (and ``SuccessCriteriaMet``) conditions, succeeded = completions."""
    job = _job(store, namespace, name)
    stamp = now()
    status = {
        "startTime": (job.get("status") or {}).get("startTime", stamp),
        "completionTime": stamp,
        "succeeded": int((job.get("spec") or {}).get("completions") or 1),
        "active": 0,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": stamp, "lastTransitionTime": stamp},
            {"type": "Complete", "status": "True", "lastProbeTime": stamp, "lastTransitionTime": stamp},
        ],
    }
    return store.set_status("batch/v1", "Job", name, status, namespace)


def fail_job(store: Store, namespace: str, name: str, reason: str = "BackoffLimitExceeded",
             message: str = "Job has reached the specified backoff limit") -> Obj:
    """Mark a Job failed: ``FailureTarget`` and ``Failed`` conditions with ``reason``/``message``."""
    job = _job(store, namespace, name)
    stamp = now()
    status = {
        "startTime": (job.get("status") or {}).get("startTime", stamp),
        "failed": int((job.get("spec") or {}).get("backoffLimit") or 0) + 1,
        "active": 0,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
            {"type": "FailureTarget", "status": "True", "reason": reason, "message": message,
             "lastProbeTime": stamp, "lastTransitionTime": stamp},
            {"type": "Failed", "status": "True", "reason": reason, "message": message,
             "lastProbeTime": stamp, "lastTransitionTime": stamp},
        ],
    }
    return store.set_status("batch/v1", "Job", name, status, namespace)


def make_pod_for_job(store: Store, namespace: str, job_name: str, phase: str = "Running",
                     log: Optional[str] = None, name: Optional[str] = None) -> Obj:
    """A Pod owned by the Job (ownerReference + job-name labels), copying its pod template, in ``phase``."""
    job = _job(store, namespace, job_name)
    template = (job.get("spec") or {}).get("template") or {}
    uid = job["metadata"]["uid"]
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels.update({
        "job-name": job_name,
        "batch.kubernetes.io/job-name": job_name,
        "controller-uid": uid,
        "batch.kubernetes.io/controller-uid": uid,
    })
    spec: Dict[str, Any] = dict(template.get("spec") or {"containers": [{"name": "main", "image": "busybox"}]})
    pod_name = name or f"{job_name}-{random_suffix()}"
    containers = spec.get("containers") or []
    terminated = phase in ("Succeeded", "Failed")
    state: Dict[str, Any]
    if terminated:
        state = {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1,
                                "reason": "Completed" if phase == "Succeeded" else "Error", "finishedAt": now()}}
    elif phase == "Running":
        state = {"running": {"startedAt": now()}}
    else:
        state = {"waiting": {"reason": "ContainerCreating"}}
    pod = store.put({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job_name, "uid": uid,
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": spec,
        "status": {
            "phase": phase,
            "containerStatuses": [
                {"name": c.get("name", "main"), "image": c.get("image", ""), "imageID": "", "ready": phase == "Running",
                 "restartCount": 0, "state": state}
                for c in containers
            ],
        },
    })
    if log is not None:
        store.set_pod_log(namespace, pod_name, log)
    return pod


def set_pod_phase(store: Store, namespace: str, name: str, phase: str, ready: Optional[bool] = None) -> Obj:
    """Set a Pod's phase, its Ready condition and its containers' ``ready`` flags."""
    pod = store.get_object("v1", "Pod", name, namespace)
    if pod is None:
        raise KeyError(f"pod {namespace}/{name} not found")
    is_ready = (phase == "Running") if ready is None else ready
    containers = (pod.get("spec") or {}).get("containers") or []
    status = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if is_ready else "False", "lastTransitionTime": now()}],
        "containerStatuses": [{"name": c.get("name", ""), "image": c.get("image", ""), "imageID": "", "ready": is_ready, "restartCount": 0}
                              for c in containers],
    }
    return store.set_status("v1", "Pod", name, status, namespace)


def pod_template_hash(template: Any) -> str:
    """The ``pod-template-hash`` label of a pod template (its ReplicaSet is ``<deployment>-<hash>``)."""
    return hashlib.sha256(json.dumps(template or {}, sort_keys=True).encode()).hexdigest()[:10]


def _replica_set_for(store: Store, deployment: Obj, replicas: int) -> Obj:
    """The Deployment's current ReplicaSet (its pod template, owned by it), ready (what ``helm --wait`` checks)."""
    meta = deployment["metadata"]
    template = json.loads(json.dumps((deployment.get("spec") or {}).get("template") or {}))
    pod_hash = pod_template_hash(template)
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
    selector = json.loads(json.dumps((deployment.get("spec") or {}).get("selector") or {}))
    selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
    name = f"{meta['name']}-{pod_hash}"
    existing = store.get_object("apps/v1", "ReplicaSet", name, meta["namespace"])
    generation = existing["metadata"].get("generation", 1) if existing else 1
    return store.put({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name, "namespace": meta["namespace"], "labels": dict(template["metadata"]["labels"]),
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"], "uid": meta["uid"],
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
        "status": {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas, "observedGeneration": generation},
    })


def mark_rollout_ready(store: Store, kind: str, namespace: str, name: str) -> Obj:
    """Make a Deployment, StatefulSet or DaemonSet look fully rolled out.

    That is what kubernetes.core's waiters and ``helm --wait`` check; for a Deployment this also puts a ready
    ReplicaSet owned by it, with its pod template.
    """
    obj = store.get_object("apps/v1", kind, name, namespace)
    if obj is None:
        raise KeyError(f"{kind} {namespace}/{name} not found")
    generation = obj["metadata"].get("generation", 1)
    replicas = int((obj.get("spec") or {}).get("replicas", 1) or 0)
    status: Dict[str, Any]
    if kind == "Deployment":
        _replica_set_for(store, obj, replicas)
        stamp = now()
        status = {
            "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "lastUpdateTime": stamp, "lastTransitionTime": stamp},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "lastUpdateTime": stamp, "lastTransitionTime": stamp},
            ],
        }
    elif kind == "StatefulSet":
        revision = f"{name}-{random_suffix(10)}"
        status = {
            "observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
            "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas,
            "currentRevision": revision, "updateRevision": revision,
        }
    elif kind == "DaemonSet":
        nodes = len(store.list_objects("v1", "Node")) or 1
        status = {
            "observedGeneration": generation, "desiredNumberScheduled": nodes, "currentNumberScheduled": nodes,
            "updatedNumberScheduled": nodes, "numberReady": nodes, "numberAvailable": nodes, "numberMisscheduled": 0,
        }
    else:
        raise ValueError(f"unsupported kind {kind!r}")
    return store.set_status("apps/v1", kind, name, status, namespace)
