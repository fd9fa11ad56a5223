# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The generator's contract read from the artifacts: what the generated Jobs and applied objects reference
(Secrets and their keys, ConfigMaps, volume claims, service accounts), what of it the cluster lacks with the
variable that would provide it, the images they run, and the moving-tag warning."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datasurface.yellow.plugins.filter import bootstrap as filters
from ansible_collections.datasurface.yellow.plugins.plugin_utils.bootstrap import (
    describe_missing, images, live_inventory, missing_references, moving_tag, moving_tag_warnings, object_inventory, references,
)

NS = "demo1"


def job(name: str, image: str = "datasurface/datasurface:latest", **pod) -> dict:
    """A Job as the public generator 0.0.57 writes it (keys token, postgres_USER, postgres_PASSWORD)."""
    spec = {
        "serviceAccountName": "airflow-service-account",
        "restartPolicy": "Never",
        "containers": [{
            "name": name, "image": image,
            "env": [
                {"name": "postgres_USER", "valueFrom": {"secretKeyRef": {"name": "postgres", "key": "postgres_USER"}}},
                {"name": "postgres_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "postgres", "key": "postgres_PASSWORD"}}},
                {"name": "git_TOKEN", "valueFrom": {"secretKeyRef": {"name": "git", "key": "token"}}},
                {"name": "PLAIN", "value": "x"},
            ],
            "volumeMounts": [{"name": "git-cache", "mountPath": "/cache/git-models"}],
        }],
        "volumes": [{"name": "git-cache", "persistentVolumeClaim": {"claimName": "git-cache-pvc"}}],
    }
    spec.update(pod)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS},
            "spec": {"backoffLimit": 3, "template": {"spec": spec}}}


JOBS = [job("test-dp-ring1-init"), job("test-dp-model-merge-job")]
APPLIED = [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "airflow-service-account", "namespace": NS}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "git-cache-pvc", "namespace": NS}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "test-dp-logging-config", "namespace": NS},
     "data": {"LEVEL": "INFO"}},
]


def secret(name: str, *keys: str, **extra) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS},
            "data": {key: "c2VjcmV0LXZhbHVl" for key in keys}, **extra}


def k8s_info_results(*objects: dict) -> list:
    """What a kubernetes.core.k8s_info loop over kinds registers (list calls return items without kind)."""
    results = []
    for kind in ("Secret", "ConfigMap", "PersistentVolumeClaim", "ServiceAccount"):
        items = [{k: v for k, v in o.items() if k != "kind"} for o in objects if o["kind"] == kind]
        results.append({"item": kind, "resources": items, "changed": False})
    return results


def test_references_collect_every_kind_once_with_their_users() -> None:
    refs = references(JOBS, NS)
    assert [(r["kind"], r["name"], r["key"]) for r in refs] == [
        ("Secret", "git", "token"), ("Secret", "postgres", "postgres_PASSWORD"), ("Secret", "postgres", "postgres_USER"),
        ("PersistentVolumeClaim", "git-cache-pvc", None), ("ServiceAccount", "airflow-service-account", None),
    ]
    assert refs[0]["used_by"] == ["Job/test-dp-ring1-init", "Job/test-dp-model-merge-job"]
    assert refs[0]["via"] == ["secretKeyRef"] and refs[0]["namespace"] == NS
    assert refs[3]["via"] == ["persistentVolumeClaim"] and refs[4]["via"] == ["serviceAccountName"]


def test_references_cover_envfrom_pull_secrets_volumes_init_containers_and_other_workloads() -> None:
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "test-dp-mcp"},  # no namespace: the platform's
        "spec": {"template": {"spec": {
            "imagePullSecrets": [{"name": "dockerhub-creds"}],
            "initContainers": [{"name": "init", "image": "busybox:1.36", "envFrom": [{"secretRef": {"name": "init-env"}}]}],
            "containers": [{"name": "mcp", "image": "ds:1",
                            "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "airflow-config", "key": "a"}}},
                                    {"name": "B", "valueFrom": {"secretKeyRef": {"name": "maybe", "key": "b", "optional": True}}},
                                    {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                            "envFrom": [{"configMapRef": {"name": "test-dp-logging-config"}},
                                        {"secretRef": {"name": "opt", "optional": True}}]}],
            "volumes": [{"name": "s", "secret": {"secretName": "tls", "items": [{"key": "tls.crt", "path": "c"}]}},
                        {"name": "c", "configMap": {"name": "scripts"}},
                        {"name": "p", "projected": {"sources": [{"secret": {"name": "proj", "items": [{"key": "k", "path": "k"}]}},
                                                                {"serviceAccountToken": {"path": "t"}}]}},
                        {"name": "e", "emptyDir": {}}],
        }}},
    }
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cleanup", "namespace": NS},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"serviceAccount": "cleaner", "containers": []}}}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {"selector": {"a": "b"}}}
    refs = references([deployment, cron, service, None, "text"], NS)
    assert [(r["kind"], r["name"], r["key"], r["via"]) for r in refs] == [
        ("Secret", "dockerhub-creds", None, ["imagePullSecrets"]), ("Secret", "init-env", None, ["secretRef"]),
        ("Secret", "proj", "k", ["projected secret"]), ("Secret", "tls", "tls.crt", ["volume secret"]),
        ("ConfigMap", "airflow-config", "a", ["configMapKeyRef"]), ("ConfigMap", "scripts", None, ["volume configMap"]),
        ("ConfigMap", "test-dp-logging-config", None, ["configMapRef"]),
        ("ServiceAccount", "cleaner", None, ["serviceAccountName"]),
    ]
    assert {r["namespace"] for r in refs} == {NS}


def test_before_the_fix_platform_prereqs_keys_miss_what_0_0_57_reads() -> None:
    """The cluster as platform_prereqs left it before (TOKEN, USER/PASSWORD): the 0.0.57 keys are missing."""
    live = live_inventory(k8s_info_results(secret("git", "TOKEN"), secret("postgres", "USER", "PASSWORD")), NS)
    missing = missing_references(references(JOBS, NS), live, object_inventory(APPLIED, NS))
    assert describe_missing(missing) == [
        "Secret git key token (the key is missing; used by Job/test-dp-ring1-init, Job/test-dp-model-merge-job) "
        "-> yellow_k8s_git_token (platform_prereqs)",
        "Secret postgres key postgres_PASSWORD (the key is missing; used by Job/test-dp-ring1-init, Job/test-dp-model-merge-job) "
        "-> yellow_k8s_postgres_password (platform_prereqs)",
        "Secret postgres key postgres_USER (the key is missing; used by Job/test-dp-ring1-init, Job/test-dp-model-merge-job) "
        "-> yellow_k8s_postgres_user (platform_prereqs)",
    ]


def test_both_spellings_and_applied_objects_leave_nothing_missing() -> None:
    live = live_inventory(k8s_info_results(
        secret("git", "token", "TOKEN"), secret("postgres", "USER", "PASSWORD", "postgres_USER", "postgres_PASSWORD")), NS)
    assert missing_references(references(JOBS, NS), live, object_inventory(APPLIED, NS)) == []
    # The newer private image's Jobs (USER/PASSWORD, TOKEN) are satisfied by the same Secrets.
    newer = copy.deepcopy(JOBS[0])
    env = newer["spec"]["template"]["spec"]["containers"][0]["env"]
    env[0]["valueFrom"]["secretKeyRef"]["key"], env[1]["valueFrom"]["secretKeyRef"]["key"] = "USER", "PASSWORD"
    env[2]["valueFrom"]["secretKeyRef"]["key"] = "TOKEN"
    assert missing_references(references([newer], NS), live, object_inventory(APPLIED, NS)) == []


def test_every_missing_one_is_listed_with_what_would_provide_it() -> None:
    extra = job("x", imagePullSecrets=[{"name": "dockerhub-creds"}, {"name": "vendor-pull"}])
    extra["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [
        {"configMapRef": {"name": "airflow-config"}}, {"secretRef": {"name": "sa"}}]
    extra["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "K", "valueFrom": {"secretKeyRef": {"name": "git", "key": "USERNAME"}}})
    generated = APPLIED + [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "airflow-config", "namespace": NS}}]
    live = live_inventory(k8s_info_results(secret("git", "token", "TOKEN")), NS)
    lines = describe_missing(missing_references(references([extra], NS), live, object_inventory([], NS),
                                                object_inventory(generated, NS)))
    assert lines == [
        "Secret dockerhub-creds (missing; used by Job/x) -> yellow_k8s_registry_server, yellow_k8s_registry_username and "
        "yellow_k8s_registry_password (platform_prereqs)",
        "Secret git key USERNAME (the key is missing; used by Job/x) -> platform_prereqs creates Secret git with the keys token, "
        "TOKEN only: a generator version this collection does not know reads this key; add it to the Secret yourself",
        "Secret postgres key postgres_PASSWORD (no Secret postgres; used by Job/x) -> yellow_k8s_postgres_password (platform_prereqs)",
        "Secret postgres key postgres_USER (no Secret postgres; used by Job/x) -> yellow_k8s_postgres_user (platform_prereqs)",
        "Secret sa (missing; used by Job/x) -> yellow_k8s_sqlserver_user and yellow_k8s_sqlserver_password "
        "(platform_prereqs creates Secret sa only when yellow_k8s_sqlserver_password is set)",
        "Secret vendor-pull (missing; used by Job/x) -> not created by this collection; create it or add it via yellow_k8s_secrets_extra",
        "ConfigMap airflow-config (missing; used by Job/x) -> described in kubernetes-bootstrap.yaml but not applied: "
        "add ConfigMap to yellow_bootstrap_apply_kinds",
        "PersistentVolumeClaim git-cache-pvc (missing; used by Job/x) -> described in kubernetes-bootstrap.yaml but not applied: "
        "add PersistentVolumeClaim to yellow_bootstrap_apply_kinds",
        "ServiceAccount airflow-service-account (missing; used by Job/x) -> described in kubernetes-bootstrap.yaml but not "
        "applied: add ServiceAccount to yellow_bootstrap_apply_kinds",
    ]


def test_a_configmap_key_must_exist_in_applied_or_live_objects() -> None:
    pod = job("y")
    pod["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "L", "valueFrom": {"configMapKeyRef": {"name": "test-dp-logging-config", "key": "LEVEL"}}},
        {"name": "F", "valueFrom": {"configMapKeyRef": {"name": "test-dp-logging-config", "key": "FORMAT"}}},
        {"name": "O", "valueFrom": {"configMapKeyRef": {"name": "other", "key": "k"}}}]
    live = live_inventory(k8s_info_results({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"},
                                            "binaryData": {"k": "AA=="}}), NS)
    lines = describe_missing(missing_references(references([pod], NS), live, object_inventory(APPLIED, NS)))
    assert lines == ["ConfigMap test-dp-logging-config key FORMAT (the key is missing; used by Job/y) -> "
                     "not created by this collection; create it in namespace demo1"]


def test_the_live_inventory_keeps_names_and_keys_never_values() -> None:
    results = k8s_info_results(secret("git", "token", stringData={"TOKEN": "plain-secret"}), *APPLIED)
    inventory = live_inventory(results, NS)
    assert inventory == {
        "Secret": {"demo1/git": ["TOKEN", "token"]}, "ConfigMap": {"demo1/test-dp-logging-config": ["LEVEL"]},
        "PersistentVolumeClaim": {"demo1/git-cache-pvc": []}, "ServiceAccount": {"demo1/airflow-service-account": []},
    }
    assert "c2VjcmV0LXZhbHVl" not in repr(inventory) and "plain-secret" not in repr(inventory)


def test_images_of_jobs_and_applied_objects() -> None:
    mcp = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "test-dp-mcp"},
           "spec": {"template": {"spec": {"initContainers": [{"name": "i", "image": "busybox:1.36"}],
                                          "containers": [{"name": "m", "image": "reg.example/ds:v1"}]}}}}
    assert images(JOBS + [mcp] + APPLIED) == ["busybox:1.36", "datasurface/datasurface:latest", "reg.example/ds:v1"]


@pytest.mark.parametrize("image, moving", [
    ("datasurface/datasurface:latest", True), ("datasurface/datasurface", True), ("10.89.40.5:5000/ds/ds", True),
    ("datasurface/datasurface:v1.1.0", False), ("ds/ds:latest@sha256:" + "a" * 64, False), ("ds/ds@sha256:" + "b" * 64, False),
    ("Not A Reference", False),
])
def test_moving_tag(image: str, moving: bool) -> None:
    assert moving_tag(image) is moving


def test_moving_tag_warning_only_when_the_inventory_pins_another_tag() -> None:
    pinned = job("z", image="10.89.40.5:5000/datasurface/datasurface:lab-1")
    docs = JOBS + [pinned, APPLIED[0]]
    warnings = moving_tag_warnings(docs, "v1.1.0")
    assert warnings == [
        f"Job/{name} runs datasurface/datasurface:latest (a moving tag) while the inventory pins yellow_datasurface_image_tag "
        "v1.1.0: the image pre-pulled for that tag is not the one this Job runs; set the image in the platform service "
        "provider of the model to the pinned tag" for name in ("test-dp-ring1-init", "test-dp-model-merge-job")]
    assert moving_tag_warnings(docs, "latest") == [] and moving_tag_warnings(docs, None) == [] and moving_tag_warnings(docs, "") == []
    assert moving_tag_warnings([pinned], "v1.1.0") == []


def test_filters_wrap_the_logic_and_refuse_bad_input() -> None:
    refs = filters.bootstrap_references(JOBS, NS)
    live = filters.bootstrap_live_inventory(k8s_info_results(secret("git", "TOKEN")), NS)
    lines = filters.bootstrap_missing_references(refs, live, APPLIED, APPLIED, NS)
    assert [line.split(" (")[0] for line in lines] == [
        "Secret git key token", "Secret postgres key postgres_PASSWORD", "Secret postgres key postgres_USER"]
    assert filters.bootstrap_images(JOBS) == ["datasurface/datasurface:latest"]
    assert len(filters.bootstrap_moving_tags(JOBS, "v2")) == 2
    names = filters.FilterModule().filters()
    for name in ("bootstrap_references", "bootstrap_live_inventory", "bootstrap_missing_references", "bootstrap_images",
                 "bootstrap_moving_tags"):
        assert name in names
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        filters.bootstrap_references({"kind": "Job"}, NS)
    with pytest.raises(AnsibleFilterError, match="live must be"):
        filters.bootstrap_missing_references(refs, [], APPLIED, APPLIED, NS)
