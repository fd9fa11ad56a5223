# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Connection settings from a kubeconfig or a pod's service account, read as the kubernetes Python client reads them.

``from_kubeconfig(source, context, yaml_load)``: ``source`` is a path (several joined with ``:`` are merged: the
first definition of a cluster, context or user wins, the last ``current-context`` set wins; paths relative to the
file that names them) or a dict. The context's cluster gives the server, its CA (``certificate-authority`` or
``-data``, the data winning), ``insecure-skip-tls-verify``, ``tls-server-name`` and ``proxy-url``; the user a
token (``token`` or ``tokenFile``), a client certificate and key (file or data, only for an https server) or
username and password. A user whose credentials come from an ``auth-provider``, or from an ``exec`` plugin when it
has no token, is marked ``needs_kubernetes_client``: the caller hands those to the kubernetes client, which runs
the plugin or refreshes the provider.

``in_cluster(environ)``: ``KUBERNETES_SERVICE_HOST``/``_PORT``, the service account's token (read again once a
minute: the kubelet rotates it) and CA. Errors are ``ConfigError`` with the kubernetes client's wording.

Certificate and key data are written to files in a private directory (0700, files 0600) that is removed when the
process ends, because TLS libraries load client certificates from files.
"""

from __future__ import annotations

import atexit
import base64
import copy
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

SERVICE_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SERVICE_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
TOKEN_REREAD = 60.0


class ConfigError(Exception):
    """No usable configuration: the kubeconfig or the in-cluster environment is missing or malformed."""


@dataclass
class Settings:
    """Where and how to connect (the kubernetes client's ``Configuration`` fields of the same names)."""

    host: str = "http://localhost"
    verify_ssl: bool = True
    ssl_ca_cert: Optional[str] = None
    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    tls_server_name: Optional[str] = None
    proxy: Optional[str] = None
    no_proxy: Optional[str] = None
    proxy_headers: Optional[Dict[str, str]] = None
    token: Optional[str] = None  # the Authorization header's value, "Bearer ..." or "Basic ..."
    token_source: Optional[Callable[[], Optional[str]]] = None  # a token read when each request is made
    username: Optional[str] = None
    password: Optional[str] = None
    headers: List[Tuple[str, str]] = field(default_factory=list)
    user: Optional[Dict[str, Any]] = None  # the kubeconfig user entry (to decide on the kubernetes client)


def needs_kubernetes_client(settings: Settings) -> bool:
    """Whether the user's credentials come from a plugin or provider only the kubernetes client runs."""
    user = settings.user or {}
    if isinstance(user.get("auth-provider"), dict) and "name" in user["auth-provider"]:
        return True
    return "exec" in user and settings.token is None


# ---- files for data ------------------------------------------------------------------------------------------------

_private_dir: List[str] = []


def _data_file(data: Any) -> str:
    """A 0600 file holding base64-decoded ``data``, in a 0700 directory removed at exit."""
    if not _private_dir:
        _private_dir.append(tempfile.mkdtemp(prefix="yellow-k8s-"))
        atexit.register(shutil.rmtree, _private_dir[0], True)
    try:
        content = base64.standard_b64decode(data.encode() if isinstance(data, str) else data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid base64 data in kube-config: {exc}") from exc
    fd, path = tempfile.mkstemp(dir=_private_dir[0])
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return path


def _file_or_data(entry: Optional[Dict[str, Any]], file_key: str, base: str) -> Optional[str]:
    """The path of ``file_key`` (relative to ``base``), or of a file holding ``file_key-data``; the data wins."""
    if not entry:
        return None
    if entry.get(f"{file_key}-data"):
        return _data_file(entry[f"{file_key}-data"])
    if entry.get(file_key):
        path = os.path.normpath(os.path.join(base, entry[file_key]))
        if not os.path.isfile(path):
            raise ConfigError(f"File does not exist: {path}")
        return path
    return None


# ---- the kubeconfig ------------------------------------------------------------------------------------------------

def _named(items: Any, name: Any, what: str, safe: bool = False) -> Optional[Tuple[Dict[str, Any], Optional[str]]]:
    """The entry ``name`` of a clusters/contexts/users list: (entry, path of its file)."""
    if not isinstance(items, list):
        raise ConfigError(f"Invalid kube-config file. Expected {what} to be a list")
    found = None
    for item, path in items:
        if not isinstance(item, dict) or "name" not in item:
            raise ConfigError(f"Invalid kube-config file. Expected all values in {what} list to have 'name' key")
        if item["name"] == name:
            if found is not None:
                raise ConfigError(f"Invalid kube-config file. Expected only one object with name {name} in {what} list")
            found = (item, path)
    if found is None and not safe:
        raise ConfigError(f"Invalid kube-config file. Expected object with name {name} in {what} list")
    return found


def _merged(source: Any, yaml_load: Callable[[Any], Any]) -> Tuple[Dict[str, Any], Dict[str, list]]:
    """(top-level keys, {clusters/contexts/users: [(entry, file path)]}) of a dict or of ':'-joined files."""
    lists: Dict[str, list] = {"clusters": [], "contexts": [], "users": []}
    if isinstance(source, dict):
        for key in lists:
            lists[key] = [(item, None) for item in (source.get(key) or [])]
        return copy.deepcopy(source), lists
    top: Optional[Dict[str, Any]] = None
    for path in source.split(os.pathsep):
        if not path:
            continue
        path = os.path.expanduser(path)
        if not os.path.exists(path):
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                config = yaml_load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
        except Exception as exc:  # pylint: disable=broad-except  # a YAML error
            raise ConfigError(f"Invalid kube-config file {path}: {exc}") from exc
        if config is None:
            raise ConfigError(f"Invalid kube-config. {path} file is empty")
        if not isinstance(config, dict):
            raise ConfigError(f"Invalid kube-config. {path} is not a mapping")
        if top is None:
            top = {key: value for key, value in config.items() if key not in lists}
        for key, entries in lists.items():
            for item in config.get(key) or []:
                if not any(isinstance(old, dict) and isinstance(item, dict) and old.get("name") == item.get("name")
                           for old, _path in entries):
                    entries.append((item, path))
        if "current-context" in config:
            top["current-context"] = config["current-context"]
    if top is None:
        raise ConfigError("Invalid kube-config file. No configuration found.")
    return top, lists


def _base(path: Optional[str]) -> str:
    return os.path.abspath(os.path.dirname(path)) if path is not None else ""


def _section(entry: Dict[str, Any], key: str, what: str) -> Dict[str, Any]:
    value = entry.get(key)
    if value is None:
        raise ConfigError(f"Invalid kube-config file. Expected key {key} in {what}")
    if not isinstance(value, dict):
        raise ConfigError(f"Invalid kube-config file. Expected {what}/{key} to be a mapping")
    return value


def from_kubeconfig(source: Any, context: Optional[str], yaml_load: Callable[[Any], Any]) -> Settings:
    """The settings for ``context`` (else ``current-context``) of the kubeconfig ``source`` (path(s) or dict)."""
    top, lists = _merged(source, yaml_load)
    name = context
    if name is None:
        name = top.get("current-context")
        if not name:
            raise ConfigError("Invalid kube-config file. Expected key current-context in kube-config")
    ctx_entry, _path = _named(lists["contexts"], name, "kube-config/contexts")
    ctx = _section(ctx_entry, "context", f"kube-config/contexts[name={name}]")
    user: Optional[Dict[str, Any]] = None
    user_path: Optional[str] = None
    if ctx.get("user") and lists["users"]:
        found = _named(lists["users"], ctx["user"], "kube-config/users", safe=True)
        if found is not None:
            user = _section(found[0], "user", f"kube-config/users[name={ctx['user']}]")
            user_path = found[1]
    if "cluster" not in ctx:
        raise ConfigError(f"Invalid kube-config file. Expected key cluster in kube-config/contexts[name={name}]/context")
    cluster_entry, cluster_path = _named(lists["clusters"], ctx["cluster"], "kube-config/clusters")
    cluster = _section(cluster_entry, "cluster", f"kube-config/clusters[name={ctx['cluster']}]")

    settings = Settings(user=user)
    if user:  # the kubernetes client's order: auth-provider, token, exec plugin, username/password
        token: Optional[str] = None
        if user.get("token"):
            token = str(user["token"])
        elif user.get("tokenFile"):
            token_path = os.path.normpath(os.path.join(_base(user_path), user["tokenFile"]))
            try:
                with open(token_path, encoding="utf-8") as handle:
                    token = handle.read().strip()
            except OSError as exc:
                raise ConfigError(f"cannot read tokenFile {token_path}: {exc.strerror}") from exc
        if token:
            settings.token = f"Bearer {token}"
        elif "username" in user and "password" in user:
            settings.username, settings.password = str(user["username"]), str(user["password"])
    if cluster.get("server"):
        settings.host = str(cluster["server"]).rstrip("/")
        if settings.host.startswith("https"):
            base = _base(cluster_path)
            settings.ssl_ca_cert = _file_or_data(cluster, "certificate-authority", base)
            settings.cert_file = _file_or_data(user, "client-certificate", base)
            settings.key_file = _file_or_data(user, "client-key", base)
    if "insecure-skip-tls-verify" in cluster:
        settings.verify_ssl = not cluster["insecure-skip-tls-verify"]
    if "tls-server-name" in cluster:
        settings.tls_server_name = cluster["tls-server-name"]
    if "proxy-url" in cluster:
        settings.proxy = cluster["proxy-url"]
    return settings


# ---- in a pod --------------------------------------------------------------------------------------------------

def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host or "%" in host else f"{host}:{port}"


def in_cluster(environ: Dict[str, str], token_file: str = SERVICE_TOKEN, ca_file: str = SERVICE_CA) -> Settings:
    """The service account's settings in a pod; ConfigError elsewhere."""
    host, port = environ.get("KUBERNETES_SERVICE_HOST"), environ.get("KUBERNETES_SERVICE_PORT")
    if host is None or port is None:
        raise ConfigError("Service host/port is not set.")
    if not host or not port:
        raise ConfigError("Service host/port is set but empty.")
    if not os.path.isfile(token_file):
        raise ConfigError("Service token file does not exist.")
    if not os.path.isfile(ca_file):
        raise ConfigError("Service certification file does not exist.")
    with open(ca_file, encoding="utf-8") as handle:
        if not handle.read():
            raise ConfigError("Cert file exists but empty.")
    cached: Dict[str, Any] = {}

    def token() -> str:
        if not cached or time.monotonic() - cached["at"] >= TOKEN_REREAD:
            with open(token_file, encoding="utf-8") as handle:
                content = handle.read()
            if not content:
                raise ConfigError("Token file exists but empty.")
            cached.update(value=f"Bearer {content.strip()}", at=time.monotonic())
        return cached["value"]

    token()
    return Settings(host="https://" + _join_host_port(host, port), ssl_ca_cert=ca_file, token_source=token)
