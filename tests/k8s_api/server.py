# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The HTTP side: Kubernetes REST routing over ``ThreadingHTTPServer``, watch streaming, and ``ApiServer``.

URLs served (``{prefix}`` is ``/api/v1`` or ``/apis/{group}/{version}``):

* ``GET /version``, ``/api``, ``/apis``, ``/apis/{group}``, ``{prefix}``, ``/healthz``, ``/livez``, ``/readyz``,
  ``/openapi/v3[/api/v1|/apis/{group}/{version}]`` (no schemas, see discovery.py); ``/openapi/v2`` is 404.
* ``{prefix}[/namespaces/{ns}]/{plural}``: GET list (``?watch=1`` streams events), POST create, DELETE
  deletecollection; ``{prefix}/{plural}`` for a namespaced kind lists across all namespaces.
* ``{prefix}[/namespaces/{ns}]/{plural}/{name}[/status]``: GET, PUT, PATCH, DELETE; ``/api/v1/namespaces/{ns}/
  pods/{name}/log`` returns the text set with ``ApiServer.set_pod_log``.
* The legacy ``{prefix}/watch/...`` form of watches.

Bodies are JSON (YAML too for ``application/apply-patch+yaml`` and ``application/yaml``); protobuf is refused
with 415 except for the kinds protobuf.py decodes (helm's release Secrets). Responses are always JSON
(``as=Table`` and ``as=PartialObjectMetadata`` are honoured). No authentication or authorization is done: any
token, or none, is accepted.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Set, Tuple, Union
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from . import controllers, discovery, protobuf
from .errors import ApiError, bad_request, method_not_allowed, not_found_path, unsupported_media_type
from .kubeconfig import write_kubeconfig
from .resources import Registry, ResourceType
from .selectors import Selector
from .store import APPLY_PATCH, PATCH_TYPES, Obj, Store

TRUE = ("1", "true", "True")
DEFAULT_WATCH_TIMEOUT = 1800.0


@dataclass(frozen=True)
class RequestRecord:
    """One request the server saw (for tests that assert on what a client sent)."""

    method: str
    path: str
    query: Dict[str, str]
    content_type: str
    accept: str = ""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: Tuple[str, int], api: "ApiServer") -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.connections: Set[socket.socket] = set()
        self.conn_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.conn_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return  # the client went away (a process exiting with a watch or keep-alive connection open)
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.conn_lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "k8s-api-test/1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    # ---- plumbing ---------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        if self.server.api.verbose:
            sys.stderr.write("k8s_api: %s - %s\n" % (self.address_string(), format % args))

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, code: int, payload: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj).encode("utf-8"), "application/json")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            body = self._read_body()
            self.server.api.record(RequestRecord(method, path, query, content_type, self.headers.get("Accept") or ""))
            self._route(method, path, query, content_type, body)
        except ApiError as exc:
            self._send_json(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # pylint: disable=broad-except
            if self.server.api.verbose:
                traceback.print_exc()
            self._send_json(500, ApiError(500, "InternalError", f"{type(exc).__name__}: {exc}").status())

    # ---- routing ----------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: Dict[str, str], content_type: str, body: bytes) -> None:
        api = self.server.api
        parts = [p for p in path.split("/") if p]
        if not parts:
            self._send_json(200, {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"]})
            return
        if parts[0] in ("healthz", "livez", "readyz") and len(parts) == 1:
            self._send(200, b"ok", "text/plain; charset=utf-8")
            return
        if parts == ["version"]:
            self._send_json(200, discovery.KUBE_VERSION)
            return
        if parts == ["openapi", "v3"]:
            self._send_json(200, discovery.openapi_v3_index(api.registry))
            return
        if parts[:2] == ["openapi", "v3"] and parts[2] in ("api", "apis"):
            gv = parts[3:] if parts[2] == "apis" else ["", *parts[3:]]
            doc = discovery.openapi_v3_group_version(api.registry, *gv) if len(gv) == 2 else None
            if doc is None:
                raise not_found_path(path)
            self._send_json(200, doc)
            return
        if parts[0] == "api":
            if len(parts) == 1:
                self._send_json(200, discovery.api_versions(f"{api.host}:{api.port}"))
                return
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis":
            if len(parts) == 1:
                self._send_json(200, discovery.api_group_list(api.registry))
                return
            if len(parts) == 2:
                doc = discovery.api_group(api.registry, parts[1])
                if doc is None:
                    raise not_found_path(path)
                self._send_json(200, doc)
                return
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise not_found_path(path)
        if not rest:
            doc = discovery.api_resource_list(api.registry, group, version)
            if doc is None or method != "GET":
                raise not_found_path(path)
            self._send_json(200, doc)
            return
        self._resource(method, path, group, version, rest, query, content_type, body)

    def _resource(self, method: str, path: str, group: str, version: str, rest: List[str], query: Dict[str, str],
                  content_type: str, body: bytes) -> None:
        registry, store = self.server.api.registry, self.server.api.store
        watch = query.get("watch", "") in TRUE
        if rest[0] == "watch":
            watch, rest = True, rest[1:]
        namespace: Optional[str] = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            inner = registry.lookup(group, version, rest[2])
            if inner is not None and inner.namespaced:
                namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise not_found_path(path)
        rt = registry.lookup(group, version, rest[0])
        name = rest[1] if len(rest) > 1 else None
        if rt is None or (namespace is not None and not rt.namespaced) or (rt.namespaced and namespace is None and name):
            raise not_found_path(path)
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rt.subresources:
            raise not_found_path(path)
        try:
            selector = Selector.parse(query.get("labelSelector"), query.get("fieldSelector"))
        except ValueError as exc:
            raise bad_request(f"unable to parse selector: {exc}") from None
        dry_run = query.get("dryRun") == "All"

        if method == "GET":
            if watch:
                if name is not None:
                    selector = Selector(selector.labels, selector.fields + Selector.parse(None, f"metadata.name={name}").fields)
                self._watch(rt, namespace, selector, query)
            elif name is None:
                self._list(rt, namespace, selector, query)
            elif sub == "log":
                self._log(namespace or "", name, query)
            else:
                self._object(store.get(rt, namespace, name))
            return
        if method == "POST":
            if name is not None:
                raise method_not_allowed()
            if rt.namespaced and namespace is None:
                raise method_not_allowed(f"POST to {path}: use /namespaces/{{namespace}}/{rt.plural}")
            self._send_json(201, store.create(rt, namespace, self._decode(body, content_type), dry_run))
            return
        if method == "PUT":
            if name is None or sub == "log":
                raise method_not_allowed()
            self._send_json(200, store.replace(rt, namespace, name, self._decode(body, content_type), dry_run, sub))
            return
        if method == "PATCH":
            if name is None or sub == "log":
                raise method_not_allowed()
            if content_type not in PATCH_TYPES:
                raise unsupported_media_type(content_type)
            existed = content_type != APPLY_PATCH or self._exists(rt, namespace, name)
            result = store.patch(rt, namespace, name, content_type, self._decode(body, content_type), dry_run, sub,
                                 query.get("fieldManager", ""))
            self._send_json(200 if existed else 201, result)
            return
        if method == "DELETE":
            options = self._decode(body, content_type) if body.strip() else {}
            if not isinstance(options, dict):
                raise bad_request("DeleteOptions must be an object")
            policy = options.get("propagationPolicy") or query.get("propagationPolicy")
            orphan = options.get("orphanDependents", query.get("orphanDependents"))
            if not policy and orphan is not None:
                policy = "Orphan" if str(orphan).lower() == "true" else "Background"
            dry_run = dry_run or "All" in (options.get("dryRun") or [])
            if name is None:
                self._send_json(200, store.delete_collection(rt, namespace, selector, policy, dry_run))
            elif sub is not None:
                raise method_not_allowed()
            else:
                self._send_json(200, store.delete(rt, namespace, name, policy, options.get("preconditions"), dry_run))
            return
        raise method_not_allowed()

    def _exists(self, rt: ResourceType, namespace: Optional[str], name: str) -> bool:
        try:
            self.server.api.store.get(rt, namespace, name)
            return True
        except ApiError:
            return False

    @staticmethod
    def _decode(body: bytes, content_type: str) -> Any:
        if "protobuf" in content_type:
            try:
                return protobuf.decode(body)
            except ValueError:
                raise unsupported_media_type(content_type) from None
        if not body.strip():
            raise bad_request("the request body is empty")
        try:
            if "yaml" in content_type:
                return yaml.safe_load(body.decode("utf-8"))
            return json.loads(body.decode("utf-8"))
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"the request body is not valid {'YAML' if 'yaml' in content_type else 'JSON'}: {exc}") from None

    # ---- views ------------------------------------------------------------------------------------

    def _view(self) -> str:
        """The representation the Accept header asks for first: json, table or partial."""
        for media in (self.headers.get("Accept") or "application/json").split(","):
            fields = [f.strip() for f in media.split(";")]
            params = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
            if "protobuf" in fields[0]:
                continue
            as_kind = params.get("as")
            if as_kind == "Table":
                return "table"
            if as_kind in ("PartialObjectMetadata", "PartialObjectMetadataList"):
                return "partial"
            if as_kind is None:
                return "json"
        return "json"

    def _object(self, obj: Obj) -> None:
        view = self._view()
        if view == "table":
            self._send_json(200, discovery.table([obj], obj["metadata"].get("resourceVersion", ""), "Object"))
        elif view == "partial":
            self._send_json(200, discovery.partial_metadata(obj))
        else:
            self._send_json(200, obj)

    def _list(self, rt: ResourceType, namespace: Optional[str], selector: Selector, query: Dict[str, str]) -> None:
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            raise bad_request("limit must be an integer") from None
        items, rv, token = self.server.api.store.list(rt, namespace, selector, limit, query.get("continue", ""))
        view = self._view()
        if view == "table":
            self._send_json(200, discovery.table(items, rv, query.get("includeObject", "PartialObjectMetadata")))
            return
        meta: Dict[str, Any] = {"resourceVersion": rv}
        if token:
            meta["continue"] = token
        if view == "partial":
            self._send_json(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                                  "items": [discovery.partial_metadata(o) for o in items]})
            return
        self._send_json(200, {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": items})

    def _log(self, namespace: str, name: str, query: Dict[str, str]) -> None:
        text = self.server.api.store.pod_log(namespace, name, query.get("container", ""))
        if query.get("tailLines"):
            try:
                tail = int(query["tailLines"])
            except ValueError:
                raise bad_request("tailLines must be an integer") from None
            text = "".join(text.splitlines(keepends=True)[-tail:]) if tail > 0 else ""
        if query.get("limitBytes"):
            text = text.encode("utf-8")[: int(query["limitBytes"])].decode("utf-8", "ignore")
        self._send(200, text.encode("utf-8"), "text/plain")

    # ---- watch ------------------------------------------------------------------------------------

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()

    def _event(self, kind: str, obj: Obj) -> None:
        self._chunk(json.dumps({"type": kind, "object": obj}).encode("utf-8") + b"\n")

    def _client_gone(self) -> bool:
        try:
            readable = select.select([self.connection], [], [], 0)[0]
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _watch(self, rt: ResourceType, namespace: Optional[str], selector: Selector, query: Dict[str, str]) -> None:
        store = self.server.api.store
        try:
            timeout = float(query.get("timeoutSeconds") or DEFAULT_WATCH_TIMEOUT)
        except ValueError:
            raise bad_request("timeoutSeconds must be a number") from None
        send_initial = query.get("sendInitialEvents") in TRUE
        rv_param = "" if send_initial else query.get("resourceVersion")
        expired: Optional[ApiError] = None
        try:
            initial, last = store.watch_start(rt, namespace, selector, rv_param)
        except ApiError as exc:
            if exc.code != 410:
                raise
            initial, last, expired = [], 0, exc
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        try:
            if expired is not None:
                self._event("ERROR", expired.status())
                return
            for obj in initial:
                self._event("ADDED", obj)
            if send_initial:
                self._event("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": {
                    "resourceVersion": str(last), "annotations": {"k8s.io/initial-events-end": "true"}}})
            deadline = time.monotonic() + timeout
            while not store.closed and not self._client_gone():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    events = store.events_after(last, min(remaining, 0.5))
                except ApiError as exc:
                    self._event("ERROR", exc.status())
                    break
                for ev in events:
                    last = ev.rv
                    if ev.key != rt.key or (rt.namespaced and namespace and ev.namespace != namespace):
                        continue
                    now_match = ev.type != "DELETED" and selector.matches(ev.obj)
                    was_match = ev.old is not None and selector.matches(ev.old)
                    if ev.type == "DELETED":
                        if was_match or selector.matches(ev.obj):
                            self._event("DELETED", ev.obj)
                    elif now_match and was_match and ev.type == "MODIFIED":
                        self._event("MODIFIED", ev.obj)
                    elif now_match:
                        self._event("ADDED", ev.obj)
                    elif was_match:
                        self._event("DELETED", ev.obj)
        finally:
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                self.close_connection = True


class ApiServer:
    """A Kubernetes API server stand-in on ``http://127.0.0.1:<port>``; a context manager.

    ``store`` holds the objects (see store.py for its test helpers), ``registry`` the served kinds, ``requests``
    the last requests seen. ``kubeconfig_path`` is written on ``start()`` when given.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, kubeconfig_path: Union[str, Path, None] = None,
                 namespace: str = "default", verbose: bool = False, history: int = 10000) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        self.namespace = namespace
        self.kubeconfig_path: Optional[Path] = Path(kubeconfig_path) if kubeconfig_path else None
        self.registry = Registry()
        self.store = Store(self.registry, history=history)
        self.requests: Deque[RequestRecord] = deque(maxlen=5000)
        self._httpd: Optional[_HTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # ---- lifecycle --------------------------------------------------------------------------------

    def start(self) -> "ApiServer":
        httpd = _HTTPServer((self.host, self.port), self)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"k8s-api-{self.port}", daemon=True)
        self._thread.start()
        if self.kubeconfig_path is not None:
            self.write_kubeconfig(self.kubeconfig_path)
        return self

    def stop(self) -> None:
        self.store.close()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> "ApiServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def record(self, rec: RequestRecord) -> None:
        self.requests.append(rec)
        if self.verbose:
            sys.stderr.write(f"k8s_api: {rec.method} {rec.path} content-type={rec.content_type!r} accept={rec.accept!r}\n")

    # ---- client configuration ---------------------------------------------------------------------

    def write_kubeconfig(self, path: Union[str, Path]) -> Path:
        """Write a kubeconfig (mode 0600) pointing at this server; the first one written is ``kubeconfig_path``."""
        written = write_kubeconfig(path, self.url, self.namespace)
        if self.kubeconfig_path is None:
            self.kubeconfig_path = written
        return written

    def env(self) -> Dict[str, str]:
        """Environment for client subprocesses (kubectl, helm, kubernetes.core)."""
        out = {}
        if self.kubeconfig_path is not None:
            out["KUBECONFIG"] = str(self.kubeconfig_path)
            out["K8S_AUTH_KUBECONFIG"] = str(self.kubeconfig_path)
        return out

    def discovery_cache_files(self, tmpdir: Optional[str] = None) -> List[Path]:
        """Where the kubernetes client (``osrcp-*``) and kubernetes.core (``k8srcp-*``) cache this server's discovery.

        Both live in ``tempfile.gettempdir()`` (so ``TMPDIR``) and are keyed by the server URL (kubernetes.core
        adds the user: ``os.getlogin()``, else the uid unless 0, else ``$USERNAME``).
        """
        base = Path(tmpdir or tempfile.gettempdir())
        host = self.url.encode("utf-8")
        paths = [base / f"osrcp-{hashlib.md5(host, usedforsecurity=False).hexdigest()}.json"]
        ids = [host]
        for user in _possible_users():
            ids.append(f"{self.url}-{user}".encode("utf-8"))
        paths.extend(base / f"k8srcp-{hashlib.sha256(i).hexdigest()}.json" for i in ids)
        return paths

    def clear_discovery_cache(self, tmpdir: Optional[str] = None) -> None:
        for path in self.discovery_cache_files(tmpdir):
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    # ---- conveniences for tests (the test plays the controllers) ----------------------------------

    def set_pod_log(self, namespace: str, pod: str, text: str, container: str = "") -> None:
        self.store.set_pod_log(namespace, pod, text, container)

    def add_node(self, name: str, ready: bool = True, labels: Optional[Dict[str, str]] = None) -> Obj:
        return controllers.add_node(self.store, name, ready, labels)

    def complete_job(self, namespace: str, name: str) -> Obj:
        return controllers.complete_job(self.store, namespace, name)

    def fail_job(self, namespace: str, name: str, reason: str = "BackoffLimitExceeded",
                 message: str = "Job has reached the specified backoff limit") -> Obj:
        return controllers.fail_job(self.store, namespace, name, reason, message)

    def make_pod_for_job(self, namespace: str, job_name: str, phase: str = "Running", log: Optional[str] = None) -> Obj:
        return controllers.make_pod_for_job(self.store, namespace, job_name, phase, log)

    def mark_rollout_ready(self, kind: str, namespace: str, name: str) -> Obj:
        return controllers.mark_rollout_ready(self.store, kind, namespace, name)


def _possible_users() -> List[str]:
    users = []
    try:
        users.append(os.getlogin())
    except OSError:
        pass
    if os.getuid():
        users.append(str(os.getuid()))
    if os.environ.get("USERNAME"):
        users.append(os.environ["USERNAME"])
    return users
