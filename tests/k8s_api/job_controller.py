# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""An opt-in stand-in for the Job controller and the kubelet, for tests and the lab.

The server itself runs no controllers. ``JobController`` follows the store's change history and, for each Job
created (or unsuspended) while it runs, plays one pod through to an outcome chosen by the Job's name:

* at once: a Pod owned by the Job (``ownerReferences``, labels ``controller-uid``,
  ``batch.kubernetes.io/controller-uid``, ``job-name``, ``batch.kubernetes.io/job-name`` as a real server sets
  them), ``Pending`` with its containers waiting in ``ContainerCreating``; the Job's status ``active: 1``; events
  ``SuccessfulCreate`` (Job) and ``Scheduled`` (Pod); the pod's log.
* after ``delay / 2``: the pod ``Running`` (``succeed``, ``fail``, ``hang``) or its containers waiting in
  ``ErrImagePull`` (``image-pull-backoff``, event ``Failed``).
* after ``delay``: ``succeed``: the pod ``Succeeded`` (exit code 0), the Job ``Complete`` (event ``Completed``);
  ``fail``: the pod ``Failed`` (exit code 1), the Job ``Failed`` with reason ``BackoffLimitExceeded`` (event of
  that reason); ``image-pull-backoff``: containers waiting in ``ImagePullBackOff`` (event ``BackOff``), the Job
  stays active; ``hang``: nothing more.

Outcomes: ``outcomes`` maps Job names or shell-style globs (``*-init``) to an outcome (exact names first, then
globs in order); other Jobs get ``default`` (``None``: left alone). ``log`` is the pod's log text, or a function
``(job, outcome) -> text``. ``history`` records ``(time.monotonic(), action, namespace, name)`` for every step
(actions ``created``, ``running``, ``err-image-pull``, ``succeeded``, ``failed``, ``image-pull-backoff``), so a
test can tell when a Job failed.

    with JobController(api, delay=0.5, outcomes={"*-broken": "fail"}):
        ...  # run playbooks that create Jobs and wait for them

Effects (the lab): ``effects`` maps Job names or globs to a shell command run on this machine when a Job of that
name is about to succeed, standing in for what the real Job would have done (the local lab creates the merge
database's tables the ring1-init Job creates on a real cluster). A command that fails turns the outcome into
``fail`` with the command's output as the pod's log. The pod's log always says the effect was simulated.
"""

from __future__ import annotations

import fnmatch
import heapq
import itertools
import secrets
import subprocess
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple, Union

from .controllers import complete_job, fail_job
from .errors import ApiError
from .store import Obj, Store, now, random_suffix

OUTCOMES = ("succeed", "fail", "image-pull-backoff", "hang")
LogSpec = Union[str, Callable[[Obj, str], str], None]


def _event(store: Store, obj: Obj, reason: str, message: str, event_type: str = "Normal",
           component: str = "job-controller") -> Obj:
    """Record a core/v1 Event about ``obj`` (as the controllers and the kubelet do)."""
    meta = obj["metadata"]
    stamp = now()
    return store.put({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": meta.get("namespace", "default")},
        "involvedObject": {"apiVersion": obj.get("apiVersion", ""), "kind": obj.get("kind", ""), "name": meta["name"],
                           "namespace": meta.get("namespace", "default"), "uid": meta.get("uid", ""),
                           "resourceVersion": meta.get("resourceVersion", "")},
        "reason": reason,
        "message": message,
        "type": event_type,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    })


class JobController:
    """Plays the Job controller and kubelet for Jobs created after ``start()`` (see the module docstring)."""

    def __init__(self, api: Any, delay: float = 0.5, outcomes: Optional[Mapping[str, str]] = None,
                 default: Optional[str] = "succeed", log: LogSpec = None,
                 effects: Optional[Mapping[str, str]] = None) -> None:
        self.store: Store = getattr(api, "store", api)
        self.delay = float(delay)
        self.outcomes: Dict[str, str] = dict(outcomes or {})
        for outcome in [*self.outcomes.values(), *([default] if default else [])]:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown Job outcome {outcome!r} (one of {', '.join(OUTCOMES)})")
        self.default = default
        self.log = log
        self.effects: Dict[str, str] = dict(effects or {})
        self.history: List[Tuple[float, str, str, str]] = []
        self._seen: Set[str] = set()
        self._due: List[Tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._last = 0

    # ---- lifecycle --------------------------------------------------------------------------------

    def start(self) -> "JobController":
        self._last = int(self.store.resource_version)
        self._thread = threading.Thread(target=self._run, name="k8s-api-job-controller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "JobController":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- queries ----------------------------------------------------------------------------------

    def outcome_for(self, name: str) -> Optional[str]:
        if name in self.outcomes:
            return self.outcomes[name]
        for pattern, outcome in self.outcomes.items():
            if fnmatch.fnmatchcase(name, pattern):
                return outcome
        return self.default

    def when(self, action: str, name: str, namespace: Optional[str] = None) -> Optional[float]:
        """``time.monotonic()`` of the last ``action`` for the Job ``name`` (None when it did not happen)."""
        found = [t for t, a, ns, n in self.history if a == action and n == name and (namespace is None or ns == namespace)]
        return found[-1] if found else None

    def wait_for(self, action: str, name: str, timeout: float = 10.0) -> float:
        """Block until ``action`` happened for ``name``; its time."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            stamp = self.when(action, name)
            if stamp is not None:
                return stamp
            time.sleep(0.01)
        raise TimeoutError(f"job {name}: no {action!r} within {timeout} s")

    # ---- the loop ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set() and not self.store.closed:
            wait = 0.1
            if self._due:
                wait = max(0.0, min(wait, self._due[0][0] - time.monotonic()))
            try:
                events = self.store.events_after(self._last, wait)
            except ApiError:  # 410: fell behind the history; look at every Job again
                self._last = int(self.store.resource_version)
                for job in self.store.list_objects("batch/v1", "Job"):
                    self._consider(job)
                continue
            for ev in events:
                self._last = ev.rv
                if ev.key == ("batch", "jobs") and ev.type in ("ADDED", "MODIFIED"):
                    self._consider(ev.obj)
            while self._due and self._due[0][0] <= time.monotonic():
                _when, _n, step = heapq.heappop(self._due)
                step()

    def _later(self, seconds: float, step: Callable[[], None]) -> None:
        heapq.heappush(self._due, (time.monotonic() + seconds, next(self._counter), step))

    def _consider(self, job: Obj) -> None:
        meta = job["metadata"]
        uid = meta.get("uid", "")
        if uid in self._seen or meta.get("deletionTimestamp") or (job.get("spec") or {}).get("suspend"):
            return
        conditions = (job.get("status") or {}).get("conditions") or []
        if any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conditions):
            self._seen.add(uid)
            return
        outcome = self.outcome_for(meta["name"])
        if outcome is None:
            return
        self._seen.add(uid)
        self._start(job, outcome)

    def _record(self, action: str, job: Obj) -> None:
        self.history.append((time.monotonic(), action, job["metadata"].get("namespace", ""), job["metadata"]["name"]))

    def _log_text(self, job: Obj, outcome: str) -> str:
        if callable(self.log):
            return self.log(job, outcome)
        if self.log is not None:
            return self.log
        name = job["metadata"]["name"]
        lines = [f"{name}: starting", f"{name}: working"]
        if outcome == "succeed":
            lines.append(f"{name}: done")
        elif outcome == "fail":
            lines.append(f"{name}: error: something went wrong (exit status 1)")
        return "".join(line + "\n" for line in lines)

    # ---- the steps --------------------------------------------------------------------------------

    def _current(self, job: Obj) -> Optional[Obj]:
        """The Job as stored now, if it is still the same instance."""
        meta = job["metadata"]
        cur = self.store.get_object("batch/v1", "Job", meta["name"], meta.get("namespace"))
        if cur is None or cur["metadata"].get("uid") != meta.get("uid"):
            return None
        return cur

    def _start(self, job: Obj, outcome: str) -> None:
        meta = job["metadata"]
        namespace, name, uid = meta.get("namespace", "default"), meta["name"], meta["uid"]
        template = (job.get("spec") or {}).get("template") or {}
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels.update({"controller-uid": uid, "batch.kubernetes.io/controller-uid": uid,
                       "job-name": name, "batch.kubernetes.io/job-name": name})
        spec: Dict[str, Any] = dict(template.get("spec") or {})
        spec.setdefault("containers", [{"name": "main", "image": "busybox"}])
        spec.setdefault("restartPolicy", "Never")
        pod_name = f"{name}-{random_suffix()}"
        pod = self.store.put({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name, "namespace": namespace, "labels": labels,
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": uid,
                                     "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": spec,
            "status": self._pod_status(spec, "Pending", {"waiting": {"reason": "ContainerCreating"}}),
        })
        self.store.set_pod_log(namespace, pod_name, self._log_text(job, outcome))
        stamp = now()
        self.store.set_status("batch/v1", "Job", name, {"startTime": stamp, "active": 1, "ready": 0, "terminating": 0,
                                                        "uncountedTerminatedPods": {}}, namespace)
        _event(self.store, job, "SuccessfulCreate", f"Created pod: {pod_name}")
        _event(self.store, pod, "Scheduled", f"Successfully assigned {namespace}/{pod_name} to node-1", component="default-scheduler")
        self._record("created", job)
        self._later(self.delay / 2, lambda: self._midway(job, pod_name, outcome))
        self._later(self.delay, lambda: self._finish(job, pod_name, outcome))

    @staticmethod
    def _pod_status(spec: Obj, phase: str, state: Obj, ready: bool = False, restarts: int = 0) -> Obj:
        return {
            "phase": phase,
            "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now()},
                           {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now()}],
            "containerStatuses": [{"name": c.get("name", "main"), "image": c.get("image", ""), "imageID": "", "ready": ready,
                                   "restartCount": restarts, "started": "running" in state, "state": state}
                                  for c in spec.get("containers") or []],
        }

    def _set_pod(self, job: Obj, pod_name: str, phase: str, state: Obj, ready: bool = False) -> Optional[Obj]:
        namespace = job["metadata"].get("namespace", "default")
        pod = self.store.get_object("v1", "Pod", pod_name, namespace)
        if pod is None:
            return None
        return self.store.set_status("v1", "Pod", pod_name, self._pod_status(pod.get("spec") or {}, phase, state, ready), namespace)

    def _midway(self, job: Obj, pod_name: str, outcome: str) -> None:
        if self._current(job) is None:
            return
        if outcome == "image-pull-backoff":
            image = self._image(job)
            pod = self._set_pod(job, pod_name, "Pending", {"waiting": {
                "reason": "ErrImagePull", "message": f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": not found'}})
            if pod is not None:
                _event(self.store, pod, "Failed", f'Failed to pull image "{image}": not found', "Warning", "kubelet")
                self._record("err-image-pull", job)
            return
        pod = self._set_pod(job, pod_name, "Running", {"running": {"startedAt": now()}}, ready=True)
        if pod is not None:
            self.store.set_status("batch/v1", "Job", job["metadata"]["name"], {"ready": 1}, job["metadata"].get("namespace"), merge=True)
            _event(self.store, pod, "Started", "Started container", component="kubelet")
            self._record("running", job)

    def _finish(self, job: Obj, pod_name: str, outcome: str) -> None:
        current = self._current(job)
        if current is None or outcome == "hang":
            return
        namespace, name = job["metadata"].get("namespace", "default"), job["metadata"]["name"]
        if outcome == "image-pull-backoff":
            image = self._image(job)
            pod = self._set_pod(job, pod_name, "Pending", {"waiting": {
                "reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}})
            if pod is not None:
                _event(self.store, pod, "BackOff", f'Back-off pulling image "{image}"', "Normal", "kubelet")
                self._record("image-pull-backoff", job)
            return
        if outcome == "succeed":
            outcome = self._run_effect(job, pod_name)
        code = 0 if outcome == "succeed" else 1
        self._set_pod(job, pod_name, "Succeeded" if code == 0 else "Failed", {"terminated": {
            "exitCode": code, "reason": "Completed" if code == 0 else "Error", "startedAt": now(), "finishedAt": now()}})
        if outcome == "succeed":
            complete_job(self.store, namespace, name)
            self._record("succeeded", job)
            _event(self.store, current, "Completed", "Job completed")
        else:
            fail_job(self.store, namespace, name, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            self._record("failed", job)
            _event(self.store, current, "BackoffLimitExceeded", "Job has reached the specified backoff limit", "Warning")

    def _effect_for(self, name: str) -> Optional[str]:
        if name in self.effects:
            return self.effects[name]
        for pattern, command in self.effects.items():
            if fnmatch.fnmatchcase(name, pattern):
                return command
        return None

    def _run_effect(self, job: Obj, pod_name: str) -> str:
        """Run the Job's simulated effect, if any; ``succeed`` or ``fail`` (the command's output becomes the log)."""
        command = self._effect_for(job["metadata"]["name"])
        if command is None:
            return "succeed"
        result = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False, timeout=300)
        tail = (result.stdout + result.stderr).strip().splitlines()[-20:]
        text = "\n".join([f"lab: simulated effect of {job['metadata']['name']} (exit {result.returncode})", *tail]) + "\n"
        self.store.set_pod_log(job["metadata"].get("namespace", "default"), pod_name, text)
        return "succeed" if result.returncode == 0 else "fail"

    @staticmethod
    def _image(job: Obj) -> str:
        containers = ((((job.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or [{}]
        return str(containers[0].get("image") or "busybox")
