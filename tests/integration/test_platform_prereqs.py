# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""platform_prereqs on the real control plane (tests/cluster), through ansible-playbook as the operator identity.

The namespace is created by the admin and the operator granted in it (README "Cluster permissions"), as the
``k8s_namespace`` fixture does. First run creates every object with the expected content (asserted on the
live objects), the second reports changed=0, ``--check --diff`` reports a changed secret without storing it
(the API server's dry run), bad input fails before any request reaches the server (a recording proxy in
front of it sees none), and no secret value appears in ``-v`` output. A namespace that does not exist is
created by an identity that may create namespaces (the admin) and refused, naming the README, for the
operator.
The image pull secret's credentials are checked against a real registry on loopback (Debian's
``docker-registry`` with htpasswd auth, as in the lab): a wrong password fails naming
``yellow_k8s_registry_password`` before the namespace or any Secret is created.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.cluster.cluster import OPERATOR_USER

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "yellow_k8s_registry_username": "datasurface-bot",
    "yellow_k8s_registry_password": "ghp_registry 'tok'; $(id) 11aa",
    "yellow_k8s_postgres_password": 'pg "pw"; DROP ROLE x; -- 22bb',
    "yellow_k8s_mask_password": "mask\\pw`x` 33cc",
    "yellow_k8s_git_username": "git-bot",
    "yellow_k8s_git_token": "ghp_gittoken 44dd",
    "yellow_k8s_sqlserver_password": "sql pw 55ee",
}
WRONG_REGISTRY_PASSWORD = "wrong registry 'pw' 88cd"
SECRET_VALUES = [v for k, v in SECRETS.items() if "password" in k or "token" in k] + [WRONG_REGISTRY_PASSWORD]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A real registry on loopback: Debian's docker-registry, htpasswd (bcrypt) for the test user."""
    for tool in ("docker-registry", "htpasswd"):
        assert shutil.which(tool), f"{tool} is missing (scripts/setup.sh installs docker-registry and apache2-utils)"
    home = tmp_path_factory.mktemp("registry")
    subprocess.run(["htpasswd", "-i", "-B", "-c", str(home / "htpasswd"), SECRETS["yellow_k8s_registry_username"]],
                   input=SECRETS["yellow_k8s_registry_password"], text=True, check=True, capture_output=True)
    port = _free_port()
    (home / "config.yml").write_text(yaml.safe_dump({
        "version": 0.1, "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(home / "data")}},
        "http": {"addr": f"127.0.0.1:{port}"},
        "auth": {"htpasswd": {"realm": "yellow-it", "path": str(home / "htpasswd")}},
    }))
    log = (home / "registry.log").open("w")
    proc = subprocess.Popen(["docker-registry", "serve", str(home / "config.yml")], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    status = None
    for _attempt in range(100):
        try:
            status = urllib.request.urlopen(url + "/v2/", timeout=2).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            assert proc.poll() is None, (home / "registry.log").read_text()
            time.sleep(0.1)
            continue
        break
    assert status == 401, f"the registry did not start with auth: {status} {(home / 'registry.log').read_text()}"
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def run(namespace, k8s_env, tmp_path, extra=None, *options, registry, kubeconfig=None):
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    values = {"yellow_k8s_kubeconfig": str(kubeconfig or k8s_env["KUBECONFIG"]), "yellow_k8s_namespace": namespace, **SECRETS,
              "yellow_k8s_registry_server": registry,
              "yellow_k8s_secrets_extra": [{"name": "extra-one", "data": {"API_KEY": "extra 66ff"}}]}
    values.update(extra or {})
    values = {k: v for k, v in values.items() if v is not None}
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump(values))
    path.chmod(0o600)
    result = subprocess.run(
        ["ansible-playbook", "-v", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{path}", "--skip-tags", "airflow", *options,
         str(ROOT / "playbooks" / "cluster.yml")],
        capture_output=True, text=True, env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
        cwd=ROOT, check=False, timeout=600,
    )
    output = result.stdout + result.stderr
    for secret in SECRET_VALUES + ["extra 66ff"]:
        assert secret not in output, "a secret value reached the output"
        assert base64.b64encode(secret.encode()).decode() not in output
    return result.returncode, output


def recap(output):
    match = re.search(r"^localhost\s*:\s*(.*)$", output, re.MULTILINE)
    assert match, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def secret_data(cluster, namespace, name):
    obj = cluster.get("secret", name, "-n", namespace)
    return obj["type"], {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}


def secret_names(cluster, namespace):
    return sorted(item["metadata"]["name"] for item in cluster.get("secrets", "-n", namespace)["items"])


def test_objects_are_created_then_unchanged_then_checked(cluster, k8s_namespace, k8s_env, tmp_path, registry):
    ns = k8s_namespace
    rc, output = run(ns, k8s_env, tmp_path, registry=registry)
    assert rc == 0, output[-4000:]
    # secrets (one task for all), RBAC and service account (one task); the namespace exists (the admin made it): only read
    assert recap(output)["changed"] == 2, output[-4000:]
    assert re.search(r"TASK \[datasurface\.yellow\.platform_prereqs : Create the namespace\] \*+\nskipping: \[localhost\]",
                     output), output[-4000:]

    kind, data = secret_data(cluster, ns, "dockerhub-creds")
    assert kind == "kubernetes.io/dockerconfigjson"
    auths = json.loads(data[".dockerconfigjson"])["auths"]
    entry = auths[registry]
    assert entry["username"] == "datasurface-bot" and entry["password"] == SECRETS["yellow_k8s_registry_password"]
    assert base64.b64decode(entry["auth"]).decode() == "datasurface-bot:" + SECRETS["yellow_k8s_registry_password"]
    # Both spellings the known generator versions read (0.0.57: postgres_USER/_PASSWORD; newer: USER/PASSWORD).
    assert secret_data(cluster, ns, "postgres")[1] == {"USER": "datasurfacedt", "PASSWORD": SECRETS["yellow_k8s_postgres_password"],
                                                       "postgres_USER": "datasurfacedt",
                                                       "postgres_PASSWORD": SECRETS["yellow_k8s_postgres_password"]}
    assert secret_data(cluster, ns, "mask-dt-cred")[1] == {"USER": "mask_dt_cred", "PASSWORD": SECRETS["yellow_k8s_mask_password"]}
    assert secret_data(cluster, ns, "git")[1] == {"TOKEN": SECRETS["yellow_k8s_git_token"], "token": SECRETS["yellow_k8s_git_token"]}
    assert secret_data(cluster, ns, "git-dags")[1] == {
        "GIT_SYNC_USERNAME": "git-bot", "GITSYNC_USERNAME": "git-bot",
        "GIT_SYNC_PASSWORD": SECRETS["yellow_k8s_git_token"], "GITSYNC_PASSWORD": SECRETS["yellow_k8s_git_token"],
    }
    assert secret_data(cluster, ns, "sa")[1] == {"USER": "sa", "PASSWORD": SECRETS["yellow_k8s_sqlserver_password"]}
    assert secret_data(cluster, ns, "extra-one")[1] == {"API_KEY": "extra 66ff"}
    assert secret_names(cluster, ns) == ["dockerhub-creds", "extra-one", "git", "git-dags", "mask-dt-cred", "postgres", "sa"]
    # get of exactly those Secrets (test_operator_rbac.py runs the access reviews)
    role = cluster.get("role", "secret-reader", "-n", ns)
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                              "resourceNames": ["dockerhub-creds", "postgres", "mask-dt-cred", "git", "git-dags", "sa", "extra-one"]}]
    binding = cluster.get("rolebinding", "secret-reader", "-n", ns)
    assert [s["name"] for s in binding["subjects"]] == [
        "airflow-scheduler", "airflow-worker", "airflow-dag-processor", "airflow-triggerer"]
    account = cluster.get("serviceaccount", "default", "-n", ns)
    assert account["imagePullSecrets"] == [{"name": "dockerhub-creds"}]

    rc, output = run(ns, k8s_env, tmp_path, registry=registry)
    assert rc == 0 and recap(output)["changed"] == 0, output[-4000:]
    # Nothing to change: the one read found every object as wanted, so no kubernetes.core.k8s call was made.
    for task in ("Create the platform secrets", "Grant the Airflow components the platform secrets and the default service "
                 "account the registry secret"):
        assert re.search(rf"TASK \[datasurface\.yellow\.platform_prereqs : {task}\] \*+\nskipping: \[localhost\]", output), \
            output[-4000:]

    before = cluster.get("secret", "postgres", "-n", ns)["metadata"]["resourceVersion"]
    rc, output = run(ns, k8s_env, tmp_path, {"yellow_k8s_postgres_password": "new pg pw 77ab"}, "--check", "--diff",
                     registry=registry)
    assert rc == 0 and recap(output)["changed"] == 1, output[-4000:]
    assert "new pg pw 77ab" not in output
    assert cluster.get("secret", "postgres", "-n", ns)["metadata"]["resourceVersion"] == before
    assert secret_data(cluster, ns, "postgres")[1]["PASSWORD"] == SECRETS["yellow_k8s_postgres_password"]


def test_a_missing_namespace_is_created_by_an_admin_and_refused_to_the_operator(cluster, k8s_env, k8s_admin_env, tmp_path,
                                                                                registry):
    ns = f"hc-prereqs-missing-{os.getpid() % 10000}"
    cluster.delete_namespace(ns, wait=True)
    try:
        rc, output = run(ns, k8s_env, tmp_path, registry=registry)
        assert rc != 0, output[-3000:]
        flat = " ".join(output.split())
        assert (f"platform_prereqs: namespace {ns} does not exist and could not be created (Failed to create object: ") in flat, \
            output[-3000:]
        assert (f'namespaces is forbidden: User \\"{OPERATOR_USER}\\" cannot create resource \\"namespaces\\" in API group '
                '\\"\\" at the cluster scope') in flat, output[-3000:]
        assert ("With the collection's least-privilege RBAC a cluster admin creates the namespace and grants the operator in "
                "it (README.md, Cluster permissions; playbooks/files/operator-rbac.yml)") in flat
        assert cluster.kubectl("get", "namespace", ns, check=False).returncode != 0

        rc, output = run(ns, k8s_admin_env, tmp_path, registry=registry)  # an identity that may create namespaces
        assert rc == 0, output[-3000:]
        assert recap(output)["changed"] == 3  # namespace, secrets, RBAC and service account
        assert cluster.get("namespace", ns)["status"]["phase"] == "Active"
        assert "postgres" in secret_names(cluster, ns)
    finally:
        cluster.delete_namespace(ns, wait=False)


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ({"yellow_k8s_namespace": "Data_Surface"}, "yellow_k8s_namespace: 'Data_Surface' is not a DNS-1123 label"),
        ({"yellow_k8s_git_token": ""}, "yellow_k8s_git_token: must be a non-empty string"),
        ({"yellow_k8s_registry_server": "index.docker.io"}, "yellow_k8s_registry_server: 'index.docker.io' must be a URL"),
        ({"yellow_k8s_postgres_password": None}, "yellow_k8s_postgres_password"),
        ({"yellow_k8s_secrets_extra": [{"name": "git", "data": {"X": "y"}}]}, "yellow_k8s_secrets_extra[0].name"),
    ],
    ids=["namespace", "empty-token", "registry-url", "missing-password", "extra-reserved"],
)
def test_bad_input_fails_before_any_cluster_call(cluster, k8s_namespace, k8s_env, k8s_recorder, tmp_path, registry, extra,
                                                 fragment):
    rc, output = run(k8s_namespace, k8s_env, tmp_path, extra, registry=registry, kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0
    assert fragment in output, output[-3000:]
    assert k8s_recorder.requests == [], "the cluster was called"
    assert secret_names(cluster, k8s_namespace) == []


def test_wrong_registry_password_fails_naming_the_variable_and_creates_nothing(cluster, k8s_namespace, k8s_env, k8s_recorder,
                                                                               tmp_path, registry):
    rc, output = run(k8s_namespace, k8s_env, tmp_path, {"yellow_k8s_registry_password": WRONG_REGISTRY_PASSWORD},
                     registry=registry, kubeconfig=k8s_recorder.kubeconfig)
    assert rc != 0, output[-3000:]
    assert (f"platform_prereqs: nothing was created in the cluster: yellow_k8s_registry_password: user 'datasurface-bot' at "
            f"{registry}: the registry refused the credentials (HTTP 401)") in output, output[-3000:]
    assert k8s_recorder.requests == [], "the cluster was called"
    assert secret_names(cluster, k8s_namespace) == []
    assert "imagePullSecrets" not in cluster.get("serviceaccount", "default", "-n", k8s_namespace)


def test_registry_check_can_be_switched_off(cluster, k8s_namespace, k8s_env, tmp_path, registry):
    rc, output = run(k8s_namespace, k8s_env, tmp_path, {"yellow_k8s_registry_password": WRONG_REGISTRY_PASSWORD,
                                                        "yellow_k8s_registry_check": False}, registry=registry)
    assert rc == 0, output[-3000:]
    auths = json.loads(secret_data(cluster, k8s_namespace, "dockerhub-creds")[1][".dockerconfigjson"])["auths"]
    assert auths[registry]["password"] == WRONG_REGISTRY_PASSWORD
