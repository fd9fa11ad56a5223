# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""k8s_job's state machine: stuck-pod grace, verdicts, timeout descriptions, and JobRunner against a fake API
(watch streams from an in-memory history, 410 Gone on demand)."""

from __future__ import annotations

import copy
import itertools
import threading
import time

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import K8sApiError
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import (
    ANNOTATION,
    JobFailed,
    JobRunner,
    JobState,
    Update,
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
        self.calls = []
        self.on_create = None
        self.uids = itertools.count(1)

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
            self._change("pods", "DELETED", self.pods.pop(pod_name))
        self._change("job", "DELETED", job)
        return True

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

    def list_events(self, namespace, field_selector):
        fields = dict(part.split("=", 1) for part in field_selector.split(","))
        return [e for e in self.events if e["involvedObject"]["kind"] == fields["involvedObject.kind"]
                and e["involvedObject"]["name"] == fields["involvedObject.name"]]

    def pod_log(self, namespace, name, container, tail_lines):
        if name not in self.logs:
            raise K8sApiError(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start')
        return self.logs[name]

    # playing the controller
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
    # again: unchanged, nothing created
    api.calls.clear()
    again = runner(api).present(MANIFEST, DIGEST)
    assert (again["changed"], again["action"], again["result"]) == (False, "unchanged", "succeeded")
    assert api.calls == [("get_job", NAME)]


def test_failed_condition_ends_the_wait_at_once_with_logs_and_events():
    api = FakeApi()

    def play(job):
        api.put_pod(job, "p1", phase="Running", running=True)
        api.logs["p1"] = "".join(f"line {i}\n" for i in range(100))
        api.events.append({"involvedObject": {"kind": "Job", "name": NAME, "uid": job["metadata"]["uid"]}, "type": "Warning",
                           "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit",
                           "lastTimestamp": "2026-01-01T00:00:02Z"})
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
    assert all(c[0] == "get_job" for c in api.calls)


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
    assert sum(1 for c in api.calls if c[0] == "list_jobs") >= 2


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
