# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The Airflow API stand-in: status codes, auth, JSON shapes, the DAG folder scan, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ..server import AirflowApiServer, scan_dags

ROOT = Path(__file__).resolve().parents[3]
GOOD = 'from airflow.sdk import DAG\n\nwith DAG("{id}", schedule=None):\n    pass\n'


def call(url, method="GET", body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def dags(tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "one_dag.py").write_text(GOOD.format(id="test_dp_factory"))
    (folder / "sub").mkdir()
    (folder / "sub" / "two.py").write_text(
        "from airflow.sdk import dag\n\n@dag(dag_id='scd1_ingest', schedule=None, is_paused_upon_creation=False)\n"
        "def ignored():\n    pass\n\n@dag(schedule=None)\ndef scd2_ingest():\n    pass\n")
    (folder / "helper.py").write_text("VALUE = 1\n")  # no 'airflow'/'dag': skipped by safe mode
    (folder / "broken_dag.py").write_text("from airflow.sdk import DAG\nwith DAG('broken' schedule=None):\n    pass\n")
    return folder


@pytest.fixture
def api(dags):
    with AirflowApiServer(dags, username="admin", password="s3cret pw") as server:
        yield server


def token(api):
    status, body = call(f"{api.url}/auth/token", "POST", {"username": "admin", "password": "s3cret pw"})
    assert status == 201
    return body["access_token"]


def test_scan_reads_dag_ids_and_import_errors(dags):
    found, errors = scan_dags(dags)
    assert [d["dag_id"] for d in found] == ["scd1_ingest", "scd2_ingest", "test_dp_factory"]
    assert {d["dag_id"]: d["is_paused"] for d in found}["scd1_ingest"] is False
    assert [e["filename"] for e in errors] == ["broken_dag.py"]
    assert errors[0]["stack_trace"].rstrip().splitlines()[-1].startswith("SyntaxError")


def test_duplicate_dag_id_is_an_import_error(dags):
    (dags / "zz_copy_dag.py").write_text(GOOD.format(id="test_dp_factory"))
    found, errors = scan_dags(dags)
    assert [d["dag_id"] for d in found].count("test_dp_factory") == 1
    assert "AirflowDagDuplicatedIdException" in errors[-1]["stack_trace"] and errors[-1]["filename"] == "zz_copy_dag.py"


def test_token_flow_and_status_codes(api):
    assert call(f"{api.url}/auth/token", "POST", {"username": "admin", "password": "wrong"}) == (401, {"detail": "Invalid credentials"})
    assert call(f"{api.url}/auth/token", "POST", {"username": "admin"})[0] == 422
    assert call(f"{api.url}/auth/token")[0] == 405
    assert call(f"{api.url}/api/v2/dags")[0] == 401
    assert call(f"{api.url}/api/v2/dags", token="not-a-token")[0] == 401
    assert call(f"{api.url}/api/v2/importErrors", token="not-a-token")[0] == 401
    assert call(f"{api.url}/api/v2/nothing", token=token(api))[0] == 404


def test_dags_import_errors_and_health(api, dags):
    bearer = token(api)
    status, body = call(f"{api.url}/api/v2/dags?limit=2", token=bearer)
    assert status == 200 and body["total_entries"] == 3 and len(body["dags"]) == 2
    assert {"dag_id", "is_paused", "fileloc", "tags"} <= set(body["dags"][0])
    status, body = call(f"{api.url}/api/v2/dags?limit=2&offset=2", token=bearer)
    assert [d["dag_id"] for d in body["dags"]] == ["test_dp_factory"]
    assert call(f"{api.url}/api/v2/dags?limit=x", token=bearer)[0] == 422
    assert call(f"{api.url}/api/v2/dags/scd2_ingest", token=bearer)[1]["dag_id"] == "scd2_ingest"
    assert call(f"{api.url}/api/v2/dags/nope", token=bearer)[0] == 404

    status, body = call(f"{api.url}/api/v2/importErrors", token=bearer)
    assert status == 200 and body["total_entries"] == 1
    assert set(body["import_errors"][0]) >= {"import_error_id", "timestamp", "filename", "stack_trace"}

    # The folder is read on every request, like a dag-processor refreshing at once.
    (dags / "broken_dag.py").write_text(GOOD.format(id="fixed"))
    assert call(f"{api.url}/api/v2/importErrors", token=bearer)[1]["total_entries"] == 0
    assert call(f"{api.url}/api/v2/dags", token=bearer)[1]["total_entries"] == 4

    status, body = call(f"{api.url}/api/v2/monitor/health")
    assert status == 200 and body["metadatabase"]["status"] == "healthy" and body["scheduler"]["latest_scheduler_heartbeat"]
    api.health["scheduler"] = "unhealthy"
    assert call(f"{api.url}/api/v2/monitor/health")[1]["scheduler"]["status"] == "unhealthy"
    assert all(r["authorization"] in (None, "bearer") for r in api.requests)


def test_cli_serves_and_stops_on_sigterm(tmp_path, dags):
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({"username": "ops", "password": "pw 1"}))
    url_file, pidfile = tmp_path / "url", tmp_path / "pid"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.airflow_api", "--port", "0", "--dags-dir", str(dags), "--credentials-file",
         str(credentials), "--url-file", str(url_file), "--pidfile", str(pidfile)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url_file.read_text().strip() == url
        assert int(pidfile.read_text()) == process.pid
        status, body = call(f"{url}/auth/token", "POST", {"username": "ops", "password": "pw 1"})
        assert status == 201 and body["access_token"]
    finally:
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    deadline = time.time() + 5
    while pidfile.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not pidfile.exists()
