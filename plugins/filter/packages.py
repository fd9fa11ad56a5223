# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Which packages of a list a host lacks, from one query of its package database (documented in the sidecar YAML file
beside this one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ansible.errors import AnsibleFilterError


def packages_missing(wanted: Any, query_lines: Any) -> list[str]:
    """The wanted packages, in order, that no ``<name> installed`` line of the query names."""
    for value, what in ((wanted, "the packages"), (query_lines, "the query's lines")):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            raise AnsibleFilterError(f"packages_missing: {what} must be a list")
    installed = set()
    for line in query_lines:
        name, separator, state = str(line).partition(" ")
        if separator and state == "installed":
            installed.add(name)
    return [str(package) for package in wanted if str(package) not in installed]


class FilterModule:
    """datasurface.yellow filters for package checks."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"packages_missing": packages_missing}
