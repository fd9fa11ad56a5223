# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Airflow chart values checks: schema, unknown keys, deprecated keys, inline secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.datasurface.yellow.plugins.filter.airflow import airflow_key_secret_plan
from ansible_collections.datasurface.yellow.plugins.plugin_utils.airflow_values import (
    airflow_values_problems,
    chart_generated_secrets,
    key_secret_names,
    key_secret_plan,
    scrub,
)

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "roles" / "airflow" / "files" / "values.schema.json").read_text())
GOOD = {
    "airflowVersion": "3.1.6",
    "images": {"airflow": {"repository": "apache/airflow", "tag": "3.1.6"}},
    "executor": "CeleryExecutor",
    "data": {"metadataSecretName": "airflow-metadata"},
    "dags": {"gitSync": {"enabled": True, "repo": "https://example/r.git", "branch": "main", "ref": "main"}},
    "fernetKeySecretName": "airflow-static-fernet-key",
    "apiSecretKeySecretName": "airflow-static-api-secret-key",
    "jwtSecretName": "airflow-static-jwt-secret",
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


# --- the secrets chart 1.19.0 generates at every render -------------------------------------------

@pytest.mark.parametrize("missing, variable", [
    ("fernetKeySecretName", "yellow_airflow_fernet_key_secret"),
    ("apiSecretKeySecretName", "yellow_airflow_api_secret_key_secret"),
    ("jwtSecretName", "yellow_airflow_jwt_secret_secret"),
])
def test_each_chart_generated_secret_must_come_from_a_secret(missing, variable):
    values = {k: v for k, v in GOOD.items() if k != missing}
    problems = airflow_values_problems(values, SCHEMA)
    assert problems == [f"{missing}: not set, so chart 1.19.0 generates a new "
                        f"{ {'fernetKeySecretName': 'Fernet key', 'apiSecretKeySecretName': 'API secret key', 'jwtSecretName': 'JWT secret'}[missing] }"
                        f" at every render and every helm upgrade restarts every Airflow pod; name the Secret the role keeps ({variable})"]


def test_which_generated_secrets_apply_follows_the_chart():
    assert [e["value"] for e in chart_generated_secrets(GOOD)] == ["fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"]
    airflow2 = {**GOOD, "airflowVersion": "2.10.5"}
    assert [e["value"] for e in chart_generated_secrets(airflow2)] == ["fernetKeySecretName", "jwtSecretName",
                                                                       "webserverSecretKeySecretName"]
    no_api = {**GOOD, "apiServer": {"enabled": False}}
    assert [e["value"] for e in chart_generated_secrets(no_api)] == ["fernetKeySecretName", "apiSecretKeySecretName"]


@pytest.mark.parametrize("change, path, variable", [
    ({"workers": {"celery": {"persistence": {"enabled": True, "size": "50Gi"}}}}, "workers.celery.persistence",
     "yellow_airflow_worker_storage_size"),
    ({"triggerer": {"persistence": {"enabled": True}}}, "triggerer.persistence", "yellow_airflow_triggerer_storage_size"),
])
def test_worker_and_triggerer_volumes_with_the_logs_volume_are_refused(change, path, variable):
    values = {**GOOD, "logs": {"persistence": {"enabled": True}}, **change}
    problems = airflow_values_problems(values, SCHEMA)
    assert problems == [f"{path}.enabled: true is ignored by the chart while logs.persistence.enabled is true "
                        f"(yellow_airflow_logs_persistence): the pods write to the shared logs volume and {variable} has no effect; "
                        f"set yellow_airflow_logs_persistence: false for a volume per pod, or drop {path} from yellow_airflow_values_extra"]
    # Without the shared logs volume, or with the volumes off, nothing is wrong.
    assert airflow_values_problems({**values, "logs": {"persistence": {"enabled": False}}}, SCHEMA) == []
    off = {**GOOD, "logs": {"persistence": {"enabled": True}}, "workers": {"celery": {"persistence": {"enabled": False}}},
           "triggerer": {"persistence": {"enabled": False}}}
    assert airflow_values_problems(off, SCHEMA) == []


def b64(text):
    import base64
    return base64.b64encode(text.encode()).decode()


def test_key_secret_names_include_the_charts_own():
    assert key_secret_names(GOOD, "airflow") == ["airflow-static-fernet-key", "airflow-fernet-key", "airflow-static-api-secret-key",
                                                 "airflow-api-secret-key", "airflow-static-jwt-secret", "airflow-jwt-secret"]
    # airflow.fullname: "<release>-airflow" unless the release name holds "airflow".
    assert "prod-airflow-jwt-secret" in key_secret_names(GOOD, "prod") and "prod-fernet-key" in key_secret_names(GOOD, "prod")


def test_key_secret_plan_creates_missing_keeps_existing_and_adopts_former():
    import base64

    found = {"airflow-static-fernet-key": None, "airflow-fernet-key": {"data": {"fernet-key": b64("former-fernet")}},
             "airflow-static-api-secret-key": {"data": {"api-secret-key": b64("kept-api")}}, "airflow-api-secret-key": None,
             "airflow-static-jwt-secret": None, "airflow-jwt-secret": None}
    plan = key_secret_plan(GOOD, "airflow", "ns", found, {"app.kubernetes.io/part-of": "datasurface-yellow"})
    assert plan["problems"] == []
    created = {d["metadata"]["name"]: d for d in plan["create"]}
    assert sorted(created) == ["airflow-static-fernet-key", "airflow-static-jwt-secret"]
    assert created["airflow-static-fernet-key"]["data"] == {"fernet-key": b64("former-fernet")}
    assert created["airflow-static-fernet-key"]["metadata"]["annotations"]["datasurface.yellow/origin"] == "airflow-fernet-key"
    jwt = base64.b64decode(created["airflow-static-jwt-secret"]["data"]["jwt-secret"]).decode()
    assert len(jwt) == 128 and created["airflow-static-jwt-secret"]["metadata"]["namespace"] == "ns"
    assert created["airflow-static-jwt-secret"]["metadata"]["labels"] == {"app.kubernetes.io/part-of": "datasurface-yellow"}
    assert sorted(plan["values"]) == sorted(["former-fernet", "kept-api", jwt])


def test_a_generated_fernet_key_is_a_fernet_key_and_never_the_same():
    import base64

    keys = set()
    for _attempt in range(3):
        plan = key_secret_plan(GOOD, "airflow", "ns", {})
        fernet = next(d for d in plan["create"] if d["metadata"]["name"] == "airflow-static-fernet-key")
        key = base64.b64decode(fernet["data"]["fernet-key"]).decode()
        assert len(base64.urlsafe_b64decode(key)) == 32
        keys.add(key)
    assert len(keys) == 3


def test_an_existing_secret_without_its_key_is_a_problem_without_its_value():
    found = {"airflow-static-fernet-key": {"data": {"other": b64("s3cret-77")}}}
    plan = key_secret_plan(GOOD, "airflow", "ns", found)
    assert plan["problems"] == ["yellow_airflow_fernet_key_secret: Secret airflow-static-fernet-key exists in ns without key "
                                "'fernet-key' (the chart reads the Fernet key from it); add the key, or delete the Secret and "
                                "the role creates it"]
    assert "airflow-static-fernet-key" not in [d["metadata"]["name"] for d in plan["create"]]


def test_the_plan_filter_reads_one_k8s_info_list_of_the_secrets():
    found = {"resources": [{"metadata": {"name": "airflow-static-fernet-key"}, "data": {"fernet-key": b64("k")}},
                           {"metadata": {"name": "sh.helm.release.v1.airflow.v1"}, "data": {"release": b64("x")}},
                           {"metadata": {"name": "unrelated"}, "data": {"fernet-key": b64("other")}}]}
    plan = airflow_key_secret_plan(GOOD, "airflow", "ns", found)
    created = [d["metadata"]["name"] for d in plan["create"]]
    assert "airflow-static-fernet-key" not in created and created
    assert plan["values"][0] == "k" and "other" not in plan["values"]
    # the same as the plan from the names read one by one
    one_by_one = key_secret_plan(GOOD, "airflow", "ns", {"airflow-static-fernet-key": found["resources"][0]})
    assert plan["create"][0]["metadata"] == one_by_one["create"][0]["metadata"]
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="listing the Secrets of ns failed"):
        airflow_key_secret_plan(GOOD, "airflow", "ns", {"failed": True, "msg": "forbidden"})
    for whole in ({"answers": []}, {"results": []}):  # the whole registered result, not one answer
        with pytest.raises(AnsibleFilterError, match="expects one answer"):
            airflow_key_secret_plan(GOOD, "airflow", "ns", whole)


def test_scrub_removes_plain_url_and_base64_forms():
    secret = "db p@ss/w'rd 81aa"
    text = f"Error: {secret} | postgresql://u:db%20p%40ss%2Fw%27rd%2081aa@h/db | {b64(secret)} | db+p%40ss%2Fw%27rd+81aa"
    assert scrub(text, [secret, None, ""]) == "Error: ******** | postgresql://u:********@h/db | ******** | ********"
    assert scrub(None, [secret]) == ""
