# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The airflow role's release: a real `helm upgrade --install --wait` against the real control plane.

The chart is tests/charts/airflow, the stand-in of the official chart 1.19.0 (the same objects for
the role's values; the official chart cannot be downloaded here). The API server, the controllers
(Deployment, StatefulSet, Job, PV binder, garbage collector) and the scheduler are real; the nodes
are KWOK's (pods become Ready, Job pods complete). The role runs as the operator identity in a
namespace of its own (fixture `k8s_namespace`). Asserted: every component Ready, the migrate and create-user Jobs
complete, the PVCs bound; a second run creates no Helm revision and recreates no pod; the key
Secrets are created once; Helm's failure is immediate and scrubbed; check mode writes nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tarfile
import urllib.parse
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = os.environ.get("YELLOW_HELM", str(ROOT / ".cache" / "bin" / "helm"))
CHART = ROOT / "tests" / "charts" / "airflow"
SECRETS = {"yellow_airflow_db_password": "db p@ss/w'rd 81aa", "yellow_airflow_redis_password": "redis pw 82bb",
           "yellow_airflow_admin_password": "admin pw 83cc"}
READY = "airflow: scheduler, worker, dag-processor, triggerer, api-server, redis Ready"
KEY_SECRETS = {"airflow-static-fernet-key": "fernet-key", "airflow-static-api-secret-key": "api-secret-key",
               "airflow-static-jwt-secret": "jwt-secret"}


@pytest.fixture
def namespace(k8s_namespace):
    """The release's namespace: a fresh one per test, operator granted in it (tests/cluster/fixtures.py)."""
    return k8s_namespace


def run(env, tmp_path, namespace, extra=None, check=False, kubeconfig=None):
    assert os.access(HELM, os.X_OK), f"no helm at {HELM} (tests/cluster/fetch_helm.sh)"
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    values = {"yellow_airflow_kubeconfig": str(kubeconfig or env["KUBECONFIG"]), "yellow_airflow_namespace": namespace,
              "yellow_airflow_helm_binary": HELM, "yellow_airflow_chart_ref": str(CHART),
              "yellow_airflow_git_repo": "https://example.org/dags.git", "yellow_airflow_db_host": "pg.example.org",
              "yellow_airflow_helm_timeout": "180s", "yellow_airflow_ready_timeout": 60, **SECRETS, **(extra or {})}
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump(values))
    path.chmod(0o600)
    result = subprocess.run(["ansible-playbook", "-v", *(["--check"] if check else []), "-i", str(tmp_path / "hosts.yml"),
                             "-e", f"@{path}", str(ROOT / "tests/integration/playbooks/airflow_release.yml")],
                            capture_output=True, text=True, env=dict(env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
                            cwd=ROOT, check=False, timeout=900)
    output = result.stdout + result.stderr
    for secret in SECRETS.values():
        assert secret not in output
    return result.returncode, output


def changed(output):
    return int(re.search(r"^localhost\s*:.*changed=(\d+)", output, re.MULTILINE).group(1))


def task_status(output, task):
    """The status word (ok, changed, skipping, failed) of the role's task `task` in ansible-playbook's output."""
    after = output.split(f"TASK [datasurface.yellow.airflow : {task}]", 1)[1]
    return re.search(r"^(ok|changed|skipping|failed|fatal): \[localhost\]", after, re.MULTILINE).group(1)


def release(env, namespace):
    result = subprocess.run([HELM, "list", "-n", namespace, "-o", "json", "--all"], capture_output=True, text=True,
                            env=env, check=True, timeout=60)
    found = json.loads(result.stdout)
    assert len(found) == 1, found
    return {k: found[0][k] for k in ("name", "revision", "status", "chart", "app_version")}


def items(cluster, namespace, kind):
    return cluster.get(kind, "-n", namespace)["items"]


def pods(cluster, namespace):
    """{pod name: uid} of every pod of the release."""
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in items(cluster, namespace, "pods")}


def secret_data(cluster, namespace, name):
    secret = cluster.get("secret", name, "-n", namespace)
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def templates(cluster, namespace):
    """The pod templates of the release's Deployments and StatefulSets."""
    return {(o["kind"], o["metadata"]["name"]): o["spec"]["template"]
            for kind in ("deployments", "statefulsets") for o in items(cluster, namespace, kind)}


def assert_running(cluster, namespace):
    """Every object of the release exists, workloads are Ready, the Jobs complete, the PVCs bound."""
    # helm --wait waits for the workloads and the PVCs, not for Jobs: wait for them (KWOK completes their pods).
    cluster.kubectl("wait", "-n", namespace, "--for=condition=complete", "job", "--all", "--timeout=120s")
    deployments = {d["metadata"]["name"]: d for d in items(cluster, namespace, "deployments")}
    assert sorted(deployments) == ["airflow-api-server", "airflow-dag-processor", "airflow-scheduler", "airflow-statsd",
                                   "airflow-triggerer", "airflow-worker"]
    for name, deployment in deployments.items():
        assert deployment["status"].get("readyReplicas") == deployment["spec"]["replicas"], name
    statefulsets = {s["metadata"]["name"]: s for s in items(cluster, namespace, "statefulsets")}
    assert sorted(statefulsets) == ["airflow-redis"]
    assert statefulsets["airflow-redis"]["status"].get("readyReplicas") == 1
    jobs = {j["metadata"]["name"]: j for j in items(cluster, namespace, "jobs")}
    assert sorted(jobs) == ["airflow-create-user", "airflow-run-airflow-migrations"]
    for name, job in jobs.items():
        conditions = {c["type"]: c["status"] for c in job["status"].get("conditions", [])}
        assert job["status"].get("succeeded") == 1 and conditions.get("Complete") == "True", (name, job["status"])
    claims = {c["metadata"]["name"]: c for c in items(cluster, namespace, "pvc")}
    assert sorted(claims) == ["airflow-logs", "redis-db-airflow-redis-0"]
    for name, claim in claims.items():
        assert claim["status"]["phase"] == "Bound" and claim["spec"]["storageClassName"] == "longhorn", name
    assert claims["airflow-logs"]["spec"]["accessModes"] == ["ReadWriteMany"]
    for pod in items(cluster, namespace, "pods"):
        owner = pod["metadata"]["ownerReferences"][0]["kind"]
        if owner == "Job":
            assert pod["status"]["phase"] == "Succeeded", pod["metadata"]["name"]
        else:
            ready = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}.get("Ready")
            assert pod["status"]["phase"] == "Running" and ready == "True", pod["metadata"]["name"]
    assert sorted(s["metadata"]["name"] for s in items(cluster, namespace, "serviceaccounts") if s["metadata"]["name"] != "default") == [
        "airflow-api-server", "airflow-create-user-job", "airflow-dag-processor", "airflow-migrate-database-job",
        "airflow-redis", "airflow-scheduler", "airflow-statsd", "airflow-triggerer", "airflow-worker"]
    assert sorted(r["metadata"]["name"] for r in items(cluster, namespace, "roles")) == [
        "airflow-pod-launcher-role", "airflow-pod-log-reader-role"]


def test_release_installs_waits_and_is_idempotent(cluster, k8s_env, namespace, tmp_path):
    rc, output = run(k8s_env, tmp_path, namespace)
    assert rc == 0, output[-4000:]
    assert READY in output
    assert release(k8s_env, namespace) == {"name": "airflow", "revision": "1", "status": "deployed", "chart": "airflow-1.19.0",
                                           "app_version": "3.1.7"}
    assert_running(cluster, namespace)
    assert secret_data(cluster, namespace, "airflow-metadata") == {
        "connection": "postgresql://datasurfacedt:db%20p%40ss%2Fw%27rd%2081aa@pg.example.org:5432/airflow_db"}
    assert secret_data(cluster, namespace, "airflow-broker-url") == {"connection": "redis://:redis%20pw%2082bb@airflow-redis:6379/0"}
    first = pods(cluster, namespace)
    assert len(first) == 10, first  # 6 Deployments (2 workers), Redis, 2 Job pods
    before = templates(cluster, namespace)

    rc, output = run(k8s_env, tmp_path, namespace)
    assert rc == 0 and changed(output) == 0, output[-4000:]
    assert release(k8s_env, namespace)["revision"] == "1"
    assert pods(cluster, namespace) == first
    assert templates(cluster, namespace) == before

    rc, output = run(k8s_env, tmp_path, namespace, check=True)
    assert rc == 0 and changed(output) == 0, output[-4000:]
    assert release(k8s_env, namespace)["revision"] == "1" and pods(cluster, namespace) == first


def key_secrets(cluster, namespace):
    found = {}
    for name, key in KEY_SECRETS.items():
        secret = cluster.get("secret", name, "-n", namespace)
        assert list(secret["data"]) == [key], secret["data"]
        found[name] = (secret["metadata"]["resourceVersion"], base64.b64decode(secret["data"][key]).decode())
    return found


def test_the_chart_generated_keys_come_from_secrets_created_once(cluster, k8s_env, namespace, tmp_path):
    rc, output = run(k8s_env, tmp_path, namespace)
    assert rc == 0, output[-4000:]
    first = key_secrets(cluster, namespace)
    fernet = first["airflow-static-fernet-key"][1]
    assert len(base64.urlsafe_b64decode(fernet)) == 32  # a valid Fernet key
    assert len({value for _version, value in first.values()}) == 3
    for _version, value in first.values():
        assert value not in output
    # The chart generated nothing: no key Secret of its own.
    names = {s["metadata"]["name"] for s in items(cluster, namespace, "secrets")}
    assert not names & {"airflow-fernet-key", "airflow-api-secret-key", "airflow-jwt-secret"}, names
    before, uids = templates(cluster, namespace), pods(cluster, namespace)

    # An upgrade that changes a value: a new revision, the keys and every pod template stay, no pod is recreated.
    rc, output = run(k8s_env, tmp_path, namespace, {"yellow_airflow_worker_replicas": 3})
    assert rc == 0 and changed(output) == 1, output[-4000:]
    assert release(k8s_env, namespace)["revision"] == "2"
    assert key_secrets(cluster, namespace) == first
    assert templates(cluster, namespace) == before
    after = pods(cluster, namespace)
    assert {k: v for k, v in after.items() if k in uids} == uids and len(after) == len(uids) + 1


def test_existing_key_secrets_are_kept_and_the_charts_former_keys_adopted(cluster, k8s_env, namespace, tmp_path):
    def encode(text):
        return base64.b64encode(text.encode()).decode()

    # An operator's own JWT Secret, and the Fernet key the chart generated for a release installed before.
    cluster.apply([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "airflow-static-jwt-secret", "namespace": namespace},
                    "data": {"jwt-secret": encode("operator-jwt-84dd")}},
                   {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "airflow-fernet-key", "namespace": namespace},
                    "data": {"fernet-key": encode("former-fernet-85ee")}}])
    rc, output = run(k8s_env, tmp_path, namespace)
    assert rc == 0, output[-4000:]
    found = key_secrets(cluster, namespace)
    assert found["airflow-static-jwt-secret"][1] == "operator-jwt-84dd"
    assert found["airflow-static-fernet-key"][1] == "former-fernet-85ee"
    assert "operator-jwt-84dd" not in output and "former-fernet-85ee" not in output
    worker = cluster.get("deployment", "airflow-worker", "-n", namespace)["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in worker["env"] if "valueFrom" in e}
    assert refs["AIRFLOW__CORE__FERNET_KEY"] == {"name": "airflow-static-fernet-key", "key": "fernet-key"}
    assert refs["AIRFLOW__API_AUTH__JWT_SECRET"] == {"name": "airflow-static-jwt-secret", "key": "jwt-secret"}
    rc, output = run(k8s_env, tmp_path, namespace)
    assert rc == 0 and changed(output) == 0, output[-4000:]
    assert key_secrets(cluster, namespace) == found


def test_a_key_secret_without_its_key_is_refused(cluster, k8s_env, namespace, tmp_path):
    cluster.apply([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "airflow-static-fernet-key", "namespace": namespace},
                    "data": {"value": base64.b64encode(b"misplaced-86ff").decode()}}])
    rc, output = run(k8s_env, tmp_path, namespace)
    assert rc != 0
    assert (f"yellow_airflow_fernet_key_secret: Secret airflow-static-fernet-key exists in {namespace} without key "
            "'fernet-key'") in output, output[-4000:]
    assert "misplaced-86ff" not in output
    assert "TASK [datasurface.yellow.airflow : Install or upgrade Airflow with the chart]" not in output
    assert subprocess.run([HELM, "list", "-n", namespace, "-q"], capture_output=True, text=True, env=k8s_env,
                          check=True).stdout == ""


def write_chart(tmp_path, template):
    """A chart the input check accepts (name airflow, version 1.19.0) whose template Helm refuses."""
    chart = tmp_path / "refused-chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: airflow\nversion: 1.19.0\n")
    (chart / "templates" / "refused.yaml").write_text(template)
    return chart


def test_a_helm_failure_fails_at_once_with_helms_error(k8s_env, namespace, tmp_path):
    chart = write_chart(tmp_path, '{{ fail "the stand-in chart refuses these values (test 87aa)" }}\n')
    # A ready timeout the role would wait out (with retries every 5 s) if it did not see Helm's failure.
    rc, output = run(k8s_env, tmp_path, namespace, {"yellow_airflow_chart_ref": str(chart), "yellow_airflow_ready_timeout": 3600})
    assert rc != 0
    assert "airflow: helm upgrade --install airflow failed:" in output, output[-4000:]
    failure = output[output.index("airflow: helm upgrade --install airflow failed:"):]
    assert "the stand-in chart refuses these values (test 87aa)" in failure.split("not Ready:")[0]
    assert "not Ready: scheduler (no pod), worker (no pod)" in failure
    assert "TASK [datasurface.yellow.airflow : Read the Airflow pods]" not in output
    assert "RETRYING" not in output
    assert re.search(r"^localhost\s*:.*failed=1", output, re.MULTILINE), output[-2000:]


def test_helms_error_is_scrubbed_of_every_secret(k8s_env, namespace, tmp_path):
    """A helm whose error text repeats the secrets (plain, URL-encoded, base64): none reaches the output."""
    helm = tmp_path / "echoing-helm"
    encoded = {"plain": list(SECRETS.values()),
               "url": [urllib.parse.quote(v, safe="") for v in SECRETS.values()],
               "base64": [base64.b64encode(v.encode()).decode() for v in SECRETS.values()]}
    (tmp_path / "helm-error.txt").write_text(f"Error: the test helm refuses (88bb): {json.dumps(encoded)}\n")
    helm.write_text("#!/bin/sh\n"
                    "[ \"$1\" = version ] && { echo 'version.BuildInfo{Version:\"v3.17.2\", GitCommit:\"x\"}'; exit 0; }\n"
                    f"cat '{tmp_path / 'helm-error.txt'}' >&2\nexit 1\n")
    helm.chmod(0o755)
    rc, output = run(k8s_env, tmp_path, namespace, {"yellow_airflow_helm_binary": str(helm)})  # run() asserts no plain secret
    assert rc != 0
    assert "airflow: helm upgrade --install airflow failed:" in output, output[-4000:]
    failure = output[output.index("airflow: helm upgrade --install airflow failed:"):].split("not Ready:")[0]
    assert "Error: the test helm refuses (88bb)" in failure
    for forms in encoded.values():
        for form in forms:
            assert form not in output
    assert failure.count("********") == 9, failure
    assert "RETRYING" not in output


def test_a_component_that_never_gets_ready_is_named(k8s_env, namespace, tmp_path):
    # The triggerer's pod never gets its image, so never Ready (tests/cluster/stages/yellow-image-pull-backoff.yaml);
    # the chart puts triggerer.labels on the pod template, as the official chart does.
    broken = {"triggerer": {"labels": {"yellow.test/simulate": "image-pull-backoff"}}}
    rc, output = run(k8s_env, tmp_path, namespace, {"yellow_airflow_values_extra": broken, "yellow_airflow_helm_timeout": "30s"})
    assert rc != 0
    assert "airflow: helm upgrade --install airflow failed:" in output, output[-4000:]
    failure = output[output.index("airflow: helm upgrade --install airflow failed:"):]
    not_ready = failure.split("not Ready:")[1].splitlines()[0]
    assert not_ready.split(" (")[0].strip() == "triggerer" and "ImagePull" in not_ready, not_ready
    assert "scheduler" not in not_ready and "worker" not in not_ready, not_ready


def test_bad_values_stop_the_release_before_any_cluster_call(k8s_env, k8s_recorder, namespace, tmp_path):
    rc, output = run(k8s_env, tmp_path, namespace, {"yellow_airflow_values_extra": {"workers": {"celery": {"replica": 3}}}},
                     kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0
    assert "workers.celery: unknown key 'replica'" in output
    assert k8s_recorder.requests == [], "the cluster was called"


@pytest.mark.parametrize("ref, fragment", [
    ("/nonexistent/airflow-chart", "yellow_airflow_chart_ref: /nonexistent/airflow-chart does not exist on the control node"),
    ("./missing-airflow-1.19.0.tgz", "yellow_airflow_chart_ref: ./missing-airflow-1.19.0.tgz does not exist on the control node"),
    (str(ROOT / "tests" / "charts"), "has no Chart.yaml (not a Helm chart directory)"),
], ids=["directory", "tgz", "not-a-chart"])
def test_a_chart_path_that_is_not_a_chart_is_refused_before_any_cluster_call(k8s_env, k8s_recorder, namespace, tmp_path, ref, fragment):
    rc, output = run(k8s_env, tmp_path, namespace, {"yellow_airflow_chart_ref": ref}, kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0
    assert fragment in output, output[-3000:]
    assert k8s_recorder.requests == [], "the cluster was called"


def test_a_packaged_chart_installs_and_check_mode_writes_nothing(cluster, k8s_env, k8s_recorder, namespace, tmp_path):
    """The air-gapped path: a .tgz of the chart, no repository. Check mode first: it reads, reports, writes nothing."""
    package = subprocess.run([HELM, "package", str(CHART), "-d", str(tmp_path)], capture_output=True, text=True,
                             env=k8s_env, check=True)
    tgz = tmp_path / "airflow-1.19.0.tgz"
    assert tgz.is_file(), package.stdout
    with tarfile.open(tgz) as archive:
        assert "airflow/values.schema.json" in archive.getnames()
    extra = {"yellow_airflow_chart_ref": str(tgz), "yellow_airflow_chart_repo_url": "https://unreachable.invalid"}

    rc, output = run(k8s_env, tmp_path, namespace, extra, check=True, kubeconfig=k8s_recorder.kubeconfig)
    assert rc == 0, output[-4000:]
    assert task_status(output, "Install or upgrade Airflow with the chart") == "changed"
    assert task_status(output, "Add the apache-airflow chart repository") == "skipping"
    # kubernetes.core.k8s asks the API server for a dry run in check mode: nothing is persisted.
    assert k8s_recorder.requests and [w for w in k8s_recorder.writes() if "dryRun=All" not in w.path] == [], k8s_recorder.writes()
    assert items(cluster, namespace, "secrets") == []
    assert subprocess.run([HELM, "list", "-n", namespace, "-q"], capture_output=True, text=True, env=k8s_env,
                          check=True).stdout == ""

    rc, output = run(k8s_env, tmp_path, namespace, extra)
    assert rc == 0, output[-4000:]
    assert READY in output
    assert release(k8s_env, namespace)["chart"] == "airflow-1.19.0"
    assert_running(cluster, namespace)
    rc, output = run(k8s_env, tmp_path, namespace, extra)
    assert rc == 0 and changed(output) == 0, output[-4000:]
    assert release(k8s_env, namespace)["revision"] == "1"
