# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""k8s_job's client side without a server: a kubeconfig that names no cluster, API errors turned into
``K8sApiError``, watch streams parsed from (fake) urllib3 responses and closed from another thread, and the JobApi
calls' arguments (fake typed APIs). Everything that needs an API server (kubeconfig/env/host+token clients, the
calls' answers, watch expiry, the reaction to a Failed condition) runs on the real control plane in
tests/integration/test_k8s_job.py."""

from __future__ import annotations

import json
import threading
import time

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s import client as k8s_client
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import ClientError, JobApi, K8sApiError, WatchStream, api_client


@pytest.fixture(autouse=True)
def _no_ambient_auth(monkeypatch, tmp_path):
    for var in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_CONTEXT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # kubernetes.core's discovery cache


def test_bad_kubeconfig_is_a_client_error(tmp_path):
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    with pytest.raises(ClientError, match="^Could not create API client: "):
        api_client({"kubeconfig": str(bad)})


def test_api_exceptions_become_api_errors():
    exc = ApiException(status=404, reason="Not Found")
    exc.body = json.dumps({"kind": "Status", "reason": "NotFound", "message": 'jobs.batch "x" not found'}).encode()
    err = k8s_client._from_api_exception(exc)  # pylint: disable=protected-access
    assert (err.status, err.reason, err.message, str(err)) == (404, "NotFound", 'jobs.batch "x" not found',
                                                               '404 NotFound: jobs.batch "x" not found')
    raw = ApiException(status=502, reason="Bad Gateway")
    raw.body = b"<html>proxy error</html>"
    err = k8s_client._from_api_exception(raw)  # pylint: disable=protected-access
    assert (err.status, err.reason, err.message) == (502, "Bad Gateway", "<html>proxy error</html>")
    assert str(K8sApiError(0, "ConnectionError", "refused")) == "ConnectionError: refused"


class FakeResponse:
    """A urllib3 response streaming ``chunks``; ``block`` keeps it open until ``shutdown()``/``close()``."""

    def __init__(self, chunks, block=False, data=b""):
        self.chunks, self.block, self.data = chunks, block, data
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


class Recorded:
    """A typed-API stand-in that records each call's arguments and answers with ``answer``."""

    def __init__(self, answer=None, error=None):
        self.calls, self.answer, self.error = [], answer, error

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            if self.error is not None:
                raise self.error
            return FakeResponse([], data=json.dumps(self.answer or {}).encode())
        return call


def _api(batch=None, core=None):
    api = JobApi.__new__(JobApi)
    api.batch, api.core = batch or Recorded(), core or Recorded()
    return api


def test_job_api_call_arguments():
    core = Recorded({"items": [{"metadata": {"name": "e"}}], "metadata": {"resourceVersion": "42"}})
    api = _api(core=core)
    assert api.list_events("demo1", "involvedObject.uid=u1") == ([{"metadata": {"name": "e"}}], "42")
    api.watch_events("demo1", "involvedObject.uid=u1", "42", 50)
    api.merge_configmap_data("demo1", "records", {"job": None})
    (_name, args, kwargs), (wname, wargs, wkwargs), (pname, pargs, pkwargs) = core.calls
    assert args == ("demo1",) and kwargs["field_selector"] == "involvedObject.uid=u1" and kwargs["_preload_content"] is False
    assert (wname, wargs) == ("list_namespaced_event", ("demo1",))
    assert (wkwargs["watch"], wkwargs["resource_version"], wkwargs["timeout_seconds"], wkwargs["allow_watch_bookmarks"]) == (True, "42", 50, True)
    assert wkwargs["_request_timeout"] == (k8s_client.CONNECT_TIMEOUT, 50 + k8s_client.READ_SLACK)
    assert (pname, pargs) == ("patch_namespaced_config_map", ("records", "demo1", {"data": {"job": None}}))
    assert pkwargs["_content_type"] == "application/merge-patch+json"


def test_job_api_not_found_and_preconditions():
    missing = ApiException(status=404, reason="Not Found")
    assert _api(batch=Recorded(error=missing)).get_job("demo1", "x") is None
    assert _api(core=Recorded(error=missing)).get_pvc("demo1", "x") is None
    assert _api(core=Recorded(error=missing)).get_configmap("demo1", "x") is None
    assert _api(batch=Recorded(error=missing)).delete_job("demo1", "x", "u1") is False
    conflict = ApiException(status=409, reason="Conflict")
    assert _api(batch=Recorded(error=conflict)).delete_job("demo1", "x", "u1") is False  # another Job took the name
    with pytest.raises(K8sApiError) as err:
        _api(batch=Recorded(error=conflict)).delete_job("demo1", "x")
    assert err.value.status == 409
    batch = Recorded()
    assert _api(batch=batch).delete_job("demo1", "x", "u1", "Background") is True
    assert batch.calls[0][2]["body"] == {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background",
                                         "preconditions": {"uid": "u1"}}
    refused = _api(batch=Recorded(error=urllib3.exceptions.MaxRetryError(None, "/apis", "refused")))
    with pytest.raises(K8sApiError) as err:
        refused.get_job("demo1", "x")
    assert (err.value.status, err.value.reason) == (0, "ConnectionError")
