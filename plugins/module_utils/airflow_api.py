# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Read the Airflow 3 REST API for the verify phase, waiting until it has settled.

What a settled platform answers (Airflow 3.1's public API, ``/api/v2``):

- ``POST /auth/token`` issues a token for the user (the token stays in this process: it is never
  returned, logged or put in a command line);
- ``GET /api/v2/monitor/health`` says every component is ``healthy``;
- ``GET /api/v2/dags`` holds the required DAGs and at least the expected number;
- every DAG file pushed just before (``dag_files``: path and sha256, as ``git_publish`` returns them) has been
  parsed in the version pushed: a DAG from that file serves that very source
  (``GET /api/v2/dagSources/{dag_id}``: the source the dag-processor read with its last parse), or the file has an
  import error (``GET /api/v2/importErrors``). A DAG's ``last_parsed_time`` does not tell: the dag-processor
  parses the old file again every ``min_file_process_interval`` until git-sync brings the new one.
  An import error listed already in the first round may be the old file's (a fix just pushed): it counts only
  once its message changed or ``parse_delay`` seconds passed (git-sync's period plus the dag-processor's
  interval); one that appears after the first round is the new file's. Once every pushed file is parsed or
  fails to import and one fails, the wait ends even while required DAGs are missing: Airflow lists no DAG from a
  file that does not import, so they stay missing.

Every answer is kept in the shape ``ansible.builtin.uri`` registers (``status``, ``json``, ``msg``; status -1:
no answer), so the verify findings read either. The HTTP layer is a function given to :class:`AirflowApi`
(:func:`url_request` in production, a fake in the unit tests).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import time

try:  # Python 3
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore

# The pages of DAGs read at most (100 per page by default: 10000 DAGs).
MAX_DAGS = 10000
HEALTHY = "healthy"


def _result(status, body, msg=""):
    """A uri-like result: status, json (parsed body or None), msg."""
    data = None
    if body:
        try:
            data = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
        except ValueError:
            data = None
    return {"status": status, "json": data, "msg": msg}


def url_request(validate_certs, timeout):
    """The production HTTP layer: ``request(method, url, body, headers) -> (status, body bytes, msg)``."""
    from ansible.module_utils.urls import open_url  # pylint: disable=import-outside-toplevel
    from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError  # pylint: disable=import-outside-toplevel

    def request(method, url, body=None, headers=None):
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = dict(headers or {})
        headers.setdefault("Accept", "application/json")
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            resp = open_url(url, data=data, headers=headers, method=method, validate_certs=validate_certs,
                            timeout=timeout, follow_redirects="safe")
            return resp.getcode(), resp.read(), "OK"
        except HTTPError as exc:
            try:
                payload = exc.read()
            except Exception:  # pylint: disable=broad-except
                payload = b""
            return exc.code, payload, "HTTP Error %s: %s" % (exc.code, exc.reason)
        except (URLError, OSError, ValueError) as exc:  # refused, timed out, DNS, TLS
            reason = getattr(exc, "reason", exc)
            return -1, b"", "Request failed: %s" % (reason,)
    return request


class AirflowApi:
    """The calls verify makes, over ``request`` (see :func:`url_request`)."""

    def __init__(self, url, request):
        self.url = url.rstrip("/")
        self._request = request
        self._token = None

    def login(self, username, password):
        """Ask for a token; the answer without the token: ``{"status", "msg"}``."""
        status, body, msg = self._request("POST", self.url + "/auth/token", {"username": username, "password": password}, None)
        token = None
        if status in (200, 201):
            token = (_result(status, body).get("json") or {}).get("access_token")
            if not token:
                status, msg = -1, "POST /auth/token answered without an access_token"
        self._token = token
        return {"status": status, "msg": msg}

    @property
    def authenticated(self):
        return bool(self._token)

    def get(self, path):
        headers = {"Authorization": "Bearer " + self._token} if self._token else None
        return _result(*self._request("GET", self.url + path, None, headers))


def _healthy(health):
    data = health.get("json") if health.get("status") == 200 else None
    if not isinstance(data, dict):
        return False
    entries = [e for e in data.values() if isinstance(e, dict) and "status" in e]
    return bool(entries) and all(e.get("status") == HEALTHY for e in entries)


def _dags_of(pages):
    return [d for page in pages for d in ((page.get("json") or {}).get("dags") or []) if isinstance(d, dict)]


def _basename(path):
    return posixpath.basename(str(path or "").replace("\\", "/"))


def file_states(api, dag_files, dags, import_errors, source_cache, first_errors=None, trust_old_errors=True):
    """For each pushed file: ``parsed`` (a DAG from it serves the pushed source), ``import error`` or ``pending``.

    ``source_cache`` maps dag_id to the sha256 of a source already seen to match, so a matched DAG is not asked
    again in the next round. ``first_errors`` maps a file name to the import error listed for it in the first
    round: the same error counts only when ``trust_old_errors`` (``parse_delay`` passed).
    """
    errors = (import_errors.get("json") or {}).get("import_errors") or [] if import_errors.get("status") == 200 else []
    states = []
    for entry in dag_files or []:
        name = _basename(entry.get("path"))
        want = str(entry.get("sha256") or "").lower()
        from_file = sorted(str(d.get("dag_id")) for d in dags
                           if d.get("dag_id") and _basename(d.get("relative_fileloc") or d.get("fileloc")) == name)
        matched = []
        for dag_id in from_file:
            if source_cache.get(dag_id) != want:
                source = api.get("/api/v2/dagSources/" + quote(dag_id, safe=""))
                content = (source.get("json") or {}).get("content") if source.get("status") == 200 else None
                if isinstance(content, str) and hashlib.sha256(content.encode("utf-8")).hexdigest() == want:
                    source_cache[dag_id] = want
            if source_cache.get(dag_id) == want:
                matched.append(dag_id)
        failing = [str(e.get("stack_trace")) for e in errors if isinstance(e, dict) and _basename(e.get("filename")) == name]
        old = first_errors is not None and name in first_errors and first_errors[name] == failing
        if matched:
            state = "parsed"
        elif failing and (trust_old_errors or not old):
            state = "import error"
        else:
            state = "pending"
        states.append({"path": entry.get("path"), "name": name, "state": state, "dags": from_file, "serving": matched})
    return states


def _errors_by_file(import_errors):
    if import_errors.get("status") != 200:
        return {}
    by_file = {}
    for error in (import_errors.get("json") or {}).get("import_errors") or []:
        if isinstance(error, dict):
            by_file.setdefault(_basename(error.get("filename")), []).append(str(error.get("stack_trace")))
    return by_file


def settle(api, username, password, timeout=0, interval=10, page_size=100, expected_dags=None, required_dags=(),
           dag_files=(), parse_delay=120, clock=time.monotonic, sleep=time.sleep):
    """Ask the API until it has settled (see the module docstring) or ``timeout`` seconds passed; the last answers.

    Returns ``token`` (status and msg only), ``health``, ``dags`` (the pages), ``import_errors``, ``dag_files``
    (the state of each pushed file), ``settled``, ``rounds`` and ``waited`` (seconds). A refused login (HTTP 401
    or 403) ends the wait at once: waiting does not fix credentials.
    """
    start = clock()
    rounds = 0
    source_cache = {}
    first_errors = None
    token = {"status": None, "msg": "not asked"}
    while True:
        rounds += 1
        if not api.authenticated:
            token = api.login(username, password)
        health = api.get("/api/v2/monitor/health")
        pages, import_errors, states = [], {"status": None, "json": None, "msg": "not called: no API token"}, []
        if api.authenticated:
            first = api.get("/api/v2/dags?limit=%d&offset=0" % page_size)
            pages = [first]
            total = (first.get("json") or {}).get("total_entries") if first.get("status") == 200 else 0
            total = total if isinstance(total, int) else 0
            for offset in range(page_size, min(total, MAX_DAGS), page_size):
                pages.append(api.get("/api/v2/dags?limit=%d&offset=%d" % (page_size, offset)))
            import_errors = api.get("/api/v2/importErrors?limit=100")
            if import_errors.get("status") == 401 or first.get("status") == 401:  # the token expired: ask again
                api.login(username, password)
            if first_errors is None and import_errors.get("status") == 200:
                first_errors = _errors_by_file(import_errors)
            states = file_states(api, dag_files, _dags_of(pages), import_errors, source_cache, first_errors,
                                 trust_old_errors=clock() - start >= parse_delay)
        settled = _settled(token, health, pages, required_dags, expected_dags, states)
        elapsed = clock() - start
        refused = token.get("status") in (401, 403)
        if settled or refused or elapsed + interval > timeout:
            return {"token": token, "health": health, "dags": pages, "import_errors": import_errors, "dag_files": states,
                    "settled": settled, "rounds": rounds, "waited": int(round(elapsed))}
        sleep(interval)


def _settled(token, health, pages, required_dags, expected_dags, states):
    if token.get("status") not in (200, 201) or not _healthy(health):
        return False
    if not pages or any(p.get("status") != 200 for p in pages):
        return False
    # Every pushed file parsed or failing to import, one failing: what it would have defined stays missing however
    # long we wait (Airflow 3.1 lists no DAG from a file that does not import). Done; the findings say what failed.
    if states and all(s["state"] != "pending" for s in states) and any(s["state"] == "import error" for s in states):
        return True
    dags = _dags_of(pages)
    total = (pages[0].get("json") or {}).get("total_entries")
    total = total if isinstance(total, int) else len(dags)
    if expected_dags is not None and total < int(expected_dags):
        return False
    ids = {d.get("dag_id") for d in dags}
    if any(d not in ids for d in required_dags or []):
        return False
    return all(s["state"] != "pending" for s in states)
