# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Airflow chart values checks: schema, unknown keys, deprecated keys, inline secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import airflow_values_problems

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "roles" / "airflow" / "files" / "values.schema.json").read_text())
GOOD = {
    "airflowVersion": "3.1.6",
    "images": {"airflow": {"repository": "apache/airflow", "tag": "3.1.6"}},
    "executor": "CeleryExecutor",
    "data": {"metadataSecretName": "airflow-metadata"},
    "dags": {"gitSync": {"enabled": True, "repo": "https://example/r.git", "branch": "main", "ref": "main"}},
}


def test_good_values():
    assert airflow_values_problems(GOOD, SCHEMA) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"dags": {"gitSync": {"credentialsSecretKey": "token"}}}, "dags.gitSync: unknown key(s) ('credentialsSecretKey'"),
        ({"workers": {"replicas": 2}}, "workers.replicas: deprecated; use workers.celery.replicas"),
        ({"webserver": {"defaultUser": {"role": "Admin"}}}, "webserver.defaultUser: Airflow 2 only"),
        ({"config": {"scheduler": {"dag_dir_list_interval": 60}}}, "config.scheduler.dag_dir_list_interval: deprecated"),
        ({"dags": {"gitSync": {"wait": 60}}}, "dags.gitSync.wait: deprecated"),
        ({"images": {"airflow": {"tag": "3.1.6"}}, "airflowVersion": None}, "airflowVersion"),
        ({"dags": {"gitSync": {"enabled": True, "branch": "main"}}}, "dags.gitSync.ref: must be set with branch"),
        ({"workers": {"celery": {"replica": 3}}}, "workers.celery: unknown key 'replica'"),
        ({"executr": "CeleryExecutor"}, "(top level): unknown key 'executr'"),
    ],
)
def test_the_howto_mistakes_are_named(change, expected):
    values = json.loads(json.dumps(GOOD))
    for key, value in change.items():
        if value is None:
            values.pop(key)
        elif isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    problems = airflow_values_problems(values, SCHEMA)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    "change, path",
    [
        ({"redis": {"password": "s3cret-redis-77"}}, "redis.password"),
        ({"data": {"metadataConnection": {"pass": "s3cret-db-77"}}}, "data.metadataConnection.pass"),
        ({"createUserJob": {"defaultUser": {"password": "s3cret-admin-77"}}}, "createUserJob.defaultUser.password"),
        ({"fernetKey": "s3cret-fernet-77"}, "fernetKey"),
    ],
)
def test_inline_secrets_are_refused_without_repeating_them(change, path):
    problems = airflow_values_problems({**GOOD, **change}, SCHEMA)
    assert any(p.startswith(path + ": a secret written inline") for p in problems), problems
    assert not any("s3cret" in p for p in problems)


def test_an_env_reference_is_not_an_inline_secret():
    values = {**GOOD, "createUserJob": {"defaultUser": {"password": "$(YELLOW_AIRFLOW_ADMIN_PASSWORD)"}}}
    assert airflow_values_problems(values, SCHEMA) == []


def test_schema_messages_do_not_repeat_values():
    problems = airflow_values_problems({**GOOD, "executor": "s3cret-not-an-executor"}, SCHEMA)
    assert problems and not any("s3cret" in p for p in problems)
