# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The Secrets platform_prereqs creates carry the keys of every known generator version, from the same vault
values: the public generator 0.0.57's Jobs read ``git`` key ``token`` and ``postgres`` keys ``postgres_USER`` /
``postgres_PASSWORD``; the newer private image reads ``TOKEN`` and ``USER`` / ``PASSWORD``. Checked on the live
objects of the real control plane after ``playbooks/cluster.yml --skip-tags airflow`` run as the operator in a
namespace the admin created and granted (``k8s_namespace``), a second run is
``changed=0``, no value reaches the ``-v`` output, and what the stand-in generator's Jobs (which follow 0.0.57)
reference is all there.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "yellow_k8s_registry_username": "datasurface-bot",
    "yellow_k8s_registry_password": "ghp_registry 'tok'; $(id) 81aa",
    "yellow_k8s_postgres_password": 'pg "pw"; DROP ROLE x; -- 82bb',
    "yellow_k8s_mask_password": "mask\\pw`x` 83cc",
    "yellow_k8s_git_username": "git-bot",
    "yellow_k8s_git_token": "ghp_gittoken 84dd",
}


def run(namespace, k8s_env, tmp_path):
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump({"yellow_k8s_kubeconfig": k8s_env["KUBECONFIG"], "yellow_k8s_namespace": namespace,
                                    "yellow_k8s_postgres_user": "datasurfacedt", **SECRETS,
                                    # the registry login is tested in test_platform_prereqs.py; no registry here
                                    "yellow_k8s_registry_check": False}))
    path.chmod(0o600)
    result = subprocess.run(
        ["ansible-playbook", "-v", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{path}", "--skip-tags", "airflow",
         str(ROOT / "playbooks" / "cluster.yml")],
        capture_output=True, text=True, env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
        cwd=ROOT, check=False, timeout=600,
    )
    output = result.stdout + result.stderr
    for name, value in SECRETS.items():
        if "password" in name or "token" in name:
            assert value not in output and base64.b64encode(value.encode()).decode() not in output, f"{name} reached the output"
    match = re.search(r"^localhost\s*:\s*(.*)$", output, re.MULTILINE)
    assert result.returncode == 0 and match, output[-4000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}, output


def data(cluster, namespace, name):
    obj = cluster.get("secret", name, "-n", namespace)
    return {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}


def stub_jobs(tmp_path, namespace):
    """The stand-in generator's Jobs and kubernetes-bootstrap.yaml for the sample model (0.0.57's keys), its
    platform namespace set to the test's."""
    out, model = tmp_path / "generated", tmp_path / "model"
    model.mkdir()
    eco = (ROOT / "tests" / "generator_stub" / "model" / "eco.py").read_text()
    assert '"namespace": "demo1"' in eco
    (model / "eco.py").write_text(eco.replace('"namespace": "demo1"', f'"namespace": "{namespace}"'))
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "tests" / "generator_stub" / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-m", "datasurface.cmd.platform", "generatePlatformBootstrap", "--ringLevel", "0",
                    "--model", str(model), "--output", str(out), "--psp", "Test_DP"],
                   cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60)
    docs = [d for p in sorted((out / "Test_DP").glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    return [d for d in docs if d["kind"] == "Job"], [d for d in docs if d["kind"] != "Job"]


def test_secrets_carry_both_spellings_of_every_known_generator(cluster, k8s_namespace, k8s_env, tmp_path):
    ns = k8s_namespace
    counts, _output = run(ns, k8s_env, tmp_path)
    assert counts["failed"] == 0
    assert data(cluster, ns, "git") == {"TOKEN": SECRETS["yellow_k8s_git_token"], "token": SECRETS["yellow_k8s_git_token"]}
    password = SECRETS["yellow_k8s_postgres_password"]
    assert data(cluster, ns, "postgres") == {"USER": "datasurfacedt", "PASSWORD": password,
                                             "postgres_USER": "datasurfacedt", "postgres_PASSWORD": password}
    assert data(cluster, ns, "mask-dt-cred") == {"USER": "mask_dt_cred", "PASSWORD": SECRETS["yellow_k8s_mask_password"]}

    # What the 0.0.57-style Jobs reference is there (the objects kubernetes-bootstrap.yaml holds are applied by bootstrap).
    from ansible_collections.datasurface.yellow.plugins.plugin_utils.bootstrap import (  # pylint: disable=import-outside-toplevel
        missing_references, object_inventory, references,
    )
    jobs, bootstrap_objects = stub_jobs(tmp_path, ns)
    live = object_inventory(cluster.get("secrets", "-n", ns)["items"], ns)
    refs = references(jobs, ns)
    assert {(r["name"], r["key"]) for r in refs if r["kind"] == "Secret"} == {
        ("git", "token"), ("postgres", "postgres_USER"), ("postgres", "postgres_PASSWORD"), ("dockerhub-creds", None)}
    assert missing_references(refs, live, object_inventory(bootstrap_objects, ns)) == []

    counts, _output = run(ns, k8s_env, tmp_path)
    assert counts["changed"] == 0 and counts["failed"] == 0
