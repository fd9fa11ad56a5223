# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The operator identity's RBAC (playbooks/files/operator-rbac.yml, README "Cluster permissions") on the real
control plane, and the Airflow service accounts' ``secret-reader`` Role made by platform_prereqs.

- What the cluster holds for the operator is exactly the shipped manifest, and the API server's own rules
  review (SelfSubjectRulesReview, as the operator) grants exactly its rules plus the built-in
  ``system:basic-user`` ones; the README's commands grant a new namespace.
- ``kubectl auth can-i`` as the operator (its own kubeconfig): what it may do in its namespace, what it may not
  (other namespaces' Secrets, Nodes, ClusterRoleBindings, namespaces, its namespace's labels), and a real
  create and a real refused read.
- Access reviews of the secret-reader Role (``--as=system:serviceaccount:<ns>:<sa>``, admin impersonation):
  each Airflow component may get each platform Secret by name; none may list or watch Secrets, get another
  Secret, write one, or read the same names in another namespace; other service accounts get nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.cluster.cluster import OPERATOR_USER

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "playbooks" / "files" / "operator-rbac.yml"
COMPONENTS = ["scheduler", "worker", "dag-processor", "triggerer"]
PLATFORM_SECRETS = ["dockerhub-creds", "postgres", "mask-dt-cred", "git", "git-dags", "sa", "extra-one"]


def manifest():
    return [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]


def expand(rules):
    """Rules as a set of (apiGroup, resource, verb, resourceName or '') for comparison."""
    out = set()
    for rule in rules:
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                for verb in rule.get("verbs") or []:
                    for name in rule.get("resourceNames") or [""]:
                        out.add((group, resource, verb, name))
    return out


def can_i(cluster, *args, operator=True):
    proc = cluster.kubectl("auth", "can-i", *args, operator=operator, check=False)
    answer = proc.stdout.strip()
    assert answer in ("yes", "no"), (args, proc.stdout, proc.stderr)
    return answer


def test_the_cluster_holds_exactly_the_shipped_rbac(cluster, k8s_namespace):
    docs = manifest()
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("ClusterRole", "datasurface-yellow-operator-cluster"), ("ClusterRoleBinding", "datasurface-yellow-operator-cluster"),
        ("ClusterRole", "datasurface-yellow-operator"), ("RoleBinding", "datasurface-yellow-operator")]
    for doc in docs:
        namespaced = doc["kind"] == "RoleBinding"
        live = cluster.get(doc["kind"].lower(), doc["metadata"]["name"], *(["-n", k8s_namespace] if namespaced else []))
        for key in ("rules", "roleRef", "subjects"):
            assert live.get(key) == doc.get(key), (doc["kind"], key)
    # The API server's own answer to "what may I do in this namespace", asked as the operator.
    review = json.loads(cluster.kubectl(
        "create", "--validate=false", "-o", "json", "-f", "-", operator=True,
        input=json.dumps({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                          "spec": {"namespace": k8s_namespace}})).stdout)
    assert review["status"].get("incomplete") is not True, review["status"]
    basic_user = cluster.get("clusterrole", "system:basic-user")["rules"]
    shipped = expand(docs[0]["rules"]) | expand(docs[2]["rules"])
    assert expand(review["status"]["resourceRules"]) == shipped | expand(basic_user)


def test_operator_may_work_in_its_namespace_and_nowhere_else(cluster, k8s_namespace):
    ns = k8s_namespace
    allowed = [
        ("create", "secrets", "-n", ns), ("list", "secrets", "-n", ns), ("create", "jobs.batch", "-n", ns),
        ("patch", "deployments.apps", "-n", ns), ("create", "roles.rbac.authorization.k8s.io", "-n", ns),
        # a request on the Namespace object itself is authorized in that namespace (so the RoleBinding counts)
        ("delete", f"namespace/{ns}", "-n", ns), ("get", f"namespace/{ns}", "-n", ns),
        ("list", "nodes"), ("list", "storageclasses.storage.k8s.io"),
    ]
    refused = [
        ("get", "secrets", "-n", "kube-system"), ("list", "secrets", "-n", "default"),
        ("get", "secret/anything", "-n", "default"), ("create", "secrets", "-n", "default"),
        ("list", "secrets", "--all-namespaces"), ("create", "jobs.batch", "-n", "kube-system"),
        ("delete", "nodes"), ("patch", "nodes"), ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
        ("create", "clusterroles.rbac.authorization.k8s.io"), ("create", "namespaces"), ("list", "namespaces"),
        ("delete", "namespace/default", "-n", "default"), ("patch", f"namespace/{ns}", "-n", ns),
        ("update", f"namespace/{ns}", "-n", ns),
        ("escalate", "roles.rbac.authorization.k8s.io", "-n", ns), ("bind", "clusterroles.rbac.authorization.k8s.io", "-n", ns),
        ("impersonate", "users"), ("create", "persistentvolumes"), ("create", "serviceaccounts", "--subresource=token", "-n", ns),
        ("create", "pods", "--subresource=exec", "-n", "kube-system"), ("get", "pods", "--subresource=log", "-n", "kube-system"),
        ("create", "networkpolicies.networking.k8s.io", "-n", ns), ("update", "deployments.apps", "-n", ns),
    ]
    answers = {args: can_i(cluster, *args) for args in allowed + refused}
    assert {args for args, answer in answers.items() if answer == "yes"} == set(allowed), answers

    # And for real: a Secret in its namespace is created, one in kube-system cannot be read.
    created = cluster.kubectl("create", "secret", "generic", "hc-probe", "--from-literal=k=v", "-n", ns, operator=True, check=False)
    assert created.returncode == 0, created.stderr
    refused_read = cluster.kubectl("get", "secrets", "-n", "kube-system", operator=True, check=False)
    assert refused_read.returncode != 0
    assert (f'secrets is forbidden: User "{OPERATOR_USER}" cannot list resource "secrets" in API group "" in the '
            'namespace "kube-system"') in refused_read.stderr
    # Its own namespace: it may delete it (teardown; server dry run here), not relabel it (Pod Security level).
    deleted = cluster.kubectl("delete", "namespace", ns, "--dry-run=server", operator=True, check=False)
    assert deleted.returncode == 0 and f'namespace "{ns}" deleted (server dry run)' in deleted.stdout, deleted.stderr
    relabel = cluster.kubectl("label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged", "--dry-run=server",
                              operator=True, check=False)
    assert relabel.returncode != 0
    assert (f'User "{OPERATOR_USER}" cannot patch resource "namespaces" in API group "" in the namespace "{ns}"'
            in relabel.stderr), relabel.stderr


def test_readme_commands_grant_a_new_namespace(cluster, k8s_admin_env):
    """The commands of README "Cluster permissions", run as written (admin kubeconfig), for a new namespace."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Cluster permissions\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    ns = "hc-rbac-readme"
    script = block.replace("NS=datasurface", f"NS={ns}")
    assert script != block, "the README's commands no longer start with NS=datasurface"
    cluster.delete_namespace(ns, wait=True)
    try:
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=k8s_admin_env,
                              capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert can_i(cluster, "create", "secrets", "-n", ns) == "yes"
        assert can_i(cluster, "create", "secrets", "-n", "default") == "no"
        binding = cluster.get("rolebinding", "datasurface-yellow-operator", "-n", ns)
        assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": OPERATOR_USER}]
    finally:
        cluster.delete_namespace(ns, wait=False)


def run_platform_prereqs(k8s_env, tmp_path, namespace):
    inventory = {"all": {"children": {"control": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump({
        "yellow_k8s_kubeconfig": k8s_env["KUBECONFIG"], "yellow_k8s_namespace": namespace,
        "yellow_k8s_registry_check": False, "yellow_k8s_registry_username": "bot", "yellow_k8s_registry_password": "r 1a",
        "yellow_k8s_postgres_password": "p 2b", "yellow_k8s_mask_password": "m 3c", "yellow_k8s_git_username": "git-bot",
        "yellow_k8s_git_token": "g 4d", "yellow_k8s_sqlserver_password": "s 5e",
        "yellow_k8s_secrets_extra": [{"name": "extra-one", "data": {"API_KEY": "x 6f"}}]}))
    path.chmod(0o600)
    result = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{path}", "--skip-tags", "airflow",
         str(ROOT / "playbooks" / "cluster.yml")],
        capture_output=True, text=True, env=dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
        cwd=ROOT, check=False, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_secret_reader_allows_the_named_secrets_and_nothing_else(cluster, k8s_namespace, k8s_env, tmp_path):
    ns = k8s_namespace
    run_platform_prereqs(k8s_env, tmp_path, ns)  # as the operator, which may create this Role and its binding
    role = cluster.get("role", "secret-reader", "-n", ns)
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": PLATFORM_SECRETS, "verbs": ["get"]}]
    binding = cluster.get("rolebinding", "secret-reader", "-n", ns)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": f"airflow-{c}", "namespace": ns} for c in COMPONENTS]

    def review(account, *args):
        return can_i(cluster, *args, f"--as=system:serviceaccount:{ns}:{account}", operator=False)

    for component in COMPONENTS:
        account = f"airflow-{component}"
        for name in PLATFORM_SECRETS:
            assert review(account, "get", f"secret/{name}", "-n", ns) == "yes", (account, name)
        for args in (("list", "secrets", "-n", ns), ("watch", "secrets", "-n", ns), ("get", "secrets", "-n", ns),
                     ("get", "secret/airflow-metadata", "-n", ns), ("get", "secret/sh.helm.release.v1.airflow.v1", "-n", ns),
                     ("get", "secret/hc-unrelated", "-n", ns), ("create", "secrets", "-n", ns),
                     ("update", "secret/postgres", "-n", ns), ("patch", "secret/postgres", "-n", ns),
                     ("delete", "secret/postgres", "-n", ns), ("get", "secret/postgres", "-n", "default"),
                     ("get", "secret/postgres", "-n", "kube-system"), ("get", "configmaps", "-n", ns)):
            assert review(account, *args) == "no", (account, args)
    for account in ("airflow-api-server", "airflow-webserver", "default"):
        assert review(account, "get", "secret/postgres", "-n", ns) == "no", account

    # Real reads under the worker's identity: the named Secret is returned, the listing is refused.
    worker = f"--as=system:serviceaccount:{ns}:airflow-worker"
    got = cluster.kubectl("get", "secret", "postgres", "-n", ns, worker, "-o", "jsonpath={.metadata.name}")
    assert got.stdout == "postgres"
    listed = cluster.kubectl("get", "secrets", "-n", ns, worker, check=False)
    assert listed.returncode != 0
    assert (f'User "system:serviceaccount:{ns}:airflow-worker" cannot list resource "secrets" in API group "" in the '
            f'namespace "{ns}"') in listed.stderr
