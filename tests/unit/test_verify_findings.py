# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The verify role's findings: pods, Airflow API answers, merge tables, MCP Service, probe Job, report."""

from __future__ import annotations

from typing import Any

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.filter.verify import verify_findings as verify_filter
from ansible_collections.datasurface.yellow.plugins.plugin_utils.verify import (
    airflow_findings,
    like_to_regex,
    mcp_findings,
    pod_findings,
    probe_findings,
    table_findings,
    table_matches,
    verify_findings,
)

COMPONENTS = ["scheduler", "dag-processor", "triggerer", "api-server", "worker", "redis"]


def pod(name: str, component: str, ready: bool = True, phase: str = "Running", waiting: str | None = None,
        terminated: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"running": {}}
    if waiting:
        state = {"waiting": {"reason": waiting}}
    if terminated:
        state = {"terminated": {"reason": terminated}}
    return {
        "metadata": {"name": name, "labels": {"component": component, "release": "airflow"}},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                   "containerStatuses": [{"name": "main", "ready": ready, "state": state}]},
    }


def all_pods() -> dict[str, Any]:
    return {"resources": [pod(f"airflow-{c}-0", c) for c in COMPONENTS], "api_found": True}


def uri(status: int, data: Any = None) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status, "changed": False}
    if data is not None:
        result["json"] = data
    return result


def good_api(**over: Any) -> dict[str, Any]:
    api = {
        "url": "http://192.0.2.10:30080",
        "token": {"status": 201},
        "health": uri(200, {"metadatabase": {"status": "healthy"}, "scheduler": {"status": "healthy"},
                            "triggerer": {"status": None}}),
        "dags": [uri(200, {"dags": [{"dag_id": "test_dp_factory", "is_paused": False},
                                    {"dag_id": "scd1_ingest", "is_paused": True}], "total_entries": 2})],
        "import_errors": uri(200, {"import_errors": [], "total_entries": 0}),
        "expected_dags": 2,
        "required_dags": ["test_dp_factory"],
    }
    api.update(over)
    return api


def tables(*names: str) -> dict[str, Any]:
    return {"query_result": [{"name": n} for n in names], "rowcount": len(names), "changed": False}


def statuses(findings: list[dict[str, str]]) -> dict[str, str]:
    return {f["check"]: f["status"] for f in findings}


# --- pods -----------------------------------------------------------------------------------------

def test_every_component_ready():
    findings = pod_findings(all_pods(), COMPONENTS)
    assert statuses(findings) == {f"pods {c}": "OK" for c in COMPONENTS}
    assert findings[0]["detail"] == "1/1 Ready"


def test_not_ready_pod_names_component_pod_and_reason():
    pods = all_pods()
    pods["resources"][2] = pod("airflow-triggerer-0", "triggerer", ready=False, phase="Pending", waiting="CreateContainerConfigError")
    pods["resources"].append(pod("airflow-worker-1", "worker", ready=False, waiting="CrashLoopBackOff"))
    findings = {f["check"]: f for f in pod_findings(pods, COMPONENTS)}
    assert findings["pods triggerer"]["status"] == "FAIL"
    assert findings["pods triggerer"]["detail"] == "no Ready pod: airflow-triggerer-0 Pending (main: CreateContainerConfigError)"
    assert findings["pods worker"] == {"check": "pods worker", "status": "OK", "detail": "1/2 Ready"}


def test_missing_component_terminated_and_deleting_pods():
    pods = {"resources": [pod("airflow-scheduler-0", "scheduler", ready=False, phase="Failed", terminated="OOMKilled"),
                          pod("airflow-redis-0", "redis")]}
    pods["resources"][1]["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    findings = {f["check"]: f for f in pod_findings(pods, ["scheduler", "redis", "worker"])}
    assert findings["pods scheduler"]["detail"] == "no Ready pod: airflow-scheduler-0 Failed (main: OOMKilled)"
    assert findings["pods redis"]["status"] == "FAIL"
    assert findings["pods worker"]["detail"] == "no pod"


def test_pods_unreadable_fails_every_component():
    findings = pod_findings({"msg": "Failed to get client due to HTTPSConnectionPool(...)\nmore", "changed": False}, ["scheduler", "redis"])
    assert [f["status"] for f in findings] == ["FAIL", "FAIL"]
    assert findings[0]["detail"] == "cannot list pods: Failed to get client due to HTTPSConnectionPool(...)"


def test_pods_as_a_plain_list():
    assert statuses(pod_findings(all_pods()["resources"], ["redis"])) == {"pods redis": "OK"}


# --- Airflow --------------------------------------------------------------------------------------

def dag_file(state, dags=("test-dp-infrastructure",), serving=()):
    return {"path": "dags/test_dp_infrastructure_dag.py", "name": "test_dp_infrastructure_dag.py", "state": state,
            "dags": list(dags), "serving": list(serving)}


def test_airflow_dag_files_pushed_version_served():
    api = good_api(dag_files=[dag_file("parsed", serving=["test-dp-infrastructure"])], waited=40)
    by = {f["check"]: f for f in airflow_findings(api)}
    assert by["airflow dag files"] == {"check": "airflow dag files", "status": "OK",
                                       "detail": "pushed version served: test_dp_infrastructure_dag.py (test-dp-infrastructure)"}


def test_airflow_dag_files_import_error_names_file_and_message():
    errors = uri(200, {"import_errors": [{"filename": "test_dp_infrastructure_dag.py", "stack_trace":
                                          "Traceback...\nAirflowTimetableInvalid: Exactly 5, 6 or 7 columns has to be specified"}],
                       "total_entries": 1})
    by = {f["check"]: f for f in airflow_findings(good_api(import_errors=errors, dag_files=[dag_file("import error")]))}
    assert by["airflow dag files"]["status"] == "FAIL"
    assert by["airflow dag files"]["detail"] == ("test_dp_infrastructure_dag.py: the pushed version does not import: "
                                                 "AirflowTimetableInvalid: Exactly 5, 6 or 7 columns has to be specified")
    assert by["airflow import errors"]["detail"] == ("1 import error(s): test_dp_infrastructure_dag.py: "
                                                     "AirflowTimetableInvalid: Exactly 5, 6 or 7 columns has to be specified")


def test_airflow_dag_files_older_version_or_nothing_yet():
    by = {f["check"]: f for f in airflow_findings(good_api(dag_files=[dag_file("pending")], waited=300))}
    assert by["airflow dag files"]["detail"] == ("test_dp_infrastructure_dag.py: Airflow still serves an older version after 300 s "
                                                 "(DAG(s) test-dp-infrastructure)")
    by = {f["check"]: f for f in airflow_findings(good_api(dag_files=[dag_file("pending", dags=())], waited=300))}
    assert by["airflow dag files"]["detail"] == ("test_dp_infrastructure_dag.py: no DAG from it and no import error after 300 s "
                                                 "(git-sync or the dag-processor behind?)")


@pytest.mark.parametrize("deactivated", [False, True])
def test_airflow_dag_of_a_file_that_no_longer_imports_is_missing_either_side_of_stale_marking(deactivated):
    """Seen on the lab (Airflow 3.1.6): right after the failing parse the DAG is still listed (the version parsed
    before the push); it is marked stale a minute or two later. Verify says the same either way."""
    errors = uri(200, {"import_errors": [{"filename": "test_dp_infrastructure_dag.py", "stack_trace": "AirflowTimetableInvalid: x"}],
                       "total_entries": 1})
    listed = [] if deactivated else [{"dag_id": "test-dp-infrastructure", "is_paused": False,
                                      "relative_fileloc": "test_dp_infrastructure_dag.py"}]
    dags = [uri(200, {"dags": listed, "total_entries": len(listed)})]
    api = good_api(dags=dags, import_errors=errors, expected_dags=1, required_dags=["test-dp-infrastructure"],
                   dag_files=[dag_file("import error", dags=[d["dag_id"] for d in listed])])
    by = {f["check"]: f for f in airflow_findings(api)}
    assert by["airflow dags"]["status"] == "FAIL"
    assert by["airflow dags"]["detail"] == ("0 DAGs, expected 1; missing DAG(s): test-dp-infrastructure [0 DAG(s): none]" if deactivated
                                            else "0 DAGs, expected 1; missing DAG(s): test-dp-infrastructure [1 DAG(s): "
                                            "test-dp-infrastructure; from before the push, their file not importing now: "
                                            "test-dp-infrastructure]")


def test_airflow_dag_listed_from_a_file_that_parsed_counts():
    api = good_api(dag_files=[dag_file("parsed", dags=["test_dp_factory"], serving=["test_dp_factory"])])
    assert statuses(airflow_findings(api))["airflow dags"] == "OK"


def test_airflow_no_dag_files_no_finding():
    assert "airflow dag files" not in statuses(airflow_findings(good_api(dag_files=[])))


def test_airflow_all_good():
    findings = airflow_findings(good_api())
    assert statuses(findings) == {"airflow api": "OK", "airflow health": "OK", "airflow dags": "OK", "airflow import errors": "OK"}
    by = {f["check"]: f["detail"] for f in findings}
    assert by["airflow dags"] == "2 DAG(s) (1 paused), required present: test_dp_factory"
    assert by["airflow health"] == "metadatabase healthy, scheduler healthy, triggerer unknown"


def test_missing_dag_and_wrong_count():
    findings = {f["check"]: f for f in airflow_findings(good_api(required_dags=["test_dp_factory", "scd2_ingest"], expected_dags=3))}
    assert findings["airflow dags"]["status"] == "FAIL"
    assert findings["airflow dags"]["detail"].startswith("2 DAGs, expected 3; missing DAG(s): scd2_ingest [2 DAG(s) (1 paused):")


def test_expected_dags_null_only_reports():
    findings = {f["check"]: f for f in airflow_findings(good_api(expected_dags=None, required_dags=[]))}
    assert findings["airflow dags"] == {"check": "airflow dags", "status": "OK", "detail": "2 DAG(s) (1 paused)"}


def test_dag_pages_are_joined():
    pages = [uri(200, {"dags": [{"dag_id": "a"}], "total_entries": 2}), uri(200, {"dags": [{"dag_id": "b"}], "total_entries": 2})]
    findings = {f["check"]: f for f in airflow_findings(good_api(dags=pages, required_dags=["b"], expected_dags=2))}
    assert findings["airflow dags"]["status"] == "OK"
    pages[1] = uri(500, {"detail": "boom"})
    assert {f["check"]: f for f in airflow_findings(good_api(dags=pages))}["airflow dags"]["detail"] == "GET /api/v2/dags: HTTP 500"


def test_import_errors_listed_with_last_trace_line():
    errors = uri(200, {"import_errors": [
        {"import_error_id": 1, "filename": "dags/broken_dag.py", "timestamp": "t",
         "stack_trace": "Traceback (most recent call last):\n  File \"x\", line 2\n    with DAG('b' s):\nSyntaxError: invalid syntax\n"},
        {"import_error_id": 2, "filename": "dags/other.py", "timestamp": "t", "stack_trace": ""}], "total_entries": 2})
    finding = {f["check"]: f for f in airflow_findings(good_api(import_errors=errors))}["airflow import errors"]
    assert finding["status"] == "FAIL"
    assert finding["detail"] == "2 import error(s): dags/broken_dag.py: SyntaxError: invalid syntax | dags/other.py: (no trace)"


def test_more_import_errors_than_listed():
    errors = uri(200, {"import_errors": [{"filename": f"f{i}.py", "stack_trace": "E"} for i in range(25)], "total_entries": 130})
    detail = {f["check"]: f for f in airflow_findings(good_api(import_errors=errors))}["airflow import errors"]["detail"]
    assert detail.startswith("130 import error(s): f0.py: E |") and detail.endswith("| and 110 more")


@pytest.mark.parametrize("token, expected", [
    ({"status": 401}, "POST /auth/token refused the credentials (HTTP 401)"),
    ({"status": -1, "msg": "Status code was -1 and not [200, 201]: Request failed: <urlopen error [Errno 111] Connection refused>"},
     "http://192.0.2.10:30080 unreachable (Status code was -1"),
    ({"status": 500}, "POST /auth/token: HTTP 500"),
    ({}, "http://192.0.2.10:30080 unreachable"),
])
def test_token_failures(token, expected):
    findings = airflow_findings(good_api(token=token))
    assert findings[0]["status"] == "FAIL" and findings[0]["detail"].startswith(expected)
    assert {f["check"] for f in findings if f["status"] == "FAIL"} >= {"airflow api", "airflow dags", "airflow import errors"}


def test_no_api_address():
    findings = airflow_findings(good_api(url=None))
    assert findings == [{"check": "airflow api", "status": "FAIL", "detail": findings[0]["detail"]}]
    assert "yellow_verify_airflow_url" in findings[0]["detail"]


def test_unhealthy_component():
    health = uri(200, {"metadatabase": {"status": "healthy"}, "scheduler": {"status": "unhealthy"}})
    finding = {f["check"]: f for f in airflow_findings(good_api(health=health))}["airflow health"]
    assert finding == {"check": "airflow health", "status": "FAIL", "detail": "unhealthy: scheduler unhealthy"}


# --- tables ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, name, matches", [
    ("scd%\\_airflow\\_%", "scd1_airflow_dsg", True),
    ("scd%\\_airflow\\_%", "scd2xairflow_dsg", False),
    ("scd%_airflow_%", "scd2xairflowxdsg", True),
    ("a.b%", "axb", False),
    ("100\\%", "100%", True),
    ("trail\\", "trail\\", True),
])
def test_like_patterns(pattern, name, matches):
    assert bool(like_to_regex(pattern).match(name)) is matches


def test_exact_names_are_not_patterns():
    assert table_matches("test_dp_factory_dags", ["testxdp_factory_dags"]) == []
    assert table_matches("test_dp_factory_dags", ["test_dp_factory_dags"]) == ["test_dp_factory_dags"]


def test_tables_all_present():
    db = {"database": "merge_db_af3", "tables": tables("test_dp_factory_dags", "scd1_airflow_dsg", "scd2_airflow_dsg"),
          "expected": ["test_dp_factory_dags", "scd%\\_airflow\\_%"]}
    assert table_findings(db) == [{"check": "merge tables", "status": "OK",
                                   "detail": "merge_db_af3: test_dp_factory_dags, scd%\\_airflow\\_% (2)"}]


def test_missing_table_named():
    db = {"database": "merge_db_af3", "tables": tables("scd1_airflow_dsg"), "expected": ["test_dp_factory_dags", "scd%\\_airflow\\_%"]}
    assert table_findings(db)[0] == {"check": "merge tables", "status": "FAIL",
                                     "detail": "merge_db_af3: no table for test_dp_factory_dags (1 tables present)"}


def test_ingestion_tables_missing_and_empty():
    db = {"database": "m", "tables": tables("a", "b"), "expected": [], "ingestion": ["a", "b", "c"],
          "counts": {"query_result": [{"name": "a", "has_rows": True}, {"name": "b", "has_rows": False}]}}
    findings = table_findings(db)
    assert findings[1] == {"check": "ingestion tables", "status": "FAIL", "detail": "m: missing c; empty b"}
    db["ingestion"] = ["a"]
    assert table_findings(db)[1]["status"] == "OK"


def test_database_unreachable():
    db = {"database": "m", "tables": {"msg": "unable to connect to database: connection refused", "changed": False}, "expected": ["x"]}
    assert table_findings(db) == [{"check": "merge tables", "status": "FAIL",
                                   "detail": "m: cannot list tables: unable to connect to database: connection refused"}]


# --- MCP and probe --------------------------------------------------------------------------------

def service(name: str, node_port: int | None = None) -> dict[str, Any]:
    port: dict[str, Any] = {"port": 8000}
    if node_port:
        port["nodePort"] = node_port
    return {"metadata": {"name": name}, "spec": {"type": "NodePort" if node_port else "ClusterIP", "ports": [port],
                                                 "selector": {"app": name}}}


def deployment(name: str, ready: int | None, desired: int | None = 1, app: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"template": {"metadata": {"labels": {"app": app or name, "pod-template-hash": "x"}}}}
    if desired is not None:
        spec["replicas"] = desired
    status = {} if ready is None else {"readyReplicas": ready, "replicas": desired}
    return {"metadata": {"name": name}, "spec": spec, "status": status}


def endpoint_slice(service_name: str, *ready: bool | None) -> dict[str, Any]:
    return {"metadata": {"name": service_name + "-abcde", "labels": {"kubernetes.io/service-name": service_name}},
            "endpoints": [{"addresses": [f"10.42.0.{i + 10}"], "conditions": {} if r is None else {"ready": r}}
                          for i, r in enumerate(ready)]}


def mcp_input(deployments, slices=None, endpoints=None, services=None) -> dict[str, Any]:
    return {"enabled": True, "pattern": "-mcp$",
            "services": {"resources": services or [service("airflow-api-server", 30080), service("test-dp-mcp", 30900)]},
            "deployments": {"resources": deployments},
            "endpointslices": ({"resources": slices} if slices is not None
                               else {"msg": "Failed to find exact match for discovery.k8s.io/v1.EndpointSlice"}),
            "endpoints": {"resources": endpoints} if endpoints is not None else {"skipped": True}}


def test_mcp_ready_with_node_port():
    mcp = mcp_input([deployment("test-dp-mcp", 1), deployment("airflow-api-server", 0)], [endpoint_slice("test-dp-mcp", True)])
    assert mcp_findings(mcp) == [{"check": "mcp service", "status": "OK", "detail":
                                  "test-dp-mcp NodePort port 8000 (NodePort 30900); Deployment test-dp-mcp 1/1 ready, 1 ready endpoint(s)"}]


@pytest.mark.parametrize("deployments, slices, detail", [
    # The reported defect: the Service exists, the Deployment is 0/1 ready.
    ([deployment("test-dp-mcp", 0)], [endpoint_slice("test-dp-mcp", False)],
     "not serving: Deployment test-dp-mcp 0/1 ready; Service test-dp-mcp has no ready endpoint"),
    ([deployment("test-dp-mcp", None)], [], "not serving: Deployment test-dp-mcp 0/1 ready; Service test-dp-mcp has no ready endpoint"),
    ([deployment("test-dp-mcp", 1, desired=2)], [endpoint_slice("test-dp-mcp", True, False)], "not serving: Deployment test-dp-mcp 1/2 ready ["),
    ([deployment("test-dp-mcp", 0, desired=0)], [], "not serving: Deployment test-dp-mcp is scaled to 0;"),
    ([], [endpoint_slice("test-dp-mcp", True)], "not serving: no Deployment behind Service test-dp-mcp (selector {'app': 'test-dp-mcp'})"),
    ([deployment("test-dp-mcp", 1)], [endpoint_slice("other-mcp", True)], "not serving: Service test-dp-mcp has no ready endpoint"),
], ids=["zero-of-one", "no-status", "one-of-two", "scaled-to-zero", "no-deployment", "endpoints-of-another-service"])
def test_mcp_not_serving(deployments, slices, detail):
    found = mcp_findings(mcp_input(deployments, slices))
    assert len(found) == 1 and found[0]["status"] == "FAIL", found
    assert found[0]["detail"].startswith(detail), found[0]["detail"]


def test_mcp_deployment_found_through_the_service_selector():
    mcp = mcp_input([deployment("mcp-server", 1, app="test-dp-mcp")], [endpoint_slice("test-dp-mcp", None)])
    assert mcp_findings(mcp)[0] == {"check": "mcp service", "status": "OK", "detail":
                                    "test-dp-mcp NodePort port 8000 (NodePort 30900); Deployment mcp-server 1/1 ready, 1 ready endpoint(s)"}


def test_mcp_endpoints_when_endpointslices_cannot_be_read():
    ready = {"metadata": {"name": "test-dp-mcp"}, "subsets": [{"addresses": [{"ip": "10.42.0.9"}]}]}
    # k8s_info on a cluster without the EndpointSlice API: no failure, api_found false.
    no_api = dict(mcp_input([deployment("test-dp-mcp", 1)], endpoints=[ready]), endpointslices={"api_found": False, "resources": []})
    assert mcp_findings(no_api)[0]["status"] == "OK"
    not_ready = {"metadata": {"name": "test-dp-mcp"}, "subsets": [{"notReadyAddresses": [{"ip": "10.42.0.9"}]}]}
    assert mcp_findings(mcp_input([deployment("test-dp-mcp", 1)], endpoints=[ready]))[0]["status"] == "OK"
    found = mcp_findings(mcp_input([deployment("test-dp-mcp", 1)], endpoints=[not_ready]))[0]
    assert found["status"] == "FAIL" and "Service test-dp-mcp has no ready endpoint" in found["detail"]
    unreadable = dict(mcp_input([deployment("test-dp-mcp", 1)]), endpoints={"msg": "forbidden"})
    assert mcp_findings(unreadable)[0] == {"check": "mcp service", "status": "FAIL",
                                           "detail": "cannot list EndpointSlices nor Endpoints: forbidden"}


def test_mcp_deployments_unreadable():
    mcp = dict(mcp_input([]), deployments={"msg": "deployments.apps is forbidden"})
    assert mcp_findings(mcp)[0]["detail"] == "cannot list deployments: deployments.apps is forbidden"


def test_mcp_missing_or_disabled():
    mcp = mcp_input([], [], services=[service("test-dp-mcp-old")])
    assert mcp_findings(mcp)[0]["status"] == "FAIL" and "'-mcp$'" in mcp_findings(mcp)[0]["detail"]
    assert mcp_findings({"enabled": False})[0]["status"] == "SKIP"


def test_probe_outcomes():
    assert probe_findings({"enabled": False}) == []
    assert probe_findings({"enabled": True, "check_mode": True, "result": {"skipped": True}})[0]["status"] == "SKIP"
    ok = probe_findings({"enabled": True, "target": "pg:5432/m", "result": {"result": "succeeded", "duration": 2.0}})
    assert ok == [{"check": "db probe", "status": "OK", "detail": "pg:5432/m reachable from the namespace (2.0 s)"}]
    failed = probe_findings({"enabled": True, "target": "pg:5432/m", "result": {
        "result": "failed", "reason": "BackoffLimitExceeded",
        "logs": {"p-1": {"probe": "pg:5432 - accepting connections\npsql: error: password authentication failed for user \"x\"\n"}}}})
    assert failed[0]["detail"] == ("pg:5432/m not reachable from the namespace: BackoffLimitExceeded "
                                   "(psql: error: password authentication failed for user \"x\")")


# --- report ---------------------------------------------------------------------------------------

def test_report_all_ok_and_simulated():
    report = verify_findings({
        "namespace": "ns", "simulated": True, "components": COMPONENTS, "pods": all_pods(), "airflow": good_api(),
        "db": {"database": "m", "tables": tables("test_dp_factory_dags"), "expected": ["test_dp_factory_dags"]},
        "mcp": mcp_input([deployment("test-dp-mcp", 1)], [endpoint_slice("test-dp-mcp", True)]),
        "probe": {"enabled": False}, "stand_ins": ["git-sync (why)", "the generator (why)"],
    })
    assert report["ok"] is True and report["failed"] == [] and report["simulated"] is True
    assert report["stand_ins"] == ["git-sync (why)", "the generator (why)"]
    assert report["lines"][0] == "SIMULATED: lab run; stand-ins: git-sync (why); the generator (why)"
    assert report["lines"][-1] == report["summary"] == "12/12 checks passed"
    assert report["lines"][1] == "OK   pods scheduler: 1/1 Ready"


def test_report_names_every_failure():
    pods = all_pods()
    pods["resources"].pop()
    report = verify_filter({
        "namespace": "ns", "components": COMPONENTS, "pods": pods,
        "airflow": good_api(required_dags=["missing_dag"]),
        "db": {"database": "m", "tables": tables(), "expected": ["test_dp_factory_dags"]},
    })
    assert report["ok"] is False and report["simulated"] is False
    assert report["failed"] == ["pods redis", "airflow dags", "merge tables"]
    assert report["summary"].endswith("FAILED: pods redis, airflow dags, merge tables")
    assert not any(line.startswith("SIMULATED") for line in report["lines"])


def test_filter_refuses_non_dict():
    with pytest.raises(AnsibleFilterError):
        verify_filter(["x"])


# --- the probe Job manifest ------------------------------------------------------------------------

def test_probe_job_takes_credentials_from_the_secret_only():
    import json
    from pathlib import Path

    import jinja2
    import yaml

    root = Path(__file__).resolve().parents[2]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root / "roles" / "verify" / "templates")), undefined=jinja2.StrictUndefined)
    env.filters["to_json"] = json.dumps
    text = env.get_template("db_probe_job.yml.j2").render(
        yellow_verify_probe_name="yellow-verify-db-probe", yellow_verify_namespace="ns", yellow_verify_probe_timeout=180,
        yellow_verify_probe_image_pull_secret="dockerhub-creds", yellow_verify_probe_image="postgres:16-alpine",
        yellow_verify_db_host="192.0.2.20", yellow_verify_db_port=5432, yellow_verify_probe_database="merge_db_af3",
        yellow_verify_probe_secret="postgres", yellow_verify_probe_user_key="USER", yellow_verify_probe_password_key="PASSWORD")
    job = yaml.safe_load(text)
    assert job["kind"] == "Job" and job["metadata"]["namespace"] == "ns" and job["spec"]["backoffLimit"] == 0
    container = job["spec"]["template"]["spec"]["containers"][0]
    env_vars = {e["name"]: e for e in container["env"]}
    assert env_vars["PGPASSWORD"] == {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "postgres", "key": "PASSWORD"}}}
    assert env_vars["PGUSER"]["valueFrom"]["secretKeyRef"] == {"name": "postgres", "key": "USER"}
    assert env_vars["PGHOST"]["value"] == "192.0.2.20" and env_vars["PGPORT"]["value"] == "5432"
    assert "PASSWORD" not in " ".join(container["command"]) and "pg_isready" in container["command"][2]
