# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Capacity arithmetic for the operations role's capacity report.

Kubernetes quantities (``100m``, ``2``, ``1Gi``, ``500Mi``, ``1e3``, ``1.5G``) are parsed exactly
(``fractions.Fraction``); CPU is counted in millicores and memory in bytes. The numbers follow the
HOWTO's sizing method:

* headroom = allocatable - requested, per node (pods bound to it that have not ended);
* concurrent job pods = per node ``min(cpu headroom // job cpu, memory headroom // job memory)``,
  summed over the schedulable nodes (a pod cannot span nodes, so the total headroom divided by the
  job request would over-count);
* jobs per hour = concurrency * 60 / minutes per job;
* streams per schedule = jobs per hour * the schedule's period in hours (each stream runs one job
  per period).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$")
_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"n": Fraction(1, 10 ** 9), "u": Fraction(1, 10 ** 6), "m": Fraction(1, 1000), "k": Fraction(10 ** 3),
            "M": Fraction(10 ** 6), "G": Fraction(10 ** 9), "T": Fraction(10 ** 12), "P": Fraction(10 ** 15),
            "E": Fraction(10 ** 18)}
ENDED_PHASES = frozenset({"Succeeded", "Failed"})
BLOCKING_TAINT_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity."""


def parse_quantity(value: Any) -> Fraction:
    """The exact value of a Kubernetes quantity (``"100m"`` -> 1/10, ``"1Gi"`` -> 1073741824)."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a Kubernetes quantity")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a Kubernetes quantity")
    match = _QUANTITY.match(value.strip())
    if not match:
        raise QuantityError(f"{value!r} is not a Kubernetes quantity (examples: 500m, 2, 1Gi, 512Mi, 1e3)")
    number, binary, exponent, decimal = match.groups()
    result = Fraction(number)
    if binary:
        result *= _BINARY[binary]
    elif exponent:
        result *= Fraction(10) ** int(exponent[1:])
    elif decimal:
        result *= _DECIMAL[decimal]
    return result


def cpu_millicores(value: Any) -> int:
    """CPU quantity in millicores, rounded up like the scheduler does (``"0.5"`` -> 500, ``"100m"`` -> 100)."""
    return math.ceil(parse_quantity(value) * 1000)


def memory_bytes(value: Any) -> int:
    """Memory quantity in bytes, rounded up (``"1Gi"`` -> 1073741824, ``"1k"`` -> 1000)."""
    return math.ceil(parse_quantity(value))


def format_cpu(millicores: int) -> str:
    """Exact, in the canonical form Kubernetes prints (``kubectl describe node``): ``4000`` -> ``4``, ``3800`` -> ``3800m``."""
    if millicores % 1000 == 0:
        return str(millicores // 1000)
    return f"{millicores}m"


def format_memory(size: int) -> str:
    """Exact, in the largest unit that divides it, as Kubernetes prints quantities (``8053063680`` -> ``7680Mi``,
    ``1610612736`` -> ``1536Mi``, ``8589934592`` -> ``8Gi``, ``10 ** 9`` -> ``1G``; else bytes)."""
    if size == 0:
        return "0"
    for unit, factor in (("Ei", 2 ** 60), ("Pi", 2 ** 50), ("Ti", 2 ** 40), ("Gi", 2 ** 30), ("Mi", 2 ** 20), ("Ki", 2 ** 10)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    for unit, factor in (("E", 10 ** 18), ("P", 10 ** 15), ("T", 10 ** 12), ("G", 10 ** 9), ("M", 10 ** 6), ("k", 10 ** 3)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def _resources(container: Mapping[str, Any]) -> tuple[int, int]:
    requests = ((container.get("resources") or {}).get("requests")) or {}
    return cpu_millicores(requests.get("cpu", 0)), memory_bytes(requests.get("memory", 0))


def pod_requests(pod: Mapping[str, Any]) -> tuple[int, int]:
    """(cpu millicores, memory bytes) the scheduler reserves for a pod, computed as Kubernetes does
    (k8s.io/component-helpers/resource ``PodRequests``), per resource:

    * the sum over its containers plus its sidecars (init containers with ``restartPolicy: Always``, which
      keep running beside them);
    * at least each ordinary init container's request plus the sidecars started before it (init containers
      run one at a time, in order);
    * pod-level ``spec.resources.requests`` (PodLevelResources) replace that aggregate for the resources they
      name;
    * plus ``spec.overhead`` (RuntimeClass).
    """
    spec = pod.get("spec") or {}
    cpu = memory = 0
    for container in spec.get("containers") or []:
        c_cpu, c_mem = _resources(container)
        cpu, memory = cpu + c_cpu, memory + c_mem
    init_cpu = init_memory = sidecar_cpu = sidecar_memory = 0
    for container in spec.get("initContainers") or []:
        c_cpu, c_mem = _resources(container)
        if container.get("restartPolicy") == "Always":
            cpu, memory = cpu + c_cpu, memory + c_mem
            sidecar_cpu, sidecar_memory = sidecar_cpu + c_cpu, sidecar_memory + c_mem
            c_cpu, c_mem = sidecar_cpu, sidecar_memory
        else:
            c_cpu, c_mem = c_cpu + sidecar_cpu, c_mem + sidecar_memory
        init_cpu, init_memory = max(init_cpu, c_cpu), max(init_memory, c_mem)
    cpu, memory = max(cpu, init_cpu), max(memory, init_memory)
    pod_level = ((spec.get("resources") or {}).get("requests")) or {}
    if "cpu" in pod_level:
        cpu = cpu_millicores(pod_level["cpu"])
    if "memory" in pod_level:
        memory = memory_bytes(pod_level["memory"])
    overhead = spec.get("overhead") or {}
    return cpu + cpu_millicores(overhead.get("cpu", 0)), memory + memory_bytes(overhead.get("memory", 0))


def _node_exclusion(node: Mapping[str, Any]) -> str | None:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    if spec.get("unschedulable"):
        return "cordoned"
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    if not ready or ready[0].get("status") != "True":
        return "not Ready"
    blocking = [t.get("key", "") for t in spec.get("taints") or [] if t.get("effect") in BLOCKING_TAINT_EFFECTS]
    if blocking:
        return "tainted " + ", ".join(blocking)
    return None


def _schedule_rows(schedules: Sequence[Any], jobs_per_hour: Fraction) -> list[dict]:
    rows = []
    for index, schedule in enumerate(schedules):
        if not isinstance(schedule, Mapping) or "minutes" not in schedule:
            raise ValueError(f"schedules[{index}] must be a mapping with 'name' and 'minutes'")
        minutes = schedule["minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
            raise ValueError(f"schedules[{index}].minutes must be a positive number")
        period_hours = Fraction(str(minutes)) / 60
        rows.append({"name": str(schedule.get("name", f"every {minutes} minutes")), "minutes": minutes,
                     "streams": math.floor(jobs_per_hour * period_hours)})
    return rows


def capacity_report(nodes: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]], job_cpu: Any,
                    job_memory: Any, job_minutes: Any, schedules: Sequence[Any] = ()) -> dict:
    """The capacity numbers for live Node and Pod objects (see the module docstring)."""
    per_job_cpu, per_job_memory = cpu_millicores(job_cpu), memory_bytes(job_memory)
    if per_job_cpu <= 0 or per_job_memory <= 0:
        raise ValueError("the per-job-pod cpu and memory requests must be greater than zero")
    if isinstance(job_minutes, bool) or not isinstance(job_minutes, (int, float)) or job_minutes <= 0:
        raise ValueError("the minutes per job must be a positive number")

    used: dict[str, list[int]] = {}
    pending = [0, 0, 0]
    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ENDED_PHASES:
            continue
        cpu, memory = pod_requests(pod)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            entry = used.setdefault(node_name, [0, 0, 0])
        else:
            entry = pending
        entry[0], entry[1], entry[2] = entry[0] + cpu, entry[1] + memory, entry[2] + 1

    rows, excluded = [], []
    for node in sorted(nodes, key=lambda n: (n.get("metadata") or {}).get("name", "")):
        name = (node.get("metadata") or {}).get("name", "")
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        alloc_cpu = cpu_millicores(allocatable.get("cpu", 0))
        alloc_memory = memory_bytes(allocatable.get("memory", 0))
        req_cpu, req_memory, pod_count = used.get(name, [0, 0, 0])
        head_cpu, head_memory = max(alloc_cpu - req_cpu, 0), max(alloc_memory - req_memory, 0)
        reason = _node_exclusion(node)
        job_pods = 0 if reason else min(head_cpu // per_job_cpu, head_memory // per_job_memory)
        row = {"name": name, "allocatable_cpu_m": alloc_cpu, "allocatable_memory": alloc_memory,
               "requested_cpu_m": req_cpu, "requested_memory": req_memory, "pods": pod_count,
               "headroom_cpu_m": head_cpu, "headroom_memory": head_memory, "job_pods": job_pods,
               "excluded": reason}
        rows.append(row)
        if reason:
            excluded.append(f"{name} ({reason})")

    usable = [r for r in rows if not r["excluded"]]
    concurrency = sum(r["job_pods"] for r in usable)
    jobs_per_hour = Fraction(concurrency * 60) / Fraction(str(job_minutes))
    summed = ("allocatable_cpu_m", "allocatable_memory", "requested_cpu_m", "requested_memory", "pods")
    total = {key: sum(r[key] for r in rows) for key in summed}
    total.update({key: sum(r[key] for r in usable) for key in ("headroom_cpu_m", "headroom_memory")})
    return {
        "nodes": rows,
        "total": total,
        "excluded_nodes": excluded,
        "pending_pods": pending[2],
        "pending_cpu_m": pending[0],
        "pending_memory": pending[1],
        "job_pod_cpu_m": per_job_cpu,
        "job_pod_memory": per_job_memory,
        "job_minutes": job_minutes,
        "concurrent_job_pods": concurrency,
        "jobs_per_hour": math.floor(jobs_per_hour),
        "schedules": _schedule_rows(schedules, jobs_per_hour),
    }


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *body)]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [line.format(*header).rstrip(), "  ".join("-" * w for w in widths)] + [line.format(*row).rstrip() for row in body]


def report_lines(report: Mapping[str, Any]) -> list[str]:
    """The report as a fixed-width table, one string per line."""
    body = []
    for row in list(report["nodes"]) + [dict(report["total"], name="TOTAL", job_pods=report["concurrent_job_pods"],
                                             excluded=None)]:
        body.append([row["name"], format_cpu(row["allocatable_cpu_m"]), format_memory(row["allocatable_memory"]),
                     format_cpu(row["requested_cpu_m"]), format_memory(row["requested_memory"]),
                     format_cpu(row["headroom_cpu_m"]), format_memory(row["headroom_memory"]),
                     str(row["job_pods"]) + (f" ({row['excluded']})" if row.get("excluded") else "")])
    lines = _table(["node", "alloc cpu", "alloc mem", "req cpu", "req mem", "free cpu", "free mem", "job pods"], body)
    lines.append("")
    lines.append(f"per job pod: cpu {format_cpu(report['job_pod_cpu_m'])}, memory {format_memory(report['job_pod_memory'])}, "
                 f"{report['job_minutes']:g} min per job")
    lines.append(f"concurrent job pods: {report['concurrent_job_pods']}; jobs per hour: {report['jobs_per_hour']}")
    if report["pending_pods"]:
        lines.append(f"unscheduled pods (not counted on any node): {report['pending_pods']} requesting "
                     f"cpu {format_cpu(report['pending_cpu_m'])}, memory {format_memory(report['pending_memory'])}")
    if report["schedules"]:
        lines.append("")
        lines += _table(["schedule", "period (min)", "streams"],
                        [[s["name"], str(s["minutes"]), str(s["streams"])] for s in report["schedules"]])
    return lines
