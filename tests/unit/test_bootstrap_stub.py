# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The stand-in generator (tests/generator_stub) keeps the real generator's contract: file names and
layout, valid Kubernetes manifests with the real names, deterministic output that follows the model,
--rte-name and --ringLevel, the legacy command line, unknown PSP, a model that does not load, and the
working-directory eco.py trap."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

STUB = Path(__file__).resolve().parents[1] / "generator_stub"
MODEL = STUB / "model"
FILES = ["kubernetes-bootstrap.yaml", "test_dp_infrastructure_dag.py", "test_dp_model_merge_job.yaml",
         "test_dp_reconcile_views_job.yaml", "test_dp_ring1_init_job.yaml"]


def run_stub(tmp_path: Path, *extra: str, model: Path = MODEL, cwd: Path | None = None, legacy: bool = False,
             psp: str = "Test_DP", ring_level: int = 0) -> tuple:
    output = tmp_path / "out"
    workdir = cwd or tmp_path / "cwd"
    workdir.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(STUB / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    if legacy:
        env["DATASURFACE_STUB_LEGACY"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "datasurface.cmd.platform", "generatePlatformBootstrap", "--ringLevel", str(ring_level),
         "--model", str(model), "--output", str(output), "--psp", psp, *extra],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=False)
    files = {}
    if (output / psp).is_dir():
        files = {p.name: p.read_text() for p in sorted((output / psp).iterdir())}
    return result, files


def documents(text: str) -> list:
    return [d for d in yaml.safe_load_all(text) if d is not None]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    result, files = run_stub(tmp_path_factory.mktemp("stub"), "--rte-name", "prod")
    assert result.returncode == 0, result.stderr
    return files


def test_layout_and_file_names(generated):
    assert sorted(generated) == FILES


def test_every_document_is_valid_kubernetes(generated):
    count = 0
    for name, text in generated.items():
        if name.endswith(".yaml"):
            for document in documents(text):
                kubernetes_validate.validate(document, "1.32", strict=True)
                count += 1
    assert count == 14
    # strict=True does catch a mistake (so the loop above proves something)
    broken = documents(generated["test_dp_ring1_init_job.yaml"])[0]
    broken["spec"]["template"]["spec"]["containerz"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.32", strict=True)


def test_jobs_look_like_the_real_ones(generated):
    expected = {"test_dp_ring1_init_job.yaml": "test-dp-ring1-init", "test_dp_model_merge_job.yaml": "test-dp-model-merge-job",
                "test_dp_reconcile_views_job.yaml": "test-dp-reconcile-views-job"}
    for file_name, job_name in expected.items():
        [job] = documents(generated[file_name])
        assert (job["apiVersion"], job["kind"], job["metadata"]["name"], job["metadata"]["namespace"]) == (
            "batch/v1", "Job", job_name, "demo1")
        assert job["spec"]["backoffLimit"] == 3
        pod = job["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["image"] == "registry.example.invalid/datasurface/datasurface:v1.1.0"  # the model's
        assert pod["imagePullSecrets"] == [{"name": "dockerhub-creds"}]
        # The public generator 0.0.57's keys (tests/generator_stub/README.md), not invented ones.
        assert [(e["name"], e["valueFrom"]["secretKeyRef"]) for e in container["env"]] == [
            ("postgres_USER", {"name": "postgres", "key": "postgres_USER"}),
            ("postgres_PASSWORD", {"name": "postgres", "key": "postgres_PASSWORD"}),
            ("git_TOKEN", {"name": "git", "key": "token"}),
        ]
        assert container["envFrom"] == [{"configMapRef": {"name": "test-dp-logging-config"}}]
        assert pod["volumes"] == [{"name": "git-cache", "persistentVolumeClaim": {"claimName": "git-cache-pvc"}}]
        assert container["args"][-2:] == ["--rte-name", "prod"]
        # Not the image's working directory (the stand-in image's holds the poisoned eco.py).
        assert container["workingDir"] == "/cache/git-models"


def test_the_image_comes_from_the_model_else_the_real_default(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    text = (model / "eco.py").read_text()
    (model / "eco.py").write_text(text.replace('"registry.example.invalid/datasurface/datasurface:v1.1.0"', '"lab.invalid/ds/ds:lab-1"'))
    _result, files = run_stub(tmp_path / "a", model=model)
    assert documents(files["test_dp_ring1_init_job.yaml"])[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "lab.invalid/ds/ds:lab-1"
    bare = "\n".join(line for line in text.splitlines() if '"image' not in line) + "\n"
    (model / "eco.py").write_text(bare)
    _result, files = run_stub(tmp_path / "b", model=model)
    pod = documents(files["test_dp_ring1_init_job.yaml"])[0]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "datasurface/datasurface:latest" and "imagePullSecrets" not in pod


def test_bootstrap_manifest_resources(generated):
    found = [(d["kind"], d["metadata"]["name"]) for d in documents(generated["kubernetes-bootstrap.yaml"])]
    assert found == [
        ("ServiceAccount", "test-dp-sa"), ("Role", "test-dp-role"), ("RoleBinding", "test-dp-rolebinding"),
        ("PersistentVolumeClaim", "git-cache-pvc"), ("PersistentVolumeClaim", "test-dp-logs-pvc"),
        ("ConfigMap", "test-dp-logging-config"), ("Deployment", "test-dp-airflow-scheduler"),
        ("Deployment", "test-dp-airflow-webserver"), ("Service", "test-dp-airflow-webserver"),
        ("Deployment", "test-dp-mcp"), ("Service", "test-dp-mcp"),
    ]
    mcp = documents(generated["kubernetes-bootstrap.yaml"])[-1]
    assert mcp["spec"]["type"] == "NodePort" and mcp["spec"]["ports"][0]["port"] == 8000


def test_dag_is_python_and_follows_the_model(generated):
    dag = generated["test_dp_infrastructure_dag.py"]
    compile(dag, "test_dp_infrastructure_dag.py", "exec")
    assert "SCHEDULE = '@hourly'" in dag and "RTE_NAME = 'prod'" in dag and "RING_LEVEL = 0" in dag


def test_output_is_deterministic_and_follows_model_rte_name_and_ring_level(tmp_path, generated):
    _result, again = run_stub(tmp_path / "again", "--rte-name", "prod")
    assert again == generated
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    (model / "eco.py").write_text((model / "eco.py").read_text().replace('"@hourly"', '"@daily"'))
    _result, changed = run_stub(tmp_path / "daily", "--rte-name", "prod", model=model)
    assert [name for name in FILES if changed[name] != generated[name]] == ["test_dp_infrastructure_dag.py"]
    _result, other_rte = run_stub(tmp_path / "rte", "--rte-name", "staging")
    assert all(other_rte[name] != generated[name] for name in FILES)
    _result, no_rte = run_stub(tmp_path / "no-rte")
    assert "--rte-name" not in no_rte["test_dp_ring1_init_job.yaml"]
    _result, ring1 = run_stub(tmp_path / "ring1", "--rte-name", "prod", ring_level=1)
    assert "RING_LEVEL = 1" in ring1["test_dp_infrastructure_dag.py"]
    assert [name for name in FILES if ring1[name] != generated[name]] == ["kubernetes-bootstrap.yaml", "test_dp_infrastructure_dag.py"]


def test_legacy_mode_rejects_rte_name_and_has_no_model_merge_or_mcp(tmp_path):
    result, files = run_stub(tmp_path / "a", "--rte-name", "prod", legacy=True)
    assert result.returncode == 2 and files == {}
    assert "error: unrecognized arguments: --rte-name prod" in result.stderr
    result, files = run_stub(tmp_path / "b", legacy=True)
    assert result.returncode == 0
    assert sorted(files) == ["kubernetes-bootstrap.yaml", "test_dp_infrastructure_dag.py", "test_dp_reconcile_views_job.yaml",
                             "test_dp_ring1_init_job.yaml"]
    assert "test-dp-mcp" not in files["kubernetes-bootstrap.yaml"]


def test_unknown_psp_exits_0_and_writes_nothing(tmp_path):
    result, files = run_stub(tmp_path, psp="No_Such_PSP")
    assert result.returncode == 0 and files == {} and not (tmp_path / "out").exists()


def test_a_directory_that_is_not_a_model(tmp_path):
    (tmp_path / "notamodel").mkdir()
    (tmp_path / "notamodel" / "README.md").write_text("hello\n")
    result, files = run_stub(tmp_path, model=tmp_path / "notamodel")
    assert result.returncode == 1 and files == {}
    assert f"Failed to load ecosystem from {tmp_path / 'notamodel'}" in result.stderr
    assert result.stderr.rstrip().endswith("ModuleNotFoundError: No module named 'eco'")


def test_an_eco_py_in_the_working_directory_wins(tmp_path):
    """The trap the module must avoid: the stand-in reproduces it."""
    trap = tmp_path / "trap"
    trap.mkdir()
    shutil.copy(STUB / "workdir" / "eco.py", trap / "eco.py")
    result, files = run_stub(tmp_path, cwd=trap)
    assert result.returncode == 0
    assert "namespace: poisoned-by-cwd-eco" in files["test_dp_ring1_init_job.yaml"]
