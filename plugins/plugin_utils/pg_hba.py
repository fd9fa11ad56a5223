# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""pg_hba.conf rules the postgres_host role manages, in community.postgresql.postgresql_pg_hba's shape."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Rule = dict[str, Any]


def _key(contype: str, databases: str, users: str, address: str) -> tuple[str, str, str, str]:
    return (contype, databases, users, address)


def wanted_rules(cidrs: Iterable[str], databases: Sequence[str], users: Sequence[str], method: str, marker: str) -> list[Rule]:
    """One `host` rule per network, limited to the platform's databases and users."""
    return [
        {
            "contype": "host",
            "databases": ",".join(databases),
            "users": ",".join(users),
            "address": cidr,
            "method": method,
            "comment": marker,
            "state": "present",
        }
        for cidr in cidrs
    ]


def stale_rules(hba_text: str, wanted: Iterable[Rule], marker: str) -> list[Rule]:
    """Rules carrying ``marker`` in ``hba_text`` that ``wanted`` no longer has, as `state: absent` rules.

    A rule is identified like postgresql_pg_hba does: by type, databases, users and address; a
    changed method on the same key is an update, not a stale rule.
    """
    keep = {_key(r["contype"], r["databases"], r["users"], r["address"]) for r in wanted}
    stale: list[Rule] = []
    for line in hba_text.splitlines():
        rule, _, comment = line.partition("#")
        if marker not in comment:
            continue
        fields = rule.split()
        if len(fields) < 5 or fields[0] not in ("host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"):
            continue
        contype, databases, users, address = fields[:4]
        if _key(contype, databases, users, address) in keep:
            continue
        stale.append({"contype": contype, "databases": databases, "users": users, "address": address, "state": "absent"})
    return stale
