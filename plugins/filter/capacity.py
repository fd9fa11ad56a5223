# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The capacity report filter (documented in capacity_report.yml beside this one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils import capacity as _capacity


def _objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping) and "items" in value:
        value = value["items"]
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(f"capacity_report: {what} must be a list of objects")
    return list(value)


def capacity_report(nodes: Any, pods: Any, job_cpu: Any, job_memory: Any, job_minutes: Any, schedules: Any = None) -> dict:
    """Headroom, concurrent job pods, jobs per hour and streams per schedule, plus the table's lines."""
    try:
        report = _capacity.capacity_report(_objects(nodes, "nodes"), _objects(pods, "pods"), job_cpu, job_memory,
                                           job_minutes, list(schedules or []))
    except ValueError as exc:
        raise AnsibleFilterError(f"capacity_report: {exc}") from exc
    report["table"] = _capacity.report_lines(report)
    return report


class FilterModule:
    """datasurface.yellow capacity filter."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"capacity_report": capacity_report}
