# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Write a kubeconfig (mode 0600) for the test API server: one cluster, one token user, one context."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Union

import yaml

CONTEXT = "k8s-api-test"
TOKEN = "k8s-api-test-token"


def kubeconfig(url: str, namespace: str = "default", name: str = CONTEXT, token: str = TOKEN) -> Dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": url, "insecure-skip-tls-verify": True}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
    }


def write_kubeconfig(path: Union[str, Path], url: str, namespace: str = "default", name: str = CONTEXT) -> Path:
    """Write the kubeconfig to ``path`` (created or truncated with mode 0600) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(kubeconfig(url, namespace, name), fh, sort_keys=False)
    return path
