# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""node_prep inputs, K3s registries.yaml and the registry an image comes from."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.datasurface.yellow.plugins.plugin_utils.registries import k3s_registries_document, registry_for
from ansible_collections.datasurface.yellow.plugins.plugin_utils.validation import node_prep_problems

SECRET = "reg 'pw'; $(id)"
REGISTRY = {"host": "ghcr.io", "username": "datasurface", "password": SECRET}


def values(**changes):
    base = {
        "yellow_node_cluster_type": "k3s",
        "yellow_node_registries": [REGISTRY, {"host": "registry.lab:5000", "endpoint": "http://registry.lab:5000"}],
        "yellow_node_pull_images": ["ghcr.io/datasurface/datasurface:v1.2.3"],
        "yellow_node_pull_throttle": 0,
    }
    base.update(changes)
    return base


def test_good_inputs_have_no_problem():
    assert node_prep_problems(values(), "Debian") == []
    assert node_prep_problems(values(), "RedHat") == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"yellow_node_cluster_type": "k8s"}, "yellow_node_cluster_type: 'k8s' is not one of k3s, kubeadm"),
        ({"yellow_node_registries": [{"host": "https://ghcr.io"}]}, "yellow_node_registries[0].host"),
        ({"yellow_node_registries": [{"host": "ghcr.io", "endpoint": "ghcr.io"}]}, "yellow_node_registries[0].endpoint"),
        ({"yellow_node_registries": [{"host": "ghcr.io", "endpoint": "https://"}]}, "yellow_node_registries[0].endpoint"),
        ({"yellow_node_registries": [{"host": "ghcr.io", "username": "u"}]}, "yellow_node_registries[0].password: must be set"),
        ({"yellow_node_registries": [{"host": "ghcr.io", "username": "u", "password": ""}]}, "yellow_node_registries[0].password (ghcr.io)"),
        ({"yellow_node_registries": [{"host": "ghcr.io", "password": "p"}]}, "yellow_node_registries[0].username"),
        ({"yellow_node_registries": [REGISTRY, REGISTRY]}, "yellow_node_registries[1].host: 'ghcr.io' is listed twice"),
        ({"yellow_node_pull_images": ["ghcr.io/Upper/x:1"]}, "yellow_node_pull_images[0]"),
    ],
)
def test_bad_inputs_name_their_variable(changes, expected):
    problems = node_prep_problems(values(**changes), "Debian")
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert SECRET not in problems[0]


def test_unsupported_os_family():
    assert node_prep_problems(values(), "Archlinux")[0].startswith("ansible_facts.os_family: 'Archlinux'")


def test_k3s_registries_document():
    document = k3s_registries_document(
        [
            REGISTRY,
            {"host": "registry.lab:5000", "endpoint": "http://registry.lab:5000", "username": "lab", "password": "x"},
            {"host": "private.example", "ca_file": "/etc/ssl/private-ca.pem"},
            {"host": "public.example"},
        ]
    )
    assert document == {
        "mirrors": {
            "ghcr.io": {"endpoint": ["https://ghcr.io"]},
            "registry.lab:5000": {"endpoint": ["http://registry.lab:5000"]},
            "private.example": {"endpoint": ["https://private.example"]},
            "public.example": {"endpoint": ["https://public.example"]},
        },
        "configs": {
            "ghcr.io": {"auth": {"username": "datasurface", "password": SECRET}},
            "registry.lab:5000": {"auth": {"username": "lab", "password": "x"}},
            "private.example": {"tls": {"ca_file": "/etc/ssl/private-ca.pem"}},
        },
    }
    # The hostile password survives a YAML round trip exactly.
    assert yaml.safe_load(yaml.safe_dump(document))["configs"]["ghcr.io"]["auth"]["password"] == SECRET


@pytest.mark.parametrize(
    "image, host",
    [
        ("ghcr.io/datasurface/datasurface:latest", "ghcr.io"),
        ("registry.lab:5000/datasurface/lab:1", "registry.lab:5000"),
        ("datasurface/datasurface:v1", None),
    ],
)
def test_registry_for_image(image, host):
    registries = [REGISTRY, {"host": "registry.lab:5000"}]
    assert registry_for(image, registries).get("host") == host


def test_docker_hub_aliases():
    assert registry_for("datasurface/datasurface:v1", [{"host": "index.docker.io", "username": "u"}])["username"] == "u"
