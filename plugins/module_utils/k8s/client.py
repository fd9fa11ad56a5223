# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Kubernetes API access for this collection's modules: ``api_client`` and ``JobApi``, on urllib3 alone.

``api_client(params)`` takes the module's kubernetes.core auth options (``AUTH_ARG_SPEC``: kubeconfig, context,
host, api_key, validate_certs, ca_cert, client_cert, client_key, proxy, no_proxy, proxy_headers, impersonation...)
and the ``K8S_AUTH_*`` environment variables, and resolves them in kubernetes.core's order: host with a token,
client certificate or username/password needs nothing else; else a kubeconfig (option, ``KUBECONFIG``, a list of
files merged as kubectl does, or ``~/.kube/config``) with its context, or in a pod the service account; the options
given override what the kubeconfig says. It does not import the ``kubernetes`` package, whose import (about a
thousand generated modules) cost most of a Job task's start-up: kubeconfig users with a token, token file, client
certificate (file or data) or basic auth, clusters with a CA (file or data), ``insecure-skip-tls-verify``,
``tls-server-name`` and ``proxy-url``, and the in-cluster service account are read here. A user with an ``exec``
credential plugin or an ``auth-provider`` is handed to kubernetes.core's own client builder (which runs the
plugin or refreshes the provider's token, and persists it when ``persist_config`` says so); its connection
settings and token are then used the same way.

``JobApi`` makes the few calls the Job module needs (Jobs, their pods and events, PVCs, pod logs, the success-record
ConfigMap): objects stay plain dicts (the JSON the server sent), errors become ``K8sApiError`` (``status`` 0 for
transport errors), and watches are ``WatchStream`` objects another thread can close.
"""

from __future__ import annotations

import ipaddress
import json
import os
import traceback
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote, urlencode, urlparse

from ansible.module_utils.common.yaml import HAS_YAML, yaml_load
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import (
    AUTH_ARG_MAP,
    AUTH_ARG_SPEC,
    AUTH_PROXY_HEADERS_SPEC,
)
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.kubeconfig import (
    ConfigError,
    Settings,
    from_kubeconfig,
    in_cluster,
    needs_kubernetes_client,
)

try:
    import urllib3
except ImportError:
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None

Obj = Dict[str, Any]
CONNECT_TIMEOUT = 10
# A watch that stays silent for longer than its server-side timeoutSeconds plus this is considered dead.
READ_SLACK = 30
USER_AGENT = "datasurface.yellow/k8s_job"
POOL_SIZE = 8


class K8sApiError(Exception):
    """A failed API call: HTTP ``status`` (0 when the server was not reached), ``reason`` and ``message``."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class ClientError(Exception):
    """The API client could not be built (bad kubeconfig, missing files, no configuration found...)."""


def api_error(status: int, http_reason: str, body: Any) -> K8sApiError:
    """The error for an HTTP answer ``status``: the Status object's reason and message when the body is one."""
    reason, message = str(http_reason or ""), ""
    if body:
        try:
            data = json.loads(body)
            message = str(data.get("message") or "")
            reason = str(data.get("reason") or reason)
        except (ValueError, TypeError, AttributeError):
            message = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return K8sApiError(status, reason or "Error", message or reason or "request failed")


def _transport_errors() -> Tuple[type, ...]:
    return (urllib3.exceptions.HTTPError, OSError) if HAS_URLLIB3 else (OSError,)


# ---- the auth options, as kubernetes.core reads them -------------------------------------------------------------

def _env_bool(value: str) -> bool:
    return value.lower() not in ("0", "false", "no")


def auth_options(params: Dict[str, Any], environ: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """The options by kubernetes-client name (``verify_ssl``, ``ssl_ca_cert``...): each module parameter, else its
    ``K8S_AUTH_<OPTION>`` (or ``K8S_AUTH_<CLIENT_NAME>``) variable; booleans from the environment are false for
    0/false/no. ``proxy_headers`` from ``K8S_AUTH_PROXY_HEADERS_<KEY>``."""
    env = os.environ if environ is None else environ
    auth: Dict[str, Any] = {}
    for true_name, arg_name in AUTH_ARG_MAP.items():
        if params.get(arg_name) is not None:
            auth[true_name] = params[arg_name]
        elif arg_name == "proxy_headers":
            headers = {}
            for key, spec in AUTH_PROXY_HEADERS_SPEC.items():
                value = env.get(f"K8S_AUTH_PROXY_HEADERS_{key.upper()}")
                if value is not None:
                    headers[key] = _env_bool(value) if spec.get("type") == "bool" else value
            auth[true_name] = headers
        else:
            value = env.get(f"K8S_AUTH_{arg_name.upper()}") or env.get(f"K8S_AUTH_{true_name.upper()}")
            if value is not None:
                auth[true_name] = _env_bool(value) if AUTH_ARG_SPEC[arg_name].get("type") == "bool" else value
    return auth


def impersonation_headers(params: Dict[str, Any], environ: Optional[Dict[str, str]] = None) -> List[Tuple[str, str]]:
    """``Impersonate-User`` and one ``Impersonate-Group`` per group, from the parameters or ``K8S_AUTH_*``."""
    env = os.environ if environ is None else environ
    headers: List[Tuple[str, str]] = []
    for arg_name, header in (("impersonate_user", "Impersonate-User"), ("impersonate_groups", "Impersonate-Group")):
        value = params.get(arg_name)
        if value is None:
            value = env.get(f"K8S_AUTH_{arg_name.upper()}")
            if value is not None and AUTH_ARG_SPEC[arg_name].get("type") == "list":
                value = [item for item in value.split(",") if item != ""]
        if value:
            headers.extend((header, str(item)) for item in (value if isinstance(value, list) else [value]))
    return headers


def resolve(params: Dict[str, Any], environ: Optional[Dict[str, str]] = None) -> Settings:
    """The connection settings kubernetes.core would build from these parameters (see the module docstring)."""
    env = os.environ if environ is None else environ
    auth = auth_options(params, env)
    if auth.get("host"):
        auth["host"] = str(auth["host"]).rstrip("/")

    def given(*names: str) -> bool:
        return all(auth.get(name) for name in names)

    if given("username", "password", "host") or given("api_key", "host") or given("cert_file", "key_file", "host"):
        settings = Settings()
    elif given("kubeconfig") or given("context"):
        settings = _kubeconfig(auth, env)
    else:
        try:
            settings = in_cluster(env)
        except ConfigError:
            settings = _kubeconfig(auth, env)
    for key in ("host", "verify_ssl", "ssl_ca_cert", "cert_file", "key_file", "proxy", "no_proxy", "username", "password"):
        if auth.get(key) is not None:
            setattr(settings, key, auth[key])
    if auth.get("api_key") is not None:
        settings.token = f"Bearer {auth['api_key']}"
        settings.token_source = None
    if auth.get("proxy_headers"):
        settings.proxy_headers = urllib3.util.make_headers(**auth["proxy_headers"])
    settings.headers = impersonation_headers(params, env)
    return settings


def _kubeconfig(auth: Dict[str, Any], env: Dict[str, str]) -> Settings:
    kubeconfig = auth.get("kubeconfig")
    if kubeconfig is None or kubeconfig == "":
        kubeconfig = env.get("KUBECONFIG", "~/.kube/config")
    if not isinstance(kubeconfig, (str, dict)):
        raise ConfigError(f"kubeconfig must be a path or a dict, got {type(kubeconfig).__name__}")
    if not HAS_YAML:
        raise ConfigError("PyYAML is needed to read a kubeconfig")
    settings = from_kubeconfig(kubeconfig, auth.get("context"), yaml_load)
    if needs_kubernetes_client(settings):
        return _from_kubernetes_core(auth)
    return settings


def _from_kubernetes_core(auth: Dict[str, Any]) -> Settings:
    """Settings from kubernetes.core's own client builder: exec plugins and auth providers (their tokens refresh)."""
    # Imported here: the kubernetes package's import is what this module avoids for every other kubeconfig.
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client  # pylint: disable=import-outside-toplevel

    options = {arg_name: auth[true_name] for true_name, arg_name in AUTH_ARG_MAP.items() if auth.get(true_name) is not None}
    try:
        configuration = get_api_client(**options).configuration
    except Exception as exc:  # pylint: disable=broad-except
        text = str(exc)
        raise ConfigError(text[len("Could not create API client: "):] if text.startswith("Could not create API client: ") else text) from exc

    def token() -> Optional[str]:
        setting = configuration.auth_settings().get("BearerToken")
        return setting["value"] if setting else None

    return Settings(host=configuration.host, verify_ssl=configuration.verify_ssl, ssl_ca_cert=configuration.ssl_ca_cert,
                    cert_file=configuration.cert_file, key_file=configuration.key_file,
                    tls_server_name=getattr(configuration, "tls_server_name", None), proxy=configuration.proxy,
                    token_source=token)


# ---- the client ---------------------------------------------------------------------------------------------------

def should_bypass_proxy(host: str, no_proxy: str) -> bool:
    """Whether the server URL ``host`` matches a comma-separated ``no_proxy`` rule (as the kubernetes client)."""
    parsed = urlparse(host)
    if not parsed.hostname:
        return True
    name, name_port = parsed.hostname.lower(), parsed.netloc.lower()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
        entry = entry.lstrip(".")
        if entry in (name, name_port) or name.endswith("." + entry) or name_port.endswith("." + entry):
            return True
    return False


class Configuration:
    """What the client connects with, as the kubernetes client's ``Configuration`` names it (host, api_key...)."""

    def __init__(self, settings: Settings) -> None:
        self.host = settings.host
        self.verify_ssl = settings.verify_ssl
        self.ssl_ca_cert = settings.ssl_ca_cert
        self.cert_file = settings.cert_file
        self.key_file = settings.key_file
        self.proxy = settings.proxy
        self.api_key = {"authorization": settings.token} if settings.token else {}


class ApiClient:
    """One connection pool to one API server; ``request`` returns the urllib3 response (not preloaded)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.configuration = Configuration(settings)
        pool_args: Dict[str, Any] = {
            # Watches run beside other requests: room for their connections, so none is closed and opened again
            # (the kubernetes client's default is 5 per CPU).
            "maxsize": POOL_SIZE,
            "cert_reqs": "CERT_REQUIRED" if settings.verify_ssl else "CERT_NONE",
            "ca_certs": settings.ssl_ca_cert, "cert_file": settings.cert_file, "key_file": settings.key_file,
        }
        if settings.tls_server_name:
            pool_args["server_hostname"] = settings.tls_server_name
        if not settings.verify_ssl:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if settings.proxy and not should_bypass_proxy(settings.host, settings.no_proxy or ""):
            self.pool = urllib3.ProxyManager(settings.proxy, proxy_headers=settings.proxy_headers or None, **pool_args)
        else:
            self.pool = urllib3.PoolManager(**pool_args)

    def _headers(self, content_type: Optional[str]) -> Any:
        headers = urllib3.HTTPHeaderDict({"Accept": "application/json", "User-Agent": USER_AGENT})
        if content_type:
            headers["Content-Type"] = content_type
        token = self.settings.token_source() if self.settings.token_source else self.settings.token
        if token:
            headers["Authorization"] = token
        elif self.settings.username and self.settings.password:
            headers.update(urllib3.util.make_headers(basic_auth=f"{self.settings.username}:{self.settings.password}"))
        for name, value in self.settings.headers:
            headers.add(name, value)
        return headers

    def request(self, method: str, path: str, query: Optional[Dict[str, Any]] = None, body: Optional[Obj] = None,
                content_type: Optional[str] = None, timeout: Tuple[float, float] = (CONNECT_TIMEOUT, 60)) -> Any:
        """The response to METHOD host+PATH?QUERY (``body`` as JSON); K8sApiError for an error status or transport."""
        pairs = [(key, str(value).lower() if isinstance(value, bool) else str(value))
                 for key, value in (query or {}).items() if value is not None]
        url = self.settings.host + path + ("?" + urlencode(pairs) if pairs else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        try:
            response = self.pool.request(method, url, body=data, headers=self._headers(
                (content_type or "application/json") if data is not None else None),
                preload_content=False, timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]))
        except _transport_errors() as exc:
            raise K8sApiError(0, "ConnectionError", str(exc)) from exc
        if not 200 <= response.status < 300:
            try:
                payload = response.read()
            except _transport_errors():
                payload = b""
            response.release_conn()
            raise api_error(response.status, response.reason, payload)
        return response


def api_client(params: Dict[str, Any]) -> ApiClient:
    """The client for these module parameters (and K8S_AUTH_*); ClientError when no configuration can be built."""
    try:
        return ApiClient(resolve(params))
    except ConfigError as exc:
        raise ClientError(f"Could not create API client: {exc}") from exc
    except (ValueError, OSError) as exc:  # an unreadable certificate or key file, a bad proxy URL
        raise ClientError(f"Could not create API client: {exc}") from exc


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


def _path(group: str, namespace: str, plural: str, name: Optional[str] = None, sub: Optional[str] = None) -> str:
    path = f"{group}/namespaces/{quote(namespace, safe='')}/{plural}"
    if name is not None:
        path += "/" + quote(name, safe="")
    return path + ("/" + sub if sub else "")


CORE = "/api/v1"
BATCH = "/apis/batch/v1"


class JobApi:
    """The Job module's calls: Jobs, their pods, events, PVCs and pod logs, the record ConfigMap, as plain dicts."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def _json(self, method: str, path: str, **kwargs: Any) -> Obj:
        response = self.client.request(method, path, **kwargs)
        try:
            return json.loads(response.data.decode("utf-8"))
        except ValueError as exc:
            raise K8sApiError(0, "BadResponse", f"the server did not answer with JSON: {exc}") from exc
        except _transport_errors() as exc:
            raise K8sApiError(0, "ConnectionError", str(exc)) from exc
        finally:
            response.release_conn()

    def _get(self, path: str) -> Optional[Obj]:
        try:
            return self._json("GET", path)
        except K8sApiError as exc:
            if exc.status == 404:
                return None
            raise

    def _list(self, path: str, **query: Any) -> Tuple[List[Obj], str]:
        data = self._json("GET", path, query=query)
        return data.get("items") or [], str((data.get("metadata") or {}).get("resourceVersion") or "")

    def _watch(self, path: str, resource_version: str, timeout_seconds: int, **query: Any) -> WatchStream:
        query.update(watch=True, resourceVersion=resource_version, allowWatchBookmarks=True, timeoutSeconds=timeout_seconds)
        return WatchStream(self.client.request("GET", path, query=query, timeout=(CONNECT_TIMEOUT, timeout_seconds + READ_SLACK)))

    # ---- Jobs -------------------------------------------------------------------------------------

    def get_job(self, namespace: str, name: str) -> Optional[Obj]:
        return self._get(_path(BATCH, namespace, "jobs", name))

    def create_job(self, namespace: str, body: Obj) -> Obj:
        return self._json("POST", _path(BATCH, namespace, "jobs"), body=body)

    def delete_job(self, namespace: str, name: str, uid: Optional[str] = None, propagation: str = "Foreground") -> bool:
        """Delete (``uid`` as precondition); False when it was already gone."""
        body: Obj = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            self._json("DELETE", _path(BATCH, namespace, "jobs", name), body=body)
        except K8sApiError as exc:
            if exc.status == 404:
                return False
            if exc.status == 409 and uid:
                return False  # the uid precondition failed: that Job is gone, another one took its name
            raise
        return True

    def list_jobs(self, namespace: str, name: str) -> Tuple[List[Obj], str]:
        return self._list(_path(BATCH, namespace, "jobs"), fieldSelector=f"metadata.name={name}")

    def watch_jobs(self, namespace: str, name: str, resource_version: str, timeout_seconds: int) -> WatchStream:
        return self._watch(_path(BATCH, namespace, "jobs"), resource_version, timeout_seconds, fieldSelector=f"metadata.name={name}")

    # ---- pods, events, logs -----------------------------------------------------------------------

    def list_pods(self, namespace: str, label_selector: str) -> Tuple[List[Obj], str]:
        return self._list(_path(CORE, namespace, "pods"), labelSelector=label_selector)

    def watch_pods(self, namespace: str, label_selector: str, resource_version: str, timeout_seconds: int) -> WatchStream:
        return self._watch(_path(CORE, namespace, "pods"), resource_version, timeout_seconds, labelSelector=label_selector)

    def list_events(self, namespace: str, field_selector: str) -> Tuple[List[Obj], str]:
        return self._list(_path(CORE, namespace, "events"), fieldSelector=field_selector)

    def watch_events(self, namespace: str, field_selector: str, resource_version: str, timeout_seconds: int) -> WatchStream:
        return self._watch(_path(CORE, namespace, "events"), resource_version, timeout_seconds, fieldSelector=field_selector)

    def get_pvc(self, namespace: str, name: str) -> Optional[Obj]:
        return self._get(_path(CORE, namespace, "persistentvolumeclaims", name))

    # ---- the success records (one ConfigMap per namespace) --------------------------------------

    def get_configmap(self, namespace: str, name: str) -> Optional[Obj]:
        return self._get(_path(CORE, namespace, "configmaps", name))

    def create_configmap(self, namespace: str, body: Obj) -> Obj:
        return self._json("POST", _path(CORE, namespace, "configmaps"), body=body)

    def merge_configmap_data(self, namespace: str, name: str, data: Dict[str, Optional[str]]) -> Obj:
        """JSON merge patch of ``data`` (a key set to None is removed): atomic per key, no read-modify-write."""
        return self._json("PATCH", _path(CORE, namespace, "configmaps", name), body={"data": data},
                          content_type="application/merge-patch+json")

    def pod_log(self, namespace: str, name: str, container: str, tail_lines: int) -> str:
        response = self.client.request("GET", _path(CORE, namespace, "pods", name, "log"),
                                       query={"container": container, "tailLines": tail_lines})
        try:
            return response.data.decode("utf-8", "replace")
        finally:
            response.release_conn()
