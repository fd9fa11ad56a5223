# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""k8s_job: manifest loading and validation, the manifest hash, and what to do with an existing Job."""

from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import (
    ANNOTATION,
    ManifestError,
    annotated,
    decide,
    manifest_hash,
    pod_selector,
    prepare_manifest,
    validate_target,
)

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "test-dp-ring1-init", "namespace": "demo1"},
    "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "init", "image": "ds:1"}]}}},
}


def prepare(definition=None, **kwargs):
    return prepare_manifest(definition, yaml_load_all=yaml.safe_load_all, **kwargs)


def test_dict_definition_is_taken_as_is_with_server_fields_dropped():
    exported = copy.deepcopy(JOB)
    exported["metadata"].update(uid="u", resourceVersion="7", creationTimestamp="t", managedFields=[{}],
                                annotations={ANNOTATION: "old"})
    exported["status"] = {"succeeded": 1}
    assert prepare(exported) == JOB


def test_yaml_text_and_several_documents_in_a_file(tmp_path):
    assert prepare(yaml.safe_dump(JOB)) == JOB
    src = tmp_path / "job.yaml"
    src.write_text(yaml.safe_dump_all([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}, None, JOB]))
    assert prepare(src=str(src)) == JOB


@pytest.mark.parametrize(
    "documents, message",
    [
        ([], "src (JOB): holds no document"),
        ([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}], "src (JOB): kind must be Job, got 'Deployment'"),
        ([{"kind": "ConfigMap", "metadata": {"name": "a"}}, {"kind": "Secret", "metadata": {"name": "b"}}],
         "holds no batch/v1 Job among its 2 documents (ConfigMap a, Secret b)"),
        ([JOB, dict(JOB, metadata={"name": "second"})], "holds 2 Jobs (test-dp-ring1-init, second); exactly one is expected"),
        ([dict(JOB, apiVersion="batch/v1beta1")], "apiVersion of the Job must be batch/v1, got 'batch/v1beta1'"),
        (["just text"], "every document must be a mapping"),
    ],
)
def test_src_must_hold_exactly_one_batch_v1_job(tmp_path, documents, message):
    src = tmp_path / "job.yaml"
    src.write_text(yaml.safe_dump_all(documents))
    with pytest.raises(ManifestError) as err:
        prepare(src=str(src))
    assert message.replace("JOB", str(src)) in str(err.value)


def test_unreadable_or_invalid_yaml_names_the_option(tmp_path):
    with pytest.raises(ManifestError, match=r"^src \(/nonexistent/job.yaml\): cannot read it"):
        prepare(src="/nonexistent/job.yaml")
    with pytest.raises(ManifestError, match="^definition: not valid YAML"):
        prepare("kind: Job\n  bad: [")
    with pytest.raises(ManifestError, match="^definition: must be a Job manifest"):
        prepare(42)


@pytest.mark.parametrize(
    "name, message",
    [
        ("Ring1_Init", "'Ring1_Init' is not a valid Job name"),
        ("x" * 64, "at most 63"),
        ("-init", "DNS-1123"),
    ],
)
def test_job_names_must_be_dns_1123(name, message):
    with pytest.raises(ManifestError, match="definition: metadata.name: ") as err:
        prepare(dict(JOB, metadata={"name": name}))
    assert message in str(err.value)
    with pytest.raises(ManifestError, match="^name: "):
        prepare(JOB, name=name)


def test_name_generate_name_and_template_checks():
    with pytest.raises(ManifestError, match="metadata.name is required"):
        prepare(dict(JOB, metadata={}))
    with pytest.raises(ManifestError, match="generateName is not supported"):
        prepare(dict(JOB, metadata={"generateName": "init-"}))
    with pytest.raises(ManifestError, match=r"spec.template \(the pod template\) is required"):
        prepare(dict(JOB, spec={"backoffLimit": 1}))
    assert prepare(dict(JOB, metadata={"generateName": "x-"}), name="fixed")["metadata"] == {"name": "fixed", "namespace": "default"}


def test_namespace_option_and_manifest_must_agree():
    assert prepare(JOB, namespace="demo1")["metadata"]["namespace"] == "demo1"
    assert prepare(dict(JOB, metadata={"name": "a"}), namespace="demo2")["metadata"]["namespace"] == "demo2"
    assert prepare(dict(JOB, metadata={"name": "a"}))["metadata"]["namespace"] == "default"
    with pytest.raises(ManifestError, match="^namespace: 'other' differs from the manifest's metadata.namespace 'demo1' in definition"):
        prepare(JOB, namespace="other")
    with pytest.raises(ManifestError, match="^namespace: 'Bad_NS' is not a valid namespace"):
        prepare(dict(JOB, metadata={"name": "a"}), namespace="Bad_NS")


def test_name_override_and_target_without_manifest():
    assert prepare(JOB, name="ring2-init")["metadata"]["name"] == "ring2-init"
    assert validate_target("migrate", None) == ("migrate", "default")
    with pytest.raises(ManifestError, match="^name: "):
        validate_target("Bad", "x")


def test_hash_is_canonical_and_ignores_its_own_annotation():
    reordered = {"spec": copy.deepcopy(JOB["spec"]), "kind": "Job", "metadata": {"namespace": "demo1", "name": "test-dp-ring1-init"},
                 "apiVersion": "batch/v1"}
    digest = manifest_hash(JOB)
    assert len(digest) == 64 and manifest_hash(reordered) == digest
    assert manifest_hash(annotated(JOB, digest)) == digest
    body = annotated(JOB, digest)
    assert body["metadata"]["annotations"] == {ANNOTATION: digest} and "annotations" not in JOB["metadata"]
    changed = copy.deepcopy(JOB)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "ds:2"
    assert manifest_hash(changed) != digest
    labelled = copy.deepcopy(JOB)
    labelled["metadata"]["labels"] = {"ring": "1"}
    assert manifest_hash(labelled) != digest


def _existing(digest=None, conditions=(), deleting=False):
    job = copy.deepcopy(JOB)
    job["metadata"]["uid"] = "u1"
    if digest is not None:
        job["metadata"]["annotations"] = {ANNOTATION: digest}
    if deleting:
        job["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    job["status"] = {"conditions": [dict(c, status="True") for c in conditions]}
    return job


COMPLETE = {"type": "Complete"}
FAILED = {"type": "Failed", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}


@pytest.mark.parametrize(
    "existing, rerun, action, delete, why",
    [
        (None, False, "create", False, "it does not exist"),
        (_existing("H", [COMPLETE]), False, "unchanged", False, "already succeeded"),
        (_existing("H", [COMPLETE]), True, "recreate", True, "rerun requested"),
        (_existing("OTHER", [COMPLETE]), False, "recreate", True, "the manifest changed"),
        (_existing(None, [COMPLETE]), False, "recreate", True, "no datasurface.yellow/manifest-sha256 annotation"),
        (_existing("H", [FAILED]), False, "recreate", True, "failed (BackoffLimitExceeded: Job has reached"),
        (_existing("H", [{"type": "FailureTarget", "reason": "DeadlineExceeded"}]), False, "recreate", True, "DeadlineExceeded"),
        (_existing("H", []), False, "wait", False, "still running"),
        (_existing("H", [{"type": "SuccessCriteriaMet"}]), False, "wait", False, "still running"),
        (_existing("H", []), True, "recreate", True, "rerun"),
        (_existing("H", [COMPLETE], deleting=True), False, "unchanged", False, "already succeeded with the same manifest (the Job is being"),
        (_existing("H", [COMPLETE], deleting=True), True, "create", False, "being deleted"),
        (_existing("OTHER", [COMPLETE], deleting=True), False, "create", False, "being deleted"),
        (_existing("H", [], deleting=True), False, "create", False, "being deleted"),
    ],
)
def test_decide(existing, rerun, action, delete, why):
    decision = decide(existing, "H", rerun)
    assert (decision.action, decision.delete) == (action, delete)
    assert decision.wait_gone == (existing is not None and action in ("recreate", "create"))
    assert why in decision.why


@pytest.mark.parametrize(
    "record, rerun, action, why",
    [
        ({"sha256": "H", "uid": "u0", "completionTime": "2026-01-01T00:00:05Z"}, False, "unchanged",
         "already succeeded with the same manifest at 2026-01-01T00:00:05Z (Job uid u0, recorded in ConfigMap "
         "datasurface-yellow-k8s-job-records; the Job itself is gone)"),
        ({"sha256": "H", "uid": "u0", "completionTime": "2026-01-01T00:00:05Z"}, True, "create", "it does not exist (rerun requested)"),
        ({"sha256": "OTHER", "uid": "u0"}, False, "create", "its last success was with another manifest, sha256 OTHER -> H"),
        (None, False, "create", "it does not exist"),
    ],
)
def test_decide_without_a_job_follows_the_success_record(record, rerun, action, why):
    decision = decide(None, "H", rerun, record)
    assert (decision.action, decision.delete, decision.wait_gone) == (action, False, False)
    assert why in decision.why


def test_pod_selector_prefers_the_batch_label():
    job = _existing("H")
    assert pod_selector(job) == "batch.kubernetes.io/controller-uid=u1"
    job["spec"]["template"]["metadata"] = {"labels": {"controller-uid": "u1"}}  # a server before 1.27
    assert pod_selector(job) == "controller-uid=u1"
    job["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] = "u1"
    assert pod_selector(job) == "batch.kubernetes.io/controller-uid=u1"
