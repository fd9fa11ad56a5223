# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A stand-in for the Airflow 3.1 API server: the few ``/api/v2`` endpoints the verify role reads.

It is not Airflow. It answers with Airflow 3.1's paths, status codes and JSON shapes, and plays the
dag-processor over a directory: every ``*.py`` file (Airflow's safe mode: only files mentioning both
"airflow" and "dag") is compiled; a file that does not compile becomes an import error with its
traceback, and DAG ids are read from the files that do (``dag_id="..."``, ``DAG("...")``,
``@dag`` on a function). The directory is read again on every request, like a dag-processor that
refreshes at once.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

AIRFLOW_VERSION = "3.1.6"
BUNDLE = "dags-folder"
MAXIMUM_PAGE_LIMIT = 100  # [api] maximum_page_limit
DEFAULT_PAGE_LIMIT = 50  # [api] fallback_page_limit

_DAG_ID = re.compile(r"""\bdag_id\s*=\s*(?P<q>["'])(?P<id>[^"'\n]+)(?P=q)""")
_DAG_CALL = re.compile(r"""\bDAG\(\s*(?P<q>["'])(?P<id>[^"'\n]+)(?P=q)""")
_DAG_DECORATOR = re.compile(r"""^\s*@dag(?:\((?P<args>[^)]*)\))?\s*\n(?:\s*@.*\n)*\s*def\s+(?P<fn>\w+)""", re.MULTILINE)
_UNPAUSED = re.compile(r"\bis_paused_upon_creation\s*=\s*False\b")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def scan_dags(dags_dir: Path) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(dags, import_errors) of a DAG folder, as the API lists them."""
    dags: Dict[str, Dict[str, Any]] = {}
    errors: List[Dict[str, Any]] = []
    root = Path(dags_dir)
    files = sorted(p for p in root.rglob("*.py") if p.is_file() and "__pycache__" not in p.parts
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    for path in files:
        relative = str(path.relative_to(root))
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(_import_error(len(errors) + 1, relative, "".join(traceback.format_exception_only(type(exc), exc))))
            continue
        lowered = source.lower()
        if "airflow" not in lowered or "dag" not in lowered:
            continue  # dag_discovery_safe_mode: not a DAG file
        try:
            compile(source, str(path), "exec")
        except (SyntaxError, ValueError) as exc:
            errors.append(_import_error(len(errors) + 1, relative, "".join(traceback.format_exception(type(exc), exc, None))))
            continue
        ids = [m.group("id") for m in _DAG_ID.finditer(source)] + [m.group("id") for m in _DAG_CALL.finditer(source)]
        for match in _DAG_DECORATOR.finditer(source):
            if not _DAG_ID.search(match.group("args") or ""):
                ids.append(match.group("fn"))
        duplicate = next((i for i in ids if i in dags), None)
        if duplicate:
            trace = (f"Traceback (most recent call last):\n  File \"{path}\", line 1, in <module>\n"
                     f"airflow.exceptions.AirflowDagDuplicatedIdException: Ignoring DAG {duplicate} from {relative} - "
                     f"also found in {dags[duplicate]['relative_fileloc']}\n")
            errors.append(_import_error(len(errors) + 1, relative, trace))
            continue
        for dag_id in dict.fromkeys(ids):
            dags[dag_id] = {
                "dag_id": dag_id, "dag_display_name": dag_id, "is_paused": not _UNPAUSED.search(source),
                "is_stale": False, "fileloc": str(path), "relative_fileloc": relative, "bundle_name": BUNDLE,
                "bundle_version": None, "owners": ["airflow"], "tags": [], "description": None,
                "timetable_summary": None, "max_active_runs": 16, "has_import_errors": False,
                "last_parsed_time": _now(),
            }
    return sorted(dags.values(), key=lambda d: d["dag_id"]), errors


def _import_error(number: int, filename: str, trace: str) -> Dict[str, Any]:
    return {"import_error_id": number, "timestamp": _now(), "filename": filename, "bundle_name": BUNDLE,
            "stack_trace": trace}


class AirflowApiServer:
    """Serve the stand-in on ``host:port`` (port 0: an ephemeral one) in a background thread."""

    def __init__(self, dags_dir: Path, username: str = "admin", password: str = "admin", host: str = "127.0.0.1",
                 port: int = 0, verbose: bool = False) -> None:
        self.dags_dir = Path(dags_dir)
        self.username = username
        self.password = password
        self.verbose = verbose
        # /api/v2/monitor/health, per component; tests may set a status to "unhealthy".
        self.health: Dict[str, Optional[str]] = {"metadatabase": "healthy", "scheduler": "healthy",
                                                 "triggerer": "healthy", "dag_processor": "healthy"}
        self.tokens: set = set()
        self.requests: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "AirflowApiServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="airflow-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "AirflowApiServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- request handling -------------------------------------------------------------------------

    def _handler_class(self) -> type:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "airflow-api-stand-in"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  pylint: disable=redefined-builtin
                if server.verbose:
                    super().log_message(format, *args)

            def do_GET(self) -> None:  # noqa: N802  pylint: disable=invalid-name
                server.handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802  pylint: disable=invalid-name
                server.handle(self, "POST")

            def do_PUT(self) -> None:  # noqa: N802  pylint: disable=invalid-name
                server.handle(self, "PUT")

            def do_DELETE(self) -> None:  # noqa: N802  pylint: disable=invalid-name
                server.handle(self, "DELETE")

        return Handler

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        """Route one request."""
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        auth = request.headers.get("Authorization") or ""
        with self._lock:
            self.requests.append({"method": method, "path": parts.path, "query": parts.query,
                                  "authorization": "bearer" if auth.lower().startswith("bearer ") else ("other" if auth else None)})
        routes = {
            "/auth/token": ("POST", self._token, False),
            "/api/v2/monitor/health": ("GET", self._health, False),
            "/api/v2/version": ("GET", self._version, True),
            "/api/v2/dags": ("GET", self._dags, True),
            "/api/v2/importErrors": ("GET", self._import_errors, True),
        }
        route = routes.get(parts.path.rstrip("/") or "/")
        if route is None:
            dag = re.fullmatch(r"/api/v2/dags/([^/]+)", parts.path)
            if dag:
                route = ("GET", lambda q, b, dag_id=dag.group(1): self._dag(dag_id), True)
        if route is None:
            self._send(request, 404, {"detail": "Not Found"})
            return
        wanted, action, needs_auth = route
        if method != wanted:
            self._send(request, 405, {"detail": "Method Not Allowed"})
            return
        if needs_auth:
            if not auth.lower().startswith("bearer "):
                self._send(request, 401, {"detail": "Not authenticated"}, {"WWW-Authenticate": "Bearer"})
                return
            if auth[7:].strip() not in self.tokens:
                self._send(request, 401, {"detail": "Invalid JWT token"}, {"WWW-Authenticate": "Bearer"})
                return
        status, payload = action(query, body)
        self._send(request, status, payload)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, payload: Any, headers: Optional[Mapping[str, str]] = None) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)

    def _token(self, _query: Mapping[str, List[str]], body: bytes) -> Tuple[int, Any]:
        try:
            credentials = json.loads(body or b"null")
        except ValueError:
            return 422, {"detail": [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}]}
        if not isinstance(credentials, dict) or not isinstance(credentials.get("username"), str) \
                or not isinstance(credentials.get("password"), str):
            return 422, {"detail": [{"type": "missing", "loc": ["body", "username"], "msg": "Field required"}]}
        if not (secrets.compare_digest(credentials["username"], self.username)
                and secrets.compare_digest(credentials["password"], self.password)):
            return 401, {"detail": "Invalid credentials"}
        token = secrets.token_urlsafe(32)
        with self._lock:
            self.tokens.add(token)
        return 201, {"access_token": token}

    def _health(self, _query: Mapping[str, List[str]], _body: bytes) -> Tuple[int, Any]:
        now = _now()
        payload: Dict[str, Any] = {}
        for name, status in self.health.items():
            entry: Dict[str, Any] = {"status": status}
            if name != "metadatabase":
                entry[f"latest_{name}_heartbeat"] = now if status else None
            payload[name] = entry
        return 200, payload

    @staticmethod
    def _version(_query: Mapping[str, List[str]], _body: bytes) -> Tuple[int, Any]:
        return 200, {"version": AIRFLOW_VERSION, "git_version": None}

    @staticmethod
    def _page(query: Mapping[str, List[str]]) -> Tuple[Optional[Tuple[int, int]], Any]:
        try:
            limit = int((query.get("limit") or [DEFAULT_PAGE_LIMIT])[0])
            offset = int((query.get("offset") or [0])[0])
        except ValueError:
            return None, {"detail": [{"type": "int_parsing", "loc": ["query", "limit"], "msg": "Input should be a valid integer"}]}
        if limit < 0 or offset < 0:
            return None, {"detail": [{"type": "greater_than_equal", "loc": ["query", "limit"], "msg": "Input should be >= 0"}]}
        return (min(limit, MAXIMUM_PAGE_LIMIT), offset), None

    def _dags(self, query: Mapping[str, List[str]], _body: bytes) -> Tuple[int, Any]:
        page, problem = self._page(query)
        if page is None:
            return 422, problem
        dags, _errors = scan_dags(self.dags_dir)
        pattern = (query.get("dag_id_pattern") or [None])[0]
        if pattern:
            regex = re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$")
            dags = [d for d in dags if regex.match(d["dag_id"])]
        limit, offset = page
        return 200, {"dags": dags[offset:offset + limit], "total_entries": len(dags)}

    def _dag(self, dag_id: str) -> Tuple[int, Any]:
        dags, _errors = scan_dags(self.dags_dir)
        for dag in dags:
            if dag["dag_id"] == dag_id:
                return 200, dag
        return 404, {"detail": f"Dag with id {dag_id} was not found"}

    def _import_errors(self, query: Mapping[str, List[str]], _body: bytes) -> Tuple[int, Any]:
        page, problem = self._page(query)
        if page is None:
            return 422, problem
        _dags, errors = scan_dags(self.dags_dir)
        limit, offset = page
        return 200, {"import_errors": errors[offset:offset + limit], "total_entries": len(errors)}
