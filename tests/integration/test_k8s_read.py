# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""datasurface.yellow.k8s_read on the real control plane (tests/cluster), as the OPERATOR identity: one module run
answers what several kubernetes.core.k8s_info runs answer, object for object (the same queries through k8s_info in
one playbook, compared item by item), in check mode too; a name that does not exist, a kind the server does not
serve, a bad selector; a Forbidden query failing the run, or only itself with fail_on_error=false; a server that
cannot be reached; a Secret read under no_log not printed at -vvv."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import yaml

from tests.cluster.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


def _playbook(env: Dict[str, str], tmp_path: Path, tasks: List[Dict[str, Any]], check: bool = False) -> Dict[str, Any]:
    """Run ``tasks`` on localhost; the registered results by name (the json callback's task results)."""
    book = tmp_path / "play.yml"
    book.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    run_env = dict(env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
                           str(book)] + (["--check"] if check else []), env=run_env, cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON report (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from None
    return {task["task"]["name"]: task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]}


def _same(item: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in item.items() if k != "metadata"} | {"metadata": {k: v for k, v in item["metadata"].items()
                                                                              if k != "managedFields"}}


def test_one_run_answers_what_k8s_info_answers(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    ns = k8s_namespace
    cluster.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": ns, "labels": {"set": "a" if i < 2 else "b"}},
                    "data": {"k": str(i)}} for i in range(3)]
                  + [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa-1", "namespace": ns}}])
    queries = [{"kind": "ConfigMap", "namespace": ns, "label_selectors": ["set=a"]},
               {"kind": "ServiceAccount", "namespace": ns, "name": "sa-1"},
               {"kind": "ServiceAccount", "namespace": ns, "name": "no-such-account"},
               {"kind": "Node"},
               {"api_version": "storage.k8s.io/v1", "kind": "StorageClass"},
               {"kind": "Pod", "namespace": ns, "field_selectors": ["status.phase!=Succeeded", "status.phase!=Failed"]}]
    kubeconfig = k8s_env["KUBECONFIG"]
    tasks = [{"name": "read", "datasurface.yellow.k8s_read": {"kubeconfig": kubeconfig, "queries": queries}}]
    tasks += [{"name": f"info {i}", "kubernetes.core.k8s_info": dict(q, kubeconfig=kubeconfig)}
              for i, q in enumerate(queries)]
    for check in (False, True):
        results = _playbook(k8s_env, tmp_path, tasks, check=check)
        read = results["read"]
        assert read.get("changed") is False and not read.get("failed"), read
        assert len(read["answers"]) == len(queries)
        for i, answer in enumerate(read["answers"]):
            info = results[f"info {i}"]
            assert answer["api_found"] is info["api_found"] is True, (answer, info)
            assert [_same(r) for r in answer["resources"]] == [_same(r) for r in info["resources"]], queries[i]
        configmaps, account, missing, nodes, classes, _pods = read["answers"]
        assert sorted(c["metadata"]["name"] for c in configmaps["resources"]) == ["cm-0", "cm-1"]
        assert {(c["apiVersion"], c["kind"]) for c in configmaps["resources"]} == {("v1", "ConfigMap")}
        assert [a["metadata"]["name"] for a in account["resources"]] == ["sa-1"] and missing["resources"] == []
        assert nodes["resources"] and classes["resources"]  # KWOK's nodes; the harness's local-path class


def test_unserved_kinds_bad_selectors_refusals_and_no_server(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                             tmp_path: Path) -> None:
    kubeconfig = k8s_env["KUBECONFIG"]
    forbidden = {"kind": "Secret", "namespace": "kube-system"}
    tasks = [
        {"name": "odd", "datasurface.yellow.k8s_read": {"kubeconfig": kubeconfig, "queries": [
            {"api_version": "example.com/v1", "kind": "Widget"}, {"kind": "Widget"},
            {"kind": "ConfigMap", "namespace": k8s_namespace, "label_selectors": ["not a selector!"]}]}},
        {"name": "refused", "datasurface.yellow.k8s_read": {"kubeconfig": kubeconfig, "queries": [forbidden, {"kind": "Node"}]},
         "ignore_errors": True},
        {"name": "refused, going on", "datasurface.yellow.k8s_read": {"kubeconfig": kubeconfig, "fail_on_error": False,
                                                                      "queries": [forbidden, {"kind": "Node"}]}},
        {"name": "no server", "datasurface.yellow.k8s_read": {"host": "https://127.0.0.1:1", "api_key": "x", "fail_on_error": False,
                                                              "queries": [{"kind": "Node"}, {"kind": "Pod"}]}},
    ]
    results = _playbook(k8s_env, tmp_path, tasks)
    widget_group, widget_core, bad = results["odd"]["answers"]
    assert (widget_group["api_found"], widget_group["resources"]) == (False, [])
    assert widget_group["msg"] == 'Failed to find API for resource with apiVersion "example.com/v1" and kind "Widget"'
    assert (widget_core["api_found"], bad["api_found"], bad["resources"]) == (False, True, [])
    refused = results["refused"]
    assert refused["failed"] is True and refused["answers"] == []
    assert refused["msg"] == ('Secret in namespace kube-system: 403 Forbidden: secrets is forbidden: User "yellow-operator" cannot list '
                              'resource "secrets" in API group "" in the namespace "kube-system"')
    first, second = results["refused, going on"]["answers"]
    assert (first["failed"], first["reason"], "resources" in first) == (True, "Forbidden", False)
    assert second["api_found"] is True and second["resources"]
    down = results["no server"]["answers"]
    assert [r["reason"] for r in down] == ["ConnectionError", "ConnectionError"]
    assert all(r["msg"].startswith(("Node: ConnectionError: ", "Pod: ConnectionError: ")) for r in down), down


def test_no_log_hides_what_it_read_at_any_verbosity(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                    tmp_path: Path) -> None:
    """A Secret read under no_log is not printed at -vvv, also when another query of the same read is refused
    (ansible-core 2.19 prints a top-level ``results`` list item by item even under no_log: the answers are not one)."""
    value = "k8s-read pw 7f3e"
    cluster.apply([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s-1", "namespace": k8s_namespace},
                    "stringData": {"password": value}}])
    kubeconfig = k8s_env["KUBECONFIG"]
    book = tmp_path / "play.yml"
    book.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Read the Secrets", "datasurface.yellow.k8s_read": {
            "kubeconfig": kubeconfig, "queries": [{"kind": "Secret", "namespace": k8s_namespace}]},
         "register": "secrets", "no_log": True},
        {"name": "Read the Secrets, one refused", "datasurface.yellow.k8s_read": {
            "kubeconfig": kubeconfig, "fail_on_error": False,
            "queries": [{"kind": "Secret", "namespace": k8s_namespace}, {"kind": "Secret", "namespace": "kube-system"}]},
         "register": "partly", "no_log": True},
        {"name": "Count them", "ansible.builtin.assert": {"that": [
            "secrets.answers[0].resources | length == 1", "partly.answers[1].failed", "partly is not failed"]}}]}]))
    run_env = dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
                   ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(PLAYBOOK), "-vvv", "-i", "localhost,", "-c", "local", "-e",
                           f"ansible_python_interpreter={sys.executable}", str(book)], env=run_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert output.count("censored: 'the output has been hidden due to the fact that ''no_log: true''") == 2, output[-3000:]
    for form in (value, base64.b64encode(value.encode()).decode()):
        assert form not in output
