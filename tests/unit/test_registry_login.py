# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""registry_login: credentials checked over real HTTP against a fake registry on 127.0.0.1.

The fake registry speaks Basic (htpasswd-style, like distribution's) or the Bearer challenge with
its own token service; the module itself runs as Ansible runs it (a subprocess reading its
arguments), so no_log and the failure messages are those a play shows.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.registry_client import (
    DOCKER_HUB_API, RegistryError, check_credentials, registry_api_url)

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "plugins" / "modules" / "registry_login.py"
DIGEST = "sha256:" + "d" * 64
USER, PASSWORD = "yellow-puller", "p@ss 'word'; $(id) \\x 9c1e"
WRONG = "wrong-" + PASSWORD
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SECRET_FORMS = [PASSWORD, WRONG, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
                base64.b64encode(f"{USER}:{WRONG}".encode()).decode()]


class Registry(BaseHTTPRequestHandler):
    """/v2/ and /v2/<repo>/manifests/<ref> behind Basic or Bearer; /token is the token service."""

    mode = "basic"
    seen: list[tuple[str, str, str | None]] = []

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

    def _challenge(self):
        if Registry.mode == "bearer":
            realm = f"http://127.0.0.1:{self.server.server_port}/token"
            return {"WWW-Authenticate": f'Bearer realm="{realm}",service="fake-registry"'}
        return {"WWW-Authenticate": 'Basic realm="fake-registry"'}

    def _handle(self):
        auth = self.headers.get("Authorization")
        Registry.seen.append((self.command, self.path, auth))
        if self.path.startswith("/token"):
            if auth is None:  # anonymous token: may see /v2/, may pull nothing
                return self._reply(200, {"Content-Type": "application/json"}, json.dumps({"token": "anon"}).encode())
            if auth != BASIC:
                return self._reply(401, {"Content-Type": "application/json"}, b'{"details":"incorrect username or password"}')
            return self._reply(200, {"Content-Type": "application/json"}, json.dumps({"access_token": "t0k"}).encode())
        if Registry.mode == "not-a-registry":
            return self._reply(404)
        if Registry.mode == "down":
            return self._reply(503)
        if Registry.mode in ("open", "open-checks-basic"):
            if Registry.mode == "open-checks-basic" and auth is not None and auth != BASIC:
                return self._reply(401, self._challenge())
            allowed = True
        elif Registry.mode == "bearer":
            allowed = auth == "Bearer t0k" or (auth == "Bearer anon" and self.path == "/v2/")
        else:
            allowed = auth == BASIC
        if not allowed:
            if self.path != "/v2/" and auth == "Bearer anon":
                return self._reply(401, {"WWW-Authenticate": self._challenge()["WWW-Authenticate"] + ',error="insufficient_scope"'})
            return self._reply(401, self._challenge())
        if self.path == "/v2/":
            return self._reply(200, {"Content-Type": "application/json"}, b"{}")
        if "/manifests/missing" in self.path:
            return self._reply(404)
        return self._reply(200, {"Docker-Content-Digest": DIGEST})

    do_GET = _handle
    do_HEAD = _handle


@pytest.fixture
def registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Registry.seen = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def run_module(args):
    """Run the module as Ansible does (arguments on stdin); returns (rc, result)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / ".collections"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(MODULE)], input=json.dumps({"ANSIBLE_MODULE_ARGS": args}),
                          capture_output=True, text=True, env=env, check=False, timeout=120)
    for secret in SECRET_FORMS:
        assert secret not in proc.stdout + proc.stderr, "a secret reached the module's output"
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize(
    "server, expected",
    [
        ("http://10.89.40.5:5000", "http://10.89.40.5:5000"),
        ("https://registry.example.com:5000/some/path/", "https://registry.example.com:5000"),
        ("ghcr.io", "https://ghcr.io"),
        ("registry.example.com:5000", "https://registry.example.com:5000"),
        ("https://index.docker.io/v1/", DOCKER_HUB_API),
        ("docker.io", DOCKER_HUB_API),
    ],
)
def test_registry_api_url(server, expected):
    assert registry_api_url(server) == expected


@pytest.mark.parametrize("server", ["", "ftp://host", "https://user:tok@host", "https://"])
def test_registry_api_url_refuses_without_echoing(server):
    with pytest.raises(ValueError) as caught:
        registry_api_url(server)
    assert "tok" not in str(caught.value)


@pytest.mark.parametrize("mode", ["basic", "bearer"])
def test_right_password_is_accepted(registry, mode):
    Registry.mode = mode
    result = check_credentials(registry, USER, PASSWORD)
    assert result == {"registry": registry, "auth_scheme": mode, "authenticated": True, "digest": None}


@pytest.mark.parametrize("mode", ["basic", "bearer"])
def test_wrong_password_is_auth(registry, mode):
    Registry.mode = mode
    with pytest.raises(RegistryError) as caught:
        check_credentials(registry, USER, WRONG)
    assert caught.value.kind == "auth"
    assert "refused the credentials (HTTP 401)" in str(caught.value)
    assert WRONG not in str(caught.value) and PASSWORD not in str(caught.value)


def test_bearer_token_request_carries_the_credentials_and_service_but_no_scope(registry):
    Registry.mode = "bearer"
    check_credentials(registry, USER, PASSWORD)
    tokens = [(path, auth) for _cmd, path, auth in Registry.seen if path.startswith("/token")]
    assert tokens == [("/token?service=fake-registry", BASIC)]
    assert ("GET", "/v2/", "Bearer t0k") in Registry.seen


@pytest.mark.parametrize("mode", ["basic", "bearer"])
def test_image_pull_access_is_proven_with_a_manifest_head(registry, mode):
    Registry.mode = mode
    result = check_credentials(registry, USER, PASSWORD, image="10.89.40.5:5000/datasurface/datasurface:lab-1")
    assert result["digest"] == DIGEST and result["authenticated"]
    heads = [path for cmd, path, _auth in Registry.seen if cmd == "HEAD"]
    assert heads[-1] == "/v2/datasurface/datasurface/manifests/lab-1"


def test_missing_image_is_not_found(registry):
    Registry.mode = "basic"
    with pytest.raises(RegistryError) as caught:
        check_credentials(registry, USER, PASSWORD, image="datasurface/datasurface:missing")
    assert caught.value.kind == "not_found"


def test_anonymous_bearer_token_cannot_pull_a_private_image(registry):
    Registry.mode = "bearer"
    assert check_credentials(registry)["auth_scheme"] == "bearer"
    with pytest.raises(RegistryError) as caught:
        check_credentials(registry, image="datasurface/datasurface:lab-1")
    assert caught.value.kind == "auth"


def test_no_credentials_for_a_basic_registry_is_auth(registry):
    Registry.mode = "basic"
    with pytest.raises(RegistryError) as caught:
        check_credentials(registry)
    assert caught.value.kind == "auth" and "none were given" in str(caught.value)


def test_an_open_registry_cannot_prove_credentials(registry):
    Registry.mode = "open"
    assert check_credentials(registry, USER, WRONG) == {
        "registry": registry, "auth_scheme": "none", "authenticated": False, "digest": None}


def test_an_open_registry_that_checks_basic_refuses_a_wrong_password(registry):
    Registry.mode = "open-checks-basic"
    with pytest.raises(RegistryError) as caught:
        check_credentials(registry, USER, WRONG)
    assert caught.value.kind == "auth"


def test_something_that_is_not_a_registry(registry):
    Registry.mode = "not-a-registry"
    with pytest.raises(RegistryError) as caught:
        check_credentials(registry, USER, PASSWORD)
    assert caught.value.kind == "protocol" and "no registry API" in str(caught.value)


def test_https_to_a_plain_http_registry_is_tls(registry):
    Registry.mode = "basic"
    with pytest.raises(RegistryError) as caught:
        check_credentials(registry.replace("http://", "https://"), USER, PASSWORD, timeout=5)
    assert caught.value.kind == "tls"


def test_unreachable_registry():
    with pytest.raises(RegistryError) as caught:
        check_credentials("http://127.0.0.1:9", USER, PASSWORD, timeout=2)
    assert caught.value.kind == "unreachable"


def test_module_accepts_the_right_password_and_changes_nothing(registry):
    Registry.mode = "bearer"
    rc, result = run_module({"registry": registry, "username": USER, "password": PASSWORD,
                             "image": "datasurface/datasurface:lab-1", "_ansible_check_mode": True})
    assert rc == 0, result
    assert result["changed"] is False and result["authenticated"] is True
    assert result["auth_scheme"] == "bearer" and result["digest"] == DIGEST and result["registry"] == registry
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.mark.parametrize("mode", ["basic", "bearer"])
def test_module_fails_on_a_wrong_password_naming_the_variable(registry, mode):
    Registry.mode = mode
    rc, result = run_module({"registry": registry, "username": USER, "password": WRONG,
                             "variable": "yellow_node_registries[0].password"})
    assert rc == 1 and result["failed"] is True
    assert result["failure_kind"] == "auth"
    assert result["changed"] is False and result["authenticated"] is False
    assert result["msg"].startswith(f"yellow_node_registries[0].password: user '{USER}' at {registry}: ")
    assert "refused the credentials (HTTP 401)" in result["msg"]


@pytest.mark.parametrize(
    "args, kind, fragment",
    [
        ({"registry": "http://127.0.0.1:9", "timeout": 2}, "unreachable", "cannot reach http://127.0.0.1:9"),
        ({"image": "datasurface/datasurface:missing"}, "not_found", "datasurface/datasurface:missing not found"),
        ({"registry": "https://bot:" + PASSWORD + "@registry.example.com"}, "error", "must not carry credentials"),
        ({"image": "Not A Reference"}, "error", "image:"),
    ],
    ids=["unreachable", "not-found", "credentials-in-url", "bad-image"],
)
def test_module_failure_kinds(registry, args, kind, fragment):
    Registry.mode = "basic"
    rc, result = run_module({"registry": registry, "username": USER, "password": PASSWORD,
                             "variable": "yellow_k8s_registry_password", **args})
    assert rc == 1 and result["failure_kind"] == kind, result
    assert result["msg"].startswith("yellow_k8s_registry_password: ") and fragment in result["msg"], result["msg"]


def test_module_warns_when_the_registry_cannot_prove_credentials(registry):
    Registry.mode = "open"
    rc, result = run_module({"registry": registry, "username": USER, "password": PASSWORD, "variable": "v"})
    assert rc == 0 and result["authenticated"] is False
    assert [w["event"]["msg"] for w in result["warnings"]] == [
        f"v: {registry} answers without credentials, so they cannot be checked there"]


def test_module_wants_username_and_password_together(registry):
    rc, result = run_module({"registry": registry, "username": USER})
    assert rc == 1 and "parameters are required together: username, password" in result["msg"]
