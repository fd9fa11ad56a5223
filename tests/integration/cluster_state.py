# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The cluster admin's view of a test namespace on the lab's real control plane (tests/cluster): set-up and
assertions for the day-2 and verify tests, whose playbooks themselves run as the operator.

- ``Namespace``: kubectl as the admin in one namespace (apply, create, get -> None on NotFound, wait, rollout,
  ``snapshot()`` = every object with its uid and resourceVersion, to show that a refused run changed nothing).
- ``Watch``: every change of one kind as the API server's watch streams it, from a list made on entry, so a
  test sees the Jobs a playbook created, completed and deleted even when they are gone by the time it returns.
- ``usable_namespace``: wait until the namespace's controllers made it usable (a pod needs the ``default``
  ServiceAccount: a Job created before it exists gets FailedCreate).
"""

from __future__ import annotations

import json
import threading
import time

import yaml


class Namespace:
    """One test namespace seen by the cluster admin."""

    def __init__(self, cluster, name):
        self.cluster, self.name = cluster, name

    def kubectl(self, *args, input=None, check=True):  # pylint: disable=redefined-builtin
        return self.cluster.kubectl(*args, input=input, check=check)

    def apply(self, *docs):
        for doc in docs:
            doc.setdefault("metadata", {}).setdefault("namespace", self.name)
        self.cluster.apply(docs)

    def create(self, *docs):
        for doc in docs:
            doc.setdefault("metadata", {}).setdefault("namespace", self.name)
        self.kubectl("create", "-f", "-", input=yaml.safe_dump_all(docs))

    def delete(self, kind, name):
        self.kubectl("delete", kind, name, "-n", self.name, "--cascade=foreground", "--wait=true", "--timeout=120s")

    def get(self, kind, name):
        """The object as stored, or None when the API server says NotFound."""
        text = self.kubectl("get", kind, name, "-n", self.name, "-o", "json", "--ignore-not-found").stdout
        return json.loads(text) if text.strip() else None

    def items(self, kind, *args):
        return json.loads(self.kubectl("get", kind, "-n", self.name, "-o", "json", *args).stdout)["items"]

    def names(self, kind, *args):
        return sorted(item["metadata"]["name"] for item in self.items(kind, *args))

    def wait(self, *args, timeout="120s"):
        self.kubectl("wait", "-n", self.name, f"--timeout={timeout}", *args)

    def rollout(self, deployment):
        self.kubectl("rollout", "status", f"deployment/{deployment}", "-n", self.name, "--timeout=120s")

    @staticmethod
    def until(predicate, what, timeout=120):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"gave up waiting for {what}"
            time.sleep(0.2)

    def ready_endpoints(self, service):
        return sum(len(e.get("addresses") or []) for s in self.items("endpointslices", "-l", f"kubernetes.io/service-name={service}")
                   for e in s.get("endpoints") or [] if (e.get("conditions") or {}).get("ready"))

    def snapshot(self):
        """Every object of the namespace (but Events) with its uid and resourceVersion, and the namespace's own."""
        kinds = [k for k in self.kubectl("api-resources", "--namespaced=true", "--verbs=list", "-o", "name").stdout.split()
                 if k.split(".", 1)[0] != "events"]
        found = {(o["kind"], o["metadata"]["name"], o["metadata"]["uid"], o["metadata"]["resourceVersion"])
                 for o in self.items(",".join(kinds))}
        space = json.loads(self.kubectl("get", "namespace", self.name, "-o", "json").stdout)["metadata"]
        return found | {("Namespace", self.name, space["uid"], space["resourceVersion"])}


def usable_namespace(cluster, name):
    space = Namespace(cluster, name)
    space.until(lambda: space.get("serviceaccount", "default") and space.get("configmap", "kube-root-ca.crt"),
                "the ServiceAccount and root CA publisher controllers")
    return space


class Watch:
    """Every change of one kind in a namespace as the API server streams it (the admin's watch), in order.

    The watch starts from the resourceVersion of a list made on entry, so nothing that happens inside the
    ``with`` block is missed; on exit a last pass collects what happened up to that moment. ``kind``
    ``namespace`` watches the namespace object itself.
    """

    def __init__(self, space, kind):
        from kubernetes import client, config  # pylint: disable=import-outside-toplevel
        api = config.new_client_from_config(config_file=str(space.cluster.admin_kubeconfig))
        if kind == "namespace":
            core = client.CoreV1Api(api)
            self._list = lambda **kw: core.list_namespace(field_selector=f"metadata.name={space.name}", **kw)
        else:
            lister = {"jobs": client.BatchV1Api(api).list_namespaced_job,
                      "pods": client.CoreV1Api(api).list_namespaced_pod,
                      "configmaps": client.CoreV1Api(api).list_namespaced_config_map,
                      "deployments": client.AppsV1Api(api).list_namespaced_deployment,
                      "replicasets": client.AppsV1Api(api).list_namespaced_replica_set}[kind]
            self._list = lambda **kw: lister(space.name, **kw)
        self.events = []
        self._version = None
        self._error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._version = self._list().metadata.resource_version
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the watch did not end"
        assert self._error is None, f"the watch failed: {self._error}"

    def _run(self):
        from kubernetes import watch  # pylint: disable=import-outside-toplevel
        try:
            while True:
                last = self._stop.is_set()
                for event in watch.Watch().stream(self._list, resource_version=self._version, timeout_seconds=1):
                    obj = event["raw_object"]
                    self._version = obj["metadata"]["resourceVersion"]
                    self.events.append((event["type"], obj))
                if last:
                    return
        except Exception as exc:  # pylint: disable=broad-except
            self._error = exc

    def of(self, name):
        """(type, object) of every event of the object ``name``."""
        return [(kind, obj) for kind, obj in self.events if obj["metadata"]["name"] == name]

    def added(self, name):
        """The object as first created (its ADDED event), or None."""
        return next((obj for kind, obj in self.of(name) if kind == "ADDED"), None)

    def index(self, name, test):
        """Position of the first event of ``name`` whose object passes ``test``, or None."""
        return next((i for i, (_kind, obj) in enumerate(self.events) if obj["metadata"]["name"] == name and test(obj)), None)


def condition(obj, kind):
    """The status ("True", "False", ...) of the condition ``kind`` of an object, or None."""
    return next((c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c["type"] == kind), {}).get("status")


def complete(job):
    return condition(job, "Complete") == "True"
