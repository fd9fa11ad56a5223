# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""k8s_job's client side without a server: how the auth options, K8S_AUTH_* variables, kubeconfigs (merged files,
contexts, tokens, certificate data) and a pod's service account resolve to connection settings, API errors turned
into ``K8sApiError``, watch streams parsed from (fake) urllib3 responses and closed from another thread, the JobApi
requests (a fake connection pool), and that the module imports no ``kubernetes`` package. Everything that needs an
API server (kubeconfig/env/host+token clients, the calls' answers, watch expiry, the reaction to a Failed condition)
runs on the real control plane in tests/integration/test_k8s_job.py."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3
import yaml

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s import client as k8s_client
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s import kubeconfig as k8s_config
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import (
    ApiClient, ClientError, JobApi, K8sApiError, WatchStream, api_client, api_error, resolve)


@pytest.fixture(autouse=True)
def _no_ambient_auth(monkeypatch, tmp_path):
    for var in [name for name in os.environ if name.startswith("K8S_AUTH_")] + ["KUBECONFIG", "KUBERNETES_SERVICE_HOST"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config


def test_bad_kubeconfig_is_a_client_error(tmp_path):
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    with pytest.raises(ClientError, match="^Could not create API client: "):
        api_client({"kubeconfig": str(bad)})


def test_error_statuses_become_api_errors():
    body = json.dumps({"kind": "Status", "reason": "NotFound", "message": 'jobs.batch "x" not found'}).encode()
    err = api_error(404, "Not Found", body)
    assert (err.status, err.reason, err.message, str(err)) == (404, "NotFound", 'jobs.batch "x" not found',
                                                               '404 NotFound: jobs.batch "x" not found')
    err = api_error(502, "Bad Gateway", b"<html>proxy error</html>")
    assert (err.status, err.reason, err.message) == (502, "Bad Gateway", "<html>proxy error</html>")
    assert str(K8sApiError(0, "ConnectionError", "refused")) == "ConnectionError: refused"


class FakeResponse:
    """A urllib3 response streaming ``chunks``; ``block`` keeps it open until ``shutdown()``/``close()``."""

    def __init__(self, chunks, block=False, data=b"", status=200, reason="OK"):
        self.chunks, self.block, self.data, self.status, self.reason = chunks, block, data, status, reason
        self.done = threading.Event()
        self.released = False

    def stream(self, amt=None, decode_content=False):
        yield from self.chunks
        if self.block:
            self.done.wait(10)
            raise urllib3.exceptions.ProtocolError("connection shut down")

    def shutdown(self):
        self.done.set()

    def close(self):
        self.done.set()

    def release_conn(self):
        self.released = True

    def read(self):
        return self.data


def test_watch_stream_parses_lines_split_across_chunks():
    events = [{"type": "ADDED", "object": {"metadata": {"name": "a"}}}, {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "7"}}}]
    text = "".join(json.dumps(e) + "\n" for e in events).encode()
    response = FakeResponse([text[:10], text[10:40], text[40:], b"\n"])
    assert list(WatchStream(response)) == events
    assert response.released


def test_closing_a_watch_stream_unblocks_its_reader_silently():
    stream = WatchStream(FakeResponse([b'{"type": "ADDED", "object": {}}\n'], block=True))
    seen, done = [], threading.Event()

    def read():
        seen.extend(stream)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.2)
    stream.close()
    assert done.wait(5) and seen == [{"type": "ADDED", "object": {}}]


class _Broken(FakeResponse):
    def __init__(self):
        super().__init__([])

    def stream(self, amt=None, decode_content=False):
        yield b'{"type": "ADD'
        raise urllib3.exceptions.ProtocolError("connection reset by peer")


def test_a_broken_watch_stream_is_an_api_error():
    with pytest.raises(K8sApiError) as err:
        list(WatchStream(_Broken()))
    assert err.value.reason == "WatchInterrupted"
    with pytest.raises(K8sApiError) as err:
        list(WatchStream(FakeResponse([b"not json\n"])))
    assert err.value.reason == "BadWatchEvent"


# ---- JobApi's requests, through a fake connection pool ------------------------------------------------------------


class Pool:
    """Records each request (method, path, query, body, headers, timeout) and answers ``answer`` or ``status``."""

    def __init__(self, answer=None, status=200, error=None):
        self.calls, self.answer, self.status, self.error = [], answer, status, error

    def request(self, method, url, body=None, headers=None, preload_content=True, timeout=None):
        parts = urlsplit(url)
        self.calls.append({"method": method, "host": f"{parts.scheme}://{parts.netloc}", "path": parts.path,
                           "query": dict(parse_qsl(parts.query)), "body": json.loads(body) if body else None,
                           "headers": headers, "timeout": (timeout.connect_timeout, timeout.read_timeout),
                           "preload": preload_content})
        if self.error is not None:
            raise self.error
        return FakeResponse([], data=json.dumps(self.answer or {}).encode(), status=self.status)


def _api(pool, **settings):
    client = ApiClient(k8s_config.Settings(host="https://api.example:6443", token="Bearer t0k", **settings))
    client.pool = pool
    return JobApi(client)


def test_job_api_requests():
    pool = Pool({"items": [{"metadata": {"name": "e"}}], "metadata": {"resourceVersion": "42"}})
    api = _api(pool, headers=[("Impersonate-User", "alice"), ("Impersonate-Group", "g1"), ("Impersonate-Group", "g 2")])
    assert api.list_events("demo1", "involvedObject.uid=u1") == ([{"metadata": {"name": "e"}}], "42")
    api.watch_events("demo1", "involvedObject.uid=u1", "42", 50)
    api.merge_configmap_data("demo1", "records", {"job": None})
    api.list_jobs("demo1", "ring1-init")
    api.list_pods("demo1", "batch.kubernetes.io/controller-uid=u1")
    api.pod_log("demo1", "p-1", "main", 20)
    api.get_pvc("demo1", "data")
    listed, watched, patched, jobs, pods, log = pool.calls[:6]
    assert (listed["method"], listed["host"], listed["path"], listed["query"]) == (
        "GET", "https://api.example:6443", "/api/v1/namespaces/demo1/events", {"fieldSelector": "involvedObject.uid=u1"})
    assert listed["preload"] is False and listed["body"] is None and "Content-Type" not in listed["headers"]
    headers = listed["headers"]
    assert (headers["Authorization"], headers["Accept"], headers.getlist("Impersonate-User"),
            headers.getlist("Impersonate-Group")) == ("Bearer t0k", "application/json", ["alice"], ["g1", "g 2"])
    assert watched["query"] == {"fieldSelector": "involvedObject.uid=u1", "watch": "true", "resourceVersion": "42",
                                "allowWatchBookmarks": "true", "timeoutSeconds": "50"}
    assert watched["timeout"] == (k8s_client.CONNECT_TIMEOUT, 50 + k8s_client.READ_SLACK)
    assert listed["timeout"] == (k8s_client.CONNECT_TIMEOUT, 60)
    assert (patched["method"], patched["path"], patched["body"]) == ("PATCH", "/api/v1/namespaces/demo1/configmaps/records",
                                                                     {"data": {"job": None}})
    assert patched["headers"]["Content-Type"] == "application/merge-patch+json"
    assert (jobs["path"], jobs["query"]) == ("/apis/batch/v1/namespaces/demo1/jobs", {"fieldSelector": "metadata.name=ring1-init"})
    assert pods["query"] == {"labelSelector": "batch.kubernetes.io/controller-uid=u1"}
    assert (log["path"], log["query"]) == ("/api/v1/namespaces/demo1/pods/p-1/log", {"container": "main", "tailLines": "20"})
    assert pool.calls[6]["path"] == "/api/v1/namespaces/demo1/persistentvolumeclaims/data"
    created = Pool({"metadata": {"uid": "u2"}})
    assert _api(created).create_job("demo1", {"kind": "Job"}) == {"metadata": {"uid": "u2"}}
    assert (created.calls[0]["method"], created.calls[0]["path"], created.calls[0]["body"]) == (
        "POST", "/apis/batch/v1/namespaces/demo1/jobs", {"kind": "Job"})
    assert created.calls[0]["headers"]["Content-Type"] == "application/json"


def test_job_api_not_found_and_preconditions():
    missing = {"kind": "Status", "reason": "NotFound", "message": "not found"}
    assert _api(Pool(missing, status=404)).get_job("demo1", "x") is None
    assert _api(Pool(missing, status=404)).get_pvc("demo1", "x") is None
    assert _api(Pool(missing, status=404)).get_configmap("demo1", "x") is None
    assert _api(Pool(missing, status=404)).delete_job("demo1", "x", "u1") is False
    assert _api(Pool({}, status=409)).delete_job("demo1", "x", "u1") is False  # another Job took the name
    with pytest.raises(K8sApiError) as err:
        _api(Pool({}, status=409)).delete_job("demo1", "x")
    assert err.value.status == 409
    pool = Pool()
    assert _api(pool).delete_job("demo1", "x", "u1", "Background") is True
    assert (pool.calls[0]["method"], pool.calls[0]["path"]) == ("DELETE", "/apis/batch/v1/namespaces/demo1/jobs/x")
    assert pool.calls[0]["body"] == {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background",
                                     "preconditions": {"uid": "u1"}}
    refused = _api(Pool(error=urllib3.exceptions.MaxRetryError(None, "/apis", "refused")))
    with pytest.raises(K8sApiError) as err:
        refused.get_job("demo1", "x")
    assert (err.value.status, err.value.reason) == (0, "ConnectionError")
    with pytest.raises(K8sApiError) as err:
        _api(Pool({"reason": "Forbidden", "message": "no"}, status=403)).list_jobs("demo1", "x")
    assert (err.value.status, err.value.reason, err.value.message) == (403, "Forbidden", "no")


def test_names_are_path_escaped():
    pool = Pool()
    _api(pool).get_configmap("demo1", "a/b?c")
    assert pool.calls[0]["path"] == "/api/v1/namespaces/demo1/configmaps/a%2Fb%3Fc"


# ---- the settings kubernetes.core would build --------------------------------------------------------------------

CA, CERT, KEY = b"-----BEGIN CERTIFICATE-----\nca\n", b"-----BEGIN CERTIFICATE-----\ncert\n", b"-----BEGIN KEY-----\nkey\n"


def _b64(data):
    return base64.standard_b64encode(data).decode()


def _kubeconfig(path, clusters=(), users=(), contexts=(), current=None):
    doc = {"apiVersion": "v1", "kind": "Config", "clusters": list(clusters), "users": list(users), "contexts": list(contexts)}
    if current is not None:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _cluster(name, server, **extra):
    return {"name": name, "cluster": dict({"server": server}, **extra)}


def _context(name, cluster, user=None):
    return {"name": name, "context": dict({"cluster": cluster}, **({"user": user} if user else {}))}


def test_a_kubeconfig_with_a_token_file_and_certificate_data(tmp_path):
    (tmp_path / "tok").write_text("s3cret\n")
    path = _kubeconfig(tmp_path / "config", [_cluster("c", "https://10.0.0.1:6443/", **{"certificate-authority-data": _b64(CA)})],
                       [{"name": "u", "user": {"tokenFile": "tok", "client-certificate-data": _b64(CERT),
                                               "client-key-data": _b64(KEY)}}],
                       [_context("ctx", "c", "u")], current="ctx")
    settings = resolve({"kubeconfig": path})
    assert (settings.host, settings.token, settings.verify_ssl) == ("https://10.0.0.1:6443", "Bearer s3cret", True)
    for name, content in ((settings.ssl_ca_cert, CA), (settings.cert_file, CERT), (settings.key_file, KEY)):
        with open(name, "rb") as handle:
            assert handle.read() == content
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(name)).st_mode) == 0o700


def test_kubeconfig_files_merge_as_the_kubernetes_client_merges_them(tmp_path, monkeypatch):
    (tmp_path / "ca.crt").write_bytes(CA)
    first = _kubeconfig(tmp_path / "one", [_cluster("c", "https://one:6443", **{"certificate-authority": "ca.crt"})],
                        [{"name": "u", "user": {"token": "first"}}], [_context("a", "c", "u")], current="a")
    second = _kubeconfig(tmp_path / "two", [_cluster("c", "https://two:6443"), _cluster("d", "http://plain:8080")],
                         [{"name": "u", "user": {"token": "second"}}, {"name": "v", "user": {"username": "bob", "password": "pw"}}],
                         [_context("a", "d"), _context("b", "d", "v")], current="b")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([first, str(tmp_path / "missing"), second]))
    settings = resolve({})  # the last current-context wins; the first definition of each name wins
    assert (settings.host, settings.token, settings.username, settings.password) == ("http://plain:8080", None, "bob", "pw")
    settings = resolve({"context": "a"})
    assert (settings.host, settings.token, settings.ssl_ca_cert) == ("https://one:6443", "Bearer first", str(tmp_path / "ca.crt"))
    assert ApiClient(settings)._headers(None)["Authorization"] == "Bearer first"  # pylint: disable=protected-access
    assert ApiClient(resolve({}))._headers(None)["Authorization"] == "Basic " + _b64(b"bob:pw")  # pylint: disable=protected-access


def test_options_override_the_kubeconfig_and_environment_variables_count_as_options(tmp_path, monkeypatch):
    path = _kubeconfig(tmp_path / "config", [_cluster("c", "https://k:6443", **{"insecure-skip-tls-verify": True,
                                                                                "tls-server-name": "kubernetes",
                                                                                "proxy-url": "http://proxy:3128"})],
                       [{"name": "u", "user": {"token": "kc"}}], [_context("x", "c", "u")], current="x")
    settings = resolve({"kubeconfig": path})
    assert (settings.verify_ssl, settings.tls_server_name, settings.proxy) == (False, "kubernetes", "http://proxy:3128")
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", path)
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "yes")
    monkeypatch.setenv("K8S_AUTH_IMPERSONATE_GROUPS", "g1,,g2")
    settings = resolve({"host": "https://other:6443/", "no_proxy": "other"})
    assert (settings.host, settings.verify_ssl, settings.token, settings.proxy) == ("https://other:6443", True, "Bearer kc",
                                                                                    "http://proxy:3128")
    assert settings.headers == [("Impersonate-Group", "g1"), ("Impersonate-Group", "g2")]
    assert not isinstance(ApiClient(settings).pool, urllib3.ProxyManager)  # no_proxy names the host
    assert isinstance(ApiClient(resolve({"host": "https://third:6443"})).pool, urllib3.ProxyManager)
    monkeypatch.setenv("K8S_AUTH_API_KEY", "env-token")
    monkeypatch.setenv("K8S_AUTH_HOST", "https://fourth:6443")
    settings = resolve({})  # host and a token: the kubeconfig is not read
    assert (settings.host, settings.token, settings.proxy, settings.verify_ssl) == ("https://fourth:6443", "Bearer env-token", None, True)
    assert resolve({"validate_certs": False}).verify_ssl is False


def test_host_with_credentials_needs_no_kubeconfig(tmp_path):
    settings = resolve({"host": "https://k:6443", "api_key": "abc", "kubeconfig": str(tmp_path / "not-read")})
    assert (settings.host, settings.token, settings.verify_ssl, settings.ssl_ca_cert) == ("https://k:6443", "Bearer abc", True, None)
    assert api_client({"host": "https://k:6443", "api_key": "abc"}).configuration.api_key == {"authorization": "Bearer abc"}


def test_in_a_pod_the_service_account_is_used(tmp_path, monkeypatch):
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("sa-token")
    ca.write_bytes(CA)
    monkeypatch.setattr(k8s_config, "SERVICE_TOKEN", str(token))
    monkeypatch.setattr(k8s_config, "SERVICE_CA", str(ca))
    monkeypatch.setattr(k8s_config.in_cluster, "__defaults__", (str(token), str(ca)))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    settings = resolve({})
    assert (settings.host, settings.ssl_ca_cert, settings.token_source()) == ("https://[fd00::1]:443", str(ca), "Bearer sa-token")
    token.write_text("rotated")
    monkeypatch.setattr(k8s_config, "TOKEN_REREAD", 0.0)
    assert ApiClient(settings)._headers(None)["Authorization"] == "Bearer rotated"  # pylint: disable=protected-access


@pytest.mark.parametrize("config, message", [
    (None, "Could not create API client: Invalid kube-config file. No configuration found."),
    ({"current-context": "x", "contexts": [], "clusters": [], "users": []},
     "Could not create API client: Invalid kube-config file. Expected object with name x in kube-config/contexts list"),
    ({"contexts": [], "clusters": []}, "Could not create API client: Invalid kube-config file. Expected key current-context in kube-config"),
    ({"current-context": "x", "contexts": [{"name": "x", "context": {"cluster": "c"}}], "clusters": [],
      "users": []}, "Could not create API client: Invalid kube-config file. Expected object with name c in kube-config/clusters list"),
    ({"current-context": "x", "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
      "clusters": [_cluster("c", "https://k")], "users": [{"name": "u", "user": {"client-certificate": "nope.crt"}}]},
     "Could not create API client: File does not exist: {dir}/nope.crt"),
])
def test_unusable_configurations_are_client_errors(tmp_path, config, message):
    path = tmp_path / "config"
    if config is not None:
        path.write_text(yaml.safe_dump(config))
    with pytest.raises(ClientError) as err:
        api_client({"kubeconfig": str(path)})
    assert str(err.value) == message.format(dir=tmp_path)


def test_exec_plugins_and_auth_providers_go_to_kubernetes_core(tmp_path, monkeypatch):
    handed = []

    def from_core(auth):
        handed.append(auth)
        return k8s_config.Settings(host="https://eks:443", token_source=lambda: "Bearer from-plugin")

    monkeypatch.setattr(k8s_client, "_from_kubernetes_core", from_core)
    plugin = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws", "args": ["eks", "get-token"]}}
    for user, core in ((plugin, True), (dict(plugin, token="static"), False), ({"auth-provider": {"name": "oidc"}}, True)):
        path = _kubeconfig(tmp_path / "config", [_cluster("c", "https://eks:443")], [{"name": "u", "user": user}],
                           [_context("x", "c", "u")], current="x")
        settings = resolve({"kubeconfig": path, "context": "x"})
        assert bool(handed) is core, user
        assert (settings.token_source or (lambda: settings.token))() == ("Bearer from-plugin" if core else "Bearer static")
        if handed:
            assert (handed[0]["kubeconfig"], handed[0]["context"]) == (path, "x")
        handed.clear()


def test_the_module_imports_no_kubernetes_package():
    code = ("import sys; import ansible_collections.datasurface.yellow.plugins.modules.k8s_job; "
            "print(sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith('kubernetes.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.strip() == "[]"
