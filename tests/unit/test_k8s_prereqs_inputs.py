# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""platform_prereqs inputs: each problem names its variable and never a secret."""

from __future__ import annotations

import pytest

from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import k8s_prereqs_problems

SECRET = "tok 'x'; $(id)"
GOOD = {
    "yellow_k8s_namespace": "datasurface",
    "yellow_k8s_airflow_release": "airflow",
    "yellow_k8s_registry_server": "https://index.docker.io/v1/",
    "yellow_k8s_registry_username": "bot",
    "yellow_k8s_registry_password": SECRET,
    "yellow_k8s_postgres_user": "datasurfacedt",
    "yellow_k8s_postgres_password": SECRET,
    "yellow_k8s_mask_user": "mask_dt_cred",
    "yellow_k8s_mask_password": SECRET,
    "yellow_k8s_git_username": "bot",
    "yellow_k8s_git_token": SECRET,
    "yellow_k8s_sqlserver_password": None,
    "yellow_k8s_secrets_extra": [],
}


def test_good_inputs():
    assert k8s_prereqs_problems(GOOD) == []


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("yellow_k8s_namespace", "Data_Surface", "yellow_k8s_namespace: 'Data_Surface' is not a DNS-1123 label"),
        ("yellow_k8s_namespace", "a" * 64, "yellow_k8s_namespace: "),
        ("yellow_k8s_airflow_release", "-airflow", "yellow_k8s_airflow_release: "),
        ("yellow_k8s_registry_server", "ghcr.io", "yellow_k8s_registry_server: 'ghcr.io' must be a URL with scheme"),
        ("yellow_k8s_registry_server", "ftp://ghcr.io", "yellow_k8s_registry_server: "),
        ("yellow_k8s_postgres_password", "", "yellow_k8s_postgres_password: must be a non-empty string"),
        ("yellow_k8s_git_token", None, "yellow_k8s_git_token: must be a non-empty string"),
        ("yellow_k8s_git_username", " ", "yellow_k8s_git_username: must be set"),
        ("yellow_k8s_sqlserver_password", 5, "yellow_k8s_sqlserver_password: must be a string"),
        ("yellow_k8s_secrets_extra", [{"name": "Bad Name", "data": {"K": "v"}}], "yellow_k8s_secrets_extra[0].name"),
        ("yellow_k8s_secrets_extra", [{"name": "postgres", "data": {"K": "v"}}], "yellow_k8s_secrets_extra[0].name: 'postgres' is one"),
        ("yellow_k8s_secrets_extra", [{"name": "x", "data": {}}], "yellow_k8s_secrets_extra[0].data: must be a non-empty"),
        ("yellow_k8s_secrets_extra", [{"name": "x", "data": {"bad key": "v"}}], "yellow_k8s_secrets_extra[0].data: key 'bad key'"),
        ("yellow_k8s_secrets_extra", [{"name": "x", "data": {"K": ""}}], "yellow_k8s_secrets_extra[0].data.K: must not be empty"),
    ],
)
def test_bad_inputs(key, value, expected):
    problems = k8s_prereqs_problems(dict(GOOD, **{key: value}))
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert SECRET not in problems[0]
