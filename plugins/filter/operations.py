# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the operations role (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.plugin_utils import operations as _operations


def _list(value: Any, what: str) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(f"{what} must be a list")
    return list(value)


def operations_reset_tables(existing: Any, names: Any, patterns: Any) -> list[str]:
    """Existing tables a schema reset drops."""
    return _operations.reset_tables(_list(existing, "existing"), _list(names, "names"), _list(patterns, "patterns"))


def operations_table_entries(tables: Any, database: str, schema: str = "public") -> list[dict]:
    """Table entries with their database and schema filled in."""
    return _operations.table_entries(_list(tables, "tables"), database, schema)


def operations_mcp(deployments: Any, services: Any, nodes: Any, pattern: str, host: Any = None, url: Any = None,
                   path: str = "/sse", server_name: str = "datasurface") -> dict:
    """The MCP server's objects, its URL and Cursor's mcp.json."""
    return _operations.mcp_info(_list(deployments, "deployments"), _list(services, "services"), _list(nodes, "nodes"),
                                pattern, host or None, url or None, path, server_name)


class FilterModule:
    """datasurface.yellow filters for the operations role."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "operations_reset_tables": operations_reset_tables,
            "operations_table_entries": operations_table_entries,
            "operations_mcp": operations_mcp,
        }
