# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Kubernetes API access: a client built exactly as kubernetes.core builds it, and ``JobApi``.

``api_client(params)`` hands the module's kubernetes.core auth options (``AUTH_ARG_SPEC``: kubeconfig, context,
host, api_key, validate_certs, ca_cert, client_cert, client_key, proxy, impersonation...) to kubernetes.core's
``get_api_client``, so they and the ``K8S_AUTH_*`` environment variables behave as in ``kubernetes.core.k8s``,
and returns the raw ``kubernetes.client.ApiClient`` inside it.

``JobApi`` makes the few calls the Job module needs (Jobs, their pods and events, PVCs, pod logs, the success-record
ConfigMap) through the typed ``BatchV1Api``/``CoreV1Api`` with
``_preload_content=False``: objects stay plain dicts (the JSON the server sent), errors become ``K8sApiError``
(``status`` 0 for transport errors), and watches are ``WatchStream`` objects another thread can close.
"""

from __future__ import annotations

import json
import traceback
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
# kubernetes.core's client module guards its own kubernetes imports; get_api_client needs them at call time.
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

try:
    import urllib3
    from kubernetes.client import BatchV1Api, CoreV1Api
    from kubernetes.client.exceptions import ApiException
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None

Obj = Dict[str, Any]
CONNECT_TIMEOUT = 10
# A watch that stays silent for longer than its server-side timeoutSeconds plus this is considered dead.
READ_SLACK = 30


class K8sApiError(Exception):
    """A failed API call: HTTP ``status`` (0 when the server was not reached), ``reason`` and ``message``."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class ClientError(Exception):
    """The API client could not be built (bad kubeconfig, unreachable server during discovery...)."""


def _from_api_exception(exc: Any) -> K8sApiError:
    status = int(getattr(exc, "status", 0) or 0)
    reason = str(getattr(exc, "reason", "") or "")
    message = ""
    body = getattr(exc, "body", None)
    if body:
        try:
            data = json.loads(body)
            message = str(data.get("message") or "")
            reason = str(data.get("reason") or reason)
        except (ValueError, TypeError, AttributeError):
            message = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return K8sApiError(status, reason or "Error", message or reason or "request failed")


def _transport_errors() -> Tuple[type, ...]:
    return (urllib3.exceptions.HTTPError, OSError) if HAS_KUBERNETES else (OSError,)


def api_client(params: Dict[str, Any]) -> Any:
    """The ``kubernetes.client.ApiClient`` kubernetes.core builds from these module parameters (and K8S_AUTH_*)."""
    auth = {key: params.get(key) for key in AUTH_ARG_SPEC}
    try:
        k8s_client = get_api_client(**auth)
    except Exception as exc:  # pylint: disable=broad-except
        # config, discovery and transport errors alike
        text = str(exc)
        raise ClientError(text if text.startswith("Could not create API client") else f"Could not create API client: {text}") from exc
    # get_api_client returns kubernetes.core's K8SClient; .client is its DynamicClient, whose .client is the ApiClient.
    return k8s_client.client.client


class WatchStream:
    """The events of one watch request, as dicts; ``close()`` may be called from another thread to end it."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._closed = False

    def __iter__(self) -> Iterator[Obj]:
        buffer = b""
        try:
            for chunk in self._response.stream(amt=None, decode_content=False):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line.decode("utf-8"))
            if buffer.strip():
                yield json.loads(buffer.decode("utf-8"))
        except _transport_errors() as exc:
            if not self._closed:
                raise K8sApiError(0, "WatchInterrupted", str(exc)) from exc
        except ValueError as exc:
            if not self._closed:
                raise K8sApiError(0, "BadWatchEvent", str(exc)) from exc
        finally:
            self._release()

    def _release(self) -> None:
        try:
            self._response.close()
            self._response.release_conn()
        except Exception:  # pylint: disable=broad-except
            pass

    def close(self) -> None:
        """Unblock a reader waiting for the next event (urllib3 2.3+ ``shutdown``) and drop the connection."""
        self._closed = True
        shutdown = getattr(self._response, "shutdown", None)
        try:
            if shutdown is not None:
                shutdown()
            else:
                self._response.close()
        except Exception:  # pylint: disable=broad-except
            pass


class JobApi:
    """The Job module's calls: Jobs, their pods, events, PVCs and pod logs, the record ConfigMap, as plain dicts."""

    def __init__(self, client: Any) -> None:
        self.batch = BatchV1Api(client)
        self.core = CoreV1Api(client)

    @staticmethod
    def _call(func: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["_preload_content"] = False
        kwargs.setdefault("_request_timeout", (CONNECT_TIMEOUT, 60))
        try:
            return func(*args, **kwargs)
        except ApiException as exc:
            raise _from_api_exception(exc) from exc
        except _transport_errors() as exc:
            raise K8sApiError(0, "ConnectionError", str(exc)) from exc

    def _json(self, func: Any, *args: Any, **kwargs: Any) -> Obj:
        response = self._call(func, *args, **kwargs)
        try:
            return json.loads(response.data.decode("utf-8"))
        except ValueError as exc:
            raise K8sApiError(0, "BadResponse", f"the server did not answer with JSON: {exc}") from exc

    # ---- Jobs -------------------------------------------------------------------------------------

    def get_job(self, namespace: str, name: str) -> Optional[Obj]:
        try:
            return self._json(self.batch.read_namespaced_job, name, namespace)
        except K8sApiError as exc:
            if exc.status == 404:
                return None
            raise

    def create_job(self, namespace: str, body: Obj) -> Obj:
        return self._json(self.batch.create_namespaced_job, namespace, body)

    def delete_job(self, namespace: str, name: str, uid: Optional[str] = None, propagation: str = "Foreground") -> bool:
        """Delete (``uid`` as precondition); False when it was already gone."""
        body: Obj = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            self._call(self.batch.delete_namespaced_job, name, namespace, body=body)
        except K8sApiError as exc:
            if exc.status == 404:
                return False
            if exc.status == 409 and uid:
                return False  # the uid precondition failed: that Job is gone, another one took its name
            raise
        return True

    def list_jobs(self, namespace: str, name: str) -> Tuple[List[Obj], str]:
        data = self._json(self.batch.list_namespaced_job, namespace, field_selector=f"metadata.name={name}")
        return data.get("items") or [], str((data.get("metadata") or {}).get("resourceVersion") or "")

    def watch_jobs(self, namespace: str, name: str, resource_version: str, timeout_seconds: int) -> WatchStream:
        return WatchStream(self._call(
            self.batch.list_namespaced_job, namespace, field_selector=f"metadata.name={name}", watch=True,
            resource_version=resource_version, allow_watch_bookmarks=True, timeout_seconds=timeout_seconds,
            _request_timeout=(CONNECT_TIMEOUT, timeout_seconds + READ_SLACK)))

    # ---- pods, events, logs -----------------------------------------------------------------------

    def list_pods(self, namespace: str, label_selector: str) -> Tuple[List[Obj], str]:
        data = self._json(self.core.list_namespaced_pod, namespace, label_selector=label_selector)
        return data.get("items") or [], str((data.get("metadata") or {}).get("resourceVersion") or "")

    def watch_pods(self, namespace: str, label_selector: str, resource_version: str, timeout_seconds: int) -> WatchStream:
        return WatchStream(self._call(
            self.core.list_namespaced_pod, namespace, label_selector=label_selector, watch=True,
            resource_version=resource_version, allow_watch_bookmarks=True, timeout_seconds=timeout_seconds,
            _request_timeout=(CONNECT_TIMEOUT, timeout_seconds + READ_SLACK)))

    def list_events(self, namespace: str, field_selector: str) -> Tuple[List[Obj], str]:
        data = self._json(self.core.list_namespaced_event, namespace, field_selector=field_selector)
        return data.get("items") or [], str((data.get("metadata") or {}).get("resourceVersion") or "")

    def watch_events(self, namespace: str, field_selector: str, resource_version: str, timeout_seconds: int) -> WatchStream:
        return WatchStream(self._call(
            self.core.list_namespaced_event, namespace, field_selector=field_selector, watch=True,
            resource_version=resource_version, allow_watch_bookmarks=True, timeout_seconds=timeout_seconds,
            _request_timeout=(CONNECT_TIMEOUT, timeout_seconds + READ_SLACK)))

    def get_pvc(self, namespace: str, name: str) -> Optional[Obj]:
        try:
            return self._json(self.core.read_namespaced_persistent_volume_claim, name, namespace)
        except K8sApiError as exc:
            if exc.status == 404:
                return None
            raise

    # ---- the success records (one ConfigMap per namespace) --------------------------------------

    def get_configmap(self, namespace: str, name: str) -> Optional[Obj]:
        try:
            return self._json(self.core.read_namespaced_config_map, name, namespace)
        except K8sApiError as exc:
            if exc.status == 404:
                return None
            raise

    def create_configmap(self, namespace: str, body: Obj) -> Obj:
        return self._json(self.core.create_namespaced_config_map, namespace, body)

    def merge_configmap_data(self, namespace: str, name: str, data: Dict[str, Optional[str]]) -> Obj:
        """JSON merge patch of ``data`` (a key set to None is removed): atomic per key, no read-modify-write."""
        return self._json(self.core.patch_namespaced_config_map, name, namespace, {"data": data},
                          _content_type="application/merge-patch+json")

    def pod_log(self, namespace: str, name: str, container: str, tail_lines: int) -> str:
        response = self._call(self.core.read_namespaced_pod_log, name, namespace, container=container, tail_lines=tail_lines)
        return response.data.decode("utf-8", "replace")
