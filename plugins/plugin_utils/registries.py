# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Registry settings for nodes: K3s's registries.yaml document, and which registry serves an image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import parse_reference


def k3s_registries_document(registries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The registries.yaml mapping (mirrors + configs) for K3s's embedded containerd."""
    mirrors: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    for registry in registries:
        host = registry["host"]
        endpoint = registry.get("endpoint") or f"https://{host}"
        mirrors[host] = {"endpoint": [endpoint]}
        config: dict[str, Any] = {}
        if registry.get("username"):
            config["auth"] = {"username": registry["username"], "password": registry["password"]}
        tls: dict[str, Any] = {}
        if registry.get("ca_file"):
            tls["ca_file"] = registry["ca_file"]
        if registry.get("insecure_skip_verify"):
            tls["insecure_skip_verify"] = True
        if tls:
            config["tls"] = tls
        if config:
            configs[endpoint.split("://", 1)[1].rstrip("/")] = config
    return {"mirrors": mirrors, "configs": configs}


def registry_for(image: str, registries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The entry of ``registries`` whose host serves ``image`` ({} when none does)."""
    host = parse_reference(image).registry
    for registry in registries:
        if registry.get("host") == host or (host == "docker.io" and registry.get("host") in ("index.docker.io", "registry-1.docker.io")):
            return dict(registry)
    return {}
