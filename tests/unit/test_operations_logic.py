# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The operations role's decisions: input checks per operation, tables a reset drops, the MCP server's URL."""

from __future__ import annotations

import pytest

from ansible_collections.datasurface.yellow.plugins.plugin_utils.operations import (
    cron_problem,
    mcp_info,
    operations_problems,
    reset_tables,
    table_entries,
)

PASSWORD = "s3cret pw 'x'"
DB = {"yellow_ops_db_host": "pg.example.org", "yellow_ops_db_port": 5432, "yellow_ops_db_user": "datasurfacedt",
      "yellow_ops_db_password": PASSWORD}
GOOD = {
    "update_image": {"yellow_ops_image_tag": "v1.2.0"},
    "reset_schema": {"yellow_ops_namespace": "demo1", "yellow_ops_confirm_reset": "demo1", **DB, "yellow_ops_psp": "Test_DP",
                     "yellow_ops_merge_database": "merge_db_af3", "yellow_ops_merge_schema": "public",
                     "yellow_ops_reset_tables": ["test_dp_factory_dags"], "yellow_ops_reset_table_patterns": [".*_airflow_dsg"],
                     "yellow_ops_reset_rerun_jobs": ["ring1_init", "model_merge"]},
    "clear_git_cache": {"yellow_ops_namespace": "demo1", "yellow_ops_git_cache_pvc": "git-cache-pvc",
                        "yellow_ops_git_cache_job_name": "yellow-clear-git-cache", "yellow_ops_job_timeout": "600"},
    "log_cleanup": {"yellow_ops_namespace": "demo1", "yellow_ops_log_cleanup_schedule": "0 * * * *",
                    "yellow_ops_log_retention_days": 7, "yellow_ops_logs_pvc": "airflow-logs",
                    "yellow_ops_log_cleanup_name": "airflow-log-cleanup", "yellow_ops_job_timeout": 600},
    "data_simulator": {"yellow_ops_namespace": "demo1", "yellow_ops_simulator_state": "started",
                       "yellow_ops_simulator_name": "data-simulator", "yellow_ops_simulator_args": ["--host", "pg", "--verbose"],
                       "yellow_ops_simulator_command": None, "yellow_ops_simulator_secret": "postgres",
                       "yellow_ops_simulator_report": True, "yellow_ops_simulator_tables": ["customers", {"name": "x", "database": "merge_db_af3"}],
                       **DB},
    "mcp": {"yellow_ops_namespace": "demo1", "yellow_ops_mcp_action": "snippet", "yellow_ops_mcp_name_pattern": "-mcp$",
            "yellow_ops_mcp_url": None},
    "capacity_report": {"yellow_ops_namespace": "demo1", "yellow_ops_job_pod_cpu": "500m", "yellow_ops_job_pod_memory": "1Gi",
                        "yellow_ops_job_minutes": 5.0, "yellow_ops_capacity_scope": "cluster",
                        "yellow_ops_capacity_schedules": [{"name": "hourly", "minutes": 60}]},
    "teardown": {"yellow_ops_namespace": "demo1", "yellow_ops_confirm_teardown": "demo1", "yellow_ops_airflow_release": "airflow",
                 "yellow_ops_teardown_timeout": 600},
}


@pytest.mark.parametrize("operation", sorted(GOOD))
def test_good_inputs_have_no_problems(operation):
    assert operations_problems(GOOD[operation], operation) == []


@pytest.mark.parametrize("operation, change, expected", [
    ("update_image", {"yellow_ops_image_tag": None}, "yellow_datasurface_image_tag: None is not an image tag"),
    ("update_image", {"yellow_ops_image_tag": "v1 2"}, "yellow_datasurface_image_tag: 'v1 2'"),
    ("reset_schema", {"yellow_ops_confirm_reset": None}, "yellow_confirm_reset: resetting the schema drops"),
    ("reset_schema", {"yellow_ops_confirm_reset": "prod"}, "yellow_confirm_reset: 'prod' does not match the namespace 'demo1'"),
    ("reset_schema", {"yellow_ops_db_password": ""}, "yellow_ops_db_password: must be a non-empty string"),
    ("reset_schema", {"yellow_ops_reset_tables": ['x"; DROP TABLE y; --']}, "yellow_ops_reset_tables[0]"),
    ("reset_schema", {"yellow_ops_reset_table_patterns": ["(unclosed"]}, "yellow_ops_reset_table_patterns[0]"),
    ("reset_schema", {"yellow_ops_psp": ""}, "yellow_ops_psp"),
    ("reset_schema", {"yellow_ops_db_host": None}, "yellow_ops_db_host: must be set"),
    ("clear_git_cache", {"yellow_ops_git_cache_pvc": "Git_Cache"}, "yellow_ops_git_cache_pvc: 'Git_Cache'"),
    ("log_cleanup", {"yellow_ops_log_cleanup_schedule": "0 * * *"}, "yellow_ops_log_cleanup_schedule: '0 * * *' must have 5 fields"),
    ("log_cleanup", {"yellow_ops_log_cleanup_schedule": "61 * * * *"}, "the minute field '61' is out of range"),
    ("log_cleanup", {"yellow_ops_log_retention_days": 0}, "yellow_ops_log_retention_days: must be a positive whole number"),
    ("log_cleanup", {"yellow_ops_log_cleanup_name": "a" * 53}, "yellow_ops_log_cleanup_name"),
    ("data_simulator", {"yellow_ops_simulator_state": "running"}, "yellow_ops_simulator_state: 'running' must be one of"),
    ("data_simulator", {"yellow_ops_simulator_args": ["--password", "x"]}, "yellow_ops_simulator_args: must not carry a password option"),
    ("data_simulator", {"yellow_ops_simulator_args": ["--password=x"]}, "must not carry a password option (--password)"),
    ("data_simulator", {"yellow_ops_simulator_args": ["--dsn", f"postgres://u:{PASSWORD}@h/db"]}, "contains the database password"),
    ("data_simulator", {"yellow_ops_simulator_tables": ["bad name"]}, "yellow_ops_simulator_tables[0]"),
    ("mcp", {"yellow_ops_mcp_action": "stop"}, "yellow_ops_mcp_action: 'stop' must be one of status, restart, snippet"),
    ("mcp", {"yellow_ops_mcp_name_pattern": "("}, "yellow_ops_mcp_name_pattern"),
    ("mcp", {"yellow_ops_mcp_url": "localhost:8000"}, "yellow_ops_mcp_url"),
    ("capacity_report", {"yellow_ops_job_pod_cpu": "lots"}, "yellow_ops_job_pod_cpu: 'lots' is not a Kubernetes quantity"),
    ("capacity_report", {"yellow_ops_job_pod_memory": "0"}, "yellow_ops_job_pod_memory: must be greater than zero"),
    ("capacity_report", {"yellow_ops_job_minutes": 0.0}, "yellow_ops_job_minutes: must be a positive number"),
    ("capacity_report", {"yellow_ops_capacity_schedules": [{"name": "x"}]}, "yellow_ops_capacity_schedules[0]"),
    ("teardown", {"yellow_ops_confirm_teardown": ""}, "yellow_confirm_teardown: teardown uninstalls the Airflow release"),
    ("teardown", {"yellow_ops_confirm_teardown": "demo2"}, "confirm with -e yellow_confirm_teardown=demo1"),
    ("teardown", {"yellow_ops_namespace": "Demo_1", "yellow_ops_confirm_teardown": "Demo_1"}, "yellow_ops_namespace: 'Demo_1' is not a DNS-1123"),
])
def test_each_bad_input_is_named(operation, change, expected):
    problems = operations_problems({**GOOD[operation], **change}, operation)
    assert any(expected in problem for problem in problems), problems
    assert not any(PASSWORD in problem for problem in problems)


def test_unknown_operation():
    assert operations_problems({}, "explode") == [
        "operation: 'explode' is not one of update_image, reset_schema, clear_git_cache, log_cleanup, data_simulator, mcp, "
        "capacity_report, teardown"]


@pytest.mark.parametrize("schedule", ["0 * * * *", "*/15 * * * *", "0 2 * * 1-5", "0 0 1 jan,jul *", "@hourly", "5,35 1-3/2 * * sun"])
def test_cron_schedules_accepted(schedule):
    assert cron_problem(schedule) is None


@pytest.mark.parametrize("schedule", ["", "@often", "* * * * * *", "0 24 * * *", "0 * 0 * *", "*/x * * * *"])
def test_cron_schedules_refused(schedule):
    assert cron_problem(schedule)


def test_reset_drops_named_and_matching_existing_tables_only():
    existing = ["customers", "test_dp_factory_dags", "yellowlive_airflow_dsg", "scd2_airflow_datatransformer",
                "airflow_dsg_backup", "test_dp_cqrs_dags"]
    assert reset_tables(existing, ["test_dp_factory_dags", "test_dp_dc_reconcile_dags", "test_dp_cqrs_dags"],
                        [".*_airflow_dsg", ".*_airflow_datatransformer"]) == [
        "scd2_airflow_datatransformer", "test_dp_cqrs_dags", "test_dp_factory_dags", "yellowlive_airflow_dsg"]
    assert reset_tables(existing, [], []) == []


def test_table_entries():
    assert table_entries(["customers", {"name": "x", "database": "merge", "schema": "s"}], "customer_db") == [
        {"name": "customers", "schema": "public", "database": "customer_db"}, {"name": "x", "schema": "s", "database": "merge"}]


def _node(name, internal, external=None):
    addresses = [{"type": "InternalIP", "address": internal}] + ([{"type": "ExternalIP", "address": external}] if external else [])
    return {"metadata": {"name": name}, "status": {"addresses": addresses}}


DEPLOYMENTS = [
    {"metadata": {"name": "airflow-scheduler"}, "spec": {"replicas": 1}},
    {"metadata": {"name": "test-dp-mcp"}, "spec": {"replicas": 1, "template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}, "spec": {"containers": [{"image": "ds:v1"}]}}},
     "status": {"readyReplicas": 1}},
]
SERVICES = [{"metadata": {"name": "test-dp-mcp"}, "spec": {"type": "NodePort", "ports": [{"port": 8000, "nodePort": 30123}]}},
            {"metadata": {"name": "airflow-api-server"}, "spec": {"type": "NodePort", "ports": [{"port": 8080, "nodePort": 30080}]}}]


def test_mcp_url_from_node_port_and_first_node():
    info = mcp_info(DEPLOYMENTS, SERVICES, [_node("node-b", "10.0.0.2"), _node("node-a", "10.0.0.1")], "-mcp$", server_name="ds")
    assert [d["name"] for d in info["deployments"]] == ["test-dp-mcp"] and info["deployments"][0]["ready"] == 1
    assert info["deployments"][0]["restarted_at"] == "2026-01-01T00:00:00Z"
    assert info["url"] == "http://10.0.0.1:30123/sse"
    assert info["snippet"] == {"mcpServers": {"ds": {"url": "http://10.0.0.1:30123/sse"}}}
    assert any("nodePort 30123" in line for line in info["lines"])


def test_mcp_url_overrides_and_problems():
    assert mcp_info(DEPLOYMENTS, SERVICES, [_node("n", "10.0.0.1", "203.0.113.5")], "-mcp$")["url"] == "http://203.0.113.5:30123/sse"
    assert mcp_info(DEPLOYMENTS, SERVICES, [], "-mcp$", host="ds.tailnet", path="/mcp")["url"] == "http://ds.tailnet:30123/mcp"
    assert mcp_info([], [], [], "-mcp$", url="https://mcp.example.org/sse")["url"] == "https://mcp.example.org/sse"
    cluster_ip = [{"metadata": {"name": "x-mcp"}, "spec": {"ports": [{"port": 8000}]}}]
    info = mcp_info([], cluster_ip, [_node("n", "10.0.0.1")], "-mcp$")
    assert info["url"] is None and "no nodePort" in info["problem"] and info["snippet"] is None
    assert "no Service" in mcp_info([], [], [], "-mcp$")["problem"]
