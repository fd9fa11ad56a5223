# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Tests on the running lab (`make lab` first; meant as the step of scripts/lab_e2e.sh between its day-2 step and the
secret sweep): what only a real platform can answer, each through the collection's own playbooks.

- A DAG with an import error, pushed through the bootstrap role (a model whose schedule is not a cron
  expression: the generated DAG fails to import in Airflow 3.1.6), is reported by verify from the real API with
  its file and Airflow's message; pushing the good model again makes verify pass (it waits until Airflow serves
  the pushed source, not a fixed time).
- A wrong registry password on the namespace's pull secret (as after the registry's password changed:
  platform_prereqs itself refuses a wrong one before writing) makes a Job whose image is not on the nodes yet
  fail in k8s_job with ImagePullBackOff named, the kubelet having been refused by the registry (401);
  platform_prereqs puts the secret right again and the same Job completes.
- The database is reached from the pod network (verify's probe Job, psql in a pod), and refused by pg_hba.conf
  from a lab address outside yellow_pg_hba_cidrs.

The playbooks' output goes to .cache/logs/lab-tests-*.log, which lab_e2e.sh sweeps for the lab's secrets.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LOGS = ROOT / ".cache" / "logs"
INVENTORY = str(ROOT / "inventories" / "lab")
BAD_TAG = "lab-bad-schedule"
BAD_SCHEDULE = "every hour"
CRON_ERROR = "AirflowTimetableInvalid: Exactly 5, 6 or 7 columns has to be specified for iterator expression."
DAG_FILE = "test_dp_infrastructure_dag.py"
PULL_TAG = "lab-pull-check"
OUTSIDE_IP = "10.89.40.99"


def playbook(name, *args, log, check_rc=None):
    """ansible-playbook against the lab; the output into .cache/logs/lab-tests-<log>.log; (rc, output)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="false")
    started = time.monotonic()
    result = subprocess.run(["ansible-playbook", "-i", INVENTORY, *name.split(), *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    (LOGS / f"lab-tests-{log}.log").write_text(output)
    print(f"{log}: rc {result.returncode} in {time.monotonic() - started:.0f} s")
    if check_rc is not None:
        assert result.returncode == check_rc, output[-6000:]
    return result.returncode, output


@pytest.fixture(scope="module")
def lab():
    """What the lab inventory says (templated by Ansible), and the lab's secrets directory."""
    wanted = ("yellow_lab_dir yellow_lab_network yellow_lab_registry yellow_datasurface_image yellow_namespace "
              "yellow_kubeconfig yellow_airflow_db_host yellow_pg_merge_database yellow_verify_report_path "
              "yellow_k8s_postgres_user yellow_pg_hba_cidrs").split()
    # yellow_pg_* are the PostgreSQL host's (its group_vars and the postgres_host role's default).
    pg_host = "hostvars[groups['postgres'] | first]"
    expr = ("{{ {" + ", ".join(f"'{v}': {pg_host if v.startswith('yellow_pg_') else 'vars'}['{v}'] | default(none)" for v in wanted)
            + "} | to_json }}")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    result = subprocess.run(["ansible", "localhost", "-i", INVENTORY, "-m", "ansible.builtin.debug", "-a", f"msg={expr}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    values = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]
    values = json.loads(values) if isinstance(values, str) else values
    values["yellow_pg_merge_database"] = values["yellow_pg_merge_database"] or "merge_db_af3"
    assert values["yellow_lab_dir"] and Path(values["yellow_lab_dir"], "secrets").is_dir(), "no running lab: make lab first"
    return values


def report(lab):  # pylint: disable=redefined-outer-name
    data = json.loads(Path(lab["yellow_verify_report_path"]).read_text())
    return data, {c["check"]: c for c in data["checks"]}


def git(*args, cwd=None):
    env = dict(os.environ, GIT_AUTHOR_NAME="Modeller", GIT_AUTHOR_EMAIL="modeller@lab.invalid",
               GIT_COMMITTER_NAME="Modeller", GIT_COMMITTER_EMAIL="modeller@lab.invalid")
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def publish_bad_model(lab, tmp_path):  # pylint: disable=redefined-outer-name
    """The lab's model v1 with a schedule that is not a cron expression, tagged BAD_TAG on the lab's git server."""
    bare = Path(lab["yellow_lab_dir"], "git", "repos", "model.git")
    work = tmp_path / "model"
    git("clone", "-q", "--branch", "v1", str(bare), str(work))
    eco = work / "eco.py"
    text = eco.read_text()
    assert '"dag_schedule": "@hourly"' in text
    eco.write_text(text.replace('"dag_schedule": "@hourly"', f'"dag_schedule": "{BAD_SCHEDULE}"'))
    git("commit", "-q", "-am", "A schedule that is not a cron expression", cwd=work)
    git("tag", "-f", "-a", BAD_TAG, "-m", BAD_TAG, cwd=work)
    git("push", "-q", "-f", str(bare), f"HEAD:refs/heads/{BAD_TAG}", f"refs/tags/{BAD_TAG}", cwd=work)


def test_import_error_pushed_through_bootstrap_is_reported_by_verify(lab, tmp_path):  # pylint: disable=redefined-outer-name
    publish_bad_model(lab, tmp_path)
    rc, output = playbook("playbooks/update_dags.yml playbooks/verify.yml", "-e", f"yellow_bootstrap_model_version={BAD_TAG}",
                          log="import-error")
    assert rc != 0, output[-5000:]
    data, checks = report(lab)
    assert data["ok"] is False, data
    assert checks["airflow import errors"]["status"] == "FAIL"
    assert checks["airflow import errors"]["detail"] == f"1 import error(s): {DAG_FILE}: {CRON_ERROR}"
    assert checks["airflow dag files"] == {"check": "airflow dag files", "status": "FAIL",
                                           "detail": f"{DAG_FILE}: the pushed version does not import: {CRON_ERROR}"}
    # The run failed on exactly that (the platform itself is fine).
    # The DAG is missing in the pushed version. Airflow 3.1.6 keeps listing the version parsed before the push until
    # its cleanup scan marks it stale (the failing parse 50 s newer than the last good one, scans every 60 s):
    # both were seen (the lab here, CI), verify reports either as missing.
    failed = sorted(name for name, check in checks.items() if check["status"] == "FAIL")
    assert failed == ["airflow dag files", "airflow dags", "airflow import errors"], checks
    assert re.fullmatch(re.escape("0 DAGs, expected 1; missing DAG(s): test-dp-infrastructure [")
                        + r"(0 DAG\(s\): none|1 DAG\(s\)( \(1 paused\))?: test-dp-infrastructure; from before the push, "
                        r"their file not importing now: test-dp-infrastructure)\]", checks["airflow dags"]["detail"]), checks
    assert re.search(r"verify: 3 check\(s\) failed: .*airflow import errors -> 1 import error\(s\): "
                     + re.escape(f"{DAG_FILE}: {CRON_ERROR}"), output), output[-3000:]

    # The good model again: verify waits until Airflow serves the pushed source, then passes.
    rc, output = playbook("playbooks/update_dags.yml playbooks/verify.yml", "-e", "yellow_bootstrap_model_version=v1",
                          log="import-error-fixed")
    assert rc == 0, output[-5000:]
    data, checks = report(lab)
    assert data["ok"] is True
    assert checks["airflow import errors"] == {"check": "airflow import errors", "status": "OK", "detail": "none"}
    assert checks["airflow dag files"] == {"check": "airflow dag files", "status": "OK",
                                           "detail": f"pushed version served: {DAG_FILE} (test-dp-infrastructure)"}


def kubectl_admin(lab, *args, stdin=None):  # pylint: disable=redefined-outer-name
    cluster = Path(lab["yellow_lab_dir"], "cluster")
    kubectl = Path(json.loads((cluster / "cluster.json").read_text())["cache"], "bin", "kubectl")
    return subprocess.run([str(kubectl), "--kubeconfig", str(cluster / "admin.kubeconfig"), *args], input=stdin,
                          capture_output=True, text=True, check=True).stdout


def wrong_password_secret(secret):
    """The pull secret with every registry entry's password (and its auth) wrong, as after a registry password change."""
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    for entry in config["auths"].values():
        entry["password"] = "not-the-registry-password-0000"
        entry["auth"] = base64.b64encode(f"{entry['username']}:{entry['password']}".encode()).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": secret["type"],
            "metadata": {"name": secret["metadata"]["name"], "namespace": secret["metadata"]["namespace"]},
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}}


def test_wrong_registry_password_fails_a_job_with_image_pull_backoff(lab, tmp_path):  # pylint: disable=redefined-outer-name
    out = tmp_path / "pull-check.json"
    playbook("tests/lab/push_tag.yml", "-e", f"yellow_datasurface_image_tag={PULL_TAG}", log="pull-push-tag", check_rc=0)
    job = ["-e", f"yellow_lab_pull_check_image={lab['yellow_datasurface_image']}:{PULL_TAG}", "-e", f"yellow_lab_pull_check_out={out}"]
    # platform_prereqs refuses a wrong password before it writes anything (it logs in to the registry first): the
    # secret goes wrong the way it does in a cluster, the registry's password changed after the secret was made.
    secret = json.loads(kubectl_admin(lab, "get", "secret", "dockerhub-creds", "-n", lab["yellow_namespace"], "-o", "json"))
    try:
        kubectl_admin(lab, "replace", "-f", "-", stdin=json.dumps(wrong_password_secret(secret)))
        rc, output = playbook("tests/lab/tests/pull_check.yml", *job, log="pull-check-wrong")
        assert rc != 0, output[-4000:]
        result = json.loads(out.read_text())
        assert result["failed"] is True and result["reason"] in ("ImagePullBackOff", "ErrImagePull"), result
        assert re.search(r"container job in (ImagePullBackOff|ErrImagePull) for \d+ s", result["msg"]), result["msg"]
        # The registry refused the kubelet's credentials (not a missing image): the pod's events say so.
        assert re.search(r"401 Unauthorized|unauthorized", result["events"], re.IGNORECASE), result["events"]
        print(f"k8s_job failed after {result['elapsed']} s: {result['msg']}")
    finally:
        # The collection puts it right again: platform_prereqs rewrites the secret from the vault's password.
        rc, output = playbook("playbooks/cluster.yml", "--skip-tags", "airflow", log="pull-right-password", check_rc=0)
    assert re.search(r"^localhost\s*:.* changed=[1-9]", output, re.MULTILINE), output[-3000:]
    rc, output = playbook("tests/lab/tests/pull_check.yml", *job, log="pull-check-right")
    assert rc == 0, output[-4000:]
    result = json.loads(out.read_text())
    # (Kubernetes 1.34 sets SuccessCriteriaMet, then Complete)
    assert result["failed"] is False and "Complete" in result["conditions"], result


def test_database_reached_from_the_pod_network_and_refused_from_outside_the_cidrs(lab):  # pylint: disable=redefined-outer-name
    # From a pod: the verify report of the runs above, its probe Job (pg_isready + an authenticated query).
    _data, checks = report(lab)
    assert checks["db probe"]["status"] == "OK", checks["db probe"]
    # (the probe's pod exits 0 only after pg_isready and `SELECT 1` as the Secret's user)
    target = f"{lab['yellow_airflow_db_host']}:5432/{lab['yellow_pg_merge_database']}"
    assert checks["db probe"]["detail"].startswith(f"{target} reachable from the namespace ("), checks["db probe"]
    # From a lab address that no rule of yellow_pg_hba_cidrs covers: the server refuses it by pg_hba.conf,
    # with the right password (not a network or password failure).
    assert not any(cidr == "10.89.40.0/24" or cidr.startswith(OUTSIDE_IP) for cidr in lab["yellow_pg_hba_cidrs"])
    password = Path(lab["yellow_lab_dir"], "secrets", "pg_datasurfacedt").read_text().split()[0]
    image = "localhost/datasurface-yellow-lab/airflow:latest"
    result = subprocess.run(
        ["podman", "run", "--rm", "--network", lab["yellow_lab_network"], "--ip", OUTSIDE_IP, "-e", "PGPASSWORD",
         "--entrypoint", "psql", image, "-X", "-h", lab["yellow_airflow_db_host"], "-U", lab["yellow_k8s_postgres_user"],
         "-d", lab["yellow_pg_merge_database"], "-tAc", "SELECT 1"],
        env=dict(os.environ, PGPASSWORD=password), capture_output=True, text=True, check=False, timeout=120)
    print(result.stderr.strip())
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert (f'no pg_hba.conf entry for host "{OUTSIDE_IP}", user "{lab["yellow_k8s_postgres_user"]}", '
            f'database "{lab["yellow_pg_merge_database"]}"') in result.stderr, result.stderr
    assert password not in result.stderr + result.stdout
