# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""pg_hba.conf rules the postgres_host role manages, in community.postgresql.postgresql_pg_hba's shape."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Rule = dict[str, Any]


def _atoms(contype: str, databases: str, users: str, address: str) -> set[tuple[str, str, str, str]]:
    """One key per (database, user) pair: postgresql_pg_hba writes comma lists as one line per pair."""
    return {(contype, database, user, address) for database in databases.split(",") for user in users.split(",")}


def wanted_rules(cidrs: Iterable[str], databases: Sequence[str], users: Sequence[str], method: str, marker: str) -> list[Rule]:
    """One `host` rule per network, limited to the platform's databases and users (comma lists)."""
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

    postgresql_pg_hba stores a rule with comma-separated databases or users as one line per
    (database, user) pair and identifies a line by type, database, user and address (a changed
    method on the same key is an update). Both sides are therefore compared pair by pair.
    """
    keep: set[tuple[str, str, str, str]] = set()
    for rule in wanted:
        keep |= _atoms(rule["contype"], rule["databases"], rule["users"], rule["address"])
    stale: list[Rule] = []
    for line in hba_text.splitlines():
        rule, _sep, comment = line.partition("#")
        if marker not in comment:
            continue
        fields = rule.split()
        if len(fields) < 5 or fields[0] not in ("host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"):
            continue
        for contype, database, user, address in sorted(_atoms(*fields[:4]) - keep):
            stale.append({"contype": contype, "databases": database, "users": user, "address": address, "state": "absent"})
    return stale
