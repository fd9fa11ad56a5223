# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""postgres_host input checks: every problem names its variable, and secrets are never echoed."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import (
    cidr_problem,
    identifier_problem,
    postgres_host_problems,
    role_name_problem,
    secret_problem,
)

SECRET = "s3cr3t-'value';--"

GOOD = {
    "yellow_pg_hba_cidrs": ["100.64.0.0/10", "10.244.0.0/16", "fd00::/8"],
    "yellow_pg_hba_method": "scram-sha-256",
    "yellow_pg_allow_weak_auth": False,
    "yellow_pg_allow_any_source": False,
    "yellow_pg_listen_addresses": "*",
    "yellow_pg_users": [
        {"name": "datasurfacedt", "password": SECRET},
        {"name": "mask_dt_cred", "password": "other"},
    ],
    "yellow_pg_os_user": "postgres",
    "yellow_pg_database_owner": "datasurfacedt",
    "yellow_pg_databases": [
        {"name": "airflow_db"},
        {"name": "merge_db_af3"},
        {"name": "customer_db"},
        {"name": "postgres-cqrs-af3"},
    ],
    "yellow_pg_merge_database": "merge_db_af3",
    "yellow_pg_merge_schema": "public",
    "yellow_pg_default_privileges_for": [],
}


def with_(**changes):
    values = copy.deepcopy(GOOD)
    values.update(changes)
    return values


def test_good_inputs_have_no_problem():
    assert postgres_host_problems(GOOD, "Debian") == []


@pytest.mark.parametrize(
    "cidr, fragment",
    [
        ("10.244.0.0", "not in CIDR notation"),
        ("10.244.0.0/33", "not a valid CIDR"),
        ("10.244.0.1/16", "host bits set; the network is 10.244.0.0/16"),
        ("300.1.1.0/24", "not a valid CIDR"),
        ("", "not in CIDR notation"),
        (42, "not in CIDR notation"),
    ],
)
def test_malformed_cidr_is_named(cidr, fragment):
    problems = postgres_host_problems(with_(yellow_pg_hba_cidrs=["100.64.0.0/10", cidr]), "Debian")
    assert len(problems) == 1
    assert problems[0].startswith("yellow_pg_hba_cidrs[1]: ")
    assert fragment in problems[0]


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_catch_all_network_needs_opt_in(cidr):
    problems = postgres_host_problems(with_(yellow_pg_hba_cidrs=[cidr]), "Debian")
    assert problems and "yellow_pg_allow_any_source" in problems[0]
    assert postgres_host_problems(with_(yellow_pg_hba_cidrs=[cidr], yellow_pg_allow_any_source=True), "Debian") == []


def test_empty_cidr_list_is_refused():
    assert postgres_host_problems(with_(yellow_pg_hba_cidrs=[]), "Debian") == ["yellow_pg_hba_cidrs: must not be empty"]


def test_cidr_string_instead_of_list_is_refused():
    assert postgres_host_problems(with_(yellow_pg_hba_cidrs="10.0.0.0/8"), "Debian") == ["yellow_pg_hba_cidrs: must be a list"]


@pytest.mark.parametrize("method", ["trust", "md5", "password"])
def test_weak_methods_need_opt_in(method):
    problems = postgres_host_problems(with_(yellow_pg_hba_method=method), "Debian")
    assert len(problems) == 1
    assert problems[0].startswith("yellow_pg_hba_method: ")
    assert "yellow_pg_allow_weak_auth" in problems[0]
    assert postgres_host_problems(with_(yellow_pg_hba_method=method, yellow_pg_allow_weak_auth=True), "Debian") == []


def test_unknown_method_is_refused():
    problems = postgres_host_problems(with_(yellow_pg_hba_method="ident"), "Debian")
    assert problems == ["yellow_pg_hba_method: 'ident' is not one of scram-sha-256, md5, password, trust"]


@pytest.mark.parametrize("password", ["", "   ", None])
def test_empty_password_is_named_with_its_user(password):
    users = [{"name": "datasurfacedt", "password": password}, {"name": "mask_dt_cred", "password": "x"}]
    problems = postgres_host_problems(with_(yellow_pg_users=users), "Debian")
    assert problems == [
        "yellow_pg_users[0].password (datasurfacedt): must be a non-empty string (set it from an Ansible Vault variable)"
    ]


@pytest.mark.parametrize("name", ['bad"name', "bad'name", "bad;name", "bad name", "x; DROP TABLE t; --", "1starts_with_digit"])
def test_hostile_database_names_are_refused(name):
    databases = [{"name": name}, {"name": "merge_db_af3"}]
    problems = postgres_host_problems(with_(yellow_pg_databases=databases), "Debian")
    assert len(problems) == 1
    assert problems[0].startswith("yellow_pg_databases[0].name: ")


@pytest.mark.parametrize("name", ['bad"user', "bad'user", "bad;user", "bad user", "public", "pg_monitor"])
def test_hostile_or_reserved_user_names_are_refused(name):
    users = [{"name": name, "password": "x"}, {"name": "datasurfacedt", "password": "y"}]
    problems = postgres_host_problems(with_(yellow_pg_users=users), "Debian")
    assert len(problems) == 1
    assert problems[0].startswith("yellow_pg_users[0].name: ")


def test_hyphenated_database_name_is_accepted():
    assert identifier_problem("postgres-cqrs-af3") is None


def test_identifier_length_limit_is_in_bytes():
    assert identifier_problem("a" * 63) is None
    assert "longer than 63 bytes" in identifier_problem("a" * 64)
    assert "longer than 63 bytes" in identifier_problem("é" * 32)


@pytest.mark.parametrize("os_family", ["RedHat", "Archlinux", "Suse"])
def test_unsupported_os_family_is_named(os_family):
    problems = postgres_host_problems(GOOD, os_family)
    assert problems == [
        f"ansible_facts.os_family: {os_family!r} is not supported by postgres_host (supported: Debian: Debian and Ubuntu)"
    ]


def test_every_problem_is_reported_at_once():
    values = with_(
        yellow_pg_hba_cidrs=["nope"],
        yellow_pg_hba_method="trust",
        yellow_pg_users=[{"name": "a b", "password": ""}],
        yellow_pg_database_owner="a b",
    )
    problems = postgres_host_problems(values, "RedHat")
    prefixes = [p.split(":")[0] for p in problems]
    for expected in (
        "ansible_facts.os_family",
        "yellow_pg_hba_method",
        "yellow_pg_hba_cidrs[0]",
        "yellow_pg_users[0].name",
        "yellow_pg_users[0].password (a b)",
        "yellow_pg_database_owner",
    ):
        assert expected in prefixes


def test_cross_references_are_checked():
    values = with_(
        yellow_pg_merge_database="missing_db",
        yellow_pg_database_owner="nobody",
        yellow_pg_databases=[{"name": "merge_db_af3", "owner": "stranger"}, {"name": "merge_db_af3"}],
        yellow_pg_default_privileges_for=["ghost"],
    )
    problems = postgres_host_problems(values, "Debian")
    assert "yellow_pg_merge_database: 'missing_db' is not one of the databases in yellow_pg_databases" in problems
    assert any(p.startswith("yellow_pg_database_owner: 'nobody'") for p in problems)
    assert any(p.startswith("yellow_pg_databases[0].owner: 'stranger'") for p in problems)
    assert "yellow_pg_databases[1].name: 'merge_db_af3' is listed twice" in problems
    assert any(p.startswith("yellow_pg_default_privileges_for[0]: 'ghost'") for p in problems)


def test_postgres_os_user_may_own_databases():
    assert postgres_host_problems(with_(yellow_pg_database_owner="postgres"), "Debian") == []


@pytest.mark.parametrize("listen", ["*", "localhost", "10.0.0.5, 127.0.0.1", "::1"])
def test_listen_addresses_accepted(listen):
    assert postgres_host_problems(with_(yellow_pg_listen_addresses=listen), "Debian") == []


@pytest.mark.parametrize("listen", ["*'; ALTER SYSTEM", "a\nb", ""])
def test_listen_addresses_refused(listen):
    problems = postgres_host_problems(with_(yellow_pg_listen_addresses=listen), "Debian")
    assert [p.split(":")[0] for p in problems] == ["yellow_pg_listen_addresses"]


def test_messages_never_contain_a_password():
    users = [{"name": "bad name", "password": SECRET}, {"name": "x", "password": SECRET + "\x00"}, {"name": "y", "password": 7}]
    problems = postgres_host_problems(with_(yellow_pg_users=users, yellow_pg_database_owner="x"), "Debian")
    assert [p.split(":")[0] for p in problems] == [
        "yellow_pg_users[0].name",
        "yellow_pg_users[1].password (x)",
        "yellow_pg_users[2].password (y)",
    ]
    assert not any("s3cr3t" in p or "7" in p.split(":", 1)[1] for p in problems)


def test_helpers_return_none_for_good_values():
    assert cidr_problem("10.0.0.0/8") is None
    assert role_name_problem("datasurfacedt") is None
    assert secret_problem("x") is None
    assert secret_problem(5) == "must be a string"
