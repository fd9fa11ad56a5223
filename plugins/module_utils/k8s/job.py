# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Run a Kubernetes Job to completion (the logic behind the k8s_job module).

1. ``prepare_manifest``: the one ``batch/v1`` Job out of ``definition``/``src``, validated before any cluster
   call (kind, apiVersion, DNS-1123 name, namespace), and ``manifest_hash`` over its canonical JSON.
2. ``decide``: compare with the Job in the cluster through the ``datasurface.yellow/manifest-sha256``
   annotation: create; recreate (other or no hash, ``rerun``, failed); unchanged (same hash, succeeded); wait
   (same hash, still running). When there is no Job (the TTL-after-finished controller removed it), the success
   record decides: the ConfigMap ``datasurface-yellow-k8s-job-records`` of the namespace keeps, per Job name,
   the manifest hash, uid and completion time of the last instance this module saw succeed; the same hash
   means unchanged. Creating a Job removes its name's record; seeing it succeed writes it.
3. Recreating deletes with ``propagationPolicy: Foreground`` and waits until the Job and every pod labelled
   ``job-name=<name>`` that is still terminating or running are gone; a create with no Job in place waits for
   such pods too (a Job deleted with ``Background`` propagation leaves its pods terminating).
4. ``JobRunner.wait``: three watch threads (the Job by name, its pods by ``controller-uid``, the Job's events
   by ``involvedObject.uid``) feed one queue; a Job just created is watched from its creation's
   resourceVersion, so nothing between the create and the watch is missed (a TTL of 0 included). The main loop
   reacts to every change at once: ``Complete`` means success; ``Failed`` (or ``FailureTarget``) means failure
   whatever the reason (reported once the Job's event of that reason arrived, ``EVENT_SETTLE`` seconds at most);
   these mean failure once they lasted ``pod_failure_grace`` (they can be transient): a
   container waiting in ImagePullBackOff, ErrImagePull, CrashLoopBackOff, CreateContainerConfigError or
   CreateContainerError (InvalidImageName: at once); a pod the scheduler marks ``PodScheduled=False``
   ``Unschedulable`` (reported as ``UnboundPersistentVolumeClaim`` when one of its PVCs is not Bound, with the
   PVC's phase and events); a ``FailedCreate`` event of the Job while none of its pods is pending or running
   (a missing ServiceAccount, a quota; a Pod Security violation at once). The overall deadline means timeout,
   described with the Job's counters and each pod's phase and reason. An expired watch (410 Gone) is answered
   by listing again.
5. Failures and timeouts carry the events of the Job, its pods and their PVCs and the last ``log_lines`` of
   each container's log.

The cluster is reached only through an object with ``JobApi``'s methods (client.py), so that tests can
substitute one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import K8sApiError

Obj = Dict[str, Any]

ANNOTATION = "datasurface.yellow/manifest-sha256"
STUCK_REASONS = frozenset({
    "ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError",
    "InvalidImageName",
})
IMMEDIATE_REASONS = frozenset({"InvalidImageName"})
# A pod the scheduler cannot place (PodScheduled=False with this reason): tracked like a stuck container.
UNSCHEDULABLE = "Unschedulable"
UNBOUND_PVC = "UnboundPersistentVolumeClaim"
# FailedCreate events of the Job controller; these messages cannot heal without an admin and fail at once.
FAILED_CREATE = "FailedCreate"
IMMEDIATE_CREATE_FAILURES = ("violates PodSecurity",)
# The ConfigMap (one per namespace, owned by nobody, so it outlives every Job) holding the success records.
RECORD_CONFIGMAP = "datasurface-yellow-k8s-job-records"
RECORD_LABELS = {"app.kubernetes.io/managed-by": "datasurface.yellow", "app.kubernetes.io/part-of": "datasurface-yellow",
                 "app.kubernetes.io/component": "k8s-job-records"}
RECORD_DESCRIPTION = ("datasurface.yellow.k8s_job success records: one key per Job name, the JSON {sha256 of the manifest, "
                      "uid, completionTime} of its last instance seen to succeed; outlives the Jobs (TTL-after-finished)")
# Job names become the job-name pod label, so they are DNS-1123 subdomains of at most 63 characters.
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAME_MAX = 63
# Server-set fields dropped from the manifest before it is hashed and sent.
_SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "selfLink", "managedFields",
                    "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences")
WATCH_SECONDS = 50
# The Job controller records the event of a Failed condition (BackoffLimitExceeded...) asynchronously, a moment
# after the status: a failure is reported once that event is seen, or after this many seconds at most.
EVENT_SETTLE = 1.0


class ManifestError(ValueError):
    """The Job manifest is unusable; the message names the option."""


class JobFailed(Exception):
    """The run failed, timed out or could not be done; ``result`` holds the module's return values."""

    def __init__(self, msg: str, result: Obj) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


# ---- manifest --------------------------------------------------------------------------------------


def load_documents(definition: Any = None, src: Optional[str] = None,
                   yaml_load_all: Optional[Callable[[str], Any]] = None) -> Tuple[List[Any], str]:
    """The YAML/JSON documents of ``definition`` (dict, list or YAML text) or the file ``src``, and their origin."""
    if src is not None:
        origin = f"src ({src})"
        try:
            with open(src, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise ManifestError(f"{origin}: cannot read it: {exc.strerror or exc}") from exc
    else:
        origin = "definition"
        if isinstance(definition, dict):
            return [definition], origin
        if isinstance(definition, list):
            return list(definition), origin
        if not isinstance(definition, str):
            raise ManifestError(f"definition: must be a Job manifest (dict) or YAML text, got {type(definition).__name__}")
        text = definition
    if yaml_load_all is None:
        raise ManifestError(f"{origin}: parsing YAML needs PyYAML")
    try:
        return [doc for doc in yaml_load_all(text) if doc is not None], origin
    except Exception as exc:  # pylint: disable=broad-except
        # yaml.YAMLError and friends (the YAML library is the caller's)
        raise ManifestError(f"{origin}: not valid YAML: {exc}") from exc


def select_job(documents: List[Any], origin: str) -> Obj:
    """The one document of kind Job among ``documents`` (others are ignored)."""
    if not documents:
        raise ManifestError(f"{origin}: holds no document; a batch/v1 Job manifest is expected")
    for doc in documents:
        if not isinstance(doc, dict):
            raise ManifestError(f"{origin}: every document must be a mapping (a Kubernetes object), got {type(doc).__name__}")
    jobs = [doc for doc in documents if doc.get("kind") == "Job"]
    if len(documents) == 1 and not jobs:
        raise ManifestError(f"{origin}: kind must be Job, got {documents[0].get('kind')!r}")
    if not jobs:
        kinds = ", ".join(f"{d.get('kind')} {(d.get('metadata') or {}).get('name', '?')}" for d in documents)
        raise ManifestError(f"{origin}: holds no batch/v1 Job among its {len(documents)} documents ({kinds})")
    if len(jobs) > 1:
        names = ", ".join(str((j.get("metadata") or {}).get("name", "?")) for j in jobs)
        raise ManifestError(f"{origin}: holds {len(jobs)} Jobs ({names}); exactly one is expected")
    return jobs[0]


def prepare_manifest(definition: Any = None, src: Optional[str] = None, name: Optional[str] = None,
                     namespace: Optional[str] = None,
                     yaml_load_all: Optional[Callable[[str], Any]] = None) -> Obj:
    """The validated Job to submit: name and namespace settled, server-set fields and status dropped."""
    documents, origin = load_documents(definition, src, yaml_load_all)
    job = copy.deepcopy(select_job(documents, origin))
    if job.get("apiVersion") != "batch/v1":
        raise ManifestError(f"{origin}: apiVersion of the Job must be batch/v1, got {job.get('apiVersion')!r}")
    meta = job.get("metadata")
    if meta is None:
        meta = job["metadata"] = {}
    if not isinstance(meta, dict):
        raise ManifestError(f"{origin}: metadata must be a mapping")
    if not isinstance(job.get("spec"), dict) or not isinstance(job["spec"].get("template"), dict):
        raise ManifestError(f"{origin}: spec.template (the pod template) is required")
    if name:
        meta["name"] = name
    job_name = meta.get("name")
    where = "name" if name else f"{origin}: metadata.name"
    if not job_name:
        if meta.get("generateName"):
            raise ManifestError(f"{origin}: metadata.generateName is not supported (a stable name is needed to find the Job "
                                "again); set metadata.name or the name option")
        raise ManifestError(f"{origin}: metadata.name is required (or the name option)")
    if not isinstance(job_name, str) or len(job_name) > NAME_MAX or not _DNS1123.match(job_name):
        raise ManifestError(f"{where}: {job_name!r} is not a valid Job name: at most {NAME_MAX} lower case alphanumeric "
                            "characters, '-' or '.', starting and ending with an alphanumeric character (DNS-1123)")
    meta.pop("generateName", None)
    manifest_ns = meta.get("namespace")
    if namespace and manifest_ns and namespace != manifest_ns:
        raise ManifestError(f"namespace: {namespace!r} differs from the manifest's metadata.namespace {manifest_ns!r} in {origin}")
    final_ns = namespace or manifest_ns or "default"
    if not isinstance(final_ns, str) or not _DNS1123_LABEL.match(final_ns) or len(final_ns) > 63:
        raise ManifestError(f"namespace: {final_ns!r} is not a valid namespace name (DNS-1123 label)")
    meta["namespace"] = final_ns
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(ANNOTATION, None)
        if not annotations:
            meta.pop("annotations", None)
    job.pop("status", None)
    return job


def validate_target(name: Optional[str], namespace: Optional[str]) -> Tuple[str, str]:
    """Name and namespace given as options alone (state=absent without a manifest)."""
    if not name or len(name) > NAME_MAX or not _DNS1123.match(name):
        raise ManifestError(f"name: {name!r} is not a valid Job name (DNS-1123, at most {NAME_MAX} characters)")
    ns = namespace or "default"
    if not _DNS1123_LABEL.match(ns) or len(ns) > 63:
        raise ManifestError(f"namespace: {ns!r} is not a valid namespace name (DNS-1123 label)")
    return name, ns


def manifest_hash(manifest: Obj) -> str:
    """sha256 of the canonical JSON of the manifest (sorted keys, no spaces), its own annotation excluded."""
    body = copy.deepcopy(manifest)
    annotations = (body.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(ANNOTATION, None)
        if not annotations:
            body["metadata"].pop("annotations")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def annotated(manifest: Obj, digest: str) -> Obj:
    body = copy.deepcopy(manifest)
    body["metadata"].setdefault("annotations", {})[ANNOTATION] = digest
    return body


# ---- Job and pod status ----------------------------------------------------------------------------


def condition(job: Optional[Obj], kind: str) -> Optional[Obj]:
    """The Job's condition of type ``kind`` when its status is True."""
    for cond in ((job or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind and str(cond.get("status")) == "True":
            return cond
    return None


def failure_condition(job: Optional[Obj]) -> Optional[Obj]:
    """``Failed`` or, before it (Kubernetes 1.31+ adds it while pods terminate), ``FailureTarget``."""
    return condition(job, "Failed") or condition(job, "FailureTarget")


def job_uid(job: Optional[Obj]) -> str:
    return str(((job or {}).get("metadata") or {}).get("uid") or "")


def pod_selector(job: Obj) -> str:
    """The label selecting this Job instance's pods: ``batch.kubernetes.io/controller-uid`` or the legacy
    ``controller-uid`` (both set by Kubernetes 1.27+, only the latter by older servers)."""
    uid = job_uid(job)
    template_labels = ((((job.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}
    if template_labels.get("controller-uid") == uid and template_labels.get("batch.kubernetes.io/controller-uid") != uid:
        return f"controller-uid={uid}"
    return f"batch.kubernetes.io/controller-uid={uid}"


def _container_statuses(pod: Obj) -> List[Obj]:
    status = pod.get("status") or {}
    return list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or [])


def pod_summary(pod: Obj) -> str:
    """``pod NAME Phase`` plus the first container's waiting/terminated reason, e.g. ``Pending (ContainerCreating)``."""
    name = (pod.get("metadata") or {}).get("name", "?")
    phase = (pod.get("status") or {}).get("phase") or "Unknown"
    detail = ""
    for cstatus in _container_statuses(pod):
        state = cstatus.get("state") or {}
        if state.get("waiting"):
            detail = state["waiting"].get("reason") or "Waiting"
            break
        if state.get("terminated") and phase not in ("Succeeded",):
            term = state["terminated"]
            if term.get("exitCode") not in (0, None):
                detail = f"{term.get('reason') or 'Terminated'}, exit code {term.get('exitCode')}"
                break
    if not detail and phase == "Pending":
        reasons = [c.get("reason") for c in (pod.get("status") or {}).get("conditions") or []
                   if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason")]
        detail = reasons[0] if reasons else ""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        detail = ", ".join(x for x in (detail, "terminating") if x)
    return f"pod {name} {phase}" + (f" ({detail})" if detail else "")


def _unschedulable(pod: Obj) -> Optional[Obj]:
    """``{"reason": "Unschedulable", "message": ...}`` while the scheduler cannot place the pod."""
    status = pod.get("status") or {}
    if status.get("phase") not in (None, "Pending") or (pod.get("spec") or {}).get("nodeName"):
        return None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and cond.get("reason") == UNSCHEDULABLE:
            return {"reason": UNSCHEDULABLE, "message": str(cond.get("message") or "")}
    return None


def pvc_names(pod: Obj) -> List[str]:
    """The PersistentVolumeClaims a pod mounts (ephemeral volumes' claims included: ``<pod>-<volume>``)."""
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if (volume.get("persistentVolumeClaim") or {}).get("claimName"):
            names.append(volume["persistentVolumeClaim"]["claimName"])
        elif volume.get("ephemeral") and volume.get("name"):
            names.append(f"{(pod.get('metadata') or {}).get('name', '')}-{volume['name']}")
    return names


def event_time(ev: Obj) -> str:
    series = ev.get("series") or {}
    return str(ev.get("lastTimestamp") or series.get("lastObservedTime") or ev.get("eventTime")
               or ev.get("firstTimestamp") or _created(ev))


def event_order(ev: Obj) -> Tuple[str, int]:
    version = str((ev.get("metadata") or {}).get("resourceVersion") or "")
    return event_time(ev), int(version) if version.isdigit() else 0


def job_counters(job: Optional[Obj]) -> str:
    status = (job or {}).get("status") or {}
    text = f"active={status.get('active') or 0} succeeded={status.get('succeeded') or 0} failed={status.get('failed') or 0}"
    if ((job or {}).get("spec") or {}).get("suspend"):
        text += " (suspended)"
    return text


def _created(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("creationTimestamp") or "")


# ---- what to do -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """``action``: create, recreate, unchanged or wait; ``delete``: delete the existing Job first;
    ``wait_gone``: wait until the existing Job (and its pods) are gone before creating."""

    action: str
    why: str
    delete: bool = False
    wait_gone: bool = False


def decide(existing: Optional[Obj], digest: str, rerun: bool, record: Optional[Obj] = None) -> Decision:
    """What to do, given the Job in the cluster (None: no Job of that name) and this name's success record."""
    if existing is None:
        if not rerun and record and record.get("sha256") == digest:
            when = f" at {record['completionTime']}" if record.get("completionTime") else ""
            return Decision("unchanged", f"it already succeeded with the same manifest{when} (Job uid {record.get('uid') or '?'}, "
                                         f"recorded in ConfigMap {RECORD_CONFIGMAP}; the Job itself is gone)")
        if record and record.get("sha256") != digest and not rerun:
            return Decision("create", f"it does not exist (its last success was with another manifest, sha256 "
                                      f"{str(record.get('sha256'))[:12]} -> {digest[:12]})")
        return Decision("create", "it does not exist" + (" (rerun requested)" if rerun and record else ""))
    meta = existing.get("metadata") or {}
    theirs = (meta.get("annotations") or {}).get(ANNOTATION)
    if meta.get("deletionTimestamp"):
        if not rerun and theirs == digest and condition(existing, "Complete") and not failure_condition(existing):
            return Decision("unchanged", "it already succeeded with the same manifest (the Job is being deleted)")
        return Decision("create", "the previous Job is being deleted", wait_gone=True)
    if theirs is None:
        return Decision("recreate", f"the existing Job has no {ANNOTATION} annotation (not created by this module)", True, True)
    if theirs != digest:
        return Decision("recreate", f"the manifest changed (sha256 {theirs[:12]} -> {digest[:12]})", True, True)
    if rerun:
        return Decision("recreate", "rerun requested", True, True)
    failed = failure_condition(existing)
    if failed:
        detail = ": ".join(x for x in (failed.get("reason"), failed.get("message")) if x)
        return Decision("recreate", f"the existing Job failed ({detail or 'Failed'})", True, True)
    if condition(existing, "Complete"):
        return Decision("unchanged", "it already succeeded with the same manifest")
    return Decision("wait", "it is still running with the same manifest")


# ---- following a Job: watch threads and state --------------------------------------------------------


@dataclass
class Update:
    """One item from a watch thread: ``sync`` (a full listing), ``event`` (a watch event) or ``error``."""

    kind: str
    key: str
    items: List[Obj] = field(default_factory=list)
    type: str = ""
    obj: Obj = field(default_factory=dict)
    message: str = ""
    fatal: bool = False


class _Follower(threading.Thread):
    """List, then watch from the list's resourceVersion; list again when the watch expires (410 Gone).

    With ``since`` (a resourceVersion) and ``initial`` (the items at that version) the first list is skipped: the
    watch starts from ``since`` (used right after creating a Job, so that no change after the create is missed).
    """

    def __init__(self, key: str, lister: Callable[[], Tuple[List[Obj], str]], watcher: Callable[[str, int], Any],
                 out: "queue.Queue[Update]", watch_seconds: int, since: Optional[str] = None,
                 initial: Optional[List[Obj]] = None) -> None:
        super().__init__(name=f"k8s-job-{key}", daemon=True)
        self.key = key
        self.lister = lister
        self.watcher = watcher
        self.out = out
        self.watch_seconds = watch_seconds
        self.since = since
        self.initial = initial
        self.stopped = threading.Event()
        self.relists = 0
        self._stream: Any = None
        self._lock = threading.Lock()

    def stop(self) -> None:
        self.stopped.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    def run(self) -> None:
        resource_version: Optional[str] = None
        if self.since and self.initial is not None:
            resource_version = self.since
            self.out.put(Update("sync", self.key, items=list(self.initial)))
        delay = 0.2
        while not self.stopped.is_set():
            try:
                if resource_version is None:
                    items, resource_version = self.lister()
                    self.out.put(Update("sync", self.key, items=items))
                resource_version = self._follow(resource_version)
                delay = 0.2
            except K8sApiError as exc:
                if self.stopped.is_set():
                    break
                if exc.status == 410:
                    resource_version = None
                    self.relists += 1
                    continue
                fatal = exc.status in (401, 403)
                self.out.put(Update("error", self.key, message=str(exc), fatal=fatal))
                if fatal:
                    break
                self.stopped.wait(delay)
                delay = min(delay * 2, 5.0)
            except Exception as exc:  # pylint: disable=broad-except
                # a bug or an unexpected answer: report it rather than leave the main loop waiting for the timeout
                if not self.stopped.is_set():
                    self.out.put(Update("error", self.key, message=f"{type(exc).__name__}: {exc}", fatal=True))
                break

    def _follow(self, resource_version: str) -> Optional[str]:
        """One watch request; the version to go on from (None: list again)."""
        stream = self.watcher(resource_version, self.watch_seconds)
        with self._lock:
            self._stream = stream
        if self.stopped.is_set():
            stream.close()
        try:
            for event in stream:
                etype = event.get("type")
                obj = event.get("object") or {}
                if etype == "ERROR":
                    code = int(obj.get("code") or 500)
                    if code == 410:
                        self.relists += 1
                        return None
                    raise K8sApiError(code, str(obj.get("reason") or "Error"), str(obj.get("message") or ""))
                new_version = (obj.get("metadata") or {}).get("resourceVersion")
                if new_version:
                    resource_version = str(new_version)
                if etype != "BOOKMARK":
                    self.out.put(Update("event", self.key, type=str(etype), obj=obj))
                if self.stopped.is_set():
                    break
        finally:
            with self._lock:
                self._stream = None
            stream.close()
        return resource_version


class JobWatch:
    """The Job (by name), its pods (by label selector) and, with ``events``, the Job's events (by
    ``involvedObject.uid``), each followed by a thread, merged into one queue. ``since``/``job``: start watching
    from the resourceVersion of a Job just created (``job`` as it was then, no pods, no events yet)."""

    def __init__(self, api: Any, namespace: str, name: str, selector: str, watch_seconds: int = WATCH_SECONDS,
                 events: str = "", since: Optional[str] = None, job: Optional[Obj] = None) -> None:
        self.queue: "queue.Queue[Update]" = queue.Queue()
        initial: Dict[str, Optional[List[Obj]]] = {"job": [job] if job else [], "pods": [], "events": []} if since else {}
        self.followers = [
            _Follower("job", lambda: api.list_jobs(namespace, name),
                      lambda rv, seconds: api.watch_jobs(namespace, name, rv, seconds), self.queue, watch_seconds,
                      since, initial.get("job")),
            _Follower("pods", lambda: api.list_pods(namespace, selector),
                      lambda rv, seconds: api.watch_pods(namespace, selector, rv, seconds), self.queue, watch_seconds,
                      since, initial.get("pods")),
        ]
        if events:
            self.followers.append(_Follower(
                "events", lambda: api.list_events(namespace, events),
                lambda rv, seconds: api.watch_events(namespace, events, rv, seconds), self.queue, watch_seconds,
                since, initial.get("events")))

    @property
    def keys(self) -> Set[str]:
        return {f.key for f in self.followers}

    def __enter__(self) -> "JobWatch":
        for follower in self.followers:
            follower.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        for follower in self.followers:
            follower.stop()

    @property
    def relists(self) -> int:
        return sum(f.relists for f in self.followers)

    def updates(self, timeout: float) -> List[Update]:
        """Every update available, waiting up to ``timeout`` seconds for the first."""
        try:
            first = self.queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return []
        out = [first]
        while True:
            try:
                out.append(self.queue.get_nowait())
            except queue.Empty:
                return out


class JobState:
    """What the watches said about one Job instance (``uid``) and its pods, plus stuck-container bookkeeping."""

    def __init__(self, uid: str, job: Optional[Obj] = None) -> None:
        self.uid = uid
        self.job = job
        self.gone = False
        self.synced: Set[str] = set()
        self.pods: Dict[str, Obj] = {}
        # (pod, container) -> [reason, first seen stuck (clock), restartCount then]
        self.stuck: Dict[Tuple[str, str], List[Any]] = {}
        self.fatal = ""
        self.warnings: List[str] = []
        # the Job controller's latest FailedCreate spell: [message, first seen (clock)]; None after a SuccessfulCreate
        self.create_failure: Optional[List[Any]] = None
        self._event_versions: Dict[str, str] = {}
        self.event_reasons: Set[str] = set()  # reasons of the Job's events seen by the events watch
        self.wake_by: Optional[float] = None  # a done() callback's own next deadline

    def apply(self, update: Update, now: float) -> None:
        if update.kind == "error":
            if update.fatal and update.key == "job":
                self.fatal = update.message
            else:
                if update.message not in self.warnings:
                    self.warnings.append(update.message)
                if update.fatal:
                    self.synced.add(update.key)  # no pods to be seen (e.g. forbidden): follow the Job alone
            return
        if update.key == "job":
            self._apply_job(update)
        elif update.key == "events":
            self._apply_events(update, now)
        else:
            self._apply_pods(update, now)

    def _apply_job(self, update: Update) -> None:
        if update.kind == "sync":
            self.synced.add("job")
            mine = [j for j in update.items if job_uid(j) == self.uid]
            if mine:
                self.job, self.gone = mine[0], False
            else:
                self.gone = True
            return
        if job_uid(update.obj) != self.uid:
            return  # another Job under this name (ours must be gone: its DELETED event says so)
        self.job = update.obj
        self.gone = update.type == "DELETED"

    def _apply_events(self, update: Update, now: float) -> None:
        """FailedCreate starts (or continues) a create-failure spell, SuccessfulCreate ends it (latest event wins)."""
        if update.kind == "sync":
            self.synced.add("events")
            items = sorted(update.items, key=event_order)
        elif update.type in ("ADDED", "MODIFIED"):
            items = [update.obj]
        else:
            return
        for ev in items:
            involved = ev.get("involvedObject") or {}
            if involved.get("uid") and involved.get("uid") != self.uid:
                continue
            name = str((ev.get("metadata") or {}).get("name") or "")
            version = str((ev.get("metadata") or {}).get("resourceVersion") or "")
            if name and self._event_versions.get(name) == version:
                continue  # the same event again (a relist)
            self._event_versions[name] = version
            reason = ev.get("reason")
            self.event_reasons.add(str(reason or ""))
            if reason == FAILED_CREATE:
                if self.create_failure is None:
                    self.create_failure = [str(ev.get("message") or ""), now]
                else:
                    self.create_failure[0] = str(ev.get("message") or "")
            elif reason == "SuccessfulCreate":
                self.create_failure = None

    def progressing_pods(self) -> List[str]:
        """Pods of the Job that are pending or running (not finished, not being deleted)."""
        return sorted(name for name, pod in self.pods.items()
                      if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                      and not (pod.get("metadata") or {}).get("deletionTimestamp"))

    def blocking_pods(self) -> List[str]:
        """Pods that are still terminating or running (finished pods that nobody deletes do not block)."""
        return sorted(name for name, pod in self.pods.items()
                      if (pod.get("metadata") or {}).get("deletionTimestamp")
                      or (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))

    def create_failed(self, now: float, grace: float) -> Optional[Tuple[str, float]]:
        """(message, seconds) when the Job controller cannot create pods and none is pending or running."""
        if self.create_failure is None or self.progressing_pods():
            return None
        message, since = self.create_failure
        if any(marker in message for marker in IMMEDIATE_CREATE_FAILURES) or now - since >= grace:
            return message, now - since
        return None

    def _apply_pods(self, update: Update, now: float) -> None:
        if update.kind == "sync":
            self.synced.add("pods")
            self.pods = {p["metadata"]["name"]: p for p in update.items}
            for key in [k for k in self.stuck if k[0] not in self.pods]:
                del self.stuck[key]
            for pod in self.pods.values():
                self._track(pod, now)
            return
        name = (update.obj.get("metadata") or {}).get("name", "")
        if update.type == "DELETED":
            self.pods.pop(name, None)
            for key in [k for k in self.stuck if k[0] == name]:
                del self.stuck[key]
            return
        self.pods[name] = update.obj
        self._track(update.obj, now)

    def _track(self, pod: Obj, now: float) -> None:
        """Remember since when each container sits in a stuck waiting reason.

        A container that starts running with the same restart count recovered (its image got pulled); one that
        ran again with a higher restart count is crash looping, so its first stuck time is kept.
        """
        name = pod["metadata"]["name"]
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            for key in [k for k in self.stuck if k[0] == name]:
                del self.stuck[key]
            return
        # the pod itself: unschedulable (key container ""), until the scheduler places it
        if _unschedulable(pod) is not None:
            self.stuck.setdefault((name, ""), [UNSCHEDULABLE, now, 0])
        else:
            self.stuck.pop((name, ""), None)
        for cstatus in _container_statuses(pod):
            key = (name, str(cstatus.get("name", "")))
            state = cstatus.get("state") or {}
            restarts = int(cstatus.get("restartCount") or 0)
            reason = (state.get("waiting") or {}).get("reason")
            if reason in STUCK_REASONS:
                if key in self.stuck:
                    self.stuck[key][0] = reason
                else:
                    self.stuck[key] = [reason, now, restarts]
            elif key in self.stuck:
                terminated = state.get("terminated")
                recovered = (state.get("running") is not None and restarts <= self.stuck[key][2]) or (
                    terminated is not None and terminated.get("exitCode") == 0)
                if recovered or not (state.get("running") is not None or terminated is not None):
                    del self.stuck[key]

    def _current_waiting(self, key: Tuple[str, str]) -> Optional[Obj]:
        pod = self.pods.get(key[0])
        if key[1] == "":
            return _unschedulable(pod or {})
        for cstatus in _container_statuses(pod or {}):
            if cstatus.get("name", "") == key[1]:
                waiting = (cstatus.get("state") or {}).get("waiting")
                if waiting and waiting.get("reason") in STUCK_REASONS:
                    return waiting
        return None

    def stuck_container(self, now: float, grace: float) -> Optional[Tuple[str, str, str, str, float]]:
        """(pod, container, reason, message, seconds) of a container stuck beyond ``grace`` (or unrecoverable)."""
        for key, (_reason, since, _restarts) in sorted(self.stuck.items()):
            waiting = self._current_waiting(key)
            if waiting is None:
                continue
            reason = waiting.get("reason", "")
            if reason in IMMEDIATE_REASONS or now - since >= grace:
                return key[0], key[1], reason, str(waiting.get("message") or ""), now - since
        return None

    def next_deadline(self, grace: float) -> Optional[float]:
        """When the earliest grace runs out (a stuck container or pod, a create failure; None: nothing pending)."""
        times = [since + grace for key, (_r, since, _c) in self.stuck.items() if self._current_waiting(key) is not None]
        if self.create_failure is not None:
            times.append(self.create_failure[1] + grace)
        return min(times) if times else None

    def describe(self) -> str:
        """``active=1 succeeded=0 failed=0; pod x Pending (ContainerCreating)`` for timeout messages."""
        parts = [job_counters(self.job)]
        pods = sorted(self.pods.values(), key=lambda p: (_created(p), p["metadata"]["name"]))
        parts.extend(pod_summary(p) for p in pods)
        if not pods:
            parts.append("no pods")
        return "; ".join(parts)


@dataclass(frozen=True)
class Verdict:
    result: str  # succeeded | failed
    reason: str = ""
    message: str = ""
    pod: str = ""  # the pod it is about (stuck or unschedulable)


def evaluate(state: JobState, now: float, grace: float) -> Optional[Verdict]:
    """The outcome the watched state shows, or None while the Job is still running."""
    if state.fatal:
        return Verdict("failed", "WatchFailed", f"cannot watch the Job: {state.fatal}")
    # the last state seen counts even when the Job is gone (a TTL of 0 deletes it right after it finished)
    failed = failure_condition(state.job)
    if failed:
        return Verdict("failed", str(failed.get("reason") or failed.get("type")), str(failed.get("message") or ""))
    if condition(state.job, "Complete"):
        return Verdict("succeeded")
    if state.gone:
        return Verdict("failed", "Deleted", "the Job was deleted while waiting for it")
    stuck = state.stuck_container(now, grace)
    if stuck:
        pod, container, reason, message, seconds = stuck
        if reason == UNSCHEDULABLE:
            text = f"pod {pod} unschedulable for {seconds:.0f} s (pod_failure_grace {grace:g} s)"
        elif reason in IMMEDIATE_REASONS:
            text = f"pod {pod} container {container}: {reason}"
        else:
            text = f"pod {pod} container {container} in {reason} for {seconds:.0f} s (pod_failure_grace {grace:g} s)"
        return Verdict("failed", reason, f"{text}: {message}" if message else text, pod=pod)
    create = state.create_failed(now, grace)
    if create:
        message, seconds = create
        if seconds >= grace > 0 or not any(marker in message for marker in IMMEDIATE_CREATE_FAILURES):
            text = f"the Job controller cannot create its pods (FailedCreate for {seconds:.0f} s, pod_failure_grace {grace:g} s)"
        else:
            text = "the Job controller cannot create its pods"
        return Verdict("failed", FAILED_CREATE, f"{text}: {message}" if message else text)
    return None


# ---- the runner --------------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:g}"


class JobRunner:
    """Creates, recreates, waits on or deletes one Job; returns the module's result or raises ``JobFailed``."""

    def __init__(self, api: Any, namespace: str, name: str, timeout: float = 600, pod_failure_grace: float = 30,
                 log_lines: int = 50, clock: Callable[[], float] = time.monotonic, watch_seconds: int = WATCH_SECONDS) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.timeout = timeout
        self.grace = pod_failure_grace
        self.log_lines = log_lines
        self.clock = clock
        self.watch_seconds = watch_seconds
        self.deadline = clock() + timeout
        self.relists = 0
        self.warnings: List[str] = []
        self._why = ""

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"

    def _base(self, action: str, changed: bool, job: Optional[Obj]) -> Obj:
        return {
            "changed": changed,
            "action": action,
            "job": {"name": self.name, "namespace": self.namespace, "uid": job_uid(job) or None},
            "duration": 0.0,
            "conditions": ((job or {}).get("status") or {}).get("conditions") or [],
            "pods": [],
        }

    def _finish(self, result: Obj) -> Obj:
        if self.warnings:
            result["warnings"] = list(self.warnings)
        return result

    def _fail(self, msg: str, result: Obj, reason: str) -> JobFailed:
        result = dict(result, result=result.get("result") or "failed", reason=reason)
        result.setdefault("events", [])
        result.setdefault("logs", {})
        return JobFailed(msg, self._finish(result))

    # ---- the success record ---------------------------------------------------------------------------

    def read_record(self) -> Optional[Obj]:
        """This name's success record ({sha256, uid, completionTime}), None when there is none or it is unreadable."""
        try:
            configmap = self.api.get_configmap(self.namespace, RECORD_CONFIGMAP)
        except K8sApiError as exc:
            self.warnings.append(f"cannot read the success records (ConfigMap {self.namespace}/{RECORD_CONFIGMAP}): {exc}; "
                                 "a Job removed after it succeeded is run again")
            return None
        text = ((configmap or {}).get("data") or {}).get(self.name)
        if not text:
            return None
        try:
            record = json.loads(text)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def _write_record(self, value: Optional[str]) -> None:
        try:
            try:
                self.api.merge_configmap_data(self.namespace, RECORD_CONFIGMAP, {self.name: value})
            except K8sApiError as exc:
                if exc.status != 404 or value is None:
                    raise
                try:
                    self.api.create_configmap(self.namespace, {
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": RECORD_CONFIGMAP, "namespace": self.namespace, "labels": dict(RECORD_LABELS),
                                     "annotations": {"datasurface.yellow/description": RECORD_DESCRIPTION}},
                        "data": {self.name: value}})
                except K8sApiError as again:
                    if again.status != 409:
                        raise
                    self.api.merge_configmap_data(self.namespace, RECORD_CONFIGMAP, {self.name: value})
        except K8sApiError as exc:
            what = "write" if value is not None else "remove"
            self.warnings.append(f"cannot {what} the success record of job {self.label} "
                                 f"(ConfigMap {self.namespace}/{RECORD_CONFIGMAP}): {exc}")

    def remember(self, job: Obj, digest: str) -> Obj:
        """Record that this Job instance succeeded with this manifest; the record written."""
        status = job.get("status") or {}
        complete = condition(job, "Complete") or {}
        record = {"sha256": digest, "uid": job_uid(job),
                  "completionTime": str(status.get("completionTime") or complete.get("lastTransitionTime") or "")}
        self._write_record(json.dumps(record, sort_keys=True, separators=(",", ":")))
        return record

    def forget(self) -> None:
        self._write_record(None)

    # ---- state=present --------------------------------------------------------------------------------

    def present(self, manifest: Obj, digest: str, rerun: bool = False, wait: bool = True, check_mode: bool = False) -> Obj:
        existing = self.api.get_job(self.namespace, self.name)
        record = self.read_record()
        decision = decide(existing, digest, rerun, record)
        action = {"create": "created", "recreate": "recreated", "unchanged": "unchanged", "wait": "waited"}[decision.action]
        changed = decision.action in ("create", "recreate")
        if check_mode:
            result = self._base(action, changed, existing)
            result["pods"] = self._pod_names(existing) if existing else []
            if decision.action == "unchanged":
                result["result"] = "succeeded"
            elif decision.action == "wait":
                result["result"] = "running"
            else:
                result["result"] = "skipped"
            if record is not None:
                result["record"] = record
            verb = {"create": "would create", "recreate": "would recreate", "unchanged": "unchanged:", "wait": "would wait for"}
            result["msg"] = f"check mode: {verb[decision.action]} job {self.label}: {decision.why}"
            return self._finish(result)
        if decision.action == "unchanged":
            result = self._base(action, False, existing)
            result.update(result="succeeded", pods=self._pod_names(existing) if existing else [],
                          msg=f"job {self.label}: {decision.why}")
            if existing is not None and (record is None or record.get("uid") != job_uid(existing)
                                         or record.get("sha256") != digest):
                record = self.remember(existing, digest)  # bookkeeping only (a Job that succeeded before records existed)
            if record is not None:
                result["record"] = record
            return self._finish(result)
        job = existing
        if decision.action in ("create", "recreate"):
            base = self._base(action, True, existing)
            if decision.delete:
                self.api.delete_job(self.namespace, self.name, job_uid(existing), "Foreground")
            self._wait_gone(existing, base, "waiting for the previous Job and its pods to go")
            if record is not None:
                self.forget()  # this name's next success is the new Job's
            try:
                job = self.api.create_job(self.namespace, annotated(manifest, digest))
            except K8sApiError as exc:
                raise self._fail(f"job {self.label}: create failed: {exc}", self._base(action, decision.delete, existing),
                                 exc.reason or "CreateFailed") from exc
        result = self._base(action, changed, job)
        result["manifest_sha256"] = digest
        self._why = f"{action}: {decision.why}"
        if not wait:
            if decision.action == "wait":
                result["action"] = "unchanged"
            result.update(result="running", pods=self._pod_names(job),
                          msg=f"job {self.label} {'started' if changed else 'is running'}; not waiting for it")
            return self._finish(result)
        return self._wait_done(job, result, digest, fresh=changed)

    def _wait_done(self, job: Obj, result: Obj, digest: str, fresh: bool = False) -> Obj:
        start = self.clock()
        settle: Dict[str, float] = {}

        def done(state: JobState, now: float) -> Optional[Verdict]:
            verdict = evaluate(state, now, self.grace)
            if (verdict is not None and verdict.result == "failed" and failure_condition(state.job)
                    and verdict.reason not in state.event_reasons and not state.gone):
                since = settle.setdefault("since", now)
                if now - since < EVENT_SETTLE and now < self.deadline:
                    state.wake_by = since + EVENT_SETTLE  # give the condition's event a moment to arrive
                    return None
            state.wake_by = None
            return verdict

        state, verdict = self._follow(job, done, pod_selector(job), events=f"involvedObject.uid={job_uid(job)}", fresh=fresh)
        result["duration"] = round(self.clock() - start, 3)
        final = state.job or job
        result["conditions"] = (final.get("status") or {}).get("conditions") or []
        pods = self._pods(final, state)
        result["pods"] = [p["metadata"]["name"] for p in pods]
        if verdict is not None and verdict.result == "succeeded":
            result["record"] = self.remember(final, digest)
            result.update(result="succeeded", msg=f"job {self.label} {self._why}; succeeded in {result['duration']:.1f} s")
            return self._finish(result)
        claims: List[Obj] = []
        if verdict is not None and verdict.reason == UNSCHEDULABLE and verdict.pod:
            verdict, claims = self._unbound_claims(verdict, state.pods.get(verdict.pod) or {})
        # The events and the logs are independent reads: fetched side by side, the report is out sooner.
        logs: Dict[str, Dict[str, str]] = {}
        reader = threading.Thread(target=lambda: logs.update(self.logs(pods)), daemon=True)
        reader.start()
        result["events"] = self.events(final, result["pods"], [c["metadata"]["name"] for c in claims])
        reader.join()
        result["logs"] = logs
        if verdict is None:
            result["result"] = "timeout"
            msg = f"job {self.label} not finished after {_seconds(self.timeout)} s: {state.describe()}"
            raise self._fail(msg, result, "Timeout")
        msg = f"job {self.label} failed: {verdict.reason}" + (f": {verdict.message}" if verdict.message else "")
        tail = self._log_tail(result["logs"])
        if tail:
            msg += f" (last log lines of {tail[0]}: {tail[1]})"
        raise self._fail(msg, result, verdict.reason)

    def _unbound_claims(self, verdict: "Verdict", pod: Obj) -> Tuple["Verdict", List[Obj]]:
        """An unschedulable pod with a PVC that is not Bound: reason UnboundPersistentVolumeClaim, the claims' state."""
        claims, texts = [], []
        for claim in pvc_names(pod):
            try:
                pvc = self.api.get_pvc(self.namespace, claim)
            except K8sApiError as exc:
                texts.append(f"PersistentVolumeClaim {claim}: cannot read it: {exc}")
                continue
            if pvc is None:
                texts.append(f"PersistentVolumeClaim {claim} does not exist")
                continue
            phase = (pvc.get("status") or {}).get("phase") or "Pending"
            if phase == "Bound":
                continue
            claims.append(pvc)
            spec = pvc.get("spec") or {}
            detail = f"storageClassName {spec.get('storageClassName')!r}" if spec.get("storageClassName") is not None else "no storageClassName"
            request = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
            if request:
                detail += f", requests {request}"
            texts.append(f"PersistentVolumeClaim {claim} is {phase} ({detail})")
        if not texts:
            return verdict, []
        return Verdict("failed", UNBOUND_PVC, f"{verdict.message}; " + "; ".join(texts), pod=verdict.pod), claims

    def _follow(self, job: Optional[Obj], done: Callable[[JobState, float], Any], selector: str, events: str = "",
                fresh: bool = False) -> Tuple[JobState, Any]:
        """Watch until ``done(state, now)`` returns something or the deadline passes (then None). ``fresh``: ``job``
        was just created; watch from its resourceVersion instead of listing."""
        state = JobState(job_uid(job), job)
        since = str(((job or {}).get("metadata") or {}).get("resourceVersion") or "") if fresh else None
        with JobWatch(self.api, self.namespace, self.name, selector, self.watch_seconds, events=events,
                      since=since or None, job=job) as watch:
            try:
                while True:
                    now = self.clock()
                    verdict = done(state, now) if state.synced >= watch.keys else None
                    if verdict is not None:
                        return state, verdict
                    if now >= self.deadline:
                        return state, None
                    wake = self.deadline
                    for end in (state.next_deadline(self.grace), state.wake_by):
                        if end is not None:
                            wake = min(wake, end)
                    for update in watch.updates(wake - now):
                        state.apply(update, self.clock())
            finally:
                self.relists += watch.relists

    def _wait_gone(self, job: Optional[Obj], result: Obj, doing: str) -> None:
        """Until the Job ``job`` (None: no Job) is gone and no pod labelled job-name=<name> is terminating or running.

        Foreground deletion keeps the Job until its pods are gone; a Job deleted with Background propagation (or by
        someone else) may be gone while its pods still terminate: they are waited for too.
        """
        selector = f"job-name={self.name}"
        if job is None:
            try:
                pods = self.api.list_pods(self.namespace, selector)[0]
            except K8sApiError:
                pods = []
            probe = JobState("")
            probe.pods = {p["metadata"]["name"]: p for p in pods}
            if not probe.blocking_pods():
                return

        def gone(state: JobState, _now: float) -> Optional[bool]:
            if state.fatal:
                raise self._fail(f"job {self.label}: {doing}: cannot watch it: {state.fatal}", result, "WatchFailed")
            return True if state.gone and not state.blocking_pods() else None

        state, verdict = self._follow(job, gone, selector)
        if verdict is None:
            what = "the Job" if not state.gone else f"its pods ({', '.join(state.blocking_pods())})"
            raise self._fail(f"job {self.label}: {doing}: {what} still present after {_seconds(self.timeout)} s",
                             dict(result, result="timeout"), "Timeout")

    # ---- state=absent ---------------------------------------------------------------------------------

    def absent(self, wait: bool = True, check_mode: bool = False) -> Obj:
        existing = self.api.get_job(self.namespace, self.name)
        record = self.read_record()
        if existing is None:
            result = self._base("absent", False, None)
            result.update(result="absent", msg=f"job {self.label} does not exist")
            if record is not None:
                # forgetting a success is a change: the next state=present run creates the Job again
                result.update(changed=True, action="forgotten", msg=f"job {self.label} does not exist; "
                              f"{'would remove' if check_mode else 'removed'} its success record")
                if not check_mode:
                    self.forget()
            return self._finish(result)
        result = self._base("deleted", True, existing)
        result["pods"] = self._pod_names(existing)
        if check_mode:
            result.update(result="skipped", msg=f"check mode: would delete job {self.label}")
            return self._finish(result)
        start = self.clock()
        self.api.delete_job(self.namespace, self.name, job_uid(existing), "Foreground")
        if record is not None:
            self.forget()
        if wait:
            self._wait_gone(existing, result, "deleting")
        result.update(result="absent", duration=round(self.clock() - start, 3),
                      msg=f"job {self.label} deleted" + ("" if wait else " (not waiting until it is gone)"))
        return self._finish(result)

    # ---- reporting ------------------------------------------------------------------------------------

    def _pods(self, job: Obj, state: Optional[JobState] = None) -> List[Obj]:
        """This Job's pods, oldest first: by controller-uid label, else by job-name owned by the Job's uid."""
        try:
            pods = self.api.list_pods(self.namespace, pod_selector(job))[0]
            if not pods:
                uid = job_uid(job)
                pods = [p for p in self.api.list_pods(self.namespace, f"job-name={self.name}")[0]
                        if any(r.get("uid") == uid for r in (p.get("metadata") or {}).get("ownerReferences") or [])]
        except K8sApiError:
            pods = []
        if not pods and state is not None:
            pods = list(state.pods.values())  # already gone (a TTL of 0): as last seen
        return sorted(pods, key=lambda p: (_created(p), p["metadata"]["name"]))

    def _pod_names(self, job: Optional[Obj], state: Optional[JobState] = None) -> List[str]:
        if not job:
            return []
        return [p["metadata"]["name"] for p in self._pods(job, state)]

    def events(self, job: Obj, pods: List[str], claims: Optional[List[str]] = None) -> List[Obj]:
        """Events about the Job (this uid), its pods and the given PersistentVolumeClaims, oldest first."""
        uid = job_uid(job)
        found: List[Obj] = []
        queries = [("Job", self.name)] + [("Pod", p) for p in pods] + [("PersistentVolumeClaim", c) for c in claims or []]
        for kind, name in queries:
            try:
                items = self.api.list_events(self.namespace, f"involvedObject.kind={kind},involvedObject.name={name}")[0]
            except K8sApiError:
                continue
            for ev in items:
                involved = ev.get("involvedObject") or {}
                if kind == "Job" and involved.get("uid") and involved.get("uid") != uid:
                    continue
                found.append(ev)
        out = []
        for ev in sorted(found, key=event_order):
            involved = ev.get("involvedObject") or {}
            out.append({
                "type": ev.get("type") or "",
                "reason": ev.get("reason") or "",
                "message": ev.get("message") or "",
                "object": f"{involved.get('kind', '')}/{involved.get('name', '')}",
                "count": int(ev.get("count") or (ev.get("series") or {}).get("count") or 1),
                "time": event_time(ev),
            })
        return out

    def logs(self, pods: List[Obj]) -> Dict[str, Dict[str, str]]:
        """``{pod: {container: last log_lines lines}}`` (init containers too); a container without a log (not
        started yet, or the server refuses) is left out."""
        out: Dict[str, Dict[str, str]] = {}
        if self.log_lines <= 0:
            return out
        for pod in pods:
            spec = pod.get("spec") or {}
            texts: Dict[str, str] = {}
            for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                if not container.get("name"):
                    continue
                try:
                    text = self.api.pod_log(self.namespace, pod["metadata"]["name"], container["name"], self.log_lines)
                except K8sApiError:
                    continue
                texts[container["name"]] = "\n".join(text.splitlines()[-self.log_lines:])
            out[pod["metadata"]["name"]] = texts
        return out

    @staticmethod
    def _log_tail(logs: Dict[str, Dict[str, str]], lines: int = 3) -> Optional[Tuple[str, str]]:
        """(pod/container, its last few log lines joined by " | ") of the newest pod with a log."""
        for pod_name in reversed(list(logs)):
            for container, text in logs[pod_name].items():
                tail = [line for line in text.splitlines() if line.strip()][-lines:]
                if tail:
                    return f"{pod_name}/{container}", " | ".join(tail)
        return None
