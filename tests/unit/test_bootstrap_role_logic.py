# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The bootstrap role's decisions: input checks, objects to apply (never Helm's), job order."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.datasurface.yellow.plugins.plugin_utils.bootstrap import apply_plan, job_plan, missing_jobs, select_resources
from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import bootstrap_problems

TOKEN = "ghp_n0t-in-messages"

GOOD: dict[str, Any] = {
    "yellow_bootstrap_namespace": "demo1",
    "yellow_bootstrap_workdir": "/home/ops/.cache/datasurface-yellow/demo1",
    "yellow_bootstrap_model_repo": "https://github.com/example-org/model.git",
    "yellow_bootstrap_model_version": "v1.2.0",
    "yellow_bootstrap_model_subdir": "",
    "yellow_bootstrap_git_username": "ops",
    "yellow_bootstrap_git_token": TOKEN,
    "yellow_bootstrap_psp": "Test_DP",
    "yellow_bootstrap_rte_name": "prod",
    "yellow_bootstrap_ring_level": 0,
    "yellow_bootstrap_runner": "container",
    "yellow_bootstrap_image": "docker.io/datasurface/datasurface:v1.1.0",
    "yellow_bootstrap_dag_repo": "https://github.com/example-org/dags.git",
    "yellow_bootstrap_dag_branch": "main",
    "yellow_bootstrap_dag_path": "dags",
    "yellow_bootstrap_jobs": ["ring1_init", "model_merge", "reconcile_views"],
    "yellow_bootstrap_rerun": [],
    "yellow_bootstrap_rerun_on_model_change": ["model_merge"],
    "yellow_bootstrap_apply_name_patterns": ["-mcp(-.*)?$"],
}


def test_good_inputs_have_no_problems() -> None:
    assert bootstrap_problems(GOOD) == []
    assert bootstrap_problems(dict(GOOD, yellow_bootstrap_git_username=None, yellow_bootstrap_git_token=None,
                                   yellow_bootstrap_rte_name=None, yellow_bootstrap_runner="python")) == []


@pytest.mark.parametrize("key,value,expected", [
    ("yellow_bootstrap_namespace", "Demo_1", "yellow_bootstrap_namespace: 'Demo_1' is not a DNS-1123 label"),
    ("yellow_bootstrap_workdir", "relative/dir", "yellow_bootstrap_workdir: 'relative/dir' must be an absolute path"),
    ("yellow_bootstrap_model_repo", None, "yellow_bootstrap_model_repo: must be a git remote URL"),
    ("yellow_bootstrap_model_version", "", "yellow_bootstrap_model_version: '' must be a git ref"),
    ("yellow_bootstrap_model_version", "--upload-pack=x", "yellow_bootstrap_model_version: '--upload-pack=x' must be a git ref"),
    ("yellow_bootstrap_dag_repo", "github.com/o/d", "yellow_bootstrap_dag_repo: 'github.com/o/d' is not a git remote URL"),
    ("yellow_bootstrap_dag_path", "../outside", "yellow_bootstrap_dag_path: '../outside' must be a path inside the repository"),
    ("yellow_bootstrap_model_subdir", "/abs", "yellow_bootstrap_model_subdir: '/abs' must be a path inside the repository"),
    ("yellow_bootstrap_git_token", None, "yellow_bootstrap_git_token: must be set with yellow_bootstrap_git_username"),
    ("yellow_bootstrap_psp", "Test DP", "yellow_bootstrap_psp: 'Test DP' must be the model's platform service provider name"),
    ("yellow_bootstrap_psp", "../x", "yellow_bootstrap_psp: '../x' must be the model's platform service provider name"),
    ("yellow_bootstrap_rte_name", "prod;rm", "yellow_bootstrap_rte_name: 'prod;rm' must be a runtime environment name"),
    ("yellow_bootstrap_ring_level", -1, "yellow_bootstrap_ring_level: -1 must be 0 or a positive number"),
    ("yellow_bootstrap_runner", "docker", "yellow_bootstrap_runner: 'docker' is not one of container, python"),
    ("yellow_bootstrap_image", "", "yellow_bootstrap_image: must be set when yellow_bootstrap_runner is container"),
    ("yellow_bootstrap_jobs", [], "yellow_bootstrap_jobs: must not be empty"),
    ("yellow_bootstrap_jobs", ["ring1-init_job!"], "yellow_bootstrap_jobs[0]: 'ring1-init_job!' is neither a job role"),
    ("yellow_bootstrap_rerun", "model_merge", "yellow_bootstrap_rerun: must be a list"),
    ("yellow_bootstrap_apply_name_patterns", ["(unclosed"], "yellow_bootstrap_apply_name_patterns[0]: '(unclosed' is not a regular expression"),
])
def test_each_bad_input_is_named(key: str, value: Any, expected: str) -> None:
    problems = bootstrap_problems(dict(GOOD, **{key: value}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems
    assert TOKEN not in problems[0]


def test_the_entry_points_job_list_is_required() -> None:
    values = {k: v for k, v in GOOD.items() if k != "yellow_bootstrap_jobs"}
    assert bootstrap_problems(values) == []
    assert bootstrap_problems(dict(values, yellow_bootstrap_rerun_jobs=[]))[0].startswith("yellow_bootstrap_rerun_jobs: must not be empty")
    assert bootstrap_problems(dict(values, yellow_bootstrap_rerun_jobs=["test-dp-ring1-init", "model_merge"])) == []


DOCS = [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "test-dp-sa", "namespace": "demo1"}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "git-cache-pvc"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "airflow-config", "namespace": "demo1"}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "airflow-scheduler", "namespace": "demo1"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "airflow-webserver-service", "namespace": "demo1"}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "test-dp-mcp", "namespace": "demo1"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "test-dp-mcp", "namespace": "demo1"}},
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "test-dp-ring1-init", "namespace": "demo1"}},
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"}},
    None,
]


def test_select_resources_keeps_what_the_jobs_need_and_the_mcp_server() -> None:
    selected = select_resources(DOCS, ["ServiceAccount", "PersistentVolumeClaim", "ConfigMap", "StorageClass"], ["-mcp(-.*)?$"], "demo1")
    assert [(o["kind"], o["metadata"]["name"]) for o in selected] == [
        ("ServiceAccount", "test-dp-sa"), ("PersistentVolumeClaim", "git-cache-pvc"), ("ConfigMap", "airflow-config"),
        ("Deployment", "test-dp-mcp"), ("Service", "test-dp-mcp"), ("StorageClass", "fast"),
    ]
    assert selected[1]["metadata"]["namespace"] == "demo1"  # a namespaced object without one gets the platform's
    assert "namespace" not in selected[5]["metadata"]  # never for cluster-scoped kinds
    assert "namespace" not in DOCS[1]["metadata"]  # the input is not modified


def test_apply_plan_leaves_helm_owned_objects_alone() -> None:
    candidates = select_resources(DOCS, ["ServiceAccount", "ConfigMap"], [], "demo1")
    lookups = [
        {"resources": []},  # not there yet
        {"resources": [{"metadata": {"name": "airflow-config", "annotations": {"meta.helm.sh/release-name": "airflow"}}}]},
    ]
    plan = apply_plan(candidates, lookups)
    assert [o["metadata"]["name"] for o in plan["apply"]] == ["test-dp-sa"]
    assert plan["helm_owned"] == ["ConfigMap/airflow-config"]
    by_label = [{"resources": [{"metadata": {"labels": {"app.kubernetes.io/managed-by": "Helm"}}}]}, {"resources": []}]
    assert apply_plan(candidates, by_label)["helm_owned"] == ["ServiceAccount/test-dp-sa"]


JOBS = [
    {"name": "test-dp-reconcile-views-job", "role": "reconcile_views", "file": "/o/test_dp_reconcile_views_job.yaml"},
    {"name": "test-dp-model-merge-job", "role": "model_merge", "file": "/o/test_dp_model_merge_job.yaml"},
    {"name": "test-dp-ring1-init", "role": "ring1_init", "file": "/o/test_dp_ring1_init_job.yaml"},
]


def test_job_plan_follows_the_order_not_the_files() -> None:
    plan = job_plan(JOBS, ["ring1_init", "model_merge", "reconcile_views"])
    assert [j["name"] for j in plan] == ["test-dp-ring1-init", "test-dp-model-merge-job", "test-dp-reconcile-views-job"]
    assert [j["name"] for j in job_plan(JOBS, ["test-dp-model-merge-job", "model_merge", "ring1_init"])] == [
        "test-dp-model-merge-job", "test-dp-ring1-init"]


def test_missing_jobs_are_reported_not_invented() -> None:
    older = [job for job in JOBS if job["role"] != "model_merge"]
    assert [j["role"] for j in job_plan(older, ["ring1_init", "model_merge", "reconcile_views"])] == ["ring1_init", "reconcile_views"]
    assert missing_jobs(older, ["ring1_init", "model_merge", "test-dp-ring1-init"]) == ["model_merge"]
