#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_job
short_description: Run a Kubernetes Job to completion and report how it ended
version_added: "0.1.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - Creates a C(batch/v1) Job and waits until it succeeds or fails, failing fast with the reason, the events of
    the Job and its pods and the last lines of each container's log, instead of sitting out a timeout the way
    C(kubectl wait --for=condition=complete) and M(kubernetes.core.k8s) do for a failed Job.
  - Idempotent through a hash of the manifest kept in the C(datasurface.yellow/manifest-sha256) annotation of
    the Job it creates. A Job with the same hash that succeeded is left alone (C(changed=false)). A Job with
    another hash or none (created by someone else), one that failed, or any Job when O(rerun=true), is deleted
    (C(propagationPolicy=Foreground)), waited for until it and its pods are gone, and created again. A Job with
    the same hash that is still running is waited on, not recreated.
  - The success outlives the Job. When the module sees a Job succeed it records, in the ConfigMap
    C(datasurface-yellow-k8s-job-records) of the Job's namespace (created by the module, owned by nobody, one
    key per Job name), the manifest hash, the Job's uid and its completion time. When the Job is gone (removed
    by the TTL-after-finished controller, C(spec.ttlSecondsAfterFinished), or by anyone) and the record holds
    the same hash, the run is C(changed=false) (RV(action=unchanged)) and nothing is created. O(rerun=true)
    ignores the record; creating a Job removes its name's record (a new instance must succeed to be recorded
    again); O(state=absent) removes it too. A success the module did not see (O(wait=false)) is not recorded.
    Writing the record of a Job that already succeeded does not count as a change. Without permission on that
    ConfigMap the module warns and works as if there were no record.
  - Before a Job is created (or created again) the module waits until no pod labelled C(job-name=<name>) is
    still terminating or running, so a Job deleted with C(Background) propagation whose pods still terminate is
    not overlapped by its successor.
  - Waiting uses the watch API (the Job, its pods and the Job's events, in three threads; a Job just created is
    watched from the resourceVersion of its creation, so a Job finished and deleted at once by a TTL of 0 is
    still seen to succeed). A C(Failed) or C(FailureTarget) condition ends the wait at once, whatever its reason
    (C(BackoffLimitExceeded), C(DeadlineExceeded)...; at most one second later when the Job controller's event for
    it is not recorded yet, so that it is among the RV(events)). These fail the run once they lasted
    O(pod_failure_grace) (each can be transient) - a container waiting in C(ImagePullBackOff),
    C(ErrImagePull), C(CrashLoopBackOff), C(CreateContainerConfigError) or C(CreateContainerError)
    (C(InvalidImageName) at once); a pod the scheduler cannot place (C(PodScheduled=False), reason
    C(Unschedulable), e.g. a nodeSelector no node matches; the scheduler retries, and a node may join), reported
    as RV(reason=UnboundPersistentVolumeClaim) with the claims' phase and events when one of its
    PersistentVolumeClaims is not bound; C(FailedCreate) events of the Job while none of its pods is pending or
    running (a missing ServiceAccount - the ServiceAccount controller creates C(default) a moment after the
    namespace -, an exceeded ResourceQuota; a Pod Security violation fails at once). An expired watch (410
    Gone) is answered by listing again.
  - O(state=absent) deletes the Job with its pods and waits until they are gone.
  - Authentication options and the C(K8S_AUTH_*) environment variables work as in M(kubernetes.core.k8s), in the
    same order (host with a token or client certificate, else the kubeconfig and its context, else a pod's service
    account). The module talks to the API with urllib3 and does not import the C(kubernetes) Python library, except
    for a kubeconfig user with an C(exec) credential plugin or an C(auth-provider), which kubernetes.core's client
    builder handles.
options:
  definition:
    description:
      - The Job manifest, as a dict or as YAML text (also a list of documents). With several documents exactly
        one must be a Job; the others are ignored (apply them with M(kubernetes.core.k8s)).
      - Mutually exclusive with O(src).
    type: raw
  src:
    description:
      - Path to a YAML file holding the Job manifest; it may hold several documents, exactly one of which must
        be a C(batch/v1) Job (the others are ignored).
      - Mutually exclusive with O(definition).
    type: path
  name:
    description:
      - Name of the Job. Overrides C(metadata.name) of the manifest (one template for several Jobs).
      - With O(state=absent) it is enough on its own (no manifest needed).
    type: str
  namespace:
    description:
      - Namespace of the Job when the manifest has no C(metadata.namespace); C(default) when neither says.
      - When both are set they must be equal.
    type: str
  state:
    description:
      - C(present) runs the Job to completion (see the description for when it is created or recreated).
      - C(absent) deletes it and its pods and waits until they are gone, and removes its success record.
    type: str
    choices: [present, absent]
    default: present
  rerun:
    description:
      - Delete and run the Job again even when it already succeeded with the same manifest (or its success record
        says so).
    type: bool
    default: false
  wait:
    description:
      - Wait until the Job succeeds or fails (or, with O(state=absent), until it is gone).
      - With C(false) the module returns once the Job is created (RV(result=running)). Replacing an existing
        Job always waits until the old one is gone.
    type: bool
    default: true
  timeout:
    description:
      - Overall limit in seconds for the whole call, waiting for a replaced Job to go included. On timeout the
        module fails, saying what state the Job and its pods were in.
    type: int
    default: 600
  pod_failure_grace:
    description:
      - Seconds a condition that can heal by itself may last before the Job is declared failed - a container in
        C(ImagePullBackOff), C(ErrImagePull), C(CrashLoopBackOff), C(CreateContainerConfigError) or
        C(CreateContainerError); a pod the scheduler reports C(Unschedulable) (an unbound PersistentVolumeClaim
        included); the Job controller failing to create pods (C(FailedCreate) events, no pod pending or running).
        C(InvalidImageName) and a Pod Security violation fail at once.
      - The Job is left as it is for inspection; a later run with the same manifest waits on it again, and
        O(rerun=true) replaces it.
    type: int
    default: 30
  log_lines:
    description: On failure or timeout, how many of the last lines of each container's log to return (C(0) for none).
    type: int
    default: 50
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - urllib3 (Python library)
  - kubernetes >= 24.2.0 (Python library), only for a kubeconfig user with an C(exec) plugin or C(auth-provider)
notes:
  - Validation happens before any cluster call. The manifest must be one C(batch/v1) Job with a DNS-1123 name of
    at most 63 characters (C(generateName) is not supported); the namespace options must agree.
  - The hash covers the manifest as submitted (after O(name) and O(namespace) are applied), so any change in
    it, even in a label, replaces the Job on the next run.
  - Pods are found by the C(batch.kubernetes.io/controller-uid) label (C(controller-uid) on servers before
    Kubernetes 1.27), falling back to C(job-name) plus the owner reference.
  - "RBAC the module needs in the namespace: C(batch/jobs) get, list, watch, create, delete; C(pods) list, watch;
    C(pods/log) get; C(events) list, watch; C(persistentvolumeclaims) get; C(configmaps) get, create, patch (the
    success records). C(playbooks/files/operator-rbac.yml) grants these."
attributes:
  check_mode:
    description:
      - Reports the action it would take (create, recreate, unchanged, wait, delete) without changing or waiting; it
        reads the Job and the success record, and writes nothing.
    support: full
  diff_mode:
    description: Not supported.
    support: none
seealso:
  - module: kubernetes.core.k8s
  - name: Kubernetes Jobs
    description: How Jobs run pods, and the Complete and Failed conditions.
    link: https://kubernetes.io/docs/concepts/workloads/controllers/job/
"""

EXAMPLES = r"""
- name: Initialise the ring-1 data platform (recreated only when the manifest changes)
  datasurface.yellow.k8s_job:
    kubeconfig: /etc/rancher/k3s/k3s.yaml
    namespace: demo1
    src: "{{ yellow_job_dir }}/ring1-init.yaml"
    timeout: 300
  register: ring1

- name: Run a migration job from an inline manifest, every time
  datasurface.yellow.k8s_job:
    rerun: true
    definition:
      apiVersion: batch/v1
      kind: Job
      metadata:
        name: migrate
        namespace: demo1
      spec:
        backoffLimit: 0
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: migrate
                image: registry.example.com/datasurface/datasurface:v1.2.3
                command: [python, -m, datasurface.migrate]

- name: Show why it failed
  ansible.builtin.debug:
    var: ring1.logs
  when: ring1 is failed

- name: Remove the job and its pods
  datasurface.yellow.k8s_job:
    name: migrate
    namespace: demo1
    state: absent
"""

RETURN = r"""
action:
  description:
    - What was done (in check mode, what would be done) - C(created), C(recreated), C(unchanged) (same manifest,
      already succeeded, the Job still there or only its success record; or still running with O(wait=false)),
      C(waited) (same manifest, still running, waited on), C(deleted), C(forgotten) (O(state=absent), no Job but a
      success record, now removed) or C(absent) (nothing to delete).
  returned: always
  type: str
  sample: recreated
result:
  description:
    - How the Job ended - C(succeeded), C(failed), C(timeout), C(running) (O(wait=false), or check mode on a
      running Job), C(absent) (O(state=absent)) or C(skipped) (check mode, would create, recreate or delete).
  returned: always
  type: str
  sample: succeeded
job:
  description: The Job's name, namespace and uid (null when there is no Job).
  returned: always
  type: dict
  sample: {"name": "test-dp-ring1-init", "namespace": "demo1", "uid": "0b5c7fd5-5f9e-4b4e-9a48-2f7a0c6f1d3e"}
duration:
  description: Wall time in seconds spent waiting for the Job (or, with O(state=absent), for it to go).
  returned: always
  type: float
  sample: 12.481
conditions:
  description: The Job's C(status.conditions) at the end.
  returned: always
  type: list
  elements: dict
  sample: [{"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-20T10:00:12Z"}]
pods:
  description: Names of the Job's pods, oldest first.
  returned: always
  type: list
  elements: str
  sample: [test-dp-ring1-init-x7k2p]
manifest_sha256:
  description: The hash of the manifest, as stored in the Job's C(datasurface.yellow/manifest-sha256) annotation.
  returned: when a Job was created or waited on
  type: str
record:
  description:
    - This Job name's success record in the ConfigMap C(datasurface-yellow-k8s-job-records) of its namespace - the
      one written when the Job succeeded, or the one read when the Job was unchanged (also in check mode).
  returned: when the Job succeeded or a record was found
  type: dict
  contains:
    sha256:
      description: The manifest hash the Job succeeded with.
      type: str
    uid:
      description: The uid of the Job instance that succeeded.
      type: str
    completionTime:
      description: When it completed (the Job's C(status.completionTime)).
      type: str
  sample: {"sha256": "4f0c...", "uid": "0b5c7fd5-5f9e-4b4e-9a48-2f7a0c6f1d3e", "completionTime": "2026-01-20T10:00:12Z"}
reason:
  description:
    - Why it failed - the reason of the Job's C(Failed) condition (C(BackoffLimitExceeded), C(DeadlineExceeded)...),
      the stuck container's waiting reason (C(ImagePullBackOff)...), C(Unschedulable), C(UnboundPersistentVolumeClaim),
      C(FailedCreate), C(Timeout), C(Deleted) or an API error reason.
  returned: failure
  type: str
  sample: BackoffLimitExceeded
events:
  description: Events of the Job, its pods and (for C(UnboundPersistentVolumeClaim)) the unbound claims, oldest first.
  returned: failure
  type: list
  elements: dict
  contains:
    type:
      description: C(Normal) or C(Warning).
      type: str
    reason:
      description: The event's reason.
      type: str
    message:
      description: The event's message.
      type: str
    object:
      description: C(Job/<name>), C(Pod/<name>) or C(PersistentVolumeClaim/<name>).
      type: str
    count:
      description: How many times it happened.
      type: int
    time:
      description: When it last happened.
      type: str
  sample: [{"type": "Warning", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit",
            "object": "Job/migrate", "count": 1, "time": "2026-01-20T10:00:12Z"}]
logs:
  description: The last O(log_lines) lines of each container's log, per pod and container.
  returned: failure
  type: dict
  sample: {"migrate-x7k2p": {"migrate": "connecting to postgres\nerror: password authentication failed"}}
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.yaml import HAS_YAML, yaml_load_all
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import (
    HAS_URLLIB3,
    URLLIB3_IMPORT_ERROR,
    ClientError,
    JobApi,
    K8sApiError,
    api_client,
)
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import (
    JobFailed,
    JobRunner,
    ManifestError,
    manifest_hash,
    prepare_manifest,
    validate_target,
)

ARGUMENT_SPEC = copy.deepcopy(AUTH_ARG_SPEC)
ARGUMENT_SPEC.update(
    definition=dict(type="raw"),
    src=dict(type="path"),
    name=dict(type="str"),
    namespace=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    rerun=dict(type="bool", default=False),
    wait=dict(type="bool", default=True),
    timeout=dict(type="int", default=600),
    pod_failure_grace=dict(type="int", default=30),
    log_lines=dict(type="int", default=50),
)


def _target(params):
    """(manifest, digest, name, namespace); the manifest and digest are None for state=absent with a name only."""
    if params["definition"] is None and params["src"] is None:
        name, namespace = validate_target(params["name"], params["namespace"])
        return None, None, name, namespace
    if (isinstance(params["definition"], str) or params["src"] is not None) and not HAS_YAML:
        raise ManifestError(missing_required_lib("PyYAML"))
    manifest = prepare_manifest(params["definition"], params["src"], params["name"], params["namespace"], yaml_load_all=yaml_load_all)
    return manifest, manifest_hash(manifest), manifest["metadata"]["name"], manifest["metadata"]["namespace"]


def _run(module, api, target):
    params = module.params
    manifest, digest, name, namespace = target
    runner = JobRunner(api, namespace, name, timeout=params["timeout"], pod_failure_grace=params["pod_failure_grace"],
                       log_lines=params["log_lines"])
    if params["state"] == "absent":
        return runner.absent(wait=params["wait"], check_mode=module.check_mode)
    return runner.present(manifest, digest, rerun=params["rerun"], wait=params["wait"], check_mode=module.check_mode)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("definition", "src")],
        required_one_of=[("definition", "src", "name")],
        required_if=[("state", "present", ("definition", "src"), True)],
        supports_check_mode=True,
    )
    params = module.params
    for option, minimum in (("timeout", 1), ("pod_failure_grace", 0), ("log_lines", 0)):
        if params[option] < minimum:
            module.fail_json(msg="%s: must be at least %d, got %d" % (option, minimum, params[option]))
    # Everything about the input is checked before the first cluster call.
    failure = None
    try:
        target = _target(params)
    except ManifestError as exc:
        failure = dict(msg=str(exc))
    if failure:
        module.fail_json(**failure)
    if not HAS_URLLIB3:
        module.fail_json(msg=missing_required_lib("urllib3"), exception=URLLIB3_IMPORT_ERROR)

    result = None
    try:
        result = _run(module, JobApi(api_client(params)), target)
    except ClientError as exc:
        failure = dict(msg=str(exc), changed=False)
    except JobFailed as exc:
        failure = dict(exc.result, msg=exc.msg)
    except K8sApiError as exc:
        failure = dict(msg="job %s/%s: %s" % (target[3], target[2], exc), reason=exc.reason or "ApiError", changed=False,
                       job=dict(name=target[2], namespace=target[3], uid=None))
    if failure:
        for warning in failure.pop("warnings", []):
            module.warn(warning)
        module.fail_json(**failure)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
