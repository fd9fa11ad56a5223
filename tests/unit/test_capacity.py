# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Kubernetes quantities and the capacity report's formulas (headroom, concurrency, jobs per hour, streams)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ansible_collections.datasurface.yellow.plugins.filter.capacity import capacity_report as capacity_filter
from ansible_collections.datasurface.yellow.plugins.plugin_utils.capacity import (
    QuantityError,
    capacity_report,
    cpu_millicores,
    format_cpu,
    format_memory,
    memory_bytes,
    parse_quantity,
    pod_requests,
    report_lines,
)


@pytest.mark.parametrize("value, expected", [
    ("100m", Fraction(1, 10)), ("2", 2), (2, 2), ("0.5", Fraction(1, 2)), (".5", Fraction(1, 2)), ("1.5", Fraction(3, 2)),
    ("1Gi", 2 ** 30), ("500Mi", 500 * 2 ** 20), ("1Ki", 1024), ("1k", 1000), ("1M", 10 ** 6), ("1G", 10 ** 9),
    ("1e3", 1000), ("1E3", 1000), ("2e-3", Fraction(2, 1000)), ("250u", Fraction(250, 10 ** 6)), ("5n", Fraction(5, 10 ** 9)),
    ("1.5Gi", 3 * 2 ** 29), (0.25, Fraction(1, 4)),
])
def test_quantities_parse_exactly(value, expected):
    assert parse_quantity(value) == expected


@pytest.mark.parametrize("value", ["", "1 Gi", "Gi", "1GB", "abc", "1.2.3", None, True, [1]])
def test_bad_quantities_are_refused(value):
    with pytest.raises(QuantityError):
        parse_quantity(value)


def test_cpu_and_memory_units():
    assert cpu_millicores("100m") == 100
    assert cpu_millicores("2") == 2000
    assert cpu_millicores("0.5") == 500
    assert cpu_millicores("1500u") == 2  # rounded up like the scheduler
    assert memory_bytes("512Mi") == 536870912
    assert memory_bytes("1G") == 10 ** 9
    # Exact, as Kubernetes prints quantities (kubectl describe node): no rounding.
    assert format_cpu(1500) == "1500m" and format_cpu(250) == "250m" and format_cpu(4000) == "4" and format_cpu(3800) == "3800m"
    assert format_memory(3 * 2 ** 29) == "1536Mi" and format_memory(512 * 2 ** 20) == "512Mi" and format_memory(10) == "10"
    assert format_memory(7680 * 2 ** 20) == "7680Mi" and format_memory(8 * 2 ** 30) == "8Gi" and format_memory(0) == "0"
    assert format_memory(10 ** 9) == "1G" and format_memory(1500) == "1500" and format_memory(3456 * 2 ** 20) == "3456Mi"


def node(name, cpu="4", memory="8Gi", ready=True, unschedulable=False, taints=None):
    return {"metadata": {"name": name},
            "spec": {"unschedulable": unschedulable, "taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": memory},
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def pod(name, node_name, cpu=None, memory=None, phase="Running", init=None, overhead=None, containers=1):
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    spec = {"containers": [{"name": f"c{i}", "resources": {"requests": requests}} for i in range(containers)]}
    if node_name:
        spec["nodeName"] = node_name
    if init:
        spec["initContainers"] = [{"name": "init", "resources": {"requests": init}}]
    if overhead:
        spec["overhead"] = overhead
    return {"metadata": {"name": name}, "spec": spec, "status": {"phase": phase}}


def test_pod_requests_sum_containers_and_honour_init_and_overhead():
    assert pod_requests(pod("p", "n", "250m", "256Mi", containers=2)) == (500, 512 * 2 ** 20)
    assert pod_requests(pod("p", "n", "100m", "64Mi", init={"cpu": "1", "memory": "32Mi"})) == (1000, 64 * 2 ** 20)
    assert pod_requests(pod("p", "n", "100m", None, overhead={"cpu": "50m", "memory": "10Mi"})) == (150, 10 * 2 ** 20)
    assert pod_requests({"spec": {"containers": [{"name": "x"}]}}) == (0, 0)


def test_pod_requests_count_sidecars_and_pod_level_resources_as_the_scheduler_does():
    def requests(cpu, memory, **extra):
        return {"name": "x", "resources": {"requests": {"cpu": cpu, "memory": memory}}, **extra}
    # A native sidecar (restartPolicy Always) runs beside the containers and during the later init containers:
    # max(100m + 200m, 1 + 200m) cpu, max(128Mi + 256Mi, 64Mi + 256Mi) memory.
    sidecar = {"spec": {"containers": [requests("100m", "128Mi")],
                        "initContainers": [requests("200m", "256Mi", restartPolicy="Always"), requests("1", "64Mi")]}}
    assert pod_requests(sidecar) == (1200, 384 * 2 ** 20)
    # An init container before the sidecar does not run beside it.
    first = {"spec": {"containers": [requests("100m", "128Mi")],
                      "initContainers": [requests("1", "64Mi"), requests("200m", "256Mi", restartPolicy="Always")]}}
    assert pod_requests(first) == (1000, 384 * 2 ** 20)
    # Pod-level requests (PodLevelResources) replace the containers' sum for the resources they name.
    pod_level = {"spec": {"resources": {"requests": {"cpu": "400m"}}, "containers": [requests("100m", "128Mi")]}}
    assert pod_requests(pod_level) == (400, 128 * 2 ** 20)


def test_headroom_concurrency_jobs_per_hour_and_streams():
    nodes = [node("node-a", "4", "8Gi"), node("node-b", "2", "4Gi")]
    pods = [
        pod("airflow-scheduler", "node-a", "1", "2Gi"),
        pod("airflow-worker", "node-a", "500m", "1Gi"),
        pod("redis", "node-b", "250m", "512Mi"),
        pod("done", "node-b", "1", "1Gi", phase="Succeeded"),   # ended: holds nothing
        pod("pending", None, "1", "1Gi", phase="Pending"),       # not bound: not on any node
    ]
    report = capacity_report(nodes, pods, "500m", "1Gi", 5, [{"name": "hourly", "minutes": 60}, {"name": "daily", "minutes": 1440},
                                                             {"name": "every 5 minutes", "minutes": 5}])
    a, b = report["nodes"]
    assert (a["requested_cpu_m"], a["requested_memory"], a["pods"]) == (1500, 3 * 2 ** 30, 2)
    assert (a["headroom_cpu_m"], a["headroom_memory"]) == (2500, 5 * 2 ** 30)
    assert a["job_pods"] == 5            # min(2500 // 500, 5Gi // 1Gi)
    assert (b["headroom_cpu_m"], b["headroom_memory"]) == (1750, 3584 * 2 ** 20)
    assert b["job_pods"] == 3            # min(1750 // 500 = 3, 3.5Gi // 1Gi = 3)
    assert report["concurrent_job_pods"] == 8
    assert report["jobs_per_hour"] == 96  # 8 * 60 / 5
    assert [s["streams"] for s in report["schedules"]] == [96, 2304, 8]
    assert report["total"]["headroom_cpu_m"] == 4250
    assert report["pending_pods"] == 1 and report["pending_cpu_m"] == 1000


def test_memory_can_be_the_limit_and_sums_per_node_not_in_total():
    # Each node has 600m free: one 500m job pod each (pooling the 1200m would wrongly give two on one node).
    nodes = [node("n1", "1", "2Gi"), node("n2", "1", "2Gi")]
    pods = [pod("x", "n1", "400m", "1Gi"), pod("y", "n2", "400m", "1Gi")]
    report = capacity_report(nodes, pods, "500m", "512Mi", 10)
    assert report["concurrent_job_pods"] == 2
    assert report["jobs_per_hour"] == 12
    report = capacity_report(nodes, pods, "100m", "600Mi", 10)
    assert [n["job_pods"] for n in report["nodes"]] == [1, 1]  # memory: 1Gi free // 600Mi


def test_unusable_nodes_are_shown_not_counted():
    nodes = [node("cordoned", unschedulable=True), node("down", ready=False),
             node("master", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
             node("soft", taints=[{"key": "x", "effect": "PreferNoSchedule"}])]
    report = capacity_report(nodes, [], "1", "1Gi", 30)
    excluded = {n["name"]: n["excluded"] for n in report["nodes"]}
    assert excluded == {"cordoned": "cordoned", "down": "not Ready",
                        "master": "tainted node-role.kubernetes.io/control-plane", "soft": None}
    assert report["concurrent_job_pods"] == 4  # only "soft": min(4, 8)
    assert report["jobs_per_hour"] == 8


def test_overcommitted_node_has_no_headroom():
    report = capacity_report([node("n", "1", "1Gi")], [pod("big", "n", "2", "2Gi")], "100m", "100Mi", 1)
    assert report["nodes"][0]["headroom_cpu_m"] == 0 and report["concurrent_job_pods"] == 0


@pytest.mark.parametrize("args, message", [
    (("0", "1Gi", 5), "greater than zero"),
    (("1", "1Gi", 0), "positive"),
    (("1", "1Gi", 5, [{"name": "x"}]), "schedules[0]"),
])
def test_bad_formula_inputs(args, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        capacity_report([node("n")], [], *args)


def test_the_filter_accepts_k8s_info_results_and_returns_a_table():
    result = capacity_filter({"items": [node("node-a", "4", "8Gi")]}, [pod("p", "node-a", "1", "1Gi")], "500m", "1Gi", 5,
                             [{"name": "hourly", "minutes": 60}])
    assert result["concurrent_job_pods"] == 6
    text = "\n".join(result["table"])
    assert "node-a" in text and "TOTAL" in text and "jobs per hour: 72" in text and "hourly" in text
    assert report_lines(result) == result["table"]
