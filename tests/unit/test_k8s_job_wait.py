# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""k8s_job's state machine: stuck-pod, unschedulable and FailedCreate grace, verdicts, timeout descriptions, and
JobRunner against a fake of JobApi (watch streams from an in-memory history, 410 Gone on demand; success records in
a ConfigMap; pods that linger while terminating). No API server: what needs one is in
tests/integration/test_k8s_job.py on the real control plane."""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import K8sApiError
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import (
    ANNOTATION,
    RECORD_CONFIGMAP,
    JobFailed,
    JobRunner,
    JobState,
    Update,
    decide,
    evaluate,
    manifest_hash,
)

NS = "demo1"
NAME = "test-dp-ring1-init"
MANIFEST = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": NAME, "namespace": NS},
    "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "init", "image": "ds:1"}]}}},
}
DIGEST = manifest_hash(MANIFEST)


def pod(name="p1", phase="Pending", waiting=None, running=False, terminated=None, restarts=0, created="2026-01-01T00:00:00Z"):
    state = {}
    if waiting:
        state = {"waiting": {"reason": waiting, "message": f"{waiting} message"}}
    elif running:
        state = {"running": {"startedAt": "t"}}
    elif terminated is not None:
        state = {"terminated": {"exitCode": terminated, "reason": "Error" if terminated else "Completed"}}
    return {"metadata": {"name": name, "creationTimestamp": created},
            "spec": {"containers": [{"name": "init"}]},
            "status": {"phase": phase, "containerStatuses": [{"name": "init", "restartCount": restarts, "state": state}]}}


def synced(job=None, pods=()):
    state = JobState("u1", job)
    state.apply(Update("sync", "job", items=[job] if job else []), 0.0)
    state.apply(Update("sync", "pods", items=list(pods)), 0.0)
    return state


def running_job(**status):
    return {"metadata": {"name": NAME, "namespace": NS, "uid": "u1"}, "spec": {}, "status": {"active": 1, **status}}


# ---- the state machine -------------------------------------------------------------------------------


def test_complete_and_failed_conditions():
    assert evaluate(synced(running_job()), 0, 30) is None
    done = running_job(conditions=[{"type": "Complete", "status": "True"}])
    assert evaluate(synced(done), 0, 30).result == "succeeded"
    for kind in ("Failed", "FailureTarget"):
        failed = running_job(conditions=[{"type": kind, "status": "True", "reason": "DeadlineExceeded", "message": "too slow"}])
        verdict = evaluate(synced(failed), 0, 30)
        assert (verdict.result, verdict.reason, verdict.message) == ("failed", "DeadlineExceeded", "too slow")
    not_yet = running_job(conditions=[{"type": "Failed", "status": "False"}])
    assert evaluate(synced(not_yet), 0, 30) is None


def test_job_gone_while_waiting():
    state = synced(running_job())
    state.apply(Update("event", "job", type="DELETED", obj=running_job()), 1.0)
    assert evaluate(state, 1.0, 30).reason == "Deleted"
    other = synced(None)
    assert other.gone


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError",
                                    "CreateContainerError"])
def test_stuck_reasons_fail_after_the_grace(reason):
    state = synced(running_job())
    state.apply(Update("event", "pods", type="ADDED", obj=pod(waiting=reason)), 10.0)
    assert evaluate(state, 10.0, 5) is None
    assert state.next_deadline(5) == 15.0
    assert evaluate(state, 14.9, 5) is None
    verdict = evaluate(state, 15.0, 5)
    assert verdict.reason == reason
    assert verdict.message == f"pod p1 container init in {reason} for 5 s (pod_failure_grace 5 s): {reason} message"


def test_invalid_image_name_fails_at_once_and_other_reasons_do_not_count():
    state = synced(running_job(), [pod(waiting="InvalidImageName")])
    assert evaluate(state, 0.0, 300).message == "pod p1 container init: InvalidImageName: InvalidImageName message"
    creating = synced(running_job(), [pod(waiting="ContainerCreating")])
    assert evaluate(creating, 1000.0, 5) is None and creating.next_deadline(5) is None


def test_pull_back_off_that_recovers_resets_the_grace():
    state = synced(running_job())
    state.apply(Update("event", "pods", type="ADDED", obj=pod(waiting="ErrImagePull")), 0.0)
    state.apply(Update("event", "pods", type="MODIFIED", obj=pod(waiting="ImagePullBackOff")), 2.0)
    assert state.next_deadline(5) == 5.0  # ErrImagePull -> ImagePullBackOff is the same stuck spell
    state.apply(Update("event", "pods", type="MODIFIED", obj=pod(phase="Running", running=True)), 3.0)
    assert evaluate(state, 100.0, 5) is None and state.stuck == {}


def test_crash_loop_keeps_its_first_stuck_time_across_restarts():
    state = synced(running_job())
    state.apply(Update("event", "pods", type="ADDED", obj=pod(waiting="CrashLoopBackOff", restarts=1)), 0.0)
    state.apply(Update("event", "pods", type="MODIFIED", obj=pod(phase="Running", running=True, restarts=2)), 3.0)
    assert evaluate(state, 6.0, 5) is None  # running right now
    state.apply(Update("event", "pods", type="MODIFIED", obj=pod(phase="Running", terminated=1, restarts=2)), 6.5)
    state.apply(Update("event", "pods", type="MODIFIED", obj=pod(waiting="CrashLoopBackOff", restarts=2)), 7.0)
    assert evaluate(state, 7.0, 5).reason == "CrashLoopBackOff"


def test_deleted_or_finished_pods_are_forgotten():
    state = synced(running_job(), [pod(waiting="ImagePullBackOff")])
    state.apply(Update("event", "pods", type="DELETED", obj=pod()), 1.0)
    assert state.stuck == {} and state.pods == {}
    state.apply(Update("event", "pods", type="ADDED", obj=pod(name="p2", waiting="ImagePullBackOff")), 1.0)
    state.apply(Update("sync", "pods", items=[]), 2.0)
    assert state.stuck == {}


def test_timeout_description():
    state = synced(running_job(active=1, succeeded=0, failed=0),
                   [pod("test-dp-ring1-init-abcde", waiting="ContainerCreating"),
                    pod("test-dp-ring1-init-0older", phase="Failed", terminated=2, created="2025-12-31T00:00:00Z")])
    assert state.describe() == ("active=1 succeeded=0 failed=0; pod test-dp-ring1-init-0older Failed (Error, exit code 2); "
                                "pod test-dp-ring1-init-abcde Pending (ContainerCreating)")
    assert synced(running_job()).describe() == "active=1 succeeded=0 failed=0; no pods"
    suspended = running_job()
    suspended["spec"]["suspend"] = True
    assert synced(suspended).describe().startswith("active=1 succeeded=0 failed=0 (suspended)")


def test_fatal_watch_errors_end_the_wait_other_errors_are_kept():
    state = synced(running_job())
    state.apply(Update("error", "pods", message="403 Forbidden: pods is forbidden", fatal=True), 0.0)
    assert evaluate(state, 0, 30) is None and state.warnings == ["403 Forbidden: pods is forbidden"]
    state.apply(Update("error", "job", message="403 Forbidden: jobs is forbidden", fatal=True), 0.0)
    assert evaluate(state, 0, 30).reason == "WatchFailed"


# ---- JobRunner against a fake API ------------------------------------------------------------------------


class FakeStream:
    def __init__(self, api, key, match, since, timeout):
        self.api, self.key, self.match, self.since, self.end = api, key, match, int(since), time.monotonic() + timeout
        self.closed = False

    def close(self):
        self.closed = True
        with self.api.cond:
            self.api.cond.notify_all()

    def __iter__(self):
        with self.api.cond:
            while not self.closed and time.monotonic() < self.end:
                if self.since < self.api.floor:  # compacted history: the server ends the watch with 410 Gone
                    yield {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}}
                    return
                events = [e for e in self.api.history if e[0] > self.since]
                if not events:
                    self.api.cond.wait(0.05)
                    continue
                for rv, key, etype, obj in events:
                    self.since = rv
                    if key == self.key and self.match(obj):
                        yield {"type": etype, "object": copy.deepcopy(obj)}


class FakeApi:
    """Jobs and pods in memory with a change history that watch streams follow (``expire()``: 410 Gone)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.rv = itertools.count(1)
        self.last = 0
        self.floor = 0
        self.history = []
        self.jobs, self.pods, self.events, self.logs = {}, {}, [], {}
        self.configmaps, self.pvcs = {}, {}
        self.calls = []
        self.on_create = None
        self.uids = itertools.count(1)
        self.linger = False  # pods of a deleted Job stay (terminating) until finish_termination()

    def _change(self, key, etype, obj):
        with self.cond:
            self.last = next(self.rv)
            obj["metadata"]["resourceVersion"] = str(self.last)
            self.history.append((self.last, key, etype, copy.deepcopy(obj)))
            self.cond.notify_all()

    def expire(self):
        with self.cond:
            self.floor = self.last + 1
            self.history.clear()

    # the JobApi interface
    def get_job(self, namespace, name):
        self.calls.append(("get_job", name))
        return copy.deepcopy(self.jobs.get(name))

    def create_job(self, namespace, body):
        self.calls.append(("create_job", body["metadata"]["name"]))
        job = copy.deepcopy(body)
        job["metadata"]["uid"] = f"uid-{next(self.uids)}"
        job["status"] = {}
        self.jobs[job["metadata"]["name"]] = job
        self._change("job", "ADDED", job)
        if self.on_create:
            self.on_create(job)
        return copy.deepcopy(job)

    def delete_job(self, namespace, name, uid=None, propagation="Foreground"):
        self.calls.append(("delete_job", name, propagation))
        job = self.jobs.pop(name, None)
        if job is None:
            return False
        for pod_name in [n for n, p in self.pods.items() if p["metadata"]["labels"].get("controller-uid") == job["metadata"]["uid"]]:
            if self.linger:  # like Background propagation with a kubelet still stopping the containers
                self.pods[pod_name]["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:09Z"
                self._change("pods", "MODIFIED", self.pods[pod_name])
            else:
                self._change("pods", "DELETED", self.pods.pop(pod_name))
        self._change("job", "DELETED", job)
        return True

    def finish_termination(self):
        for pod_name in [n for n, p in self.pods.items() if p["metadata"].get("deletionTimestamp")]:
            self.calls.append(("pod_gone", pod_name))
            self._change("pods", "DELETED", self.pods.pop(pod_name))

    def list_jobs(self, namespace, name):
        self.calls.append(("list_jobs", name))
        return [copy.deepcopy(j) for n, j in self.jobs.items() if n == name], str(self.last)

    def watch_jobs(self, namespace, name, resource_version, timeout_seconds):
        return FakeStream(self, "job", lambda o: o["metadata"]["name"] == name, resource_version, timeout_seconds)

    def _selects(self, selector, obj):
        key, _sep, value = selector.partition("=")
        return (obj["metadata"].get("labels") or {}).get(key.replace("batch.kubernetes.io/", "")) == value

    def list_pods(self, namespace, label_selector):
        return [copy.deepcopy(p) for p in self.pods.values() if self._selects(label_selector, p)], str(self.last)

    def watch_pods(self, namespace, label_selector, resource_version, timeout_seconds):
        return FakeStream(self, "pods", lambda o: self._selects(label_selector, o), resource_version, timeout_seconds)

    @staticmethod
    def _event_matches(field_selector, event):
        fields = dict(part.split("=", 1) for part in field_selector.split(","))
        return all(event["involvedObject"].get(key.split(".", 1)[1]) == value for key, value in fields.items())

    def list_events(self, namespace, field_selector):
        return [copy.deepcopy(e) for e in self.events if self._event_matches(field_selector, e)], str(self.last)

    def watch_events(self, namespace, field_selector, resource_version, timeout_seconds):
        return FakeStream(self, "events", lambda o: self._event_matches(field_selector, o), resource_version, timeout_seconds)

    def get_pvc(self, namespace, name):
        return copy.deepcopy(self.pvcs.get(name))

    def get_configmap(self, namespace, name):
        self.calls.append(("get_configmap", name))
        return copy.deepcopy(self.configmaps.get(name))

    def create_configmap(self, namespace, body):
        self.calls.append(("create_configmap", body["metadata"]["name"]))
        if body["metadata"]["name"] in self.configmaps:
            raise K8sApiError(409, "AlreadyExists", "configmaps already exists")
        self.configmaps[body["metadata"]["name"]] = copy.deepcopy(body)
        return copy.deepcopy(body)

    def merge_configmap_data(self, namespace, name, data):
        self.calls.append(("merge_configmap_data", name, tuple(sorted(data.items()))))
        if name not in self.configmaps:
            raise K8sApiError(404, "NotFound", f'configmaps "{name}" not found')
        target = self.configmaps[name].setdefault("data", {})
        for key, value in data.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
        return copy.deepcopy(self.configmaps[name])

    def pod_log(self, namespace, name, container, tail_lines):
        if name not in self.logs:
            raise K8sApiError(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start')
        return self.logs[name]

    # playing the controllers
    def add_event(self, involved, reason, message="", etype="Warning", name=None):
        event = {"metadata": {"name": name or f"ev-{len(self.events)}"}, "involvedObject": dict(involved),
                 "type": etype, "reason": reason, "message": message, "lastTimestamp": f"2026-01-01T00:00:{len(self.events):02d}Z"}
        self.events.append(event)
        self._change("events", "ADDED", event)

    def job_event(self, reason, message="", etype="Warning"):
        job = self.jobs[NAME]
        self.add_event({"kind": "Job", "name": NAME, "uid": job["metadata"]["uid"]}, reason, message, etype)

    def record(self, name=NAME):
        return json.loads(self.configmaps[RECORD_CONFIGMAP]["data"][name])

    def set_status(self, name, **status):
        job = self.jobs[name]
        job["status"] = dict(job.get("status") or {}, **status)
        self._change("job", "MODIFIED", job)

    def put_pod(self, job, name, **kwargs):
        obj = pod(name, **kwargs)
        obj["metadata"]["labels"] = {"controller-uid": job["metadata"]["uid"], "job-name": job["metadata"]["name"]}
        etype = "MODIFIED" if name in self.pods else "ADDED"
        self.pods[name] = obj
        self._change("pods", etype, obj)


def after(seconds, func, *args, **kwargs):
    timer = threading.Timer(seconds, func, args, kwargs)
    timer.daemon = True
    timer.start()
    return timer


def runner(api, **kwargs):
    kwargs.setdefault("timeout", 10)
    return JobRunner(api, NS, NAME, watch_seconds=2, **kwargs)


def finished(kind, reason="", message=""):
    return [{"type": kind, "status": "True", "reason": reason, "message": message}]


def test_create_and_succeed():
    api = FakeApi()
    api.on_create = lambda job: after(0.2, api.set_status, NAME, conditions=finished("Complete"), succeeded=1)
    result = runner(api).present(MANIFEST, DIGEST)
    assert (result["changed"], result["action"], result["result"]) == (True, "created", "succeeded")
    assert result["job"] == {"name": NAME, "namespace": NS, "uid": "uid-1"}
    assert 0.15 <= result["duration"] < 2
    assert api.jobs[NAME]["metadata"]["annotations"] == {ANNOTATION: DIGEST}
    assert result["record"] == api.record() == {"sha256": DIGEST, "uid": "uid-1", "completionTime": ""}
    # again: unchanged, nothing written
    api.calls.clear()
    again = runner(api).present(MANIFEST, DIGEST)
    assert (again["changed"], again["action"], again["result"]) == (False, "unchanged", "succeeded")
    assert api.calls == [("get_job", NAME), ("get_configmap", RECORD_CONFIGMAP)]


def test_failed_condition_ends_the_wait_at_once_with_logs_and_events():
    api = FakeApi()

    def play(job):
        api.put_pod(job, "p1", phase="Running", running=True)
        api.logs["p1"] = "".join(f"line {i}\n" for i in range(100))
        limit = {"metadata": {"name": "limit"}, "involvedObject": {"kind": "Job", "name": NAME, "uid": job["metadata"]["uid"]},
                 "type": "Warning", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit",
                 "lastTimestamp": "2026-01-01T00:00:02Z"}
        api.events.append(limit)
        api._change("events", "ADDED", limit)  # seen by the events watch: no settling wait for it
        api.events.append({"involvedObject": {"kind": "Job", "name": NAME, "uid": "an-older-job"}, "reason": "Old"})
        api.events.append({"involvedObject": {"kind": "Pod", "name": "p1"}, "type": "Normal", "reason": "Started",
                           "message": "Started container init", "lastTimestamp": "2026-01-01T00:00:01Z"})
        after(0.5, api.set_status, NAME, conditions=finished("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"))

    api.on_create = play
    start = time.monotonic()
    with pytest.raises(JobFailed) as err:
        runner(api, timeout=60, log_lines=3).present(MANIFEST, DIGEST)
    assert time.monotonic() - start < 2.0
    result = err.value.result
    assert err.value.msg == (f"job {NS}/{NAME} failed: BackoffLimitExceeded: Job has reached the specified backoff limit "
                             "(last log lines of p1/init: line 97 | line 98 | line 99)")
    assert (result["result"], result["reason"], result["changed"], result["action"]) == ("failed", "BackoffLimitExceeded", True, "created")
    assert result["logs"] == {"p1": {"init": "line 97\nline 98\nline 99"}}
    assert [(e["object"], e["reason"]) for e in result["events"]] == [("Pod/p1", "Started"), (f"Job/{NAME}", "BackoffLimitExceeded")]
    assert result["pods"] == ["p1"] and result["conditions"][0]["type"] == "Failed"


def test_stuck_pod_fails_after_the_grace_not_the_timeout_and_pods_without_logs_are_tolerated():
    api = FakeApi()
    api.on_create = lambda job: after(0.1, api.put_pod, job, "p1", waiting="ImagePullBackOff")
    start = time.monotonic()
    with pytest.raises(JobFailed) as err:
        runner(api, timeout=60, pod_failure_grace=1).present(MANIFEST, DIGEST)
    assert 1.0 <= time.monotonic() - start < 3.0
    assert err.value.result["reason"] == "ImagePullBackOff"
    assert err.value.result["logs"] == {"p1": {}}
    assert "pod p1 container init in ImagePullBackOff for 1 s (pod_failure_grace 1 s)" in err.value.msg


def test_timeout_says_what_state_it_was_in():
    api = FakeApi()
    api.on_create = lambda job: api.put_pod(job, "p1", waiting="ContainerCreating")
    with pytest.raises(JobFailed) as err:
        runner(api, timeout=1).present(MANIFEST, DIGEST)
    assert err.value.msg == f"job {NS}/{NAME} not finished after 1 s: active=0 succeeded=0 failed=0; pod p1 Pending (ContainerCreating)"
    assert err.value.result["result"] == "timeout" and err.value.result["reason"] == "Timeout"


def _seed(api, digest, **status):
    api.create_job(NS, {"apiVersion": "batch/v1", "kind": "Job",
                        "metadata": {"name": NAME, "namespace": NS, "annotations": {ANNOTATION: digest}}, "spec": {}})
    api.set_status(NAME, **status)
    api.put_pod(api.jobs[NAME], "old-pod", phase="Succeeded", terminated=0)
    api.calls.clear()


@pytest.mark.parametrize("digest, status, rerun, why", [
    ("other", {"conditions": finished("Complete")}, False, "manifest changed"),
    (DIGEST, {"conditions": finished("Failed", "BackoffLimitExceeded")}, False, "failed"),
    (DIGEST, {"conditions": finished("Complete")}, True, "rerun"),
])
def test_recreate_deletes_waits_until_gone_then_creates(digest, status, rerun, why):
    api = FakeApi()
    _seed(api, digest, **status)
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Complete"))
    result = runner(api).present(MANIFEST, DIGEST, rerun=rerun)
    assert (result["action"], result["changed"], result["result"]) == ("recreated", True, "succeeded")
    assert [c[0] for c in api.calls if c[0] in ("delete_job", "create_job")] == ["delete_job", "create_job"]
    assert ("delete_job", NAME, "Foreground") in api.calls
    assert "old-pod" not in api.pods and result["job"]["uid"] == "uid-2"
    assert result["msg"].startswith(f"job {NS}/{NAME} recreated: ") and why in result["msg"]


def test_running_job_with_the_same_manifest_is_waited_on_not_recreated():
    api = FakeApi()
    _seed(api, DIGEST, active=1)
    after(0.3, api.set_status, NAME, conditions=finished("Complete"))
    result = runner(api).present(MANIFEST, DIGEST)
    assert (result["action"], result["changed"], result["result"]) == ("waited", False, "succeeded")
    assert not [c for c in api.calls if c[0] in ("delete_job", "create_job")]


def test_wait_false_returns_running():
    api = FakeApi()
    result = runner(api).present(MANIFEST, DIGEST, wait=False)
    assert (result["action"], result["result"], result["changed"]) == ("created", "running", True)
    again = runner(api).present(MANIFEST, DIGEST, wait=False)
    assert (again["action"], again["result"], again["changed"]) == ("unchanged", "running", False)


@pytest.mark.parametrize("status, action, result, changed", [
    (None, "created", "skipped", True),
    ({"conditions": finished("Complete")}, "unchanged", "succeeded", False),
    ({"conditions": finished("Failed")}, "recreated", "skipped", True),
    ({"active": 1}, "waited", "running", False),
])
def test_check_mode_decides_and_changes_nothing(status, action, result, changed):
    api = FakeApi()
    if status is not None:
        _seed(api, DIGEST, **status)
    out = runner(api).present(MANIFEST, DIGEST, check_mode=True)
    assert (out["action"], out["result"], out["changed"]) == (action, result, changed)
    assert out["msg"].startswith("check mode: ")
    assert all(c[0] in ("get_job", "get_configmap") for c in api.calls)


def test_watch_expiry_is_answered_by_listing_again():
    api = FakeApi()

    def play(job):
        def expire_then_finish():
            api.put_pod(job, "p1", phase="Running", running=True)
            time.sleep(0.2)
            api.expire()
            api.set_status(NAME, active=1)  # the watchers now get 410 Gone and list again
            time.sleep(0.3)
            api.set_status(NAME, conditions=finished("Complete"))
        after(0.2, expire_then_finish)

    api.on_create = play
    job_runner = runner(api)
    result = job_runner.present(MANIFEST, DIGEST)
    assert result["result"] == "succeeded"
    assert job_runner.relists >= 1
    # a Job just created is watched from its creation's resourceVersion (no list); the expired watch lists
    assert sum(1 for c in api.calls if c[0] == "list_jobs") >= 1


def test_absent_deletes_and_waits_until_gone():
    api = FakeApi()
    assert runner(api).absent()["action"] == "absent"
    _seed(api, DIGEST, active=1)
    checked = runner(api).absent(check_mode=True)
    assert (checked["action"], checked["changed"], checked["result"]) == ("deleted", True, "skipped") and NAME in api.jobs
    result = runner(api).absent()
    assert (result["action"], result["changed"], result["result"]) == ("deleted", True, "absent")
    assert api.jobs == {} and api.pods == {}


def test_create_errors_are_reported():
    api = FakeApi()

    def refuse(namespace, body):
        raise K8sApiError(404, "NotFound", 'namespaces "demo1" not found')

    api.create_job = refuse
    with pytest.raises(JobFailed) as err:
        runner(api).present(MANIFEST, DIGEST)
    assert err.value.msg == f'job {NS}/{NAME}: create failed: 404 NotFound: namespaces "demo1" not found'
    assert err.value.result["changed"] is False and err.value.result["reason"] == "NotFound"


def test_forbidden_pods_leave_the_job_to_follow_and_broken_job_watches_fail():
    api = FakeApi()

    def forbidden(namespace, label_selector):
        raise K8sApiError(403, "Forbidden", 'pods is forbidden: User "ci" cannot list resource "pods"')

    api.list_pods = forbidden
    api.on_create = lambda job: after(0.2, api.set_status, NAME, conditions=finished("Complete"))
    assert runner(api).present(MANIFEST, DIGEST)["result"] == "succeeded"

    broken = FakeApi()

    def garbage(namespace, name, resource_version, timeout_seconds):
        raise TypeError("unexpected answer")

    broken.watch_jobs = garbage
    start = time.monotonic()
    with pytest.raises(JobFailed) as err:
        runner(broken, timeout=30).present(MANIFEST, DIGEST)
    assert time.monotonic() - start < 3
    assert err.value.result["reason"] == "WatchFailed" and "TypeError: unexpected answer" in err.value.msg


# ---- issue 12: the real controllers' failure modes, success records, lingering pods ------------------------


def test_a_job_finished_and_deleted_at_once_still_succeeds():
    """ttlSecondsAfterFinished: 0 - the TTL controller deletes the Job right after Complete; the watch starts at the
    create's resourceVersion, so the Complete state is seen (the DELETED object carries it too)."""
    api = FakeApi()

    def complete_and_vanish(job):
        api.set_status(NAME, conditions=finished("Complete"), completionTime="2026-01-01T00:00:05Z", succeeded=1)
        api.delete_job(NS, NAME)

    api.on_create = complete_and_vanish
    result = runner(api).present(MANIFEST, DIGEST)
    assert (result["action"], result["result"]) == ("created", "succeeded")
    assert api.record() == {"sha256": DIGEST, "uid": "uid-1", "completionTime": "2026-01-01T00:00:05Z"}
    state = synced(running_job())
    gone = running_job(conditions=finished("Complete"))
    state.apply(Update("event", "job", type="DELETED", obj=gone), 1.0)
    assert evaluate(state, 1.0, 30).result == "succeeded"


def test_the_success_record_outlives_the_job():
    api = FakeApi()
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Complete"), completionTime="T1")
    first = runner(api).present(MANIFEST, DIGEST)
    assert first["record"] == {"sha256": DIGEST, "uid": "uid-1", "completionTime": "T1"}
    assert api.configmaps[RECORD_CONFIGMAP]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "datasurface.yellow"
    api.delete_job(NS, NAME)  # the TTL-after-finished controller
    api.calls.clear()
    # check mode reads the record, writes nothing
    checked = runner(api).present(MANIFEST, DIGEST, check_mode=True)
    assert (checked["changed"], checked["action"], checked["result"]) == (False, "unchanged", "succeeded")
    assert checked["record"]["uid"] == "uid-1" and checked["job"]["uid"] is None
    again = runner(api).present(MANIFEST, DIGEST)
    assert (again["changed"], again["action"], again["result"]) == (False, "unchanged", "succeeded")
    assert f"recorded in ConfigMap {RECORD_CONFIGMAP}; the Job itself is gone" in again["msg"] and "at T1" in again["msg"]
    assert api.calls == [("get_job", NAME), ("get_configmap", RECORD_CONFIGMAP)] * 2 and NAME not in api.jobs
    # another manifest: created; its record is removed first, then written for the new instance
    other = dict(MANIFEST, metadata={"name": NAME, "namespace": NS, "labels": {"x": "y"}})
    changed = runner(api).present(other, manifest_hash(other))
    assert (changed["changed"], changed["action"]) == (True, "created")
    assert "its last success was with another manifest" in changed["msg"]
    writes = [c for c in api.calls if c[0] in ("merge_configmap_data", "create_job")]
    assert [w[0] for w in writes] == ["merge_configmap_data", "create_job", "merge_configmap_data"]
    assert writes[0][2] == ((NAME, None),)
    assert api.record()["sha256"] == manifest_hash(other) and api.record()["uid"] == "uid-2"


def test_rerun_ignores_the_record_and_a_failed_rerun_leaves_none():
    api = FakeApi()
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Complete"))
    runner(api).present(MANIFEST, DIGEST)
    api.delete_job(NS, NAME)
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Failed", "BackoffLimitExceeded"))
    with pytest.raises(JobFailed):
        runner(api).present(MANIFEST, DIGEST, rerun=True)
    assert NAME not in api.configmaps[RECORD_CONFIGMAP]["data"]
    api.delete_job(NS, NAME)  # the failed Job goes too (TTL): the next run must run it again, not trust the old success
    assert decide(None, DIGEST, False, None).action == "create"
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Complete"))
    assert runner(api).present(MANIFEST, DIGEST)["action"] == "created"


def test_absent_forgets_the_record():
    api = FakeApi()
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Complete"))
    runner(api).present(MANIFEST, DIGEST)
    api.delete_job(NS, NAME)
    checked = runner(api).absent(check_mode=True)
    assert (checked["changed"], checked["action"]) == (True, "forgotten") and NAME in api.configmaps[RECORD_CONFIGMAP]["data"]
    forgotten = runner(api).absent()
    assert (forgotten["changed"], forgotten["action"], forgotten["result"]) == (True, "forgotten", "absent")
    assert NAME not in api.configmaps[RECORD_CONFIGMAP]["data"]
    assert (runner(api).absent()["changed"], runner(api).absent()["action"]) == (False, "absent")


def test_an_unreadable_record_is_a_warning():
    api = FakeApi()

    def forbidden(*_args):
        raise K8sApiError(403, "Forbidden", 'configmaps is forbidden: User "ci" cannot get resource "configmaps"')

    api.get_configmap = forbidden
    api.merge_configmap_data = forbidden
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Complete"))
    result = runner(api).present(MANIFEST, DIGEST)
    assert result["result"] == "succeeded"
    assert [w.split(":")[0] for w in result["warnings"]] == [
        f"cannot read the success records (ConfigMap {NS}/{RECORD_CONFIGMAP})",
        f"cannot write the success record of job {NS}/{NAME} (ConfigMap {NS}/{RECORD_CONFIGMAP})"]


def test_a_job_being_deleted_that_succeeded_is_unchanged():
    job = {"metadata": {"name": NAME, "uid": "u1", "deletionTimestamp": "t", "annotations": {ANNOTATION: DIGEST}},
           "status": {"conditions": finished("Complete")}}
    assert decide(job, DIGEST, False).action == "unchanged"
    assert decide(job, DIGEST, True).action == "create" and decide(job, "other", False).wait_gone


def test_pods_still_terminating_are_waited_for_before_creating():
    api = FakeApi()
    _seed(api, "other-digest", conditions=finished("Complete"))
    api.put_pod(api.jobs[NAME], "old-pod", phase="Running", running=True)
    api.linger = True
    api.delete_job(NS, NAME)  # deleted with Background propagation: the Job is gone, its pod still terminates
    assert NAME not in api.jobs and api.pods["old-pod"]["metadata"]["deletionTimestamp"]
    api.calls.clear()
    after(0.5, api.finish_termination)
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Complete"))
    start = time.monotonic()
    result = runner(api).present(MANIFEST, DIGEST)
    assert time.monotonic() - start >= 0.5
    assert result["action"] == "created"
    assert [c[0] for c in api.calls if c[0] in ("pod_gone", "create_job")] == ["pod_gone", "create_job"]


def test_finished_pods_nobody_deletes_do_not_block_and_running_leftovers_time_out():
    api = FakeApi()
    _seed(api, DIGEST, conditions=finished("Complete"))  # its pod old-pod Succeeded
    api.jobs.pop(NAME)  # deleted with propagationPolicy Orphan: the finished pod stays
    api.on_create = lambda job: after(0.1, api.set_status, NAME, conditions=finished("Complete"))
    assert runner(api).present(MANIFEST, DIGEST, rerun=True)["action"] == "created"
    stuck = FakeApi()
    _seed(stuck, DIGEST, conditions=finished("Complete"))
    stuck.put_pod(stuck.jobs[NAME], "orphan", phase="Running", running=True)
    stuck.jobs.pop(NAME)
    with pytest.raises(JobFailed) as err:
        runner(stuck, timeout=1).present(MANIFEST, DIGEST, rerun=True)
    assert err.value.msg == (f"job {NS}/{NAME}: waiting for the previous Job and its pods to go: its pods (orphan) "
                             "still present after 1 s")
    assert not [c for c in stuck.calls if c[0] == "create_job"]


def unschedulable(name="p1", message="0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."):
    obj = pod(name)
    obj["status"] = {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}]}
    return obj


def test_unschedulable_pod_fails_after_the_grace_and_recovers_when_placed():
    state = synced(running_job())
    state.apply(Update("event", "pods", type="ADDED", obj=unschedulable()), 10.0)
    assert evaluate(state, 14.9, 5) is None and state.next_deadline(5) == 15.0
    verdict = evaluate(state, 15.0, 5)
    assert (verdict.reason, verdict.pod) == ("Unschedulable", "p1")
    assert verdict.message == ("pod p1 unschedulable for 5 s (pod_failure_grace 5 s): "
                               "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")
    placed = pod("p1", phase="Pending", waiting="ContainerCreating")
    placed["spec"]["nodeName"] = "yellow-lab-node1"
    state.apply(Update("event", "pods", type="MODIFIED", obj=placed), 16.0)
    assert evaluate(state, 100.0, 5) is None and state.stuck == {}
    gated = unschedulable()
    gated["status"]["conditions"][0]["reason"] = "SchedulingGated"
    assert evaluate(synced(running_job(), [gated]), 100.0, 5) is None


def test_unschedulable_for_an_unbound_claim_names_the_claim_with_its_events():
    api = FakeApi()
    api.pvcs["data"] = {"metadata": {"name": "data"}, "spec": {"storageClassName": "missing-class",
                                                               "resources": {"requests": {"storage": "1Gi"}}},
                        "status": {"phase": "Pending"}}
    api.add_event({"kind": "PersistentVolumeClaim", "name": "data"}, "ProvisioningFailed",
                  'storageclass.storage.k8s.io "missing-class" not found')

    def play(job):
        obj = unschedulable("p1", "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.")
        obj["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
        after(0.1, api.put_pod, job, "p1", **{})
        after(0.2, lambda: (api.pods.__setitem__("p1", dict(obj, metadata=dict(api.pods["p1"]["metadata"]))),
                            api._change("pods", "MODIFIED", api.pods["p1"])))

    api.on_create = play
    with pytest.raises(JobFailed) as err:
        runner(api, pod_failure_grace=1).present(MANIFEST, DIGEST)
    assert err.value.result["reason"] == "UnboundPersistentVolumeClaim"
    assert err.value.msg == (f"job {NS}/{NAME} failed: UnboundPersistentVolumeClaim: pod p1 unschedulable for 1 s "
                             "(pod_failure_grace 1 s): 0/3 nodes are available: pod has unbound immediate "
                             "PersistentVolumeClaims.; PersistentVolumeClaim data is Pending (storageClassName "
                             "'missing-class', requests 1Gi)")
    assert ("PersistentVolumeClaim/data", "ProvisioningFailed") in [(e["object"], e["reason"]) for e in err.value.result["events"]]


def test_failed_create_fails_after_the_grace_unless_a_pod_gets_created():
    state = synced(running_job())
    state.apply(Update("sync", "events", items=[]), 0.0)
    sa = 'Error creating: pods "x-" is forbidden: error looking up service account demo1/default: serviceaccount "default" not found'
    failed = {"metadata": {"name": "e1", "resourceVersion": "5"}, "involvedObject": {"uid": "u1"}, "reason": "FailedCreate",
              "message": sa}
    state.apply(Update("event", "events", type="ADDED", obj=failed), 1.0)
    assert evaluate(state, 5.9, 5) is None and state.next_deadline(5) == 6.0
    created = {"metadata": {"name": "e2", "resourceVersion": "6"}, "involvedObject": {"uid": "u1"}, "reason": "SuccessfulCreate"}
    state.apply(Update("event", "events", type="ADDED", obj=created), 2.0)  # the ServiceAccount appeared
    assert evaluate(state, 100.0, 5) is None and state.create_failure is None
    state.apply(Update("event", "events", type="MODIFIED", obj=dict(failed, metadata={"name": "e1", "resourceVersion": "7"})), 3.0)
    verdict = evaluate(state, 8.0, 5)
    assert (verdict.reason, verdict.message) == ("FailedCreate", "the Job controller cannot create its pods (FailedCreate "
                                                 f"for 5 s, pod_failure_grace 5 s): {sa}")
    # a pod that runs means progress (a quota reached by the second pod of a parallel Job)
    state.apply(Update("event", "pods", type="ADDED", obj=pod(phase="Running", running=True)), 8.0)
    assert evaluate(state, 100.0, 5) is None
    other = dict(failed, involvedObject={"uid": "an-older-job"}, metadata={"name": "e9", "resourceVersion": "9"})
    fresh = synced(running_job())
    fresh.apply(Update("sync", "events", items=[other]), 0.0)
    assert fresh.create_failure is None


def test_pod_security_violation_fails_at_once():
    api = FakeApi()
    message = ('Error creating: pods "x-abcde" is forbidden: violates PodSecurity "restricted:latest": '
               'allowPrivilegeEscalation != false (container "init" must set securityContext.allowPrivilegeEscalation=false)')
    api.on_create = lambda job: after(0.1, api.job_event, "FailedCreate", message)
    start = time.monotonic()
    with pytest.raises(JobFailed) as err:
        runner(api, timeout=60, pod_failure_grace=30).present(MANIFEST, DIGEST)
    assert time.monotonic() - start < 5
    assert err.value.result["reason"] == "FailedCreate"
    assert err.value.msg == f"job {NS}/{NAME} failed: FailedCreate: the Job controller cannot create its pods: {message}"
    assert [(e["object"], e["reason"]) for e in err.value.result["events"]] == [(f"Job/{NAME}", "FailedCreate")]


def test_a_failure_waits_a_moment_for_its_event():
    """The Job controller records BackoffLimitExceeded just after it sets the Failed condition: the report waits
    for that event (at most EVENT_SETTLE seconds), so it is among the events returned."""
    api = FakeApi()

    def play(job):
        after(0.2, api.set_status, NAME, conditions=finished("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"))
        after(0.5, api.job_event, "BackoffLimitExceeded", "Job has reached the specified backoff limit")

    api.on_create = play
    with pytest.raises(JobFailed) as err:
        runner(api, timeout=60).present(MANIFEST, DIGEST)
    assert [e["reason"] for e in err.value.result["events"]] == ["BackoffLimitExceeded"]
    late = FakeApi()
    late.on_create = lambda job: after(0.2, late.set_status, NAME, conditions=finished("Failed", "DeadlineExceeded"))
    start = time.monotonic()
    with pytest.raises(JobFailed) as err:
        runner(late, timeout=60).present(MANIFEST, DIGEST)  # no event ever: reported after the settling second
    assert 1.0 <= time.monotonic() - start and err.value.result["reason"] == "DeadlineExceeded"
