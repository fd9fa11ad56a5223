# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Integration fixtures: the real control plane (tests/cluster: ``cluster``, ``k8s_namespace``, ``k8s_env``,
``k8s_admin_env``) and ``k8s_recorder``, a recording pass-through to it.

``k8s_recorder`` is a plain-HTTP reverse proxy on loopback that forwards every request to the real API server
with the OPERATOR's client certificate (so RBAC applies as usual) and records its method and path: a test
points a playbook at ``recorder.kubeconfig`` to prove that no request (or no write) reached the cluster.
"""

from __future__ import annotations

import http.client
import http.server
import ssl
import threading
from pathlib import Path
from typing import Iterator, List, NamedTuple
from urllib.parse import urlsplit

import pytest
import yaml

from tests.cluster.fixtures import *  # noqa: F401,F403  pylint: disable=wildcard-import,unused-wildcard-import
from tests.cluster.cluster import Cluster

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Request(NamedTuple):
    method: str
    path: str
    status: int


class Recorder:
    """A recording proxy to the real API server; ``requests`` in arrival order."""

    def __init__(self, cluster: Cluster, directory: Path) -> None:
        self.requests: List[Request] = []
        self._lock = threading.Lock()
        target = urlsplit(cluster.server)
        user = yaml.safe_load(cluster.operator_kubeconfig.read_text())["users"][0]["user"]
        context = ssl.create_default_context(cafile=str(cluster.pki.path("ca.crt")))
        context.load_cert_chain(user["client-certificate"], user["client-key"])
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:  # quiet
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "content-length", "authorization")}
                conn = http.client.HTTPSConnection(target.hostname, target.port, context=context, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                with recorder._lock:  # pylint: disable=protected-access
                    recorder.requests.append(Request(self.command, self.path, response.status))
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.kubeconfig = directory / "recorder.kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "recorder",
            "clusters": [{"name": "recorder", "cluster": {"server": self.url}}],
            "users": [{"name": "recorder", "user": {}}],
            "contexts": [{"name": "recorder", "context": {"cluster": "recorder", "user": "recorder"}}]}))
        self.kubeconfig.chmod(0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def writes(self) -> List[Request]:
        return [r for r in self.requests if r.method in WRITES]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def k8s_recorder(cluster: Cluster, tmp_path: Path) -> Iterator[Recorder]:
    recorder = Recorder(cluster, tmp_path)
    try:
        yield recorder
    finally:
        recorder.close()
