# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""plugins/module_utils/airflow_api.py: the verify phase's reads of the Airflow 3 API and its settle wait.

The HTTP layer is a fake that answers like Airflow 3.1.6's routes (the field names of its datamodels:
ImportErrorResponse ``import_error_id``/``timestamp``/``filename``/``bundle_name``/``stack_trace``, DAGResponse
``dag_id``/``fileloc``/``relative_fileloc``/``has_import_errors``, DAGSourceResponse ``content``); the real server is
read by the lab's tests (tests/lab/tests). One test runs the production HTTP layer against a local HTTP server.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.airflow_api import AirflowApi, settle, url_request

PASSWORD = 'pw "x"; $(id)'
TOKEN = "eyJ-secret-token-value"
OLD = 'from airflow import DAG\nSCHEDULE = "@hourly"\n'
NEW = 'from airflow import DAG\nSCHEDULE = "@daily"\n'
BAD = 'from airflow import DAG\nSCHEDULE = "every hour"\n'
FILE = "test_dp_infrastructure_dag.py"


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FakeAirflow:
    """Routes of the Airflow 3.1 API over a mutable state; records every call."""

    def __init__(self):
        self.calls = []
        self.login_status = 201
        self.reachable = True
        self.health = {"metadatabase": {"status": "healthy"}, "scheduler": {"status": "healthy"},
                       "triggerer": {"status": "healthy"}, "dag_processor": {"status": "healthy"}}
        self.dags = {"test-dp-infrastructure": OLD}  # dag_id -> source served
        self.import_errors = []
        self.extra_dags = 0

    def __call__(self, method, url, body=None, headers=None):
        path = url.split("http://af:8080", 1)[1]
        self.calls.append((method, path))
        if not self.reachable:
            return -1, b"", "Request failed: [Errno 111] Connection refused"
        if path == "/auth/token":
            assert method == "POST" and body == {"username": "admin", "password": PASSWORD}
            if self.login_status != 201:
                return self.login_status, b'{"detail": "Invalid credentials"}', "HTTP Error %d" % self.login_status
            return 201, json.dumps({"access_token": TOKEN}).encode(), "OK"
        if path == "/api/v2/monitor/health":
            return 200, json.dumps(self.health).encode(), "OK"
        assert headers == {"Authorization": "Bearer " + TOKEN}, (path, headers)
        if path.startswith("/api/v2/dags?"):
            query = dict(part.split("=") for part in path.split("?", 1)[1].split("&"))
            dags = [{"dag_id": d, "fileloc": "/opt/airflow/dags/repo/dags/" + FILE, "relative_fileloc": FILE,
                     "has_import_errors": bool(self.import_errors)} for d in sorted(self.dags)]
            dags += [{"dag_id": "other-%03d" % i, "fileloc": "/x/other.py", "relative_fileloc": "other.py"} for i in range(self.extra_dags)]
            start, limit = int(query["offset"]), int(query["limit"])
            return 200, json.dumps({"dags": dags[start:start + limit], "total_entries": len(dags)}).encode(), "OK"
        if path.startswith("/api/v2/importErrors"):
            return 200, json.dumps({"import_errors": self.import_errors, "total_entries": len(self.import_errors)}).encode(), "OK"
        if path.startswith("/api/v2/dagSources/"):
            dag_id = path.rsplit("/", 1)[1]
            return 200, json.dumps({"content": self.dags[dag_id], "dag_id": dag_id, "version_number": 1,
                                    "dag_display_name": dag_id}).encode(), "OK"
        raise AssertionError(path)

    def error(self, stack_trace):
        self.import_errors = [{"import_error_id": 1, "timestamp": "2026-12-02T08:00:00Z", "filename": FILE,
                               "bundle_name": "dags-folder", "stack_trace": stack_trace}]


class Clock:
    def __init__(self):
        self.now = 0.0
        self.on_sleep = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        if self.on_sleep:
            self.on_sleep.pop(0)()


def run(fake, clock=None, **kwargs):
    clock = clock or Clock()
    api = AirflowApi("http://af:8080/", fake)
    kwargs.setdefault("timeout", 300)
    return settle(api, "admin", PASSWORD, clock=clock, sleep=clock.sleep, **kwargs)


def pushed(text):
    return [{"path": "dags/" + FILE, "sha256": sha(text)}]


def test_all_good_settles_in_one_round_and_never_returns_the_token():
    fake = FakeAirflow()
    result = run(fake, required_dags=["test-dp-infrastructure"], expected_dags=1, dag_files=pushed(OLD))
    assert result["settled"] is True and result["rounds"] == 1 and result["waited"] == 0
    assert result["token"] == {"status": 201, "msg": "OK"}
    assert result["dag_files"] == [{"path": "dags/" + FILE, "name": FILE, "state": "parsed",
                                    "dags": ["test-dp-infrastructure"], "serving": ["test-dp-infrastructure"]}]
    assert [d["dag_id"] for d in result["dags"][0]["json"]["dags"]] == ["test-dp-infrastructure"]
    assert TOKEN not in json.dumps(result) and PASSWORD not in json.dumps(result)


def test_waits_until_the_pushed_source_is_served():
    fake, clock = FakeAirflow(), Clock()
    clock.on_sleep = [lambda: None, lambda: fake.dags.update({"test-dp-infrastructure": NEW})]
    result = run(fake, clock, dag_files=pushed(NEW), required_dags=["test-dp-infrastructure"])
    assert result["settled"] is True and result["rounds"] == 3 and result["waited"] == 20
    assert result["dag_files"][0]["state"] == "parsed"
    # one login for the whole wait; the source asked each round until it matched
    assert fake.calls.count(("POST", "/auth/token")) == 1
    assert fake.calls.count(("GET", "/api/v2/dagSources/test-dp-infrastructure")) == 3


def test_an_import_error_for_the_pushed_file_ends_the_wait():
    fake, clock = FakeAirflow(), Clock()
    message = "AirflowTimetableInvalid: Exactly 5, 6 or 7 columns has to be specified for iterator expression."
    # As Airflow 3.1.6 does (seen in the lab): the file's DAG is no longer listed once the file fails to import.
    clock.on_sleep = [lambda: (fake.error(message), fake.dags.clear())]
    result = run(fake, clock, dag_files=pushed(BAD), required_dags=["test-dp-infrastructure"], expected_dags=1)
    # The required DAG stays missing however long one waits: the wait ends with the import error.
    assert result["settled"] is True and result["rounds"] == 2 and result["waited"] == 10
    assert result["dag_files"][0]["state"] == "import error"
    assert result["dags"][0]["json"]["total_entries"] == 0
    assert result["import_errors"]["json"]["import_errors"][0]["stack_trace"] == message


def test_a_missing_dag_is_waited_for_while_its_file_is_pending():
    fake, clock = FakeAirflow(), Clock()
    fake.dags.clear()
    clock.on_sleep = [lambda: None, lambda: fake.dags.update({"test-dp-infrastructure": NEW})]
    result = run(fake, clock, dag_files=pushed(NEW), required_dags=["test-dp-infrastructure"])
    assert result["settled"] is True and result["rounds"] == 3 and result["dag_files"][0]["state"] == "parsed"


def test_an_import_error_of_a_file_not_pushed_does_not_end_the_wait_for_a_missing_dag():
    fake = FakeAirflow()
    fake.dags.clear()
    fake.error("SyntaxError: invalid syntax")
    result = run(fake, required_dags=["test-dp-infrastructure"], timeout=25)
    assert result["settled"] is False and result["rounds"] == 3


def test_a_fix_is_waited_for_past_the_old_import_error():
    """The old file's import error is still listed until the dag-processor parsed the fixed file."""
    fake, clock = FakeAirflow(), Clock()
    fake.error("SyntaxError: invalid syntax")
    clock.on_sleep = [lambda: (fake.dags.update({"test-dp-infrastructure": NEW}), setattr(fake, "import_errors", []))]
    result = run(fake, clock, dag_files=pushed(NEW))
    assert result["dag_files"][0]["state"] == "parsed"
    assert result["import_errors"]["json"]["total_entries"] == 0 and result["rounds"] == 2


def test_the_same_import_error_counts_after_the_parse_delay():
    """A broken file pushed over a file broken the same way: the error counts once parse_delay passed."""
    fake = FakeAirflow()
    fake.error("SyntaxError: invalid syntax")
    result = run(fake, dag_files=pushed(BAD), parse_delay=60)
    assert result["settled"] is True and result["rounds"] == 7 and result["waited"] == 60
    assert result["dag_files"][0]["state"] == "import error"


def test_a_changed_import_error_counts_at_once():
    fake, clock = FakeAirflow(), Clock()
    fake.error("SyntaxError: invalid syntax")
    clock.on_sleep = [lambda: fake.error("AirflowTimetableInvalid: bad cron")]
    result = run(fake, clock, dag_files=pushed(BAD))
    assert result["rounds"] == 2 and result["dag_files"][0]["state"] == "import error"


def test_an_old_import_error_is_pending_when_the_wait_ends_first():
    fake = FakeAirflow()
    fake.error("SyntaxError: invalid syntax")
    result = run(fake, dag_files=pushed(BAD), timeout=0)
    assert result["settled"] is False and result["dag_files"][0]["state"] == "pending"


def test_a_file_never_parsed_is_pending_at_the_timeout():
    fake = FakeAirflow()
    result = run(fake, dag_files=pushed(NEW), timeout=35)
    assert result["settled"] is False and result["rounds"] == 4 and result["waited"] == 30
    assert result["dag_files"][0]["state"] == "pending" and result["dag_files"][0]["serving"] == []


def test_a_refused_login_ends_the_wait_at_once():
    fake = FakeAirflow()
    fake.login_status = 401
    result = run(fake, required_dags=["test-dp-infrastructure"])
    assert result["settled"] is False and result["rounds"] == 1
    assert result["token"]["status"] == 401 and result["dags"] == []
    assert result["import_errors"]["msg"] == "not called: no API token"


def test_an_api_server_not_up_yet_is_waited_for():
    fake, clock = FakeAirflow(), Clock()
    fake.reachable = False
    clock.on_sleep = [lambda: setattr(fake, "reachable", True)]
    result = run(fake, clock)
    assert result["settled"] is True and result["rounds"] == 2 and result["token"]["status"] == 201


def test_an_unhealthy_component_is_waited_for_then_reported():
    fake = FakeAirflow()
    fake.health["triggerer"] = {"status": None}
    result = run(fake, timeout=20)
    assert result["settled"] is False and result["rounds"] == 3
    assert result["health"]["json"]["triggerer"] == {"status": None}


def test_every_page_of_dags_is_read():
    fake = FakeAirflow()
    fake.extra_dags = 149
    result = run(fake, page_size=100, expected_dags=150, timeout=0)
    assert [len(p["json"]["dags"]) for p in result["dags"]] == [100, 50]
    assert result["settled"] is True


def test_timeout_zero_asks_once():
    fake = FakeAirflow()
    result = run(fake, required_dags=["missing"], timeout=0)
    assert result["settled"] is False and result["rounds"] == 1


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        ok = body == {"username": "admin", "password": PASSWORD} and self.headers["Content-Type"] == "application/json"
        self.send_response(201 if ok else 401)
        self.end_headers()
        self.wfile.write(json.dumps({"access_token": TOKEN} if ok else {"detail": "no"}).encode())

    def do_GET(self):  # noqa: N802
        ok = self.headers.get("Authorization") == "Bearer " + TOKEN
        self.send_response(200 if ok else 403)
        self.end_headers()
        self.wfile.write(json.dumps({"dags": [], "total_entries": 0}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_port
    server.shutdown()
    server.server_close()


def test_the_production_http_layer_logs_in_and_carries_the_token(http_server):  # pylint: disable=redefined-outer-name
    api = AirflowApi(http_server, url_request(validate_certs=True, timeout=5))
    assert api.login("admin", "wrong")["status"] == 401 and not api.authenticated
    assert api.get("/api/v2/dags?limit=1&offset=0")["status"] == 403
    assert api.login("admin", PASSWORD) == {"status": 201, "msg": "OK"}
    assert api.get("/api/v2/dags?limit=1&offset=0") == {"status": 200, "json": {"dags": [], "total_entries": 0}, "msg": "OK"}


def test_the_production_http_layer_reports_no_answer():
    api = AirflowApi("http://127.0.0.1:9", url_request(validate_certs=True, timeout=2))
    result = api.login("admin", PASSWORD)
    assert result["status"] == -1 and result["msg"].startswith("Request failed: ")
