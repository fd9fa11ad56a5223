# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Filters for the node_prep role (documented in the sidecar YAML files beside this one)."""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import InvalidReference
from ansible_collections.datasurface.yellow.plugins.plugin_utils.registries import k3s_registries_document, registry_for


def k3s_registries_yaml(registries: Any) -> dict[str, Any]:
    """The registries.yaml document for K3s."""
    return k3s_registries_document(list(registries or []))


def registry_for_image(image: str, registries: Any) -> dict[str, Any]:
    """The registry entry that serves the image, or an empty dict."""
    try:
        return registry_for(image, list(registries or []))
    except InvalidReference as exc:
        raise AnsibleFilterError(f"registry_for_image: {exc}") from None


class FilterModule:
    """datasurface.yellow filters for cluster nodes."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "k3s_registries_yaml": k3s_registries_yaml,
            "registry_for_image": registry_for_image,
        }
