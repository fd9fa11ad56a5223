# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""pg_hba rules the postgres_host role wants, and finding the ones it managed that are now stale."""

from __future__ import annotations

from ansible_collections.datasurface.yellow.plugins.plugin_utils.pg_hba import stale_rules, wanted_rules

MARKER = "managed by datasurface.yellow.postgres_host"
DBS = ["airflow_db", "merge_db_af3", "postgres-cqrs-af3"]
USERS = ["datasurfacedt", "mask_dt_cred"]


def test_one_host_rule_per_network_for_platform_objects_only():
    rules = wanted_rules(["100.64.0.0/10", "10.244.0.0/16"], DBS, USERS, "scram-sha-256", MARKER)
    assert rules == [
        {
            "contype": "host",
            "databases": "airflow_db,merge_db_af3,postgres-cqrs-af3",
            "users": "datasurfacedt,mask_dt_cred",
            "address": cidr,
            "method": "scram-sha-256",
            "comment": MARKER,
            "state": "present",
        }
        for cidr in ("100.64.0.0/10", "10.244.0.0/16")
    ]


def test_rules_no_longer_wanted_are_found_by_marker():
    hba = "\n".join(
        [
            "# TYPE DATABASE USER ADDRESS METHOD",
            "local all postgres peer",
            "host all all 127.0.0.1/32 scram-sha-256",
            f"host merge_db_af3 datasurfacedt 100.64.0.0/10 scram-sha-256 #{MARKER}",
            f"host merge_db_af3 datasurfacedt 192.168.0.0/16 scram-sha-256 #{MARKER}",
            f"host old_db datasurfacedt 10.244.0.0/16 scram-sha-256 #{MARKER}",
            f"host airflow_db,old_db datasurfacedt,old_user 10.244.0.0/16 scram-sha-256 #{MARKER}",
            "host all all 192.168.0.0/16 scram-sha-256 # not ours",
        ]
    )
    wanted = wanted_rules(["100.64.0.0/10", "10.244.0.0/16"], DBS, USERS, "scram-sha-256", MARKER)
    absent = [
        {"contype": "host", "databases": d, "users": u, "address": a, "state": "absent"}
        for d, u, a in [
            ("merge_db_af3", "datasurfacedt", "192.168.0.0/16"),
            ("old_db", "datasurfacedt", "10.244.0.0/16"),
            ("airflow_db", "old_user", "10.244.0.0/16"),
            ("old_db", "datasurfacedt", "10.244.0.0/16"),
            ("old_db", "old_user", "10.244.0.0/16"),
        ]
    ]
    assert stale_rules(hba, wanted, MARKER) == absent


def test_lines_written_one_per_database_and_user_are_not_stale():
    """postgresql_pg_hba writes a comma-list rule as one line per (database, user): all still wanted."""
    wanted = wanted_rules(["10.244.0.0/16"], DBS, USERS, "scram-sha-256", MARKER)
    hba = "\n".join(
        f"host\t{d}\t{u}\t10.244.0.0/16\tscram-sha-256\t#{MARKER}" for d in DBS for u in USERS
    )
    assert stale_rules(hba, wanted, MARKER) == []


def test_method_change_on_same_rule_is_not_stale():
    hba = f"host merge_db_af3 datasurfacedt 10.244.0.0/16 md5 #{MARKER}"
    wanted = wanted_rules(["10.244.0.0/16"], ["merge_db_af3"], ["datasurfacedt"], "scram-sha-256", MARKER)
    assert stale_rules(hba, wanted, MARKER) == []


def test_unmarked_and_local_rules_are_left_alone():
    hba = "\n".join(["local all all peer", f"local all all peer #{MARKER}", "host all all ::1/128 scram-sha-256"])
    assert stale_rules(hba, [], MARKER) == []
