# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Registry digest lookups over real HTTP: anonymous, Basic, Bearer token flow, failures."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.registry_client import RegistryClient, RegistryError

DIGEST = "sha256:" + "c" * 64
USER, PASSWORD = "puller", "p@ss 'word'; $(id)"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


class Registry(BaseHTTPRequestHandler):
    mode = "basic"
    seen: list[tuple[str, str | None]] = []

    def log_message(self, *args):  # keep pytest output quiet
        pass

    def _reply(self, status, headers=None, body=b""):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):  # the token service
        Registry.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != BASIC:
            return self._reply(401)
        return self._reply(200, {"Content-Type": "application/json"}, json.dumps({"token": "t0k"}).encode())

    def do_HEAD(self):
        Registry.seen.append((self.path, self.headers.get("Authorization")))
        auth = self.headers.get("Authorization")
        if "/manifests/missing" in self.path and auth:
            return self._reply(404)
        if Registry.mode == "anonymous":
            return self._reply(200, {"Docker-Content-Digest": DIGEST})
        if Registry.mode == "basic":
            if auth == BASIC:
                return self._reply(200, {"Docker-Content-Digest": DIGEST})
            return self._reply(401, {"WWW-Authenticate": 'Basic realm="lab"'})
        if auth == "Bearer t0k":
            return self._reply(200, {"Docker-Content-Digest": DIGEST})
        realm = f"http://127.0.0.1:{self.server.server_port}/token"
        return self._reply(401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="lab",scope="repository:a/b:pull"'})


@pytest.fixture
def registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Registry.seen = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("mode", ["anonymous", "basic", "bearer"])
def test_digest_lookup(registry, mode):
    Registry.mode = mode
    client = RegistryClient(registry, username=USER, password=PASSWORD)
    assert client.manifest_digest("a/b", "latest") == DIGEST


def test_bearer_token_request_carries_scope_and_service(registry):
    Registry.mode = "bearer"
    RegistryClient(registry, username=USER, password=PASSWORD).manifest_digest("a/b", "latest")
    token_path = [path for path, _auth in Registry.seen if path.startswith("/token")][0]
    assert "service=lab" in token_path and "scope=repository%3Aa%2Fb%3Apull" in token_path


def test_wrong_password_is_auth_and_not_echoed(registry):
    Registry.mode = "basic"
    with pytest.raises(RegistryError) as caught:
        RegistryClient(registry, username=USER, password="wrong-" + PASSWORD).manifest_digest("a/b", "latest")
    assert caught.value.kind == "auth" and PASSWORD not in str(caught.value)


def test_no_credentials_for_a_private_registry(registry):
    Registry.mode = "basic"
    with pytest.raises(RegistryError) as caught:
        RegistryClient(registry).manifest_digest("a/b", "latest")
    assert caught.value.kind == "auth"


def test_missing_tag_is_not_found(registry):
    Registry.mode = "basic"
    with pytest.raises(RegistryError) as caught:
        RegistryClient(registry, username=USER, password=PASSWORD).manifest_digest("a/b", "missing")
    assert caught.value.kind == "not_found"


def test_unreachable_registry():
    with pytest.raises(RegistryError) as caught:
        RegistryClient("http://127.0.0.1:9", timeout=2).manifest_digest("a/b", "latest")
    assert caught.value.kind == "unreachable"
