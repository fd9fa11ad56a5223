# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Image references are normalised the way containerd stores them."""

from __future__ import annotations

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import InvalidReference, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "text, name, api_host, manifest",
    [
        ("busybox", "docker.io/library/busybox:latest", "registry-1.docker.io", "latest"),
        ("datasurface/datasurface:v1", "docker.io/datasurface/datasurface:v1", "registry-1.docker.io", "v1"),
        ("ghcr.io/datasurface/datasurface:latest", "ghcr.io/datasurface/datasurface:latest", "ghcr.io", "latest"),
        ("10.89.0.2:5000/datasurface/lab:1", "10.89.0.2:5000/datasurface/lab:1", "10.89.0.2:5000", "1"),
        ("localhost/x/y", "localhost/x/y:latest", "localhost", "latest"),
        ("reg.example/a/b@" + DIGEST, "reg.example/a/b@" + DIGEST, "reg.example", DIGEST),
        ("reg.example/a/b:v2@" + DIGEST, "reg.example/a/b:v2@" + DIGEST, "reg.example", DIGEST),
        ("index.docker.io/library/redis:7", "docker.io/library/redis:7", "registry-1.docker.io", "7"),
    ],
)
def test_references_are_normalised(text, name, api_host, manifest):
    reference = parse_reference(text)
    assert reference.name == name
    assert reference.api_host == api_host
    assert reference.manifest_reference == manifest


@pytest.mark.parametrize("text", ["", " busybox", "Reg/UPPER/x", "a/b:bad tag", "a/b@sha256:short", "a//b"])
def test_invalid_references_are_refused(text):
    with pytest.raises(InvalidReference):
        parse_reference(text)
