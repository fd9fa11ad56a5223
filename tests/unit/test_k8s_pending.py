# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""k8s_pending: which definitions kubernetes.core.k8s would change, from k8s_read answers. An object the cluster
holds as wanted (server defaults and extra fields beside it) is left out; a missing one, a changed value, key or list,
a refused read and, for applied objects, a last-applied configuration that is not this definition keep it pending.
The real API server's objects go through it in the lab (tests/lab, a second site.yml run with changed=0)."""

from __future__ import annotations

import copy
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datasurface.yellow.plugins.filter.k8s import LAST_APPLIED, k8s_pending

SECRET = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
          "metadata": {"name": "postgres", "namespace": "ns", "labels": {"app.kubernetes.io/part-of": "datasurface-yellow"}},
          "data": {"USER": "dXNlcg==", "PASSWORD": "cHc="}}
ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "secret-reader", "namespace": "ns"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["postgres"], "verbs": ["get"]}]}


def live(obj, **extra_metadata):
    """The object as the server returns it: uid, resourceVersion, managedFields and the like beside it."""
    out = copy.deepcopy(obj)
    out["metadata"].update({"uid": "1", "resourceVersion": "7", "creationTimestamp": "2026-12-04T00:00:00Z",
                            "managedFields": [{"manager": "OpenAPI-Generator"}]}, **extra_metadata)
    return out


def answer(*objects, failed=False):
    if failed:
        return {"failed": True, "msg": "secrets is forbidden", "query": {"kind": "Secret"}}
    return {"api_found": True, "resources": list(objects), "query": {"kind": "any"}}


def test_held_objects_are_left_out_missing_ones_stay_in_order():
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "ns"},
          "imagePullSecrets": [{"name": "dockerhub-creds"}]}
    answers = [answer(live(SECRET)), answer(live(ROLE)), answer()]
    assert k8s_pending([SECRET, sa, ROLE], answers) == [sa]


def test_server_defaults_and_extra_keys_do_not_make_it_pending():
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "dags", "namespace": "ns"},
           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    served = live(pvc, labels={"added": "by-someone"})
    served["spec"].update(volumeMode="Filesystem", storageClassName="local-path", volumeName="pvc-1")
    served["status"] = {"phase": "Bound"}
    assert k8s_pending([pvc], [answer(served)]) == []


@pytest.mark.parametrize("change", [
    lambda o: o["data"].update(PASSWORD="b3RoZXI="),      # a value changed
    lambda o: o["data"].pop("USER"),                        # a key removed
    lambda o: o["metadata"]["labels"].clear(),              # a label removed
    lambda o: o.update(type="kubernetes.io/basic-auth"),    # the (immutable) type: apply reports the server's error
])
def test_a_difference_keeps_the_secret_pending(change):
    served = live(SECRET)
    change(served)
    assert k8s_pending([SECRET], [answer(served)]) == [SECRET]


@pytest.mark.parametrize("rules", [
    [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["postgres", "git"], "verbs": ["get"]}],  # longer list
    [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [], "verbs": ["get"]}],                  # shorter list
    [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["postgres"], "verbs": ["get"]}, {"apiGroups": ["x"]}],
    [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],                                          # a key gone
    [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["postgres"], "verbs": ["get"]}],
])
def test_a_list_holds_as_many_items_each_holding_the_wanted_one(rules):
    served = live(ROLE)
    served["rules"] = rules
    assert k8s_pending([ROLE], [answer(served)]) == [ROLE]


def test_mappings_inside_lists_may_hold_server_defaults():
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "mcp", "namespace": "ns"},
               "spec": {"selector": {"app": "mcp"}, "ports": [{"name": "http", "port": 8000}]}}
    served = live(service)
    served["spec"].update(clusterIP="10.96.0.9", type="ClusterIP", sessionAffinity="None")
    served["spec"]["ports"][0].update(protocol="TCP", targetPort=8000)
    assert k8s_pending([service], [answer(served)]) == []
    served["spec"]["ports"][0]["port"] = 8001
    assert k8s_pending([service], [answer(served)]) == [service]


def test_objects_are_matched_by_group_kind_namespace_and_name():
    other_ns = live(SECRET)
    other_ns["metadata"]["namespace"] = "other"
    configmap = live(SECRET)
    configmap["kind"] = "ConfigMap"
    other_group = live(ROLE)
    other_group["apiVersion"] = "example.com/v1"
    assert k8s_pending([SECRET, ROLE], [answer(other_ns, configmap, other_group)]) == [SECRET, ROLE]
    # The version within a group does not matter: the server serves the same object at each.
    moved = live(ROLE)
    moved["apiVersion"] = "rbac.authorization.k8s.io/v1beta1"
    assert k8s_pending([ROLE], [answer(moved)]) == []


def test_a_refused_read_holds_nothing():
    assert k8s_pending([SECRET], [answer(failed=True)]) == [SECRET]


def test_applied_objects_need_this_definition_as_last_applied_configuration():
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}, "data": {"a": "1"}}
    same = live(config, annotations={LAST_APPLIED: json.dumps(config, sort_keys=True)})
    assert k8s_pending([config], [answer(same)], True) == []
    # Without the annotation (created by something else) or with an older configuration (a key since dropped from
    # the definition would be removed by the three-way patch), apply has work to do.
    assert k8s_pending([config], [answer(live(config))], True) == [config]
    older = dict(config, data={"a": "1", "b": "2"})
    served = live(older, annotations={LAST_APPLIED: json.dumps(older)})
    assert k8s_pending([config], [answer(served)], True) == [config]
    broken = live(config, annotations={LAST_APPLIED: "{not json"})
    assert k8s_pending([config], [answer(broken)], True) == [config]
    # Not applied: the annotation does not matter.
    assert k8s_pending([config], [answer(served)]) == []


@pytest.mark.parametrize("definitions, answers, message", [
    ({"kind": "Secret"}, [], "the definitions must be a list"),
    ([SECRET], {"answers": []}, "the answers must be a list"),
    ([{"kind": "Secret", "metadata": {}}], [], "definition 0 has no kind or metadata.name"),
])
def test_bad_input_is_one_clear_error(definitions, answers, message):
    with pytest.raises(AnsibleFilterError, match=message):
        k8s_pending(definitions, answers)
