# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the postgres_host role (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.datasurface.yellow.plugins.plugin_utils.pg_hba import stale_rules, wanted_rules


def pg_hba_rules(cidrs: Any, databases: Any, users: Any, method: str, marker: str) -> list[dict[str, Any]]:
    """The host rules wanted in pg_hba.conf, in postgresql_pg_hba's `rules` shape."""
    return wanted_rules(list(cidrs), list(databases), list(users), method, marker)


def pg_hba_stale_rules(hba_text: str, wanted: Any, marker: str) -> list[dict[str, Any]]:
    """Rules carrying the marker that are no longer wanted, as `state: absent` rules."""
    return stale_rules(hba_text or "", list(wanted), marker)


class FilterModule:
    """datasurface.yellow filters for the PostgreSQL host."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "pg_hba_rules": pg_hba_rules,
            "pg_hba_stale_rules": pg_hba_stale_rules,
        }
